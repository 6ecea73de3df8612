"""Benchmark: build the warehouse (dbt build: models and tests) for N applicants.

    .venv/bin/python -m bench.warehouse [--applicants N] [--targets duckdb,spark]
        [--data-dir DIR]   # reuse a landed raw zone there (landed if missing)

Writes bench/results/warehouse.json: applicants, duckdb_wall_s, duckdb_peak_rss_mb,
spark_wall_s, spark_peak_rss_mb, the Spark / DuckDB ratio, mart rows and the machine.
Each build runs in its own process; peak RSS is that of its whole process tree (the JVM too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from bench.machine import RESULTS_DIR, describe_machine, run_measured, write_results
from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.marts import mart_path, marts

RESULTS = RESULTS_DIR / "warehouse.json"
DELIVERY_DATE = date(2026, 11, 23)


def land_if_missing(settings: Settings, applicants: int) -> None:
    if (settings.raw_dir / "partner_portfolio").exists():
        print(f"reusing the raw zone at {settings.raw_dir}", flush=True)
        return
    print(f"generating and landing {applicants:,} applicants ...", flush=True)
    generate(settings.inbox_dir, applicants=applicants, seed=7, delivery_date=DELIVERY_DATE)
    land_german_credit_file(settings.inbox_dir, DELIVERY_DATE)
    land_delivery(DELIVERY_DATE, settings)
    shutil.rmtree(settings.inbox_dir)


def build(settings: Settings, target: str) -> tuple[float, float]:
    for zone in (settings.warehouse_path.parent, settings.marts_dir, settings.spark_dir):
        shutil.rmtree(zone, ignore_errors=True)
    env = {**os.environ, "ZHONGTAI_DATA_DIR": str(settings.data_dir), "ZHONGTAI_ENV": "test"}
    zhongtai = str(Path(sys.executable).parent / "zhongtai")
    print(f"building the warehouse on {target} ...", flush=True)
    return run_measured([zhongtai, "warehouse", "build", "--target", target], env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applicants", type=int, default=1_000_000)
    parser.add_argument("--targets", default="duckdb,spark")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="zhongtai-bench-"))
    settings = Settings(data_dir=data_dir.resolve(), env="test")
    land_if_missing(settings, args.applicants)

    result: dict[str, object] = {"applicants": args.applicants}
    for target in args.targets.split(","):
        wall_s, peak_mb = build(settings, target)
        result[f"{target}_wall_s"] = round(wall_s, 1)
        result[f"{target}_peak_rss_mb"] = peak_mb
        if target == "duckdb":
            result["mart_rows"] = {
                mart: pq.read_metadata(mart_path(settings, mart)).num_rows
                for mart in marts(settings)
            }
    if "duckdb_wall_s" in result and "spark_wall_s" in result:
        result["spark_to_duckdb_wall_ratio"] = round(
            float(result["spark_wall_s"]) / float(result["duckdb_wall_s"]),
            2,  # type: ignore[arg-type]
        )
    result["target"] = {"duckdb_wall_s": 300, "duckdb_peak_rss_mb": 6144}
    result["machine"] = describe_machine()
    write_results(RESULTS, result)
    if args.data_dir is None:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
