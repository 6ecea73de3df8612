"""Benchmark: online latency of one applicant's ``credit_scoring_v1`` vector.

    .venv/bin/python -m bench.online_latency --data-dir DIR [--requests 5000] [--warmup 200]

DIR holds the marts and the feature tables (``zhongtai features build`` or its first
steps). They are copied into a scratch data dir, where the definitions are applied and
materialised twice: the default environment (SQLite online) and the scale environment
(Spark offline, Redis online; a redis-server of our own on a free port, stopped at the end).

On each store, sequential requests for random applicants among those materialised (an
application within the TTL), measured after a warm-up:

- ``sdk``: ``store.get_online_features(features=service, entity_rows=[...]).to_dict()``,
  the FeatureService fetched once;
- ``http``: POST /get-online-features to ``feast serve`` (started as a user would, one
  persistent httpx client), the JSON parsed.

Writes bench/results/online_latency.json: per store, per path p50_ms, p99_ms, mean_ms,
the slowest requests, requests and the share of answers that held a value; the data size
and the machine. ``feast serve`` recycles its worker every 1,000 requests or so (its
``--max-requests`` default): the request that waits for the new worker is among the
slowest, at about a second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import numpy as np
import redis

from bench.machine import RESULTS_DIR, describe_machine, write_results
from zhongtai.features.materialize import materialize_features
from zhongtai.features.repo import apply_definitions, feast_command, feast_environment, open_store
from zhongtai.serving import free_port, running, serving
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

RESULTS = RESULTS_DIR / "online_latency.json"
SERVICE = "credit_scoring_v1"
PROBE = "monthly_income_minor"  # a feature every materialised applicant has
SEED = 7
SLOWEST = 6  # 5,200 requests: feast serve recycles its worker five times


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A redis-server of our own, memory only; yields Feast's ``host:port``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not on PATH (make test installs it)")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    client = redis.Redis(host="127.0.0.1", port=port)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    command = [binary, *args, "--dir", str(workdir)]
    log = workdir / "redis-server.log"
    with running(command, dict(os.environ), answers, timeout_s=120, log_path=log):
        yield f"127.0.0.1:{port}"


@contextmanager
def feast_serve(settings: Settings) -> Iterator[str]:
    """``feast serve`` on a free port, as a user starts it; yields its base URL."""
    port = free_port()
    command = feast_command(["serve", "--port", str(port), "--no-access-log"], settings)
    with serving(
        command,
        {**os.environ, **feast_environment(settings)},
        port,
        "/health",
        ready=lambda status: status == 200,
        timeout_s=120,
        log_path=settings.data_dir / f"feast-serve-{settings.feature_env}.log",
    ) as base:
        yield base


def materialised_applicants(settings: Settings, since: datetime) -> list[str]:
    path = mart_path(settings, "application_features")
    rows = duckdb.sql(
        "select distinct applicant_id from read_parquet(?) where applied_at >= ? order by 1",
        params=[str(path), since.replace(tzinfo=None)],
    ).fetchall()
    return [applicant_id for (applicant_id,) in rows]


def measure(call: Callable[[str], object], applicants: list[str], warmup: int) -> dict[str, object]:
    """Sequential calls; latency figures of those after the warm-up."""
    for applicant_id in applicants[:warmup]:
        call(applicant_id)
    nanoseconds, served = [], 0
    for applicant_id in applicants[warmup:]:
        started = time.perf_counter_ns()
        value = call(applicant_id)
        nanoseconds.append(time.perf_counter_ns() - started)
        served += value is not None
    ms = np.array(nanoseconds) / 1e6
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "slowest_ms": [round(float(t), 1) for t in np.sort(ms)[::-1][:SLOWEST]],
        "requests": len(ms),
        "served_share": round(served / len(ms), 4),
    }


def sdk_call(settings: Settings) -> Callable[[str], object]:
    store = open_store(settings)
    service = store.get_feature_service(SERVICE)

    def call(applicant_id: str) -> object:
        response = store.get_online_features(
            features=service, entity_rows=[{"applicant_id": applicant_id}]
        )
        return response.to_dict()[PROBE][0]

    return call


def http_call(client: httpx.Client) -> Callable[[str], object]:
    def call(applicant_id: str) -> object:
        request = {"feature_service": SERVICE, "entities": {"applicant_id": [applicant_id]}}
        try:
            response = client.post("/get-online-features", json=request)
        except httpx.TransportError:  # the server recycles its worker (--max-requests): again
            response = client.post("/get-online-features", json=request)
        response.raise_for_status()
        body = response.json()
        index = body["metadata"]["feature_names"].index(PROBE)
        return body["results"][index]["values"][0]

    return call


def latencies(settings: Settings, applicants: list[str], warmup: int) -> dict[str, object]:
    figures = {"sdk": measure(sdk_call(settings), applicants, warmup)}
    with feast_serve(settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        figures["http"] = measure(http_call(client), applicants, warmup)
    return figures


def prepare(settings: Settings, label: str) -> datetime:
    """Apply the definitions and materialise; return the end of the materialisation."""
    started = time.perf_counter()
    apply_definitions(settings)
    end = datetime.now(UTC)
    materialize_features(settings, end=end, progress=lambda _: None)
    print(f"{label}: materialised in {time.perf_counter() - started:.0f} s", flush=True)
    return end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=5000, help="measured, per store and path")
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    source = Settings(data_dir=args.data_dir.resolve(), env="test")
    scratch = Path(tempfile.mkdtemp(prefix="zhongtai-online-bench-"))
    try:
        sqlite = Settings(data_dir=scratch / "var", env="test")
        for folder in (source.marts_dir, source.features_dir):
            shutil.copytree(folder, sqlite.data_dir / folder.name)
        rng = np.random.default_rng(SEED)
        result: dict[str, object] = {"service": SERVICE}
        with redis_server(scratch) as connection:
            scale = Settings(
                data_dir=sqlite.data_dir,
                env="test",
                feature_env="scale",
                redis_connection=connection,
            )
            for name, settings in (("sqlite", sqlite), ("redis", scale)):
                end = prepare(settings, name)
                ttl = open_store(settings).get_feature_view("application_profile").ttl
                known = materialised_applicants(settings, end - ttl)
                picks = rng.choice(known, size=args.warmup + args.requests).tolist()
                result[name] = latencies(settings, picks, args.warmup)
                result[name]["applicants_materialised"] = len(known)  # type: ignore[index]
                print(name, json.dumps(result[name]), flush=True)
        [(applications, applicants)] = duckdb.sql(
            "select count(*), count(distinct applicant_id) from read_parquet(?)",
            params=[str(mart_path(source, "application_features"))],
        ).fetchall()
        result["data"] = {"applicants": applicants, "applications": applications}
        result["load_average_at_end"] = round(os.getloadavg()[0], 2)
        result["machine"] = describe_machine()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_results(RESULTS, result)


if __name__ == "__main__":
    main()
