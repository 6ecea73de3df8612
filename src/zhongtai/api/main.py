"""The decision and partner API (FastAPI): ``zhongtai serve`` runs it with uvicorn.

The app factory: at start-up the lifespan opens the :class:`~zhongtai.api.platform.Platform`
(everything a request needs) and follows the model registry in a thread; the routes are
in :mod:`zhongtai.api.routes`, what they depend on in :mod:`zhongtai.api.deps`. Objects
loaded at start-up are frozen out of the garbage collector's sight (``gc.freeze``), so
its full collections do not walk them in the middle of a request.

Faults are never a silent approve: an unavailable online store or model answers 503 with
``Retry-After``; bad input answers 4xx naming what is wrong.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from zhongtai.api.bodies import BoundedBodies
from zhongtai.api.deps import ServiceUnavailable
from zhongtai.api.platform import Platform, open_platform
from zhongtai.api.routes import decisions, operations, partners
from zhongtai.api.schemas import Problem
from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.settings import Settings

MAX_BODY_BYTES = 16 * 1024
RETRY_AFTER_SECONDS = 5
REFRESH_EVERY_SECONDS = 30.0


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
    for routes in (decisions, partners, operations):
        app.include_router(routes.router)
    return app


def _follow_registry(champions: ChampionSet, stop: threading.Event) -> None:
    while not stop.wait(REFRESH_EVERY_SECONDS):
        with suppress(ModelsUnavailable):  # nothing served yet: requests keep answering 503
            champions.refresh()


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
