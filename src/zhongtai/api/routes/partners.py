"""A partner's reads: an applicant's features in a service its scope holds, and the
scores of its latest decision. Each read is checked (an erased subject is gone: 410; then
scope, purpose, consent as the applicant's latest submission left it, ownership) and
written to the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from zhongtai.api.deps import PartnerDep, PlatformDep, ServiceUnavailable, refuse_erased
from zhongtai.api.platform import Platform
from zhongtai.api.schemas import FeaturesOut, ScoresOut
from zhongtai.decision.schemas import DecisionOut
from zhongtai.stores.partners import Partner

router = APIRouter(tags=["partners"])
Entity = Annotated[
    str, Path(pattern="^[0-9a-f]{64}$", description="The applicant's pseudonym (applicant_id).")
]


@router.get("/v1/features/{feature_service}/{entity}", response_model=FeaturesOut)
def read_features(
    feature_service: str, entity: Entity, platform: PlatformDep, partner: PartnerDep
) -> FeaturesOut:
    """The applicant's features in a service your scope holds, for a purpose the
    applicant consented to, of an applicant you submitted."""
    from zhongtai.features.online import online_vector

    purpose = _purpose_of(platform, feature_service)
    _allow(platform, partner, entity, purpose, feature_service)
    try:
        vector = online_vector(platform.online.store, feature_service, {"applicant_id": entity})
    except Exception as error:
        raise ServiceUnavailable("online feature store unavailable: retry later") from error
    vector.pop("applicant_id", None)
    platform.audit.append(
        partner_id=partner.partner_id,
        purpose=purpose,
        action="read_features",
        applicant_id=entity,
        features=vector,
    )
    return FeaturesOut(feature_service=feature_service, entity=entity, features=vector)


@router.get("/v1/scores/{entity}", response_model=ScoresOut)
def read_scores(entity: Entity, platform: PlatformDep, partner: PartnerDep) -> ScoresOut:
    """The scores of your latest decision on the applicant."""
    _allow(platform, partner, entity, "credit_scoring")
    saved = platform.decisions.latest(partner.partner_id, entity)
    if saved is None:
        raise HTTPException(404, f"no decision of yours on applicant {entity}")
    latest = DecisionOut.model_validate_json(saved)
    platform.audit.append(
        partner_id=partner.partner_id,
        purpose="credit_scoring",
        action="read_scores",
        applicant_id=entity,
        decision_id=latest.decision_id,
        model_versions=latest.model_versions,
    )
    return ScoresOut(
        entity=entity,
        credit_score=latest.credit_score,
        probability_of_default=latest.probability_of_default,
        fraud_score=latest.fraud_score,
        model_versions=latest.model_versions,
    )


def _purpose_of(platform: Platform, feature_service: str) -> str:
    from feast.errors import FeatureServiceNotFoundException

    try:
        service = platform.online.store.get_feature_service(feature_service)
    except FeatureServiceNotFoundException as error:
        raise HTTPException(404, "no such feature service") from error
    return str(service.tags.get("purpose", "credit_scoring"))


def _allow(
    platform: Platform,
    partner: Partner,
    entity: str,
    purpose: str,
    feature_service: str | None = None,
) -> None:
    refuse_erased(platform, entity)
    access = platform.partners.access(partner, entity, purpose, feature_service)
    if access.refusal is not None:
        raise HTTPException(access.refusal.http_status, access.message)
