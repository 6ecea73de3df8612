"""The decision and partner API over a real world: SQLite online store, MLflow champions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from zhongtai.api.main import create_app
from zhongtai.api.platform import open_platform
from zhongtai.cli.demo_api import CONSENTS, decision_request, delivered_applications
from zhongtai.settings import Settings
from zhongtai.stores.audit import audit_log_path, verify
from zhongtai.stores.partners import PartnerStore, partners_path


def request_for(row: dict[str, str], **changes: Any) -> dict[str, Any]:
    """The decision request of a delivered application, consenting to both purposes."""
    body = decision_request(row, consents=CONSENTS)
    body.update(changes)
    return body


class Api:
    def __init__(self, client: TestClient, keys: dict[str, str], rows: list[dict[str, str]]):
        self.client = client
        self.keys = keys
        self.rows = rows

    def as_(self, partner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[partner]}"}

    def decide(self, partner: str, body: dict[str, Any]) -> Any:
        return self.client.post("/v1/decisions", json=body, headers=self.as_(partner))


@pytest.fixture(scope="module")
def api(served_world: Settings, feature_world: Settings) -> Iterator[Api]:
    keys = {}
    with PartnerStore.open(partners_path(served_world)) as store:
        for partner, limit in (("bank_a", 10_000), ("bank_b", 10_000), ("slow_bank", 2)):
            _, keys[partner] = store.create_partner(
                partner,
                partner.replace("_", " ").title(),
                scopes=["partner_credit_v1"],
                purposes=["credit_scoring", "fraud_prevention"],
                rate_limit_per_minute=limit,
            )
        _, keys["ops"] = store.create_partner(
            "ops", "Operations", scopes=["operations"], purposes=[], rate_limit_per_minute=600
        )
    app = create_app(lambda: open_platform(served_world))
    with TestClient(app) as client:
        yield Api(client, keys, delivered_applications(feature_world))


def test_a_decision_with_reasons_models_and_rules(api: Api, served_world: Settings) -> None:
    response = api.decide("bank_a", request_for(api.rows[-1]))
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["outcome"] in {"approve", "review", "decline"}
    assert 0 <= decision["apr"] <= 0.24
    assert decision["model_versions"] == {"credit_pd": "1", "fraud": "1"}
    assert decision["rules_version"]
    assert 1 <= len(decision["reasons"]) <= 4
    assert all(reason["code"] for reason in decision["reasons"])
    assert 0 <= decision["fraud_score"] <= 1 and 300 < decision["credit_score"] < 900
    checked = verify(audit_log_path(served_world))
    assert checked.ok and checked.records >= 1


def test_a_stranger_is_decided_on_what_they_declare(api: Api) -> None:
    body = request_for(api.rows[0])
    stranger = {"national_id": "11010519491231002X", "birth_date": "1949-12-31"}
    body["applicant"] = {**body["applicant"], **stranger}
    response = api.decide("bank_a", body)
    assert response.status_code == 200, response.text


def test_no_key_or_a_wrong_key_is_401(api: Api) -> None:
    body = request_for(api.rows[1])
    assert api.client.post("/v1/decisions", json=body).status_code == 401
    wrong = {"Authorization": "Bearer zt_not-a-key"}
    assert api.client.post("/v1/decisions", json=body, headers=wrong).status_code == 401


def test_partners_read_only_their_applicants_in_scope(api: Api) -> None:
    decided = api.decide("bank_a", request_for(api.rows[2])).json()
    entity = _entity_of(api, decided["decision_id"])
    mine = api.client.get(f"/v1/features/partner_credit_v1/{entity}", headers=api.as_("bank_a"))
    assert mine.status_code == 200, mine.text
    assert "inquiries_30d_count" in mine.json()["features"]
    assert "monthly_income_minor" not in mine.json()["features"]  # not in the partner scope
    theirs = api.client.get(f"/v1/features/partner_credit_v1/{entity}", headers=api.as_("bank_b"))
    assert theirs.status_code == 404 and "unknown to you" in theirs.json()["detail"]
    wider = api.client.get(f"/v1/features/credit_scoring_v1/{entity}", headers=api.as_("bank_a"))
    assert wider.status_code == 403 and "credit_scoring_v1" in wider.json()["detail"]
    scores = api.client.get(f"/v1/scores/{entity}", headers=api.as_("bank_a"))
    assert scores.status_code == 200 and scores.json()["credit_score"] == decided["credit_score"]


def test_an_applicant_without_consent_is_not_decided(api: Api) -> None:
    response = api.decide("bank_a", request_for(api.rows[3], consents=["credit_scoring"]))
    assert response.status_code == 403 and "fraud_prevention" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        ("{not json", 422, "json"),
        ('{"applicant": {}}', 422, "application"),
    ],
)
def test_malformed_bodies_are_4xx_naming_the_problem(
    api: Api, body: str, status: int, names: str
) -> None:
    response = api.client.post(
        "/v1/decisions",
        content=body,
        headers={**api.as_("bank_a"), "Content-Type": "application/json"},
    )
    assert response.status_code == status and names in response.json()["detail"].lower()


def test_wrong_types_unknown_fields_and_oversized_bodies_are_refused(api: Api) -> None:
    body = request_for(api.rows[4])
    body["application"] = {**body["application"], "term_months": "12"}
    wrong_type = api.decide("bank_a", body)
    assert wrong_type.status_code == 422 and "term_months" in wrong_type.json()["detail"]
    extra = request_for(api.rows[4], salary_slip="...")
    unknown = api.decide("bank_a", extra)
    assert unknown.status_code == 422 and "salary_slip" in unknown.json()["detail"]
    huge = request_for(api.rows[4], padding="x" * 20_000)
    assert api.decide("bank_a", huge).status_code == 413
    missing = api.client.get(f"/v1/features/no_such_service/{'0' * 64}", headers=api.as_("bank_a"))
    assert missing.status_code == 404


def test_the_applicant_can_ask_for_a_person(api: Api) -> None:
    decided = api.decide("bank_a", request_for(api.rows[5])).json()
    path = f"/v1/decisions/{decided['decision_id']}/review"
    review = api.client.post(path, json={"reason": "my income changed"}, headers=api.as_("bank_a"))
    assert review.status_code == 202 and review.json()["status"] == "queued"
    other = api.client.post(path, json={"reason": "x"}, headers=api.as_("bank_b"))
    assert other.status_code == 404


def test_a_partner_over_its_rate_limit_is_told_when_to_retry(api: Api) -> None:
    statuses = [api.decide("slow_bank", request_for(api.rows[6])).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 429
    limited = api.decide("slow_bank", request_for(api.rows[6]))
    assert int(limited.headers["Retry-After"]) >= 1


def test_health_readiness_metrics_and_docs(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["model_versions"]["credit_pd"] == "1"
    assert api.client.get("/metrics").status_code == 401
    assert api.client.get("/metrics", headers=api.as_("bank_a")).status_code == 403
    metrics = api.client.get("/metrics", headers=api.as_("ops")).text
    assert "zhongtai_decisions_total" in metrics and "zhongtai_request_seconds" in metrics
    assert "/v1/decisions" in api.client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc")]
)
def test_the_docs_load_offline_from_the_app_s_own_assets(api: Api, page: str, asset: str) -> None:
    html = api.client.get(page).text
    scripts = re.findall(r'src="([^"]+)"', html) + re.findall(r'href="([^"]+\.css)"', html)
    assert any(asset in script for script in scripts)
    for script in scripts:
        assert script.startswith("/"), f"{page} loads {script} from outside the app"
        assert api.client.get(script).status_code == 200
    assert "https://" not in html


def _entity_of(api: Api, decision_id: str) -> str:
    platform = api.client.app.state.platform  # type: ignore[attr-defined]
    return platform.decisions.applicant_of(decision_id)
