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


def test_build_warehouse_runs_every_dbt_model_between_gates(dagbag) -> None:
    from zhongtai.warehouse.marts import MARTS

    dag = dagbag.dags["build_warehouse"]
    task_ids = set(dag.task_ids)
    assert {"gate_raw", "gate_staging", "gate_marts", "gate_reconciliation"} <= task_ids
    for model in ("stg_lender__applications", "int_loans_joined", *MARTS):
        assert {f"{model}.run", f"{model}_run"} & {t.split(".", 1)[-1] for t in task_ids}, model
    for task in dag.tasks:
        if task.task_id.startswith("staging.") and task.task_id.endswith(".run"):
            assert task.upstream_task_ids == {"gate_raw"}, task.task_id
        if task.task_id.startswith("warehouse.int_") and task.task_id.endswith("run"):
            assert "gate_staging" in task.upstream_task_ids or task.upstream_task_ids, task.task_id
    assert "gate_staging" in dag.get_task("warehouse.list_entries.run").upstream_task_ids
    publish = dag.get_task("publish_marts")
    assert sorted(asset.name for asset in publish.outlets) == sorted(f"mart_{m}" for m in MARTS)
    assert {"gate_raw", "gate_marts", "gate_reconciliation"} == publish.upstream_task_ids


def test_materialize_features_runs_on_validated_marts_and_emits_services(dagbag) -> None:
    from zhongtai.features.build import FEATURE_SERVICES

    dag = dagbag.dags["materialize_features"]
    assert dag.task_ids == ["graph_features", "risk_indices", "apply_definitions", "materialize"]
    scheduled_on = {asset.name for asset in dag.timetable.asset_condition.objects}
    assert scheduled_on >= {"mart_application_features", "mart_identifier_edges"}
    materialize = dag.get_task("materialize")
    assert sorted(a.name for a in materialize.outlets) == sorted(
        f"features_{service}" for service in FEATURE_SERVICES
    )


def test_train_models_runs_on_the_feature_services_and_weekly(dagbag) -> None:
    dag = dagbag.dags["train_models"]
    assert dag.task_ids == ["train_credit_pd", "train_fraud"]
    assert dag.get_task("train_fraud").upstream_task_ids == {"train_credit_pd"}  # one writer
    scheduled_on = {asset.name for asset in dag.timetable.asset_condition.objects}
    assert scheduled_on == {"features_credit_scoring_v1", "features_fraud_detection_v1"}
    assert dag.timetable.timetable.expression == "0 3 * * 1"
