"""Errors as problem details (RFC 9457): ``type``, ``title``, ``status`` and a ``detail``
a partner can act on. Never an internal: no table, path, exception text or traceback in a
body; a server error says only that it happened (the log has the rest)."""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from zhongtai.api.deps import Gone, ServiceUnavailable

RETRY_AFTER_SECONDS = 5
MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger("zhongtai.api")


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem-details response."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    return JSONResponse(
        {**body, "detail": detail}, status_code=status, headers=headers, media_type=MEDIA_TYPE
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app answers, as problem details."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for found in error.errors():  # never ``input``: it may be a personal value
            where = ".".join(str(part) for part in found["loc"])
            problems.append(f"{where}: {found['msg']}")
        return problem(422, "; ".join(problems) or "invalid request")

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, error: ServiceUnavailable) -> JSONResponse:
        return problem(503, str(error), {"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(sqlite3.OperationalError)
    async def store_busy(request: Request, error: sqlite3.OperationalError) -> JSONResponse:
        _log.warning("store unavailable on %s: %s", request.url.path, error)
        return problem(
            503,
            "a store of the platform is busy or unavailable: retry later",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(TimeoutError)
    async def timed_out(request: Request, error: TimeoutError) -> JSONResponse:
        return problem(
            503, "the platform is busy: retry later", {"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.exception_handler(Gone)
    async def gone(request: Request, error: Gone) -> JSONResponse:
        return problem(410, str(error))

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> JSONResponse:
        _log.exception("server error on %s", request.url.path)
        return problem(500, "internal server error: the platform logged it")
