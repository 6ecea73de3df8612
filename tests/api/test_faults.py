"""Faults: without its online store or its models the API answers 503, never a decision."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.test_app import request_for
from tests.conftest import running_redis
from tests.worlds import copy_world
from zhongtai.api.main import RETRY_AFTER_SECONDS, create_app
from zhongtai.api.platform import open_platform
from zhongtai.cli.demo_api import delivered_applications
from zhongtai.features.materialize import materialize_features
from zhongtai.settings import Settings
from zhongtai.stores.partners import PartnerStore, partners_path


def _partner_key(settings: Settings) -> dict[str, str]:
    with PartnerStore.open(partners_path(settings)) as store:
        _, key = store.create_partner(
            "bank_a",
            "Bank A",
            scopes=["partner_credit_v1"],
            purposes=["credit_scoring", "fraud_prevention"],
            rate_limit_per_minute=10_000,
        )
    return {"Authorization": f"Bearer {key}"}


def test_redis_stopping_mid_run_gives_503_with_retry_after(
    served_world: Settings, feature_world: Settings, tmp_path: Path
) -> None:
    with running_redis(tmp_path) as (connection, redis_process):
        settings = copy_world(
            feature_world,
            tmp_path,
            feature_env="scale",
            redis_connection=connection,
            mlflow_tracking_uri=served_world.tracking_uri,  # the served world's champions
        )
        shutil.copytree(feature_world.keys_dir, settings.keys_dir)
        materialize_features(settings)  # Spark into Redis
        auth = _partner_key(settings)
        body = request_for(delivered_applications(feature_world)[-1])
        with TestClient(create_app(lambda: open_platform(settings))) as client:
            served = client.post("/v1/decisions", json=body, headers=auth)
            assert served.status_code == 200, served.text
            redis_process.terminate()
            redis_process.wait(timeout=10)
            refused = client.post("/v1/decisions", json=body, headers=auth)
            not_ready = client.get("/readyz")
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "online feature store unavailable" in refused.json()["detail"]
    assert not_ready.status_code == 503


def test_without_a_champion_no_decision_is_made(feature_world: Settings, tmp_path: Path) -> None:
    settings = copy_world(feature_world, tmp_path)  # its model registry is empty
    auth = _partner_key(settings)
    body = request_for(delivered_applications(feature_world)[0])
    with TestClient(create_app(lambda: open_platform(settings))) as client:
        response = client.post("/v1/decisions", json=body, headers=auth)
        ready = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "no champion" in response.json()["detail"]
    assert ready.status_code == 503
