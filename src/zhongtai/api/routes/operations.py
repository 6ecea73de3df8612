"""Operations: liveness, readiness (champions loaded, online store answering), metrics.

``/healthz`` runs on the event loop and touches no store: it answers while a store is
locked. ``/metrics`` needs a key with the operations scope."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from zhongtai.api.deps import OperatorDep, PlatformDep, ServiceUnavailable, serving_champions
from zhongtai.api.schemas import Problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": Problem}})
def readyz(platform: PlatformDep) -> dict[str, Any]:
    """Ready to decide: champions loaded and the online store answering."""
    champions = serving_champions(platform)
    try:
        platform.online.store.get_online_features(
            features=platform.online.references[:1], entity_rows=[{"applicant_id": "0"}]
        )
    except Exception as error:
        raise ServiceUnavailable("online feature store unavailable: retry later") from error
    return {"status": "ready", "model_versions": champions.versions}


@router.get("/metrics", response_class=Response, responses={401: {"model": Problem}})
def metrics(platform: PlatformDep, operator: OperatorDep) -> Response:
    """Prometheus metrics, for a key with the operations scope."""
    return Response(generate_latest(platform.metrics), media_type=CONTENT_TYPE_LATEST)
