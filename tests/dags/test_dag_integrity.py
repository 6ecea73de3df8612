"""Every DAG imports cleanly and carries what the Airflow UI user relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhongtai.landing.contracts import SOURCES

DAGS_FOLDER = Path(__file__).parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == len(list(DAGS_FOLDER.glob("*.py")))


def test_every_dag_is_documented_tagged_owned_and_retried(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md and dag.doc_md.strip(), dag_id
        assert dag.catchup is False, dag_id
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id}"
            assert task.retries >= 1, f"{dag_id}.{task.task_id}"


def test_land_raw_has_one_task_per_source_emitting_its_asset(dagbag) -> None:
    dag = dagbag.dags["land_raw"]
    outlets = {task.task_id: [asset.name for asset in task.outlets] for task in dag.tasks}
    assert outlets == {f"land_{source}": [f"raw_{source}"] for source in SOURCES}
