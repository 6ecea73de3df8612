"""The MLflow UI, read-only: a gateway in front of it refuses every write.

MLflow's own UI writes as readily as it reads: anyone who reaches it can move the
``champion`` alias, rewrite a version's tags or delete a run, with no credentials (its
``basic-auth`` app needs Flask-WTF, which the platform does not ship). Serving is
governed by the promotion gate's signed records (``zhongtai.ml.signing``), so a write
through the UI cannot make the API serve a model; still, the registry is the record of
what the gate decided, and the UI is for reading it.

So ``zhongtai models ui`` runs MLflow on a private port of 127.0.0.1 and puts this
gateway on the port people open: it passes reads (GET, HEAD, OPTIONS; the POST searches
the UI runs, and GraphQL queries) and answers every other request 403, naming what was
refused. Aliases move through ``zhongtai models promote``; runs are written by training.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from zhongtai.serving import free_port, serving_process
from zhongtai.settings import Settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POST endpoints of MLflow's REST API that only read: the searches the UI runs.
_READ_POSTS = re.compile(
    r"^/(?:ajax-)?api/[23]\.0/?mlflow/(?:[\w-]+/)*"
    r"(?:search|search-datasets|get-latest-versions|batchGetInfos)$"
)
_GRAPHQL = re.compile(r"^/(?:ajax-api/)?graphql$")
_MUTATION = re.compile(r"\bmutation\b", re.IGNORECASE)
# Headers that belong to one connection, never forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "server",
        "date",
    }
)
LOCAL_HOST = "127.0.0.1"
UPSTREAM_TIMEOUT_SECONDS = 300.0


def refusal(method: str, path: str, body: bytes) -> str | None:
    """Why the gateway refuses a request (None: a read, forwarded)."""
    route = path.split("?", 1)[0]
    if method in READ_METHODS:
        return None
    if method == "POST" and _READ_POSTS.match(route):
        return None
    if method == "POST" and _GRAPHQL.match(route):
        try:
            query = str(json.loads(body or b"{}").get("query", ""))
        except (ValueError, AttributeError):
            return "a GraphQL request that is not JSON"
        return "a GraphQL mutation" if _MUTATION.search(query) else None
    return f"{method} {route}"


class ReadOnlyGateway(ThreadingHTTPServer):
    """An HTTP server that forwards reads to MLflow at ``upstream`` and refuses writes."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.upstream = upstream


class _Handler(BaseHTTPRequestHandler):
    server: ReadOnlyGateway

    def log_message(self, format: str, *args: object) -> None:
        pass  # MLflow logs the requests it serves; refusals are answered, not logged

    def _handle(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._answer(411, "LENGTH_REQUIRED", "send a Content-Length, not a chunked body")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        refused = refusal(self.command, self.path, body)
        if refused is not None:
            self._answer(
                403,
                "PERMISSION_DENIED",
                f"the model registry UI is read-only: {refused} is refused. Aliases move "
                "through the promotion gate (zhongtai models promote); runs are written by "
                "training (zhongtai models train).",
            )
            return
        self._forward(body)

    do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _forward(self, body: bytes) -> None:
        host, port = self.server.upstream
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_SECONDS)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Host"] = f"{host}:{port}"
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.end_headers()
            while chunk := response.read(64 * 1024):
                self.wfile.write(chunk)
        except (ConnectionError, TimeoutError, http.client.HTTPException) as error:
            self._answer(502, "BAD_GATEWAY", f"MLflow did not answer: {error}")
        finally:
            connection.close()

    def _answer(self, status: int, code: str, message: str) -> None:
        payload = json.dumps({"error_code": code, "message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


@contextmanager
def mlflow_ui(settings: Settings, port: int) -> Iterator[None]:
    """MLflow's UI over the platform's registry on 127.0.0.1:``port``, up and answering
    (its output in the logs folder); stopped, with its workers, on leaving."""
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow = str(Path(sys.executable).parent / "mlflow")
    command = [mlflow, "ui", "--backend-store-uri", settings.tracking_uri]
    command += ["--host", LOCAL_HOST, "--port", str(port)]
    # The UI needs no job consumers (MLflow starts several, gigabytes, unless told not to).
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    log = settings.logs_dir / "mlflow-ui.log"
    with serving_process(
        command, env, port, "/health", ready=lambda status: status == 200, log_path=log
    ):
        yield


def serve_read_only_ui(
    settings: Settings, host: str, port: int, announce: Callable[[str], None] = print
) -> None:
    """Run MLflow's UI behind the read-only gateway on ``host:port`` until interrupted
    (Ctrl-C or SIGTERM), then stop both."""
    upstream = free_port()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with (
            suppress(KeyboardInterrupt),
            ReadOnlyGateway((host, port), (LOCAL_HOST, upstream)) as gateway,
            mlflow_ui(settings, upstream),
        ):
            announce(f"MLflow UI, read-only: http://{host}:{port}")
            gateway.serve_forever()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
