"""`feast serve` and `feast ui` work against the repository, as the README shows them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import free_port, serving
from zhongtai.features.online import latest_application, online_vector
from zhongtai.features.repo import feast_command, feast_environment, open_store
from zhongtai.settings import Settings


@contextmanager
def _feast(args: list[str], settings: Settings, port: int, probe: str) -> Iterator[str]:
    """Start ``feast ARGS``; yield its base URL once ``probe`` answers."""
    env = {**os.environ, **feast_environment(settings)}
    with serving(feast_command(args, settings), env, port, probe) as base:
        yield base


def test_feast_serve_answers_a_feature_service(feature_world: Settings) -> None:
    port = free_port()
    entity = latest_application(feature_world)
    with _feast(["serve", "--port", str(port)], feature_world, port, "/health") as base:
        response = httpx.post(
            f"{base}/get-online-features",
            json={
                "feature_service": "credit_scoring_v1",
                "entities": {"applicant_id": [entity["applicant_id"]]},
            },
            timeout=30,
        )
    assert response.status_code == 200, response.text
    body = response.json()
    served = dict(
        zip(
            body["metadata"]["feature_names"],
            (r["values"][0] for r in body["results"]),
            strict=True,
        )
    )
    expected = online_vector(
        open_store(feature_world), "credit_scoring_v1", {"applicant_id": entity["applicant_id"]}
    )
    assert served["monthly_income_minor"] == expected["monthly_income_minor"]
    assert served["inquiries_30d_count"] == expected["inquiries_30d_count"]


def test_feast_ui_lists_the_project(feature_world: Settings) -> None:
    port = free_port()
    with _feast(
        ["ui", "--host", "127.0.0.1", "--port", str(port)], feature_world, port, "/"
    ) as base:
        page = httpx.get(base + "/", timeout=30)
        projects = httpx.get(base + "/projects-list.json", timeout=30)
        views = httpx.get(
            base + "/api/v1/feature_views", params={"project": "zhongtai"}, timeout=30
        )
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert projects.status_code == 200 and "zhongtai" in projects.text
    assert views.status_code == 200 and "social_relationship_index" in views.text
