"""Benchmark: latency of full credit decisions under a steady load, beside ``feast serve``.

    .venv/bin/python -m bench.decision_latency --data-dir DIR [--rps 200] [--seconds 60]

DIR is a built world: marts, feature tables, keys and inbox (``zhongtai demo``, or
``generate`` + ``land`` + ``warehouse build`` + ``features build``). Its marts, feature
tables and keys are copied into a scratch data dir (nothing is written into DIR), where
the definitions are applied and the default environment (SQLite online) materialised.
The champions of the model families (``ml/*.yml``) come from a copy of DIR's MLflow store
(their files are read where DIR keeps them); a world without champions gets them trained
(``zhongtai.ml.retrain``, as ``zhongtai models train`` does).

Both servers start as a user starts them, each in its own subprocess: ``zhongtai serve``
(ready on /readyz) with a benchmark partner registered (``PartnerStore.create_partner``, a
rate limit the load never reaches), and ``zhongtai features feast serve`` (ready on
/health). This process is the load: open loop, one request every ``1/rps`` seconds
whatever the answers (a slow answer does not lower the offered load), on one asyncio
loop with a pool of keep-alive connections spoken to in plain HTTP/1.1 (``Connection``:
a client library would take the servers' CPU). Latency is from the send to the whole
answer. Each target gets a warm-up (not measured), then ``--seconds`` measured, one target
after the other (two cores: the servers do not compete with each other):

- ``decision``: POST /v1/decisions for one applicant drawn at random (seeded) from the
  world's applications as delivered (clear identifiers, as a partner sends them);
- ``feast_serve``: POST /get-online-features of ``credit_scoring_v1`` for one applicant
  drawn at random among those materialised (a pseudonym, as Feast keys them).

An error is a non-200 answer, a transport error (a timeout included), a request that
left more than ``--max-lag-ms`` after its scheduled time (the load generator fell behind:
the offered rate was not what it claims), or one not sent at all because
``--max-in-flight`` requests were already waiting (the server fell behind). ``errors`` is
the decision API's count (the target is zero); ``feast_serve_errors`` the baseline's.

``feast serve`` recycles its worker every 1,000 requests by default (a ~1.5 s pause, see
``bench.online_latency``); ``--feast-max-requests 0`` (the default here) turns that off, so
the comparison is with Feast at its steady best.

Writes bench/results/decision_latency.json (``--output`` elsewhere): achieved rate, p50 /
p99 / p99.9 / max of each target, errors by kind, the server's own view of a decision (its
/metrics histogram), CPU per request of each server and of the load (and the rate one
server process could sustain at that CPU cost, on one core: its GIL), outcomes of the
decisions, the world's size, the machine and the verdicts against the target (decision
p99 ≤ 10 ms and no slower than Feast's, zero errors), and the CPU that other processes
took meanwhile (a shared machine skews every figure). Past a server's capacity its
backlog grows to ``--max-in-flight``: latencies then measure that queue, and the
requests that find it full count as errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import psutil
from pydantic import ValidationError

from bench.machine import RESULTS_DIR, describe_machine, write_results
from bench.online_latency import materialised_applicants, prepare
from zhongtai.cli.demo_api import decision_request, delivered_applications
from zhongtai.decision.schemas import CONSENTS, DecisionRequest
from zhongtai.features.repo import open_store
from zhongtai.serving import Server, free_port, serving_process
from zhongtai.settings import Settings
from zhongtai.stores.partners import PartnerStore, partners_path
from zhongtai.warehouse.marts import mart_path

RESULTS = RESULTS_DIR / "decision_latency.json"
SERVICE = "credit_scoring_v1"
PARTNER = "bench_bank"
SEED = 11
TARGET_P99_MS = 10.0


# --- the world ------------------------------------------------------------------------


def world_applications(world: Settings) -> list[dict[str, str]]:
    """The world's applications as delivered (clear identifiers, before landing)."""
    rows = delivered_applications(world)
    if not rows:
        raise SystemExit(f"no applications under {world.inbox_dir}/*/applications/*.csv")
    return rows


def decision_bodies(world: Settings) -> tuple[list[bytes], int]:
    """Encoded request bodies of the world's applications that the API's schema accepts,
    and how many rows it refuses (a world may deliver defective rows on purpose)."""
    bodies, refused = [], 0
    for row in world_applications(world):
        try:
            body = decision_request(row, consents=CONSENTS)
            DecisionRequest.model_validate(body)
        except (ValueError, ValidationError):
            refused += 1
            continue
        bodies.append(json.dumps(body).encode())
    return bodies, refused


def prepare_champions(source: Settings, settings: Settings) -> str:
    """Champions in the scratch store: a copy of DIR's registry, else trained here."""
    from mlflow.exceptions import MlflowException

    from zhongtai.ml.retrain import retrain
    from zhongtai.ml.spec import model_families
    from zhongtai.ml.track import use_mlflow

    store = source.mlflow_dir / "mlflow.db"
    if store.exists():
        settings.mlflow_dir.mkdir(parents=True)
        shutil.copy2(store, settings.mlflow_dir / "mlflow.db")
        client = use_mlflow(settings)
        try:
            versions = [
                f"{family} v{client.get_model_version_by_alias(family, 'champion').version}"
                for family in model_families(settings)
            ]
            return f"the world's champions ({', '.join(versions)})"
        except MlflowException:
            # Its experiments' artifacts live in DIR: start a store of our own instead.
            shutil.rmtree(settings.mlflow_dir)
    for family in model_families(settings):
        outcome = retrain(family, settings, progress=lambda message: print(message, flush=True))
        if not outcome.promoted:
            raise SystemExit(f"{family}: the trained model did not pass its promotion gates")
    return "trained on the world here (versions 1)"


def register_partner(settings: Settings) -> str:
    """The benchmark's partner and its API key; its rate limit is far above the load."""
    with PartnerStore.open(partners_path(settings)) as store:
        _, key = store.create_partner(
            PARTNER,
            "Benchmark Bank",
            scopes=["partner_credit_v1"],
            purposes=CONSENTS,
            rate_limit_per_minute=10_000_000,
        )
    return key


# --- the servers ----------------------------------------------------------------------


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str, log: Path) -> Iterator[Server]:
    """A server subprocess on a free port, ready when ``probe`` answers 200 (``zhongtai
    features feast serve`` runs ``feast serve`` as a child: both are stopped)."""
    port = free_port()
    with serving_process(
        [*command, "--port", str(port)],
        env,
        port,
        probe,
        ready=lambda status: status == 200,
        timeout_s=120,
        log_path=log,
    ) as started:
        yield started


def cpu_seconds(server: Server) -> float:
    """User + system CPU of the server's whole process tree so far."""
    root = psutil.Process(server.process.pid)
    total = 0.0
    for member in [root, *root.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def server_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ZHONGTAI_DATA_DIR": str(settings.data_dir.resolve()),
        "ZHONGTAI_ENV": settings.env,
        "ZHONGTAI_FEATURE_ENV": settings.feature_env,
        "ZHONGTAI_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "FEAST_USAGE": "False",
    }


# --- the load -------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase of the open-loop load saw."""

    latencies_ns: list[int] = field(default_factory=list)  # 200 answers only
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    late: int = 0  # sent, but later than --max-lag-ms after their time
    not_sent: int = 0  # due while --max-in-flight requests were pending
    lags_ns: list[int] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    first_send_ns: int = 0
    last_answer_ns: int = 0


Request = Callable[[int], tuple[str, bytes]]  # request number → (path, JSON body)


class TransportError(Exception):
    """The connection failed, timed out or answered what is not HTTP/1.1 with a length."""


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the whole answer.

    As lean as a load generator can be in Python (a request is one write, an answer two
    reads): an HTTP client library costs about 1.7 ms of CPU a request, which on two
    cores is taken from the server measured. Answers must carry ``Content-Length`` (both
    servers' do); anything else, a failure or a timeout closes the connection, counts as
    a transport error, and the next request opens a new one.
    """

    def __init__(self, base: str, headers: dict[str, str], timeout_s: float) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port, self.timeout_s = host, int(port), timeout_s
        fixed = {"Host": base.removeprefix("http://"), "Content-Type": "application/json"}
        self.fixed_headers = "".join(f"{k}: {v}\r\n" for k, v in {**fixed, **headers}.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """``(status, body)`` of the answer. Raises TransportError."""
        try:
            return await asyncio.wait_for(self._exchange(path, body), self.timeout_s)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            self.close()
            raise TransportError(type(error).__name__) from error

    async def _exchange(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.streams is not None and self.streams[0].at_eof():
            self.close()  # the server closed it while idle (its keep-alive timeout)
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        head = f"POST {path} HTTP/1.1\r\n{self.fixed_headers}Content-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body)
        header = await reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = _content_length(header)
        answer = await reader.readexactly(length)
        if b"\r\nconnection: close" in header.lower():
            self.close()
        return status, answer

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def _content_length(header: bytes) -> int:
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("an answer without Content-Length")


async def open_loop(
    connections: list[Connection],
    request: Request,
    args: argparse.Namespace,
    seconds: float,
    read_outcome: bool,
) -> Phase:
    """Send ``rps × seconds`` requests, each at its scheduled time, whatever the answers.

    Each request takes an idle connection (the last one freed, so a light load keeps
    using the same few); a request due when all ``--max-in-flight`` are busy is not sent
    and counts as an error. Queueing it in the client instead would only move the
    server's backlog into this process, whose CPU the servers need.
    """
    phase = Phase()
    interval_ns = round(1e9 / args.rps)
    max_lag_ns = round(args.max_lag_ms * 1e6)
    total = round(args.rps * seconds)
    start_ns = time.perf_counter_ns() + 20_000_000
    phase.first_send_ns = start_ns
    idle = list(connections)
    pending: set[asyncio.Task[None]] = set()

    async def one(connection: Connection, number: int, due_ns: int) -> None:
        path, body = request(number)
        sent = time.perf_counter_ns()
        lag = sent - due_ns
        phase.lags_ns.append(lag)
        if lag > max_lag_ns:
            phase.late += 1
        try:
            status, answer = await connection.post(path, body)
        except TransportError as error:
            phase.transport_errors[str(error)] += 1
            return
        finally:
            idle.append(connection)
        answered = time.perf_counter_ns()
        phase.last_answer_ns = max(phase.last_answer_ns, answered)
        phase.statuses[status] += 1
        if status == 200:
            phase.latencies_ns.append(answered - sent)
            if read_outcome:
                phase.outcomes[json.loads(answer)["outcome"]] += 1

    for number in range(total):
        due_ns = start_ns + number * interval_ns
        wait = (due_ns - time.perf_counter_ns()) / 1e9
        if wait > 0:
            await asyncio.sleep(wait)
        if not idle:
            phase.not_sent += 1
            continue
        task = asyncio.create_task(one(idle.pop(), number, due_ns))
        pending.add(task)
        task.add_done_callback(pending.discard)
    while pending:
        await asyncio.gather(*pending)
    return phase


def run_load(
    target: Server,
    request: Request,
    args: argparse.Namespace,
    headers: dict[str, str],
    read_outcome: bool,
    metrics: Callable[[], dict[str, float]] | None = None,
) -> dict[str, Any]:
    """Warm up, then measure; the figures of the measured phase."""

    async def both() -> tuple[Phase, dict[str, float]]:
        connections = [
            Connection(target.base, headers, args.timeout_s) for _ in range(args.max_in_flight)
        ]
        try:
            await open_loop(connections, request, args, args.warmup_seconds, False)
            before = metrics() if metrics else {}
            cpu_before, load_before = cpu_seconds(target), own_cpu_seconds()
            busy_before, wall_before = machine_busy_seconds(), time.perf_counter()
            measured = await open_loop(connections, request, args, args.seconds, read_outcome)
            cpu = cpu_seconds(target) - cpu_before
            load_cpu = own_cpu_seconds() - load_before
            busy, wall = machine_busy_seconds() - busy_before, time.perf_counter() - wall_before
            after = metrics() if metrics else {}
        finally:
            for connection in connections:
                connection.close()
        server_view = {name: after[name] - before.get(name, 0.0) for name in after}
        server_view["server_cpu_s"], server_view["load_cpu_s"] = cpu, load_cpu
        # CPU that neither the server nor this process used: other work on the machine.
        server_view["other_cores"] = max(busy - cpu - load_cpu, 0.0) / wall
        return measured, server_view

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        phase, server_view = runner.run(both())
    return figures(phase, server_view, args)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (uvicorn's own), for a lighter load generator."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core, every process) so far."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def figures(
    phase: Phase, server_view: dict[str, float], args: argparse.Namespace
) -> dict[str, Any]:
    ms = np.array(phase.latencies_ns, dtype=np.float64) / 1e6
    sent = len(phase.lags_ns)
    other_cores = server_view.pop("other_cores")
    answered = sum(phase.statuses.values())
    non_200 = answered - phase.statuses.get(200, 0)
    transport = sum(phase.transport_errors.values())
    span_s = max(phase.last_answer_ns - phase.first_send_ns, 1) / 1e9
    lags = np.array(phase.lags_ns, dtype=np.float64) / 1e6
    server_ms = round(server_view.pop("server_cpu_s") * 1e3 / max(sent, 1), 2)
    load_ms = round(server_view.pop("load_cpu_s") * 1e3 / max(sent, 1), 2)
    result: dict[str, Any] = {
        "requests": sent + phase.not_sent,
        "sent": sent,
        "ok": int(ms.size),
        "rps": round(ms.size / span_s, 1),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "p999_ms": percentile(ms, 99.9),
        "max_ms": round(float(ms.max()), 2) if ms.size else None,
        "mean_ms": round(float(ms.mean()), 2) if ms.size else None,
        "over_10ms_share": round(float((ms > TARGET_P99_MS).mean()), 4) if ms.size else None,
        "errors": non_200 + transport + phase.late + phase.not_sent,
        "error_kinds": {
            "non_200": {str(code): n for code, n in phase.statuses.items() if code != 200},
            "transport": dict(phase.transport_errors),
            "late_sends": phase.late,
            "not_sent": phase.not_sent,
        },
        "send_lag_ms": {
            "p50": percentile(lags, 50),
            "p99": percentile(lags, 99),
            "max": round(float(lags.max()), 2) if lags.size else None,
            "limit": args.max_lag_ms,
        },
        "cpu_ms_per_request": {"server": server_ms, "load_generator": load_ms},
        # One server process runs Python on one core at a time (the GIL): its ceiling.
        "server_cpu_bound_rps": round(1e3 / server_ms) if server_ms else None,
        "other_processes_cores": round(other_cores, 2),
    }
    count = server_view.get("count", 0.0)
    if count:
        result["server_side"] = {
            "decisions": int(count),
            "mean_ms": round(server_view["sum"] / count * 1e3, 2),
            "share_within_ms": {
                bound: round(server_view[f"le_{bound}"] / count, 4)
                for bound in ("5", "10", "20", "50")
            },
        }
    if phase.outcomes:
        result["outcomes"] = dict(phase.outcomes)
    return result


def percentile(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values.size else None


_SAMPLE = re.compile(r"^zhongtai_request_seconds_(sum|count|bucket)\{([^}]*)\} (\S+)$")


def decision_metrics(base: str) -> Callable[[], dict[str, float]]:
    """The API's own latency histogram of decisions (time inside the route), from /metrics."""

    def read() -> dict[str, float]:
        found: dict[str, float] = {}
        for line in httpx.get(base + "/metrics", timeout=10).text.splitlines():
            match = _SAMPLE.match(line)
            if not match or 'route="decision"' not in match.group(2):
                continue
            kind, labels, value = match.groups()
            if kind == "bucket":
                bound = re.search(r'le="([^"]+)"', labels)
                if bound:
                    upper = float(bound.group(1))
                    found[f"le_{upper * 1000:g}"] = float(value)
            else:
                found[kind] = float(value)
        return found

    return read


# --- the run --------------------------------------------------------------------------


def stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="a built world")
    parser.add_argument("--rps", type=float, default=200.0, help="offered requests a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured, per target")
    parser.add_argument("--warmup-seconds", type=float, default=5.0)
    parser.add_argument(
        "--max-lag-ms", type=float, default=10.0, help="a later send counts as an error"
    )
    parser.add_argument(
        "--max-in-flight", type=int, default=64, help="pending requests (connections) at most"
    )
    parser.add_argument("--timeout-s", type=float, default=10.0, help="per request")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the figures go")
    parser.add_argument(
        "--feast-max-requests",
        type=int,
        default=0,
        help="feast serve's worker recycling (0: off; Feast's own default is 1000)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)  # stop the servers and remove the scratch dir

    source = Settings(data_dir=args.data_dir.resolve(), env="test")
    bodies, refused = decision_bodies(source)
    scratch = Path(tempfile.mkdtemp(prefix="zhongtai-decision-bench-"))
    try:
        settings = Settings(data_dir=scratch / "var", env="test")
        for folder in (source.marts_dir, source.features_dir, source.keys_dir):
            shutil.copytree(folder, settings.data_dir / folder.name)
        champions = prepare_champions(source, settings)
        print(f"champions: {champions}", flush=True)
        end = prepare(settings, "default (SQLite online)")
        ttl = open_store(settings).get_feature_view("application_profile").ttl
        applicants = materialised_applicants(settings, end - ttl)
        key = register_partner(settings)
        env = server_environment(settings)
        zhongtai = str(Path(sys.executable).with_name("zhongtai"))
        rng = np.random.default_rng(SEED)

        picks = rng.integers(0, len(bodies), size=round(args.rps * args.seconds) + 1)

        def decision(number: int) -> tuple[str, bytes]:
            return "/v1/decisions", bodies[picks[number % picks.size]]

        entities = rng.choice(applicants, size=round(args.rps * args.seconds) + 1).tolist()

        def features(number: int) -> tuple[str, bytes]:
            request = {
                "feature_service": SERVICE,
                "entities": {"applicant_id": [entities[number % len(entities)]]},
            }
            return "/get-online-features", json.dumps(request).encode()

        log = settings.data_dir / "serve.log"
        with server([zhongtai, "serve"], env, "/readyz", log) as api:
            print(f"decisions: {args.rps:g}/s for {args.seconds:g} s on {api.base}", flush=True)
            decisions = run_load(
                api,
                decision,
                args,
                {"Authorization": f"Bearer {key}"},
                read_outcome=True,
                metrics=decision_metrics(api.base),
            )
        print("decision", json.dumps(decisions), flush=True)
        feast_args = ["serve", "--no-access-log", "--max-requests", str(args.feast_max_requests)]
        feast = [zhongtai, "features", "feast", *feast_args]
        with server(feast, env, "/health", settings.data_dir / "feast-serve.log") as feast_server:
            print(f"feast serve: {args.rps:g}/s for {args.seconds:g} s", flush=True)
            served = run_load(feast_server, features, args, {}, read_outcome=False)
        print("feast_serve", json.dumps(served), flush=True)

        [(applications, people)] = duckdb.execute(
            "select count(*), count(distinct applicant_id) from read_parquet(?)",
            [str(mart_path(source, "application_features"))],
        ).fetchall()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    errors = decisions["errors"]  # the platform's; Feast's are the baseline's own
    p99, feast_p99 = decisions["p99_ms"], served["p99_ms"]
    result: dict[str, Any] = {
        "rps": decisions["rps"],
        "decision_p50_ms": decisions["p50_ms"],
        "decision_p99_ms": p99,
        "decision_p999_ms": decisions["p999_ms"],
        "decision_max_ms": decisions["max_ms"],
        "feast_serve_p50_ms": served["p50_ms"],
        "feast_serve_p99_ms": feast_p99,
        "errors": errors,
        "feast_serve_errors": served["errors"],
        "verdict": {
            "decision_p99_within_10ms": p99 is not None and p99 <= TARGET_P99_MS,
            "decision_p99_not_slower_than_feast": (
                p99 is not None and feast_p99 is not None and p99 <= feast_p99
            ),
            "zero_errors": errors == 0,
        },
        "offered_rps": args.rps,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "decision": decisions,
        "feast_serve": served,
        "feast_serve_max_requests": args.feast_max_requests,
        "world": {
            "applicants": people,
            "applications": applications,
            "applications_in_inbox": len(bodies) + refused,
            "inbox_rows_refused_by_schema": refused,
            "applicants_materialised": len(applicants),
            "champions": champions,
        },
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "machine": describe_machine(),
    }
    result["verdict"]["met"] = all(result["verdict"].values())
    write_results(args.output, result)


if __name__ == "__main__":
    main()
