"""Decisions: decide an application, and queue a decision for a person to look again.

A decision is one to three milliseconds of CPU and a few short reads and writes (the
online store, the SQLite files) whose clients are synchronous, so its route runs on the
event loop: handing it to a thread would cost more than it frees, and the GIL lets one
thread compute at a time anyway. The review route is a plain ``def`` route on FastAPI's
thread pool.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Response

from zhongtai.api.deps import PartnerDep, PlatformDep, ServiceUnavailable, serving_champions
from zhongtai.decision.decide import application_features, decide, subject_of
from zhongtai.decision.schemas import (
    CONSENTS,
    DecisionOut,
    DecisionRequest,
    ReviewOut,
    ReviewRequest,
)
from zhongtai.stores.decisions import DecisionNotFound

router = APIRouter(tags=["decisions"])


@router.post("/v1/decisions", response_model=DecisionOut)
async def make_decision(
    body: DecisionRequest, platform: PlatformDep, partner: PartnerDep
) -> Response:
    """Decide an application: approve, review or decline, with limit, APR, scores,
    up to four ranked reason codes and the model and rules versions used."""
    started = time.perf_counter()
    missing = [p for p in CONSENTS if p not in body.consents]
    if missing:
        raise HTTPException(403, f"the applicant has not consented to {', '.join(missing)}")
    if "credit_scoring" not in partner.purposes:
        raise HTTPException(403, "your scope does not include credit_scoring decisions")
    subject = subject_of(body, platform.pseudonym_key, platform.settings.today())
    champions = serving_champions(platform)
    try:
        known = platform.online.read(subject)
    except Exception as error:  # the online store's client errors vary by backend
        raise ServiceUnavailable(f"online feature store unavailable: {error}") from error
    features = {**known, **application_features(body, subject, partner.partner_id)}
    decision = decide(body, subject, features, champions, platform.policy)
    answer = decision.answer
    # serialised once, here: FastAPI would validate the answer again on the way out
    answer_json = answer.model_dump_json()
    platform.partners.record_submission(partner, subject.applicant_id, body.consents)
    platform.decisions.save(
        answer.decision_id,
        partner.partner_id,
        subject.applicant_id,
        decided_at=answer.decided_at,
        answer=answer_json,
    )
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
    )
    platform.outcomes.labels(answer.outcome).inc()
    platform.latency.labels("decision").observe(time.perf_counter() - started)
    return Response(answer_json, media_type="application/json")


@router.post("/v1/decisions/{decision_id}/review", response_model=ReviewOut, status_code=202)
def request_review(
    decision_id: str, body: ReviewRequest, platform: PlatformDep, partner: PartnerDep
) -> ReviewOut:
    """The applicant's right to have a person look again: the decision is marked and
    queued for the review team."""
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
