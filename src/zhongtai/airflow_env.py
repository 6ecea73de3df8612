"""Run Airflow against this project: its DAGs folder, a home under the data dir, our settings.

Airflow starts its own ``airflow`` subprocesses from PATH, so the venv's bin goes first.
Before Airflow starts, the dbt manifest that build_warehouse is rendered from is compiled
if the dbt project changed (``zhongtai.warehouse.manifest``). DAGs are created paused: the
scheduler runs nothing until someone unpauses a DAG.

Airflow's servers listen on this machine only (127.0.0.1) unless the environment says
otherwise: the API server and the scheduler's health check, in the environment Airflow
runs in and in the ``airflow.cfg`` it generates (which it writes with 0.0.0.0). Airflow
and its tasks run under a private umask (``PRIVATE_UMASK``): the files and folders they
write are the owner's alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from zhongtai.privacy.keys import PRIVATE_UMASK
from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import DUCKDB_POOL
from zhongtai.warehouse.manifest import ensure_manifest

READY_STAMP = ".db-ready"
LOCAL_HOST = "127.0.0.1"
# The servers' interfaces in airflow.cfg: (environment variable, the generated line).
LOCAL_BINDS = {
    "AIRFLOW__API__HOST": "host",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "scheduler_health_check_server_host",
    "AIRFLOW__CELERY__FLOWER_HOST": "flower_host",
}
_EVERY_INTERFACE = re.compile(
    rf"^({'|'.join(LOCAL_BINDS.values())}) = (?:0\.0\.0\.0|::)$", re.MULTILINE
)


class DagRunFailed(RuntimeError):
    """A DAG run failed: the message names the DAG, the failed tasks, the error and the log."""

    def __init__(
        self, dag_id: str, failed_tasks: Sequence[str], errors: Sequence[str], log_file: Path
    ) -> None:
        self.dag_id, self.failed_tasks, self.errors = dag_id, list(failed_tasks), list(errors)
        self.log_file = log_file
        tasks = f" at {', '.join(self.failed_tasks)}" if self.failed_tasks else ""
        lines = [f"DAG {dag_id} failed{tasks}.", *self.errors, f"Full log: {log_file}"]
        super().__init__("\n".join(lines))


def airflow_environment(settings: Settings) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(settings.airflow_home.resolve()),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir.resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # The scheduler starts nothing on its own (no catch-up of @daily, no rerun of
            # what the demo ran) until a DAG is unpaused in the UI or with `dags unpause`.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # nothing phones home: no usage telemetry from Cosmos, dbt or Great Expectations
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "ZHONGTAI_DATA_DIR": str(settings.data_dir.resolve()),
            "ZHONGTAI_ENV": settings.env,
        }
    )
    for name in LOCAL_BINDS:
        env.setdefault(name, LOCAL_HOST)  # a host set in the environment is the user's
    if settings.as_of is not None:
        env["ZHONGTAI_AS_OF"] = settings.as_of.isoformat()
    return env


def bind_locally(airflow_home: Path) -> None:
    """Rewrite the servers' interfaces in the ``airflow.cfg`` Airflow generated (0.0.0.0)
    to 127.0.0.1; a host someone set to anything else is left as it is."""
    config = airflow_home / "airflow.cfg"
    if not config.is_file():
        return
    text = config.read_text()
    local = _EVERY_INTERFACE.sub(rf"\1 = {LOCAL_HOST}", text)
    if local != text:
        config.write_text(local)


def run_airflow(
    args: list[str], settings: Settings, *, check: bool = True, log_file: Path | None = None
) -> int:
    """Run ``airflow ARGS`` for this project; return its exit code.

    Its output streams to the terminal, or, with ``log_file``, goes to that file only
    (replaced at each call). With ``check``, a non-zero exit raises RuntimeError.
    """
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    code = _run(command, settings, airflow_environment(settings), log_file)
    if check and code != 0:
        where = f"; log: {log_file}" if log_file else ""
        raise RuntimeError(f"`airflow {' '.join(args)}` failed with exit code {code}{where}")
    return code


def ensure_airflow_db(settings: Settings) -> None:
    """Create Airflow's metadata database (SQLite under the data dir) and our pools, once."""
    stamp = settings.airflow_home / READY_STAMP
    if not stamp.exists():
        log_file = settings.logs_dir.resolve() / "airflow" / "db-migrate.log"
        run_airflow(["db", "migrate"], settings, log_file=log_file)
        pool = ["pools", "set", DUCKDB_POOL, "1", "one writer at a time on DuckDB"]
        run_airflow(pool, settings, log_file=log_file.with_name("pools.log"))
        stamp.touch()


def dag_log_file(settings: Settings, dag_id: str) -> Path:
    """Where ``run_dag_test`` writes the latest run's log: Airflow's, and every tool's that
    the tasks ran in-process (dbt, Great Expectations, Feast, MLflow)."""
    return settings.logs_dir.resolve() / "airflow" / f"{dag_id}.log"


def run_dag_test(dag_id: str, settings: Settings) -> Path:
    """Run one DAG now (``airflow dags test``), its output in ``dag_log_file``; return it.

    The run's logical date is the moment it starts (the UI shows real durations); its day
    is ``settings.today()``, exported as ``ZHONGTAI_AS_OF`` to every task. The asset events
    it emits queue no further run: the caller ran what it wanted. A failure raises
    DagRunFailed naming the failed tasks, the error and the log.
    """
    ensure_airflow_db(settings)
    log_file = dag_log_file(settings, dag_id)
    env = airflow_environment(settings)
    env["ZHONGTAI_AS_OF"] = settings.today().isoformat()
    logical_date = datetime.now(UTC).isoformat()
    command = [sys.executable, "-m", __name__, dag_id, logical_date]
    if _run(command, settings, env, log_file) != 0:
        log = log_file.read_text(errors="replace")
        raise DagRunFailed(dag_id, failed_tasks(log), error_lines(log), log_file)
    return log_file


def _run(command: list[str], settings: Settings, env: dict[str, str], log_file: Path | None) -> int:
    settings.airflow_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_manifest(settings)
    try:
        if log_file is None:
            return subprocess.run(command, env=env, check=False, umask=PRIVATE_UMASK).returncode
        log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**env, "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False"}  # no colours in files
        with log_file.open("w") as output:
            return subprocess.run(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                check=False,
                umask=PRIVATE_UMASK,
            ).returncode
    finally:
        bind_locally(settings.airflow_home)  # the first command generates airflow.cfg


# What `airflow dags test` writes (Airflow 3.3): each task between "[DAG TEST] starting
# task_id=..." and "[DAG TEST] end task", a failure as "Task failed with exception" and a
# traceback whose last line names the exception and starts its message.
_TASK_STARTS = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+)")
_TASK_FAILS = re.compile(r"Task failed with exception|new_state=failed")
_LOG_RECORD = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_EXCEPTION = re.compile(
    r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Exception|Error|Failed|Refused|Missing)\b:?"
)
_MESSAGE_ENDS = ("Traceback", "The above exception", "During handling of the above")


def failed_tasks(log: str) -> list[str]:
    """The tasks that the log of ``airflow dags test`` reports as failed, in order."""
    found: dict[str, None] = {}
    task = None
    for line in log.splitlines():
        if started := _TASK_STARTS.search(line):
            task = started["task"]
        elif task is not None and _TASK_FAILS.search(line):
            found[task] = None
    return list(found)


def error_lines(log: str, *, errors: int = 2, limit: int = 40) -> list[str]:
    """The messages of the log's last exceptions (a gate's or a refusal's own words, or
    why a DAG could not be loaded), without their tracebacks."""
    # keyed by the words after the exception's name: an error re-raised as another
    # exception (GateFailed as AirflowFailException) is reported once, by its last name
    messages: dict[tuple[str, ...], list[str]] = {}
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if not (named := _EXCEPTION.match(line)):
            continue
        message = [line.rstrip()]
        for following in lines[index + 1 :]:
            if _LOG_RECORD.match(following) or following.startswith(_MESSAGE_ENDS):
                break
            message.append(following.rstrip())
        message = [text for text in message if text.strip()]
        words = (line[named.end() :].strip(), *message[1:])
        messages.pop(words, None)
        messages[words] = message
    return [text for message in list(messages.values())[-errors:] for text in message][:limit]


def _dags_test_then_clear_queue(dag_id: str, logical_date: str) -> None:
    """In Airflow's own process: ``airflow dags test``, then drop the asset-triggered runs
    it queued (AssetDagRunQueue rows created since it started), so that a scheduler
    started later does not run the downstream DAGs a second time."""
    from airflow.__main__ import main

    sys.argv = ["airflow", "dags", "test", dag_id, logical_date]
    try:
        main()
    finally:
        _clear_asset_queue(dag_id, since=datetime.fromisoformat(logical_date))


def _clear_asset_queue(dag_id: str, since: datetime) -> None:
    """Drop the queued runs of every DAG scheduled on an asset that ``dag_id`` emitted
    since ``since``: they were queued by this run, or would have been."""
    from airflow.models.asset import AssetDagRunQueue, AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    emitted = select(AssetEvent.asset_id).where(
        AssetEvent.source_dag_id == dag_id, AssetEvent.timestamp >= since
    )
    with create_session() as session:
        session.execute(delete(AssetDagRunQueue).where(AssetDagRunQueue.asset_id.in_(emitted)))


if __name__ == "__main__":
    _dags_test_then_clear_queue(*sys.argv[1:3])
