"""Run Airflow against this project: its DAGs folder, a home under the data dir, our settings.

Airflow starts its own ``airflow`` subprocesses from PATH, so the venv's bin goes first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import DUCKDB_POOL

READY_STAMP = ".db-ready"


def airflow_environment(settings: Settings) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(settings.airflow_home.resolve()),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir.resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # nothing phones home: no usage telemetry from Cosmos, dbt or Great Expectations
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "ZHONGTAI_DATA_DIR": str(settings.data_dir.resolve()),
            "ZHONGTAI_ENV": settings.env,
        }
    )
    return env


def run_airflow(args: list[str], settings: Settings, *, check: bool = True) -> int:
    """Run ``airflow ARGS`` for this project, streaming its output."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    result = subprocess.run(command, env=airflow_environment(settings), check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"`airflow {' '.join(args)}` failed with exit code {result.returncode}")
    return result.returncode


def ensure_airflow_db(settings: Settings) -> None:
    """Create Airflow's metadata database (SQLite under the data dir) and our pools, once."""
    stamp = settings.airflow_home / READY_STAMP
    if not stamp.exists():
        run_airflow(["db", "migrate"], settings)
        run_airflow(["pools", "set", DUCKDB_POOL, "1", "one writer at a time on DuckDB"], settings)
        stamp.touch()


def run_dag_test(dag_id: str, logical_date: date, settings: Settings) -> None:
    """Run one DAG in-process for ``logical_date`` (``airflow dags test``)."""
    ensure_airflow_db(settings)
    run_airflow(["dags", "test", dag_id, logical_date.isoformat()], settings)
