"""Benchmark: a point-in-time training set of every application, three ways.

    .venv/bin/python -m bench.training_set --data-dir DIR
        [--services credit_scoring_v1,fraud_detection_v1]

DIR holds the marts and the feature tables, definitions applied (``feast apply``); nothing
needs to be materialised. Entity rows are every application: applicant_id, device_id,
ip_range and event_timestamp = applied_at. For each service the same training set is
built by:

- ``feast``: ``store.get_historical_features(entity_df, features=service).to_df()``;
- ``asof``: one plain DuckDB statement, an ASOF LEFT JOIN per source with the TTL checked
  (the baseline a modeller would write by hand);
- ``platform``: ``zhongtai.features.training.training_set(...).to_pandas()``.

Each runs in its own process: ``wall_s`` is the retrieval only (from the entity rows in
memory and the registry opened, to a pandas DataFrame), ``peak_rss_mb`` the process's
peak. The three results are checked to hold the same rows (an order-free fingerprint).

Writes bench/results/training_set.json: the first service's figures at the top (entity
rows, features, Feast wall_s and peak_rss_mb, the baseline's and the platform's, ratios),
the other services' under ``other_services``, the data size and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from bench.machine import RESULTS_DIR, describe_machine, run_measured, write_results
from zhongtai.features.repo import open_store
from zhongtai.features.training import Lookup, service_lookups, training_set
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

RESULTS = RESULTS_DIR / "training_set.json"
METHODS = ("feast", "asof", "platform")
TARGET_PEAK_RSS_MB = 8192


def entity_rows(settings: Settings) -> pd.DataFrame:
    path = mart_path(settings, "application_features")
    return duckdb.sql(
        "select applicant_id, device_id, ip_range, "
        "applied_at at time zone 'UTC' as event_timestamp from read_parquet(?)",
        params=[str(path)],
    ).df()


def plain_asof_sql(lookups: list[Lookup]) -> str:
    """One statement over ``entity_df``: an ASOF LEFT JOIN per source, TTL as a condition."""
    selected, joins = [], []
    for n, lookup in enumerate(lookups):
        keys = " and ".join(f"e.{e} = v{n}.{s}" for s, e in lookup.join_keys)
        value_at = f"v{n}.{lookup.timestamp_field}"
        source = f"read_parquet('{lookup.path}')"
        joins.append(f"asof left join {source} as v{n} on {keys} and e.event_at >= {value_at}")
        ttl_s = (lookup.ttl or timedelta(days=365_000)) // timedelta(seconds=1)
        fresh = f"{value_at} >= e.event_at - interval {ttl_s} second"
        selected += [f"case when {fresh} then v{n}.{s} end as {name}" for s, name in lookup.columns]
    return (
        "with e as (select *, event_timestamp::timestamp as event_at from entity_df) "
        f"select e.* exclude (event_at), {', '.join(selected)} from e {' '.join(joins)}"
    )


def retrieve(
    settings: Settings, method: str, service: str, entity_df: pd.DataFrame
) -> pd.DataFrame:
    if method == "feast":
        store = open_store(settings)
        job = store.get_historical_features(
            entity_df=entity_df, features=store.get_feature_service(service)
        )
        return job.to_df()
    if method == "asof":
        lookups, _ = service_lookups(open_store(settings), service)
        with duckdb.connect() as connection:
            connection.register("entity_df", entity_df)
            return connection.sql(plain_asof_sql(lookups)).df()
    return training_set(settings, service, entity_df).to_pandas()


def fingerprint(frame: pd.DataFrame) -> str:
    """The same for the same rows in any order and any column order."""
    frame = frame[sorted(frame.columns)].assign(
        event_timestamp=frame.event_timestamp.astype("datetime64[ns, UTC]")
    )
    return str(int(pd.util.hash_pandas_object(frame, index=False).sum()))


def measure_here(settings: Settings, method: str, service: str, report: Path) -> None:
    """The child process: one retrieval, its wall time and what it returned."""
    entity_df = entity_rows(settings)
    open_store(settings).get_feature_service(service)  # Feast imported, registry read
    started = time.perf_counter()
    frame = retrieve(settings, method, service, entity_df)
    wall_s = time.perf_counter() - started
    features = [c for c in frame.columns if c not in entity_df.columns]
    summary = {"wall_s": wall_s, "rows": len(frame), "features": features}
    report.write_text(json.dumps(summary | {"fingerprint": fingerprint(frame)}))


def measure(settings: Settings, method: str, service: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "bench.training_set", "--data-dir", str(settings.data_dir)]
        command += ["--measure", method, "--service", service, "--report", str(report)]
        print(f"{service}: {method} ...", flush=True)
        _, peak_mb = run_measured(command, env=dict(os.environ))
        return json.loads(report.read_text()) | {"peak_rss_mb": peak_mb}


def service_figures(settings: Settings, service: str) -> dict[str, object]:
    runs = {method: measure(settings, method, service) for method in METHODS}
    feast, asof, platform = (runs[m] for m in METHODS)
    wall = {m: float(run["wall_s"]) for m, run in runs.items()}  # type: ignore[arg-type]
    return {
        "service": service,
        "entity_rows": feast["rows"],
        "features": len(feast["features"]),  # type: ignore[arg-type]
        "wall_s": round(wall["feast"], 1),
        "peak_rss_mb": feast["peak_rss_mb"],
        "asof_baseline_wall_s": round(wall["asof"], 1),
        "asof_baseline_peak_rss_mb": asof["peak_rss_mb"],
        "feast_to_asof_wall_ratio": round(wall["feast"] / wall["asof"], 2),
        "platform_wall_s": round(wall["platform"], 1),
        "platform_peak_rss_mb": platform["peak_rss_mb"],
        "feast_to_platform_wall_ratio": round(wall["feast"] / wall["platform"], 2),
        "platform_to_asof_wall_ratio": round(wall["platform"] / wall["asof"], 2),
        "same_rows": len({run["fingerprint"] for run in runs.values()}) == 1
        and len({run["rows"] for run in runs.values()}) == 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--services", default="credit_scoring_v1,fraud_detection_v1")
    parser.add_argument("--measure", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--service", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir.resolve(), env="test")
    if args.measure:  # the child process of measure()
        measure_here(settings, args.measure, args.service, args.report)
        return

    load_average = os.getloadavg()[0]
    services = [service_figures(settings, s) for s in args.services.split(",")]
    [(applications, applicants)] = duckdb.sql(
        "select count(*), count(distinct applicant_id) from read_parquet(?)",
        params=[str(mart_path(settings, "application_features"))],
    ).fetchall()
    result = {
        **services[0],
        "other_services": {figures["service"]: figures for figures in services[1:]},
        "target": {"peak_rss_mb": TARGET_PEAK_RSS_MB},
        "data": {"applicants": applicants, "applications": applications},
        "load_average_at_start": round(load_average, 2),
        "machine": describe_machine(),
    }
    write_results(RESULTS, result)


if __name__ == "__main__":
    main()
