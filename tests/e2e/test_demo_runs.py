"""How the demo runs a DAG (`run_dag_test`): dated now, on the demo's day, quiet, its log in
a file, nothing left queued for the scheduler, DAGs paused, a failure told in plain words.

Three tiny DAGs stand in for the platform's, so that only Airflow's own cost is paid."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from zhongtai.airflow_env import DagRunFailed, dag_log_file, run_airflow, run_dag_test
from zhongtai.settings import Settings

pytestmark = pytest.mark.e2e

AS_OF = date(2026, 11, 23)
TINY_DAGS = '''
"""Tiny DAGs: a producer of an asset, its consumer, a failing gate."""
from datetime import datetime

from airflow.sdk import Asset, dag, task

THING = Asset(name="tiny_thing", uri="x-tiny://thing")
START = datetime(2026, 1, 1)


@dag(schedule="@daily", start_date=START, catchup=False)
def tiny_producer():
    @task(outlets=[THING])
    def produce(**context):
        import json, os
        from pathlib import Path

        seen = {"as_of": os.environ.get("ZHONGTAI_AS_OF"),
                "logical_date": context["logical_date"].isoformat()}
        Path(os.environ["ZHONGTAI_DATA_DIR"], "seen.json").write_text(json.dumps(seen))

    produce()


@dag(schedule=[THING], start_date=START, catchup=False)
def tiny_consumer():
    @task
    def consume():
        pass

    consume()


@dag(schedule=None, start_date=START, catchup=False)
def tiny_gate():
    @task
    def gate_raw():
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("gate raw failed: expect_column_values_to_be_between\\n"
                                   "  monthly_income_minor: 10 rows below 0")

    gate_raw()


tiny_producer()
tiny_consumer()
tiny_gate()
'''


def _query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.airflow_home / "airflow.db") as db:
        return db.execute(sql).fetchall()


def test_a_demo_run_is_dated_now_quiet_paused_and_leaves_nothing_queued(
    settings: Settings, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "tiny.py").write_text(TINY_DAGS)
    settings = settings.model_copy(update={"dags_dir_override": tmp_path / "dags", "as_of": AS_OF})
    capfd.readouterr()

    started = datetime.now(UTC)
    log = run_dag_test("tiny_producer", settings)

    console = capfd.readouterr()
    assert (console.out, console.err) == ("", "")
    assert log == dag_log_file(settings, "tiny_producer") and "produce" in log.read_text()
    seen = json.loads((settings.data_dir / "seen.json").read_text())
    assert seen["as_of"] == AS_OF.isoformat()  # every task works on the demo's day
    logical_date = datetime.fromisoformat(seen["logical_date"])
    assert started <= logical_date <= datetime.now(UTC)  # the moment it ran, not midnight
    # created paused: a scheduler started now runs nothing (no @daily catch-up)
    assert dict(_query(settings, "select dag_id, is_paused from dag")) == {
        "tiny_producer": 1,
        "tiny_consumer": 1,
        "tiny_gate": 1,
    }

    # once the consumer is unpaused, a plain `dags test` leaves it a queued run...
    run_airflow(["dags", "unpause", "tiny_consumer"], settings, log_file=tmp_path / "a.log")
    run_airflow(["dags", "test", "tiny_producer"], settings, log_file=tmp_path / "b.log")
    queued = "select target_dag_id from asset_dag_run_queue"
    assert _query(settings, queued) == [("tiny_consumer",)]
    # ...which the demo's run clears: the scheduler does not run it a second time
    run_dag_test("tiny_producer", settings)
    assert _query(settings, queued) == []


def test_a_failed_run_names_the_task_the_error_and_the_log(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "tiny.py").write_text(TINY_DAGS)
    settings = settings.model_copy(update={"dags_dir_override": tmp_path / "dags"})

    with pytest.raises(DagRunFailed) as failed:
        run_dag_test("tiny_gate", settings)

    message = str(failed.value)
    assert message.startswith("DAG tiny_gate failed at gate_raw.")
    assert "expect_column_values_to_be_between" in message
    assert "monthly_income_minor: 10 rows below 0" in message
    assert "Traceback" not in message and '  File "' not in message
    assert message.endswith(f"Full log: {dag_log_file(settings, 'tiny_gate')}")
