"""The decision and partner API (FastAPI): ``zhongtai serve`` runs it with uvicorn.

One process holds everything a request needs, opened at start-up (``Platform``): the
online store, the champion models (followed in the registry, swapped on promotion), the
policy, the partner registry, the decision store and the audit log.

A decision is one to three milliseconds of CPU and a few short reads and writes (the
online store, the SQLite files) whose clients are synchronous, so its route runs on the
event loop: handing it to a thread would cost more than it frees, and the GIL lets one
thread compute at a time anyway. The
other routes are plain ``def`` routes on FastAPI's thread pool. Objects loaded at
start-up are frozen out of the garbage collector's sight (``gc.freeze``), so its full
collections do not walk them in the middle of a request.

Faults are never a silent approve: an unavailable online store or model answers 503 with
``Retry-After``; bad input answers 4xx naming what is wrong.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from zhongtai.api.bodies import BoundedBodies
from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.decision.decide import OnlineFeatures, application_features, decide, subject_of
from zhongtai.decision.policy import Policy, load_policy
from zhongtai.decision.schemas import (
    DecisionOut,
    DecisionRequest,
    FeaturesOut,
    Problem,
    ReviewOut,
    ReviewRequest,
    ScoresOut,
)
from zhongtai.settings import Settings
from zhongtai.stores.audit import AuditLog, audit_log_path
from zhongtai.stores.decisions import DecisionNotFound, DecisionStore, decisions_path
from zhongtai.stores.partners import Partner, PartnerStore, RateLimiter, partners_path

MAX_BODY_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = 5
REFRESH_EVERY_SECONDS = 30.0
REQUIRED_CONSENTS = ("credit_scoring", "fraud_prevention")


class ServiceUnavailable(Exception):
    """A dependency (online store, models) cannot answer now: 503, retry later."""


@dataclass
class Platform:
    """What the API opened at start-up."""

    settings: Settings
    pseudonym_key: bytes
    online: OnlineFeatures
    champions: ChampionSet
    policy: Policy
    partners: PartnerStore
    decisions: DecisionStore
    audit: AuditLog
    limiter: RateLimiter = field(default_factory=RateLimiter)
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.latency = Histogram(
            "zhongtai_request_seconds",
            "Request latency by route.",
            ["route"],
            registry=self.metrics,
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
        )
        self.outcomes = Counter(
            "zhongtai_decisions_total", "Decisions by outcome.", ["outcome"], registry=self.metrics
        )
        self.responses = Counter(
            "zhongtai_responses_total", "Responses by status.", ["status"], registry=self.metrics
        )

    def close(self) -> None:
        for resource in (self.partners, self.decisions, self.audit):
            resource.close()


def open_platform(settings: Settings) -> Platform:
    """Open every resource a request needs; the champions must load (else 503s)."""
    from zhongtai.features.repo import open_store
    from zhongtai.ml.track import use_mlflow
    from zhongtai.privacy.keys import resolve_keyring

    keyring = resolve_keyring(settings, announce=lambda _: None)
    champions = ChampionSet(use_mlflow(settings))
    try:
        champions.refresh()
    except ModelsUnavailable as error:
        print(f"zhongtai serve: {error}; decisions answer 503 until champions are promoted")
    return Platform(
        settings=settings,
        pseudonym_key=keyring.pseudonym_key,
        online=OnlineFeatures(open_store(settings)),
        champions=champions,
        policy=load_policy(),
        partners=PartnerStore.open(partners_path(settings)),
        decisions=DecisionStore.open(decisions_path(settings)),
        audit=AuditLog.open(audit_log_path(settings)),
    )


def create_app(open_resources: Callable[[], Platform] | None = None) -> FastAPI:
    """The API. ``open_resources`` defaults to the platform of ``Settings()``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = (open_resources or (lambda: open_platform(Settings())))()
        app.state.platform = platform
        gc.collect()
        gc.freeze()
        stop = threading.Event()
        follower = threading.Thread(
            target=_follow_registry, args=(platform.champions, stop), daemon=True
        )
        follower.start()
        yield
        stop.set()
        platform.close()

    app = FastAPI(
        title="zhongtai decision and partner API",
        version="1",
        description="Credit decisions with reasons, and the features and scores a partner "
        "is entitled to. Authenticate with `Authorization: Bearer <API key>`.",
        lifespan=lifespan,
        responses={
            401: {"model": Problem},
            403: {"model": Problem},
            404: {"model": Problem},
            413: {"model": Problem},
            429: {"model": Problem},
            503: {"model": Problem},
        },
    )
    _install_handlers(app)
    _install_routes(app)
    return app


def _follow_registry(champions: ChampionSet, stop: threading.Event) -> None:
    while not stop.wait(REFRESH_EVERY_SECONDS):
        with suppress(ModelsUnavailable):  # nothing served yet: requests keep answering 503
            champions.refresh()


async def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def _partner(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> Partner:
    """The calling partner, authenticated and within its rate limit."""
    platform: Platform = request.app.state.platform
    scheme, _, key = (authorization or "").partition(" ")
    partner = platform.partners.authenticate(key) if scheme.lower() == "bearer" else None
    if partner is None:
        raise HTTPException(
            401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"}
        )
    allowed, retry_after = platform.limiter.allow(partner.partner_id, partner.rate_limit_per_minute)
    if not allowed:
        raise HTTPException(
            429,
            f"rate limit of {partner.rate_limit_per_minute} requests per minute reached",
            headers={"Retry-After": str(max(1, round(retry_after)))},
        )
    return partner


PlatformDep = Annotated[Platform, Depends(_platform)]
PartnerDep = Annotated[Partner, Depends(_partner)]


def _install_routes(app: FastAPI) -> None:
    @app.post("/v1/decisions", response_model=DecisionOut, tags=["decisions"])
    async def make_decision(
        body: DecisionRequest, platform: PlatformDep, partner: PartnerDep
    ) -> Response:
        """Decide an application: approve, review or decline, with limit, APR, scores,
        up to four ranked reason codes and the model and rules versions used."""
        started = time.perf_counter()
        missing = [p for p in REQUIRED_CONSENTS if p not in body.consents]
        if missing:
            raise HTTPException(403, f"the applicant has not consented to {', '.join(missing)}")
        if "credit_scoring" not in partner.purposes:
            raise HTTPException(403, "your scope does not include credit_scoring decisions")
        subject = subject_of(body, platform.pseudonym_key, platform.settings.today())
        champions = _champions(platform)
        try:
            known = platform.online.read(subject)
        except Exception as error:  # the online store's client errors vary by backend
            raise ServiceUnavailable(f"online feature store unavailable: {error}") from error
        features = {**known, **application_features(body, subject, partner.partner_id)}
        decision = decide(body, subject, features, champions, platform.policy)
        answer = decision.answer
        platform.partners.record_submission(partner, subject.applicant_id, body.consents)
        platform.decisions.save(answer, partner.partner_id, subject.applicant_id)
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
        # serialised here: FastAPI would validate the answer again on the way out
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/decisions/{decision_id}/review",
        response_model=ReviewOut,
        status_code=202,
        tags=["decisions"],
    )
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
        return review

    @app.get(
        "/v1/features/{feature_service}/{entity}", response_model=FeaturesOut, tags=["partners"]
    )
    def read_features(
        feature_service: str, entity: str, platform: PlatformDep, partner: PartnerDep
    ) -> FeaturesOut:
        """The applicant's features in a service your scope holds, for a purpose the
        applicant consented to, of an applicant you submitted."""
        from zhongtai.features.online import online_vector

        purpose = _purpose_of(platform, feature_service)
        _allow(platform, partner, entity, purpose, feature_service)
        try:
            vector = online_vector(platform.online.store, feature_service, {"applicant_id": entity})
        except Exception as error:
            raise ServiceUnavailable(f"online feature store unavailable: {error}") from error
        vector.pop("applicant_id", None)
        platform.audit.append(
            partner_id=partner.partner_id,
            purpose=purpose,
            action="read_features",
            applicant_id=entity,
            features=vector,
        )
        return FeaturesOut(feature_service=feature_service, entity=entity, features=vector)

    @app.get("/v1/scores/{entity}", response_model=ScoresOut, tags=["partners"])
    def read_scores(entity: str, platform: PlatformDep, partner: PartnerDep) -> ScoresOut:
        """The scores of your latest decision on the applicant."""
        _allow(platform, partner, entity, "credit_scoring")
        latest = platform.decisions.latest(partner.partner_id, entity)
        if latest is None:
            raise HTTPException(404, f"no decision of yours on applicant {entity}")
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

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"model": Problem}})
    def readyz(platform: PlatformDep) -> dict[str, Any]:
        """Ready to decide: champions loaded and the online store answering."""
        champions = _champions(platform)
        try:
            platform.online.store.get_online_features(
                features=platform.online.references[:1], entity_rows=[{"applicant_id": "0"}]
            )
        except Exception as error:
            raise ServiceUnavailable(f"online feature store unavailable: {error}") from error
        return {"status": "ready", "model_versions": champions.versions}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics(platform: PlatformDep) -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(platform.metrics), media_type=CONTENT_TYPE_LATEST)


def _champions(platform: Platform) -> Any:
    try:
        return platform.champions.current()
    except ModelsUnavailable as error:
        raise ServiceUnavailable(str(error)) from error


def _purpose_of(platform: Platform, feature_service: str) -> str:
    from feast.errors import FeatureServiceNotFoundException

    try:
        service = platform.online.store.get_feature_service(feature_service)
    except FeatureServiceNotFoundException as error:
        raise HTTPException(404, f"no feature service {feature_service!r}") from error
    return str(service.tags.get("purpose", "credit_scoring"))


def _allow(
    platform: Platform,
    partner: Partner,
    entity: str,
    purpose: str,
    feature_service: str | None = None,
) -> None:
    access = platform.partners.access(partner, entity, purpose, feature_service)
    if access.refusal is not None:
        raise HTTPException(access.refusal.http_status, access.message)


def _install_handlers(app: FastAPI) -> None:
    def count(status: int) -> None:
        platform = getattr(app.state, "platform", None)
        if platform is not None:
            platform.responses.labels(str(status)).inc()

    app.add_middleware(BoundedBodies, max_bytes=MAX_BODY_BYTES, on_status=count)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, error: ServiceUnavailable) -> JSONResponse:
        return _problem(503, str(error), {"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            problems.append(f"{where}: {problem['msg']}")
        return _problem(422, "; ".join(problems) or "invalid request")


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


app = create_app()
