"""Benchmark: how long Airflow takes to import each DAG file (its DagBag timeout is 30 s).

    .venv/bin/python -m bench.dag_import [--repeats N] [--data-dir DIR]

Each import runs in a fresh interpreter with Airflow's environment for this project
(``zhongtai.airflow_env``), after ``import airflow.sdk`` (which Airflow's DAG processor has
done before it parses a file): the figure is the DAG file's own cost. The dbt manifest is
compiled first, as ``zhongtai airflow ...`` does. Writes bench/results/dag_import.json:
per DAG file the median and max seconds over N imports, the interpreter's Airflow import
for reference, the machine and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine, write_results
from zhongtai.airflow_env import airflow_environment
from zhongtai.settings import Settings
from zhongtai.warehouse.manifest import ensure_manifest

RESULTS = RESULTS_DIR / "dag_import.json"

# Run in the fresh interpreter: Airflow first (untimed), then the DAG file (timed).
IMPORT_ONE = """
import importlib.util, json, sys, time
started = time.perf_counter()
import airflow.sdk
airflow_s = time.perf_counter() - started
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec)
started = time.perf_counter()
spec.loader.exec_module(module)
print(json.dumps({"dag_file_s": time.perf_counter() - started, "airflow_s": airflow_s}))
"""


def import_once(dag_file: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ONE, str(dag_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {dag_file.name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="default: a temporary one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="zhongtai-dag-import-") as scratch:
        settings = Settings(data_dir=args.data_dir or Path(scratch) / "var", env="test")
        print("compiling the dbt manifest (dbt parse) ...", flush=True)
        ensure_manifest(settings)
        env = airflow_environment(settings)
        env["AIRFLOW_HOME"] = str(Path(scratch) / "airflow")

        dags: dict[str, dict[str, object]] = {}
        airflow_s: list[float] = []
        for dag_file in sorted(settings.dags_dir.glob("*.py")):
            samples = []
            for _ in range(args.repeats):
                figures = import_once(dag_file, env)
                samples.append(figures["dag_file_s"])
                airflow_s.append(figures["airflow_s"])
            dags[dag_file.stem] = {
                "median_s": round(statistics.median(samples), 3),
                "max_s": round(max(samples), 3),
                "samples_s": [round(sample, 3) for sample in samples],
            }
            print(f"{dag_file.stem}: median {dags[dag_file.stem]['median_s']} s", flush=True)

    write_results(
        RESULTS,
        {
            "what": "seconds to import each DAG file in a fresh interpreter, Airflow loaded",
            "repeats": args.repeats,
            "dags": dags,
            "airflow_import_median_s": round(statistics.median(airflow_s), 3),
            "airflow_dagbag_import_timeout_s": 30,
            # with PYTHONDONTWRITEBYTECODE set, every import compiles its module's source
            "bytecode_cached": not os.environ.get("PYTHONDONTWRITEBYTECODE"),
            "machine": describe_machine(),
            "command": shlex.join(["python", "-m", "bench.dag_import", *sys.argv[1:]]),
        },
    )


if __name__ == "__main__":
    main()
