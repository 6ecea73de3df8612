"""Run the dbt project for these settings: paths from Settings, target DuckDB or Spark.

dbt runs in-process (``dbtRunner``) so that on Spark, with ``method: session``, the local
SparkSession lives in this process and is reused across invocations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from zhongtai.duck import release_duckdb
from zhongtai.environ import temporary_environ
from zhongtai.settings import Settings

Target = Literal["duckdb", "spark"]

# DuckDB allows one writing process per file: Airflow runs warehouse tasks one at a time.
DUCKDB_POOL = "zhongtai_duckdb"


class DbtFailed(Exception):
    """A dbt command failed; the message names the failing nodes and dbt's log file."""


def dbt_run_dir(settings: Settings, target: Target = "duckdb") -> Path:
    """Where dbt writes its compiled SQL, manifests and docs site for a target."""
    return settings.data_dir.resolve() / "dbt" / target


def dbt_log_file(settings: Settings, target: Target = "duckdb") -> Path:
    """dbt's own log of every in-process run on ``target`` (the console stays quiet)."""
    return settings.logs_dir.resolve() / "dbt" / target / "dbt.log"


def dbt_environment(settings: Settings, target: Target = "duckdb") -> dict[str, str]:
    """What profiles.yml and dbt_project.yml read: where every zone is, which target."""
    run_dir = dbt_run_dir(settings, target)
    return {
        "ZHONGTAI_DBT_TARGET": target,
        "ZHONGTAI_RAW_DIR": str(settings.raw_dir.resolve()),
        "ZHONGTAI_EMPTY_SOURCES_DIR": str(empty_sources_dir(settings)),
        "ZHONGTAI_WAREHOUSE_PATH": str(settings.warehouse_path.resolve()),
        "ZHONGTAI_MARTS_DIR": str(settings.marts_dir.resolve()),
        "ZHONGTAI_SPARK_DIR": str(settings.spark_dir.resolve()),
        "DBT_TARGET_PATH": str(run_dir / "target"),
        "DBT_LOG_PATH": str(dbt_log_file(settings, target).parent),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def empty_sources_dir(settings: Settings) -> Path:
    """Where each declared source's empty stand-in is (``empty_sources``), absolute."""
    return settings.data_dir.resolve() / "dbt" / "empty_sources"


def prepare_zones(settings: Settings) -> None:
    """Everything dbt reads or writes outside its project, before it runs: the zones'
    folders, and an empty stand-in for every declared source (``empty_sources``), which the
    raw view of a source with no delivery yet reads."""
    from zhongtai.warehouse.empty_sources import write_empty_sources

    for folder in (
        settings.raw_dir,
        settings.warehouse_path.parent,
        settings.marts_dir,
        settings.spark_dir,
    ):
        folder.mkdir(parents=True, exist_ok=True)
    write_empty_sources(settings)


def run_dbt(args: list[str], settings: Settings, target: Target = "duckdb") -> object:
    """Run ``dbt ARGS`` on ``target``; raise DbtFailed naming what failed.

    dbt's console output goes to its log file only (``dbt_log_file``): a caller prints
    what matters, and a failure's summary and the log's path are in the exception.
    """
    from dbt.cli.main import dbtRunner

    prepare_zones(settings)
    project = str(settings.dbt_project_dir)
    with temporary_environ(dbt_environment(settings, target)):
        result = dbtRunner().invoke(
            [
                *args,
                *("--project-dir", project, "--profiles-dir", project),
                *("--log-level", "none", "--log-level-file", "info"),
            ]
        )
        if target == "duckdb":
            release_duckdb()
    if not result.success:
        raise DbtFailed(_failure_summary(args, result, dbt_log_file(settings, target)))
    return result.result


def _failure_summary(args: list[str], result: object, log_file: Path) -> str:
    lines = [f"dbt {' '.join(args)} failed"]
    outcome = getattr(result, "result", None)
    for node in getattr(outcome, "results", None) or []:
        if str(node.status) in {"error", "fail"}:
            lines.append(f"  {node.node.unique_id}: {node.status}: {node.message}")
    exception = getattr(result, "exception", None)
    if exception is not None:
        lines.append(f"  {exception}")
    lines.append(f"  dbt's log: {log_file}")
    return "\n".join(lines)
