"""Decision and audit in one atomic write (issue 13, row 7): ``kill -9`` of a real server
process in the middle of a burst of decisions leaves no stored decision without its audit
record, and ``zhongtai audit verify`` passes.

The ledger is read afterwards by other processes, as an operator would: a process that
still has SQLite connections open on a file must not open and close it by other means
(closing any descriptor drops all of the process's POSIX locks on the file).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.api.test_app import request_for
from tests.conftest import free_port
from zhongtai.cli.demo_api import delivered_applications
from zhongtai.serving import serving_process
from zhongtai.settings import Settings
from zhongtai.stores.audit import audit_log_path
from zhongtai.stores.partners import PartnerStore, partners_path

DECISIONS_BEFORE_THE_KILL = 20
SENDERS = 6


def stored_decisions(settings: Settings) -> int:
    """The decisions in the ledger, counted by another process."""
    if not audit_log_path(settings).exists():
        return 0
    script = (
        "import sqlite3, sys; from contextlib import closing\n"
        "with closing(sqlite3.connect(sys.argv[1])) as c:\n"
        "    print(c.execute('SELECT COUNT(*) FROM decisions').fetchone()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(audit_log_path(settings))],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_kill_9_in_a_burst_leaves_no_decision_without_its_audit_record(
    served_world: Settings,
    feature_world: Settings,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("kind", "api.kill_9_in_a_burst")
    with PartnerStore.open(partners_path(served_world)) as store:
        _, key = store.create_partner(
            "burst_bank",
            "Burst Bank",
            scopes=["partner_credit_v1"],
            purposes=["credit_scoring", "fraud_prevention"],
            rate_limit_per_minute=1_000_000,
        )
    rows = delivered_applications(feature_world)[-200:]
    port = free_port()
    env = {
        **os.environ,
        "ZHONGTAI_DATA_DIR": str(served_world.data_dir.resolve()),
        "ZHONGTAI_ENV": served_world.env,
    }
    command = [str(Path(sys.executable).parent / "zhongtai"), "serve", "--port", str(port)]
    answered: list[int] = []
    enough = threading.Event()
    stop = threading.Event()

    def send(base: str, offset: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, timeout=60) as client:
            n = offset
            while not stop.is_set():
                try:
                    response = client.post(
                        "/v1/decisions", json=request_for(rows[n % len(rows)]), headers=headers
                    )
                except httpx.TransportError:
                    return  # the server is gone
                answered.append(response.status_code)
                if answered.count(200) >= DECISIONS_BEFORE_THE_KILL:
                    enough.set()
                n += SENDERS

    before = stored_decisions(served_world)
    ready = serving_process(
        command,
        env,
        port,
        "/readyz",
        ready=lambda status: status == 200,
        log_path=tmp_path / "api.log",
    )
    with ready as server:
        senders = [
            threading.Thread(target=send, args=(server.base, offset)) for offset in range(SENDERS)
        ]
        for sender in senders:
            sender.start()
        assert enough.wait(timeout=600), f"the burst never reached {DECISIONS_BEFORE_THE_KILL}"
        os.killpg(server.process.pid, signal.SIGKILL)  # mid-burst: requests are in flight
        server.process.wait(timeout=60)
        stop.set()
        for sender in senders:
            sender.join(timeout=120)
    record_property("outcome", "atomic")

    assert server.process.returncode == -signal.SIGKILL
    assert set(answered) <= {200}, f"a request of the burst failed: {sorted(set(answered))}"
    assert stored_decisions(served_world) - before >= answered.count(200)
    verified = subprocess.run(
        [command[0], "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chain intact" in verified.stdout
    assert "every stored decision has its record" in " ".join(verified.stdout.split())
