"""Start a server process of the platform and wait until it answers (demo, benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOG_TAIL_CHARS = 2000


class ServerNotReady(RuntimeError):
    """A server exited, or did not become ready in time; the message holds its last words."""


@dataclass(frozen=True)
class Server:
    """A server that answers: its base URL, and its process (the leader of its own group,
    so a benchmark can count the CPU of the whole tree)."""

    base: str
    process: subprocess.Popen[bytes]


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The last ``chars`` characters of a log file (empty if there is none)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - chars))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


@contextmanager
def running(
    command: list[str],
    env: dict[str, str],
    ready: Callable[[], bool],
    *,
    waiting_for: Callable[[], str] = lambda: "",
    timeout_s: float = 300,
    log_path: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a process; yield it once ``ready()`` holds, and stop it afterwards.

    The process runs in a session of its own, so that stopping it stops the workers it
    started too. Its output goes to ``log_path`` (default: a temporary file), never to a
    pipe nobody reads: a chatty server would block on a full pipe and never become ready.
    Fails with ``ServerNotReady`` and the log's last lines as soon as the process exits,
    or after ``timeout_s`` (a generous bound for a busy machine: a live server is waited
    for, a dead one is not); ``waiting_for()`` says what was awaited, for that message."""
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="zhongtai-server-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    name = " ".join([os.path.basename(command[0]), *command[1:2]])
    try:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if process.poll() is not None:
                raise ServerNotReady(
                    f"{name} exited with code {process.returncode} (log: {log_path}):\n"
                    f"{log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise ServerNotReady(
                    f"{name} was not ready{waiting_for()} after {timeout_s:.0f} s "
                    f"(log: {log_path}):\n{log_tail(log_path)}"
                )
            time.sleep(0.5)
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@contextmanager
def serving_process(
    command: list[str],
    env: dict[str, str],
    port: int,
    probe: str,
    *,
    ready: Callable[[int], bool] = lambda status: status < 500,
    timeout_s: float = 300,
    tls_ca: Path | None = None,
    log_path: Path | None = None,
) -> Iterator[Server]:
    """Start an HTTP server (see ``running``); yield it once ``probe`` answers a status
    that is ``ready`` (default: not a 5xx). With ``tls_ca`` (a PEM file) the server speaks
    HTTPS and its certificate must verify against that authority."""
    import httpx

    verify = True if tls_ca is None else ssl.create_default_context(cafile=str(tls_ca))
    base = f"{'http' if tls_ca is None else 'https'}://127.0.0.1:{port}"
    answered: int | None = None

    def answers() -> bool:
        nonlocal answered
        try:
            answered = httpx.get(base + probe, timeout=5, verify=verify).status_code
        except httpx.TransportError:
            return False
        return ready(answered)

    def waiting_for() -> str:
        status = "no answer" if answered is None else f"last answered {answered}"
        return f" on {base}{probe} ({status})"

    with running(
        command, env, answers, waiting_for=waiting_for, timeout_s=timeout_s, log_path=log_path
    ) as process:
        yield Server(base, process)


@contextmanager
def serving(*args: Any, **options: Any) -> Iterator[str]:
    """``serving_process`` (same arguments) for those who need only the base URL."""
    with serving_process(*args, **options) as server:
        yield server.base
