"""Benchmark: generate and land N applicants (default 1,000,000) on this machine.

    .venv/bin/python -m bench.landing [--applicants N]

Writes bench/results/landing.json: applicants, wall_s, rows_per_s, peak_rss_mb, plus the
split between generating and landing, rows per source and the machine.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine, peak_rss_mb, write_results
from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file

RESULTS = RESULTS_DIR / "landing.json"
DELIVERY_DATE = date(2026, 11, 23)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applicants", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="zhongtai-bench-"))
    settings = Settings(data_dir=data_dir, env="test")
    try:
        started = time.perf_counter()
        generate(
            settings.inbox_dir,
            applicants=args.applicants,
            seed=args.seed,
            delivery_date=DELIVERY_DATE,
            progress=lambda done: print(f"  generated {done:,} applicants", flush=True),
        )
        land_german_credit_file(settings.inbox_dir, DELIVERY_DATE)
        generated = time.perf_counter()
        outcomes = land_delivery(
            DELIVERY_DATE, settings, on_file=lambda path: print(f"  landed {path.name}", flush=True)
        )
        finished = time.perf_counter()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    rows = {outcome.source: outcome.rows_landed for outcome in outcomes}
    wall_s = finished - started
    result = {
        "applicants": args.applicants,
        "wall_s": round(wall_s, 1),
        "rows_per_s": round(sum(rows.values()) / wall_s),
        "peak_rss_mb": peak_rss_mb(),
        "generate_s": round(generated - started, 1),
        "land_s": round(finished - generated, 1),
        "rows": rows,
        "target": {"wall_s": 300, "peak_rss_mb": 4096},
        "machine": describe_machine(),
    }
    write_results(RESULTS, result)


if __name__ == "__main__":
    main()
