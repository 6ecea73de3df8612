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
/health). This process is the load: ``bench.load``, open loop at ``--rps`` on keep-alive
HTTP/1.1 connections (its docstring says what it promises and what counts as an error).
Each target gets a warm-up, then ``--seconds`` measured, one target after the other (two
cores: the servers do not compete with each other):

- ``decision``: POST /v1/decisions for one applicant drawn at random (seeded) from the
  world's applications as delivered (clear identifiers, as a partner sends them);
- ``feast_serve``: POST /get-online-features of ``credit_scoring_v1`` for one applicant
  drawn at random among those materialised (a pseudonym, as Feast keys them).

``errors`` is the decision API's count (the target is zero); ``feast_serve_errors`` the
baseline's.

``feast serve`` recycles its worker every 1,000 requests by default (a ~1.5 s pause, see
``bench.online_latency``); ``--feast-max-requests 0`` (the default here) turns that off, so
the comparison is with Feast at its steady best.

Writes bench/results/decision_latency.json (``--output`` elsewhere): the figures of each
target (``bench.load.figures``: latencies, errors by kind, CPU per request of each server
and of the load, the CPU that other processes took meanwhile), the server's own view of a
decision (its /metrics histogram), outcomes of the decisions, the world's size, the
machine and the verdicts against the target (decision p99 ≤ 10 ms and no slower than
Feast's, zero errors).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
from pydantic import ValidationError

from bench.load import Plan, add_options, run_load
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


def server_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ZHONGTAI_DATA_DIR": str(settings.data_dir.resolve()),
        "ZHONGTAI_ENV": settings.env,
        "ZHONGTAI_FEATURE_ENV": settings.feature_env,
        "ZHONGTAI_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "FEAST_USAGE": "False",
    }


# --- the server's own view ---------------------------------------------------------


_SAMPLE = re.compile(r"^zhongtai_request_seconds_(sum|count|bucket)\{([^}]*)\} (\S+)$")


def decision_histogram(base: str) -> Callable[[], dict[str, Any]]:
    """Start watching the API's own latency histogram of decisions (time inside the route,
    from /metrics); the function returned summarises the decisions since (a ``ServerView``)."""
    before = read_decision_histogram(base)

    def since() -> dict[str, Any]:
        after = read_decision_histogram(base)
        grown = {name: after[name] - before.get(name, 0.0) for name in after}
        count = grown.get("count", 0.0)
        if not count:
            return {}
        return {
            "decisions": int(count),
            "mean_ms": round(grown["sum"] / count * 1e3, 2),
            "share_within_ms": {
                bound: round(grown[f"le_{bound}"] / count, 4) for bound in ("5", "10", "20", "50")
            },
        }

    return since


def read_decision_histogram(base: str) -> dict[str, float]:
    """The decision route's ``count``, ``sum`` (seconds) and ``le_<ms>`` buckets so far."""
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


def decision_outcome(answer: bytes) -> str:
    """approve, review or decline: what a 200 answer decided."""
    return str(json.loads(answer)["outcome"])


# --- the run --------------------------------------------------------------------------


def stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="a built world")
    add_options(parser)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the figures go")
    parser.add_argument(
        "--feast-max-requests",
        type=int,
        default=0,
        help="feast serve's worker recycling (0: off; Feast's own default is 1000)",
    )
    args = parser.parse_args()
    plan = Plan.from_args(args)
    signal.signal(signal.SIGTERM, stop)  # stop the servers and remove the scratch dir

    source = Settings(data_dir=args.data_dir.resolve(), env="test")
    bodies, refused = decision_bodies(source)
    scratch = Path(tempfile.mkdtemp(prefix="zhongtai-decision-bench-"))
    try:
        settings = Settings(data_dir=scratch / "var", env="test")
        for folder in (source.marts_dir, source.features_dir, source.keys_dir):
            shutil.copytree(folder, settings.data_dir / folder.name)
        # Applied first: a champion trained here reads the registered feature services.
        end = prepare(settings, "default (SQLite online)")
        champions = prepare_champions(source, settings)
        print(f"champions: {champions}", flush=True)
        ttl = open_store(settings).get_feature_view("application_profile").ttl
        applicants = materialised_applicants(settings, end - ttl)
        key = register_partner(settings)
        env = server_environment(settings)
        zhongtai = str(Path(sys.executable).with_name("zhongtai"))
        rng = np.random.default_rng(SEED)

        picks = rng.integers(0, len(bodies), size=plan.requests + 1)

        def decision(number: int) -> tuple[str, bytes]:
            return "/v1/decisions", bodies[picks[number % picks.size]]

        entities = rng.choice(applicants, size=plan.requests + 1).tolist()

        def features(number: int) -> tuple[str, bytes]:
            request = {
                "feature_service": SERVICE,
                "entities": {"applicant_id": [entities[number % len(entities)]]},
            }
            return "/get-online-features", json.dumps(request).encode()

        log = settings.data_dir / "serve.log"
        with server([zhongtai, "serve"], env, "/readyz", log) as api:
            print(f"decisions: {plan.rps:g}/s for {plan.seconds:g} s on {api.base}", flush=True)
            decisions = run_load(
                api,
                decision,
                plan,
                {"Authorization": f"Bearer {key}"},
                slow_ms=TARGET_P99_MS,
                outcome=decision_outcome,
                server_view=partial(decision_histogram, api.base),
            )
        print("decision", json.dumps(decisions), flush=True)
        feast_args = ["serve", "--no-access-log", "--max-requests", str(args.feast_max_requests)]
        feast = [zhongtai, "features", "feast", *feast_args]
        with server(feast, env, "/health", settings.data_dir / "feast-serve.log") as feast_server:
            print(f"feast serve: {plan.rps:g}/s for {plan.seconds:g} s", flush=True)
            served = run_load(feast_server, features, plan, {}, slow_ms=TARGET_P99_MS)
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
        "offered_rps": plan.rps,
        "seconds": plan.seconds,
        "warmup_seconds": plan.warmup_seconds,
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
