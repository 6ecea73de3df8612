"""Waiting on a server: a chatty one becomes ready, a dead one is reported at once, a
stopped one takes the workers it started with it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest

from zhongtai.serving import ServerNotReady, free_port, running, serving, serving_process

# Writes 1 MB to stderr before it listens: through an unread pipe it would block for ever.
CHATTY = """
import http.server, sys
sys.stderr.write("x" * 1_000_000 + "\\nlistening\\n"); sys.stderr.flush()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def test_a_server_that_logs_a_lot_before_listening_becomes_ready(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    command = [sys.executable, "-c", CHATTY, str(port)]
    with serving(command, {}, port, "/", log_path=log, timeout_s=120) as base:
        assert base == f"http://127.0.0.1:{port}"
    assert "listening" in log.read_text()


def test_a_server_that_exits_is_reported_at_once_with_its_last_words(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", "import sys; sys.exit('no champion: cannot serve')"]
    # the message says it exited (a wait to the deadline would say "was not ready")
    exited = r"(?s)exited with code 1.*no champion: cannot serve"
    log = tmp_path / "server.log"
    with (
        pytest.raises(ServerNotReady, match=exited),
        serving(command, {}, port, "/", log_path=log, timeout_s=600),
    ):
        pass


# Starts a worker, writes its pid, then waits: ready once the pid file is there.
WITH_WORKER = """
import pathlib, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
written = pathlib.Path(sys.argv[1] + ".part")
written.write_text(str(worker.pid))
written.rename(sys.argv[1])
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stopping_a_server_stops_the_workers_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    command = [sys.executable, "-c", WITH_WORKER, str(pid_file)]
    with running(command, {}, pid_file.exists, timeout_s=120) as process:
        worker = int(pid_file.read_text())
        assert not _gone(worker)
    assert process.poll() is not None
    deadline = time.monotonic() + 30
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(worker)


def test_a_live_server_that_never_gets_ready_is_reported_at_the_deadline(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    command = [sys.executable, "-c", CHATTY, str(port)]
    # it answers 200 (or not yet, on a busy machine), never the 204 awaited
    not_ready = rf"was not ready on http://127.0.0.1:{port}/ \((last answered 200|no answer)\)"
    with (
        pytest.raises(ServerNotReady, match=not_ready + " after 5 s"),
        serving_process(
            command, {}, port, "/", ready=lambda s: s == 204, log_path=log, timeout_s=5
        ),
    ):
        pass
