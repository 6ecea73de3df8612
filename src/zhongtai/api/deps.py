"""What the routes depend on (FastAPI ``Depends``): the platform in the app's state, the
calling partner (authenticated, within its rate limit) and the champions serving now.

Faults are never a silent approve: a dependency that cannot answer now (the online store,
the models, a store another writer holds locked) raises :class:`ServiceUnavailable`, which
the app answers with 503 and ``Retry-After``. Dependencies that read or write a store are
plain functions, which FastAPI runs on its thread pool: storage never blocks the event
loop, so ``/healthz`` answers while a store is locked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from zhongtai.api.platform import Platform
from zhongtai.decision.champions import Champions, ModelsUnavailable
from zhongtai.stores.partners import OPERATIONS_SCOPE, Partner

# Failed authentications a client address may make a minute, across every worker.
FAILED_AUTHENTICATIONS_PER_MINUTE = 20


class ServiceUnavailable(Exception):
    """A dependency (online store, models, a locked store) cannot answer now: 503, retry
    later. The message is for the partner: no internals (tables, paths, errors)."""


class Gone(Exception):
    """The subject was erased at their request: 410."""


def get_platform(request: Request) -> Platform:
    """The platform the app opened at start-up."""
    platform: Platform = request.app.state.platform
    return platform


def get_partner(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> Partner:
    """The calling partner, authenticated and within its rate limit. Failed attempts are
    limited per client address too."""
    platform: Platform = request.app.state.platform
    scheme, _, key = (authorization or "").partition(" ")
    partner = platform.partners.authenticate(key) if scheme.lower() == "bearer" else None
    if partner is None:
        address = request.client.host if request.client else "unknown"
        allowed, retry_after = platform.limiter.allow(
            f"failed-authentication:{address}", FAILED_AUTHENTICATIONS_PER_MINUTE
        )
        if not allowed:
            raise HTTPException(
                429,
                "too many failed authentications from your address: retry later",
                headers={"Retry-After": str(max(1, round(retry_after)))},
            )
        raise HTTPException(
            401, "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"}
        )
    allowed, retry_after = platform.limiter.allow(
        f"partner:{partner.partner_id}", partner.rate_limit_per_minute
    )
    if not allowed:
        raise HTTPException(
            429,
            f"rate limit of {partner.rate_limit_per_minute} requests per minute reached",
            headers={"Retry-After": str(max(1, round(retry_after)))},
        )
    return partner


def get_operator(partner: Annotated[Partner, Depends(get_partner)]) -> Partner:
    """A caller whose key holds the operations scope (metrics)."""
    if OPERATIONS_SCOPE not in partner.scopes:
        raise HTTPException(403, f"your key's scopes do not include {OPERATIONS_SCOPE!r}")
    return partner


PlatformDep = Annotated[Platform, Depends(get_platform)]
PartnerDep = Annotated[Partner, Depends(get_partner)]
OperatorDep = Annotated[Partner, Depends(get_operator)]


def serving_champions(platform: Platform) -> Champions:
    """The champions serving now; ServiceUnavailable before any has loaded."""
    try:
        return platform.champions.current()
    except ModelsUnavailable as error:
        # "no champion ... is loaded" says what to do; a loading error's text is internal.
        detail = str(error) if error.__cause__ is None else "the champion models cannot load"
        raise ServiceUnavailable(detail) from error


def refuse_erased(platform: Platform, applicant_id: str) -> None:
    """:class:`Gone` for a subject the vault erased."""
    if platform.erasures.erased(applicant_id):
        raise Gone("this applicant was erased at their request: nothing is kept to answer with")
