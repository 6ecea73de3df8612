"""Every DAG imports cleanly, quickly (no subprocess, no data read) and carries what the
Airflow UI user relies on."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from zhongtai.contracts import declared_sources
from zhongtai.settings import Settings
from zhongtai.warehouse.manifest import ManifestMissing, manifest_path

SOURCES = declared_sources()

DAGS_FOLDER = Settings().dags_dir
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))

# Audit events of a new process (https://docs.python.org/3/library/audit_events.html).
SPAWN_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.posix_spawn",
        "os.spawn",
        "os.exec",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
    }
)
_recording: list[tuple[str, tuple[Any, ...]]] | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _recording is not None and (event in SPAWN_EVENTS or event in {"open", "os.mkdir"}):
        _recording.append((event, args))


@contextmanager
def audited() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Record the processes started and the files opened or folders made meanwhile (an
    audit hook cannot be removed: it is installed once and records only in here)."""
    global _recording, _hooked
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _recording = events = []
    try:
        yield events
    finally:
        _recording = None


def import_fresh(path: Path) -> ModuleType:
    """Execute a DAG file as a new module, as Airflow's DAG processor does."""
    spec = importlib.util.spec_from_file_location(f"fresh_{path.stem}_{os.urandom(4).hex()}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _under(path: object, folder: Path) -> bool:
    if isinstance(path, int):  # os.open on a file descriptor
        return False
    resolved = Path(os.fsdecode(path)).resolve()  # type: ignore[arg-type]
    return resolved == folder or folder in resolved.parents


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda path: path.stem)
def test_importing_a_dag_file_starts_no_process_and_reads_no_data(
    dag_file: Path, dag_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow imports every DAG file every 30 seconds, within a timeout: no dbt (neither
    a `dbt ls` process nor dbt in-process), no other process, nothing read from the data
    but the compiled dbt manifest, no model spec read."""
    # croniter, which Airflow imports for the first cron schedule of a process, runs
    # `file -b python` (platform.architecture) at its own import: the DAG processor has it
    # loaded already, and it is no work of a DAG file.
    import croniter  # noqa: F401
    from dbt.cli.main import dbtRunner

    def no_dbt(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"dbt ran while {dag_file.name} was imported: {args}")

    monkeypatch.setattr(dbtRunner, "invoke", no_dbt)
    data_dir, ml_dir = dag_settings.data_dir.resolve(), dag_settings.ml_dir.resolve()
    allowed = {manifest_path(dag_settings)}
    with audited() as events:
        import_fresh(dag_file)

    started = [(event, args[:2]) for event, args in events if event in SPAWN_EVENTS]
    assert started == [], f"{dag_file.name} started processes at import: {started}"
    touched = sorted(
        {
            str(args[0])
            for event, args in events
            if event in {"open", "os.mkdir"}
            and _under(args[0], data_dir)
            and Path(os.fsdecode(args[0])).resolve() not in allowed
        }
    )
    assert touched == [], f"{dag_file.name} read or wrote the data dir at import: {touched}"
    # the model specs are read when a run starts, not every time the file is parsed
    specs = sorted(
        {str(args[0]) for event, args in events if event == "open" and _under(args[0], ml_dir)}
    )
    assert specs == [], f"{dag_file.name} read model specs at import: {specs}"


def test_a_missing_manifest_is_named_with_how_to_compile_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHONGTAI_DATA_DIR", str(tmp_path / "var"))
    with pytest.raises(ManifestMissing) as missing:
        import_fresh(DAGS_FOLDER / "build_warehouse.py")
    message = str(missing.value)
    assert str(manifest_path(Settings())) in message
    assert "zhongtai airflow" in message and "ensure_manifest" in message


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == len(DAG_FILES)


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
    landings = {f"land_{source}": [f"raw_{source}"] for source in SOURCES}
    assert outlets == {**landings, "check_inbox": []}  # unclaimed inbox content fails the run


def test_build_warehouse_runs_every_dbt_model_between_gates(dagbag) -> None:
    from zhongtai.warehouse.marts import marts

    mart_names = marts(Settings())
    assert "partner_portfolio_records" in mart_names  # discovered from dbt_project/models/marts
    dag = dagbag.dags["build_warehouse"]
    task_ids = set(dag.task_ids)
    assert {"gate_raw", "gate_staging", "gate_marts", "gate_reconciliation"} <= task_ids
    for model in ("stg_lender__applications", "int_loans_joined", *mart_names):
        assert {f"{model}.run", f"{model}_run"} & {t.split(".", 1)[-1] for t in task_ids}, model
    for task in dag.tasks:
        if task.task_id.startswith("staging.") and task.task_id.endswith(".run"):
            assert task.upstream_task_ids == {"gate_raw"}, task.task_id
        if task.task_id.startswith("warehouse.int_") and task.task_id.endswith("run"):
            assert "gate_staging" in task.upstream_task_ids or task.upstream_task_ids, task.task_id
    assert "gate_staging" in dag.get_task("warehouse.list_entries.run").upstream_task_ids
    publish = dag.get_task("publish_marts")
    assert sorted(asset.name for asset in publish.outlets) == sorted(
        f"mart_{m}" for m in mart_names
    )
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


def _leaves(condition) -> list:
    """The assets of a schedule's condition, however nested (AssetAny, AssetAll)."""
    objects = getattr(condition, "objects", None)
    if objects is None:
        return [condition]
    return [leaf for part in objects for leaf in _leaves(part)]


def test_train_models_runs_on_what_its_specs_read_and_weekly(dagbag) -> None:
    from airflow.sdk import AssetAll, AssetAny
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from zhongtai.features.build import FEATURE_SERVICES
    from zhongtai.ml.spec import load_spec, model_families
    from zhongtai.warehouse.marts import marts

    dag = dagbag.dags["train_models"]
    # the families are found when the run starts: one mapped train task each
    assert dag.task_ids == ["model_families", "train"]
    train = dag.get_task("train")
    assert isinstance(train, MappedOperator)
    assert train.upstream_task_ids == {"model_families"}
    assert train.max_active_tis_per_dagrun == 1  # one at a time: one writer on MLflow
    condition = dag.timetable.asset_condition
    # every feature service refreshed (they are materialised together), or any mart
    assert isinstance(condition, AssetAny)
    services, *mart_assets = condition.objects
    assert isinstance(services, AssetAll)
    assert {a.name for a in _leaves(services)} == {f"features_{s}" for s in FEATURE_SERVICES}
    assert {a.name for a in mart_assets} == {f"mart_{mart}" for mart in marts(Settings())}
    # what each family's spec reads is among them: the partner book's mart too
    scheduled_on = {asset.name for asset in _leaves(condition)}
    for family in model_families():
        data = load_spec(family).data
        read = f"mart_{data.mart}" if data.mart else f"features_{data.feature_service}"
        assert read in scheduled_on, family
    assert "mart_partner_portfolio_records" in scheduled_on
    assert dag.timetable.timetable.expression == "0 3 * * 1"


def test_train_models_trains_the_families_that_read_what_was_published(dagbag) -> None:
    """The run's first task, as Airflow calls it: a publication of the partner's mart
    retrains the partner's family; of the feature services, the credit and fraud ones;
    a run no publication triggered (weekly, by hand), every family."""
    from datetime import UTC, datetime

    from zhongtai.assets import feature_asset, mart_asset
    from zhongtai.features.build import FEATURE_SERVICES
    from zhongtai.ml.spec import model_families

    pick = dagbag.dags["train_models"].get_task("model_families").python_callable
    day = datetime(2026, 3, 2, 3, tzinfo=UTC)

    def picked(*assets) -> list[str]:
        return pick(logical_date=day, triggering_asset_events={a: ["event"] for a in assets})

    assert picked(mart_asset("partner_portfolio_records")) == ["german_credit"]
    services = [feature_asset(service) for service in FEATURE_SERVICES]
    assert picked(*services) == ["credit_pd", "fraud"]
    # the credit marts reach the credit families through their services, not directly
    assert picked(mart_asset("loan_performance_labels"), mart_asset("list_entries")) == []
    assert picked() == list(model_families()) == ["credit_pd", "fraud", "german_credit"]
