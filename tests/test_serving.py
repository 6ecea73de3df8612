"""Waiting on a server: a chatty one becomes ready, a dead one is reported at once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zhongtai.serving import ServerNotReady, free_port, serving

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
