"""Decisions: decide an application, and queue a decision for a person to look again.

A decision's route is a plain ``def`` route on FastAPI's thread pool: its reads and
writes (the online store, the SQLite ledger) leave the event loop, so a store held locked
by another writer delays only the requests that need it, each for at most
``STORE_BUSY_SECONDS`` before a 503, and ``/healthz`` keeps answering.

Consent is state: every submission, a refused one too, records the purposes the
applicant consented to with this partner before anything is decided, so a withdrawal
counts at once for the partner's later reads. The decision and its audit record are one
write: both are stored, or neither.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from zhongtai.api.deps import (
    PartnerDep,
    PlatformDep,
    ServiceUnavailable,
    refuse_erased,
    serving_champions,
)
from zhongtai.decision.decide import ApplicantRefused, application_features, decide, subject_of
from zhongtai.decision.schemas import (
    CONSENTS,
    DecisionOut,
    DecisionRequest,
    ReviewOut,
    ReviewRequest,
)
from zhongtai.stores.decisions import DecisionNotFound

router = APIRouter(tags=["decisions"])
DecisionId = Annotated[
    str, Path(pattern="^[0-9a-f]{32}$", description="As the decision's answer gave it.")
]


@router.post("/v1/decisions", response_model=DecisionOut)
def make_decision(body: DecisionRequest, platform: PlatformDep, partner: PartnerDep) -> Response:
    """Decide an application: approve, review or decline, with limit, APR, scores,
    up to four ranked reason codes and the model and rules versions used.

    The national ID must be valid and agree with the declared birth date; the age rules
    use the ID's age on the platform's day, and minors are refused (422)."""
    started = time.perf_counter()
    try:
        subject = subject_of(body, platform.pseudonym_key, platform.settings.today())
    except ApplicantRefused as error:
        raise HTTPException(422, str(error)) from None
    refuse_erased(platform, subject.applicant_id)
    platform.partners.record_submission(partner, subject.applicant_id, body.consents)
    missing = [p for p in CONSENTS if p not in body.consents]
    if missing:
        raise HTTPException(403, f"the applicant has not consented to {', '.join(missing)}")
    if "credit_scoring" not in partner.purposes:
        raise HTTPException(403, "your scope does not include credit_scoring decisions")
    champions = serving_champions(platform)
    try:
        known = platform.online.read(subject)
    except Exception as error:  # the online store's client errors vary by backend
        raise ServiceUnavailable("online feature store unavailable: retry later") from error
    features = {**known, **application_features(body, subject, partner.partner_id)}
    decision = decide(body, subject, features, champions, platform.policy)
    answer = decision.answer
    # serialised once, here: FastAPI would validate the answer again on the way out
    answer_json = answer.model_dump_json()
    platform.audit.append(
        partner_id=partner.partner_id,
        purpose="credit_scoring",
        action="decision",
        applicant_id=subject.applicant_id,
        decision_id=answer.decision_id,
        features=features,
        model_versions=answer.model_versions,
        rules_version=answer.rules_version,
        outcome={
            "outcome": answer.outcome,
            "credit_limit_minor": answer.credit_limit_minor,
            "apr": answer.apr,
            "reasons": [r.code for r in answer.reasons],
        },
        alongside=platform.decisions.saving(
            answer.decision_id,
            partner.partner_id,
            subject.applicant_id,
            decided_at=answer.decided_at,
            answer=answer_json,
        ),
    )
    platform.outcomes.labels(answer.outcome).inc()
    platform.latency.labels("decision").observe(time.perf_counter() - started)
    return Response(answer_json, media_type="application/json")


@router.post("/v1/decisions/{decision_id}/review", response_model=ReviewOut, status_code=202)
def request_review(
    decision_id: DecisionId, body: ReviewRequest, platform: PlatformDep, partner: PartnerDep
) -> ReviewOut:
    """The applicant's right to have a person look again: the decision is marked and
    queued for the review team. The reason must hold no personal data (422 if it does)."""
    try:
        review = platform.decisions.request_review(decision_id, partner.partner_id, body.reason)
    except DecisionNotFound as error:
        raise HTTPException(404, str(error)) from error
    platform.audit.append(
        partner_id=partner.partner_id,
        purpose="credit_scoring",
        action="review_request",
        applicant_id=platform.decisions.applicant_of(decision_id),
        decision_id=decision_id,
    )
    return ReviewOut(
        decision_id=review.decision_id, status=review.status, requested_at=review.requested_at
    )
