"""The decision and partner API (FastAPI): ``zhongtai serve`` runs it with uvicorn.

The app factory: at start-up the lifespan opens the :class:`~zhongtai.api.platform.Platform`
(everything a request needs) and follows the model registry in a thread; the routes are
in :mod:`zhongtai.api.routes`, what they depend on in :mod:`zhongtai.api.deps`. Objects
loaded at start-up are frozen out of the garbage collector's sight (``gc.freeze``), so
its full collections do not walk them in the middle of a request.

Faults are never a silent approve: an unavailable online store or model, or a locked
store, answers 503 with ``Retry-After``; bad input answers 4xx naming what is wrong; every
error is problem details (:mod:`zhongtai.api.problems`). The docs (Swagger UI, ReDoc) are
served from the app's own assets: banks run air-gapped, with no CDN to reach.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from zhongtai.api.bodies import BoundedBodies
from zhongtai.api.platform import Platform, open_platform
from zhongtai.api.problems import RETRY_AFTER_SECONDS, install_problem_handlers
from zhongtai.api.routes import decisions, operations, partners
from zhongtai.api.schemas import Problem
from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.privacy.keys import write_privately
from zhongtai.settings import Settings

MAX_BODY_BYTES = 16 * 1024
REFRESH_EVERY_SECONDS = 30.0
DOCS_ASSETS = "/docs-assets"
__all__ = ["MAX_BODY_BYTES", "RETRY_AFTER_SECONDS", "app", "create_app"]


def create_app(open_resources: Callable[[], Platform] | None = None) -> FastAPI:
    """The API. ``open_resources`` defaults to the platform of ``Settings()``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        write_privately()
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
        docs_url=None,
        redoc_url=None,
        responses={
            401: {"model": Problem},
            403: {"model": Problem},
            404: {"model": Problem},
            410: {"model": Problem},
            413: {"model": Problem},
            429: {"model": Problem},
            503: {"model": Problem},
        },
    )
    _install_handlers(app)
    _serve_docs_locally(app)
    for routes in (decisions, partners, operations):
        app.include_router(routes.router)
    return app


def _serve_docs_locally(app: FastAPI) -> None:
    """Swagger UI and ReDoc from assets installed with the app (no CDN)."""
    assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title}: Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{title}: ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


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
    install_problem_handlers(app)


app = create_app()
