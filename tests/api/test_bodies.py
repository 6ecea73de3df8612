"""Bodies over the limit are refused before any route reads them, declared or streamed."""

from __future__ import annotations

import asyncio
from typing import Any

from zhongtai.api.bodies import BoundedBodies

LIMIT = 10


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """An app that answers with the body it read."""
    message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": message["body"]})


def call(chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[list[int], bytes]:
    statuses: list[int] = []
    app = BoundedBodies(echo, max_bytes=LIMIT, on_status=statuses.append)
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return statuses, body


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    assert call([b"12345", b"67890"], []) == ([200], b"1234567890")


def test_a_streamed_body_over_the_limit_is_413() -> None:
    statuses, body = call([b"123456", b"789012"], [])
    assert statuses == [413]
    assert b"request body over 10 bytes" in body


def test_a_declared_length_over_the_limit_or_not_a_number_is_413() -> None:
    assert call([b""], [(b"content-length", b"11")])[0] == [413]
    assert call([b""], [(b"content-length", b"-1")])[0] == [413]
