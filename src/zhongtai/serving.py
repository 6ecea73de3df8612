"""Start a server process of the platform and wait until it answers (demo, benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    command: list[str],
    env: dict[str, str],
    port: int,
    probe: str,
    *,
    ready: Callable[[int], bool] = lambda status: status < 500,
    timeout_s: float = 120,
    tls_ca: Path | None = None,
) -> Iterator[str]:
    """Start a server process; yield its base URL once ``probe`` answers a status that is
    ``ready`` (default: not a 5xx), and stop it afterwards. Fails with the server's last
    words if it exits first. With ``tls_ca`` (a PEM file) the server speaks HTTPS and its
    certificate must verify against that authority."""
    import httpx

    verify = True if tls_ca is None else ssl.create_default_context(cafile=str(tls_ca))

    # its own process group, so that stopping it stops the workers it started too
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    base = f"{'http' if tls_ca is None else 'https'}://127.0.0.1:{port}"
    name = " ".join([os.path.basename(command[0]), *command[1:2]])
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            try:
                if ready(httpx.get(base + probe, timeout=2, verify=verify).status_code):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not answer on {base}{probe} in {timeout_s:.0f} s")
            time.sleep(0.5)
        yield base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
