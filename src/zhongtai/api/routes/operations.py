"""Operations: liveness, readiness (champions loaded, online store answering), metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from zhongtai.api.deps import PlatformDep, ServiceUnavailable, serving_champions
from zhongtai.api.schemas import Problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
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
        raise ServiceUnavailable(f"online feature store unavailable: {error}") from error
    return {"status": "ready", "model_versions": champions.versions}


@router.get("/metrics", response_class=Response)
def metrics(platform: PlatformDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(platform.metrics), media_type=CONTENT_TYPE_LATEST)
