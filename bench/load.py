"""An open-loop HTTP/1.1 load generator, and the figures of what it saw.

What it promises, for one target at a time (``run_load``):

- Open loop: request ``n`` is due ``n / rps`` seconds after the start and is sent then,
  whatever the answers; a slow answer does not lower the offered load.
- One asyncio loop (uvloop where installed) and a pool of ``--max-in-flight`` keep-alive
  connections spoken to in plain HTTP/1.1 (``Connection``): a client library would take
  the CPU of the server measured. A request takes the connection freed last, so a light
  load keeps using the same few.
- A warm-up (``--warmup-seconds``, not measured), then ``--seconds`` measured. Latency is
  from the send to the whole answer, over the 200 answers.
- An error is a non-200 answer; a transport error (a refused or dropped connection, a
  timeout after ``--timeout-s``, an answer without ``Content-Length``); a request that left
  more than ``--max-lag-ms`` after its due time (this process fell behind: the offered rate
  was not what it claims); or one not sent at all because ``--max-in-flight`` requests
  were already pending (the server fell behind). Past a server's capacity its backlog
  grows to ``--max-in-flight``: latencies then measure that queue, and the requests that
  find it full count as errors.

The figures (``figures``): achieved rate, p50 / p90 / p99 / p99.9 / max / mean, the share
slower than a threshold, errors by kind, the send lag, CPU per request of the server's
process tree and of this process (and the rate one server process could sustain at that
cost, on one core: its GIL), and the cores that other processes took meanwhile (a shared
machine skews every figure).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psutil

from zhongtai.serving import Server

Request = Callable[[int], tuple[str, bytes]]  # request number → (path, JSON body)
Outcome = Callable[[bytes], str]  # a 200 answer's body → the outcome it reports
# Called just before the measured phase; what it returns, called just after, gives the
# server's own figures of that phase (``server_side``; empty when it saw nothing).
ServerView = Callable[[], Callable[[], dict[str, Any]]]


@dataclass(frozen=True)
class Plan:
    """The load offered to a target, and the limits past which a request is an error."""

    rps: float
    seconds: float  # measured
    warmup_seconds: float
    max_lag_ms: float
    max_in_flight: int
    timeout_s: float

    @property
    def requests(self) -> int:
        """Requests offered in the measured phase."""
        return round(self.rps * self.seconds)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Plan:
        return cls(
            rps=args.rps,
            seconds=args.seconds,
            warmup_seconds=args.warmup_seconds,
            max_lag_ms=args.max_lag_ms,
            max_in_flight=args.max_in_flight,
            timeout_s=args.timeout_s,
        )


def add_options(parser: argparse.ArgumentParser) -> None:
    """The command-line options of a ``Plan``."""
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


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of the measured phase: the server's tree, this process, the others."""

    server_s: float
    load_s: float
    other_cores: float  # the rest of the machine's busy CPU, in cores


class TransportError(Exception):
    """The connection failed, timed out or answered what is not HTTP/1.1 with a length."""


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the whole answer.

    As lean as a load generator can be in Python (a request is one write, an answer two
    reads): an HTTP client library costs about 1.7 ms of CPU a request, which on two
    cores is taken from the server measured. Answers must carry ``Content-Length``;
    anything else, a failure or a timeout closes the connection, counts as a transport
    error, and the next request opens a new one.
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
    plan: Plan,
    seconds: float,
    outcome: Outcome | None,
) -> Phase:
    """Send ``rps × seconds`` requests, each at its scheduled time, whatever the answers.

    Each request takes an idle connection (the last one freed, so a light load keeps
    using the same few); a request due when all ``--max-in-flight`` are busy is not sent
    and counts as an error. Queueing it in the client instead would only move the
    server's backlog into this process, whose CPU the servers need.
    """
    phase = Phase()
    interval_ns = round(1e9 / plan.rps)
    max_lag_ns = round(plan.max_lag_ms * 1e6)
    total = round(plan.rps * seconds)
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
            if outcome is not None:
                phase.outcomes[outcome(answer)] += 1

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
    plan: Plan,
    headers: dict[str, str],
    *,
    slow_ms: float,
    outcome: Outcome | None = None,
    server_view: ServerView | None = None,
) -> dict[str, Any]:
    """Warm up, then measure; the figures of the measured phase (``figures``).

    ``outcome`` tallies what the 200 answers report; ``slow_ms`` is the latency whose
    share is counted (``over_<slow_ms>ms_share``).
    """

    async def both() -> tuple[Phase, Cpu, dict[str, Any]]:
        connections = [
            Connection(target.base, headers, plan.timeout_s) for _ in range(plan.max_in_flight)
        ]
        try:
            await open_loop(connections, request, plan, plan.warmup_seconds, None)
            seen = server_view() if server_view else None
            cpu_before, load_before = cpu_seconds(target), own_cpu_seconds()
            busy_before, wall_before = machine_busy_seconds(), time.perf_counter()
            measured = await open_loop(connections, request, plan, plan.seconds, outcome)
            server_s = cpu_seconds(target) - cpu_before
            load_s = own_cpu_seconds() - load_before
            busy, wall = machine_busy_seconds() - busy_before, time.perf_counter() - wall_before
            server_side = seen() if seen else {}
        finally:
            for connection in connections:
                connection.close()
        # CPU that neither the server nor this process used: other work on the machine.
        other_cores = max(busy - server_s - load_s, 0.0) / wall
        return measured, Cpu(server_s, load_s, other_cores), server_side

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        phase, cpu, server_side = runner.run(both())
    return figures(phase, cpu, server_side, plan, slow_ms)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (uvicorn's own), for a lighter load generator."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


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


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core, every process) so far."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def figures(
    phase: Phase, cpu: Cpu, server_side: dict[str, Any], plan: Plan, slow_ms: float
) -> dict[str, Any]:
    ms = np.array(phase.latencies_ns, dtype=np.float64) / 1e6
    sent = len(phase.lags_ns)
    answered = sum(phase.statuses.values())
    non_200 = answered - phase.statuses.get(200, 0)
    transport = sum(phase.transport_errors.values())
    span_s = max(phase.last_answer_ns - phase.first_send_ns, 1) / 1e9
    lags = np.array(phase.lags_ns, dtype=np.float64) / 1e6
    server_ms = round(cpu.server_s * 1e3 / max(sent, 1), 2)
    load_ms = round(cpu.load_s * 1e3 / max(sent, 1), 2)
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
        f"over_{slow_ms:g}ms_share": round(float((ms > slow_ms).mean()), 4) if ms.size else None,
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
            "limit": plan.max_lag_ms,
        },
        "cpu_ms_per_request": {"server": server_ms, "load_generator": load_ms},
        # One server process runs Python on one core at a time (the GIL): its ceiling.
        "server_cpu_bound_rps": round(1e3 / server_ms) if server_ms else None,
        "other_processes_cores": round(cpu.other_cores, 2),
    }
    if server_side:
        result["server_side"] = server_side
    if phase.outcomes:
        result["outcomes"] = dict(phase.outcomes)
    return result


def percentile(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values.size else None
