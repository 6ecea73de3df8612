"""Benchmark: what the decision API server loads before it answers (serving apart from training).

    .venv/bin/python -m bench.api_import [--repeats N] [--baseline-src DIR]

Each run imports ``zhongtai.api.main`` in a fresh interpreter and records its wall
seconds, the modules it loaded, its peak RSS and whether any training module (optbinning,
scikit-learn, ``zhongtai.ml.train`` / ``select`` / ``evaluate``) came with it. With
``--baseline-src`` (the ``src`` folder of another checkout, e.g. a ``git worktree`` of an
older commit) the same import of that code runs alternately in the same interpreter
environment, and the result holds both and their ratios. Writes
bench/results/api_import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine, write_results

RESULTS = RESULTS_DIR / "api_import.json"
TRAINING = (
    "optbinning",
    "sklearn",
    "zhongtai.ml.train",
    "zhongtai.ml.select",
    "zhongtai.ml.evaluate",
)

IMPORT_API = f"""
import json, resource, sys, time
started = time.perf_counter()
import zhongtai.api.main
seconds = time.perf_counter() - started
print(json.dumps({{
    "seconds": seconds,
    "modules": len(sys.modules),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "training_modules": [name for name in {TRAINING!r} if name in sys.modules],
}}))
"""


def import_once(src: Path | None) -> dict[str, object]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_API], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def summary(runs: list[dict[str, object]]) -> dict[str, object]:
    seconds = [float(str(run["seconds"])) for run in runs]
    return {
        "median_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
        "modules": runs[-1]["modules"],
        "peak_rss_mb": round(statistics.median(float(str(run["peak_rss_mb"])) for run in runs), 1),
        "training_modules": runs[-1]["training_modules"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src folder")
    parser.add_argument(
        "--baseline-label", default="baseline", help="what the baseline is (e.g. a commit)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    current: list[dict[str, object]] = []
    baseline: list[dict[str, object]] = []
    for repeat in range(args.repeats):
        print(f"import {repeat + 1}/{args.repeats}", flush=True)
        current.append(import_once(None))
        if args.baseline_src is not None:
            baseline.append(import_once(args.baseline_src))
    result: dict[str, object] = {"repeats": args.repeats, "api": summary(current)}
    if baseline:
        now, then = summary(current), summary(baseline)
        result["baseline"] = {"label": args.baseline_label, **then}
        result["ratio_to_baseline"] = {
            key: round(float(str(now[key])) / float(str(then[key])), 2)
            for key in ("median_s", "modules", "peak_rss_mb")
        }
    result["machine"] = describe_machine()
    baseline_options = " --baseline-src SRC --baseline-label LABEL" if baseline else ""
    result["command"] = f"python -m bench.api_import --repeats {args.repeats}{baseline_options}"
    write_results(args.output, result)


if __name__ == "__main__":
    main()
