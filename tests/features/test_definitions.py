"""The registry a modeller or partner browses: every view documented, services versioned."""

from __future__ import annotations

from zhongtai.features.build import FEATURE_SERVICES
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings


def test_every_view_has_an_owner_a_description_and_tags(feature_world: Settings) -> None:
    views = open_store(feature_world).list_feature_views()
    assert {view.name for view in views} >= {
        "multi_lender_index",
        "device_risk_index",
        "social_relationship_index",
        "list_hits",
        "device_velocity",
        "ip_range_velocity",
    }
    for view in views:
        assert view.owner and view.description and view.tags, view.name


def test_services_are_versioned_and_partner_scopes_are_narrower(feature_world: Settings) -> None:
    store = open_store(feature_world)
    services = {service.name: service for service in store.list_feature_services()}
    assert set(services) == set(FEATURE_SERVICES)

    def features(name: str) -> set[str]:
        return {
            f"{projection.name}:{feature.name}"
            for projection in services[name].feature_view_projections
            for feature in projection.features
        }

    everything = features("credit_scoring_v1") | features("fraud_detection_v1")
    for partner in ("partner_credit_v1", "partner_fraud_v1"):
        assert features(partner) < everything, partner
    assert "application_profile:monthly_income_minor" not in features("partner_credit_v1")
    assert "social_relationship_index:ring_score" in features("fraud_detection_v1")
