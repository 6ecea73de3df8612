"""What the user reads when a DAG run of the demo fails: the DAG, the failed task, the
gate's own words and where the full log is, without a Python traceback."""

from __future__ import annotations

from pathlib import Path

from zhongtai.airflow_env import DagRunFailed, error_lines, failed_tasks

# The shape of `airflow dags test`'s output (Airflow 3.3) when a gate fails (lines cut).
LOG = """\
2026-12-02T10:43:12.048542Z [info     ] [DAG TEST] starting task_id=gate_raw map_index=-1
2026-12-02T10:43:15.739319Z [error    ] Task failed with exception     [task]
Traceback (most recent call last):
  File ".../dags/build_warehouse.py", line 88, in run_gate
    return run_gate(layer, run_settings(context)).summary()
zhongtai.quality.gates.GateFailed: gate raw failed on applications
  expect_column_values_to_be_between: monthly_income_minor, 10 rows, e.g. -500000

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File ".../airflow/sdk/execution_time/task_runner.py", line 1100, in run
    raise AirflowFailException(str(failed)) from failed
airflow.sdk.exceptions.AirflowFailException: gate raw failed on applications
  expect_column_values_to_be_between: monthly_income_minor, 10 rows, e.g. -500000
2026-12-02T10:43:15.748651Z [info     ] Task instance state updated new_state=failed
2026-12-02T10:43:15.754394Z [info     ] [DAG TEST] end task task_id=gate_raw map_index=-1
2026-12-02T10:43:15.754394Z [info     ] [DAG TEST] starting task_id=publish_marts map_index=-1
2026-12-02T10:43:15.755652Z [info     ] Marking run <DagRun build_warehouse> failed
DagRun failed
"""


def test_the_failed_task_is_found_in_the_log() -> None:
    assert failed_tasks(LOG) == ["gate_raw"]
    assert failed_tasks(LOG.replace("Task failed with exception", "Task ran")) == ["gate_raw"]
    assert failed_tasks("") == []


def test_the_error_is_the_exceptions_message_without_the_traceback() -> None:
    lines = error_lines(LOG)
    assert lines == [
        "airflow.sdk.exceptions.AirflowFailException: gate raw failed on applications",
        "  expect_column_values_to_be_between: monthly_income_minor, 10 rows, e.g. -500000",
    ]
    assert not any(line.startswith(("Traceback", "  File", "The above")) for line in lines)
    assert not any("DagRun failed" in line for line in lines)


def test_dag_run_failed_says_what_failed_and_where_the_log_is(tmp_path: Path) -> None:
    log_file = tmp_path / "build_warehouse.log"
    failed = DagRunFailed("build_warehouse", failed_tasks(LOG), error_lines(LOG), log_file)
    message = str(failed)
    assert message.startswith("DAG build_warehouse failed at gate_raw.")
    assert "monthly_income_minor" in message and "Traceback" not in message
    assert message.endswith(f"Full log: {log_file}")
    assert isinstance(failed, RuntimeError)
