"""What the routes depend on (FastAPI ``Depends``): the platform in the app's state, the
calling partner (authenticated, within its rate limit) and the champions serving now.

Faults are never a silent approve: a dependency that cannot answer now (the online store,
the models) raises :class:`ServiceUnavailable`, which the app answers with 503 and
``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from zhongtai.api.platform import Platform
from zhongtai.decision.champions import Champions, ModelsUnavailable
from zhongtai.stores.partners import Partner


class ServiceUnavailable(Exception):
    """A dependency (online store, models) cannot answer now: 503, retry later."""


async def get_platform(request: Request) -> Platform:
    """The platform the app opened at start-up."""
    platform: Platform = request.app.state.platform
    return platform


async def get_partner(
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


PlatformDep = Annotated[Platform, Depends(get_platform)]
PartnerDep = Annotated[Partner, Depends(get_partner)]


def serving_champions(platform: Platform) -> Champions:
    """The champions serving now; ServiceUnavailable before any has loaded."""
    try:
        return platform.champions.current()
    except ModelsUnavailable as error:
        raise ServiceUnavailable(str(error)) from error
