"""
### build_warehouse: raw zone → dbt warehouse, between quality gates

Runs when `land_raw` has landed every source. Each dbt model is its own task (rendered by
Cosmos, with the model's dbt tests right after it), and Great Expectations gates stand
between the layers:

1. **gate_raw** checks the raw partitions the warehouse has not taken in yet (a source
   declared with no delivery yet builds as an empty relation with its contract's columns);
2. **staging** models (views: typed, renamed, latest delivery of each key), then **gate_staging**;
3. **warehouse**: intermediate models (incremental: only new partitions) and the marts
   (Parquet files), then **gate_marts** and **gate_reconciliation** (row counts and amounts
   agree across raw → staging → marts);
4. **publish_marts** records the raw partitions taken in (the next run's gates start after
   them) and emits the mart assets that the feature platform is scheduled on.

A failing gate stops everything downstream, and names the expectation, the column and
sample rows; a source, staging view or mart that no expectation covers fails its gate
too. A bad batch stops at `gate_raw` or `gate_staging`, before any mart is rewritten:
the marts of the last good run stay as they were. If `gate_marts` or
`gate_reconciliation` fails, the new marts are not published (no asset event), so the
feature platform keeps serving the last good ones. Data Docs:
`<data dir>/quality/data_docs/index.html`.

The dbt tasks are rendered from the manifest that `dbt parse` compiled before Airflow
started (`zhongtai airflow ...` compiles it when the dbt project changed): parsing this
file runs no dbt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode

from zhongtai.assets import mart_asset, raw_asset
from zhongtai.clock import run_settings
from zhongtai.contracts import declared_sources
from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import DUCKDB_POOL, dbt_environment
from zhongtai.warehouse.manifest import require_manifest
from zhongtai.warehouse.marts import marts

# dbt runs in the task's process; Airflow is started with the venv's bin on PATH.
EXECUTION = ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER)


def dbt_project(settings: Settings) -> tuple[ProjectConfig, ProfileConfig]:
    """Where Cosmos finds the dbt project, its compiled manifest and the DuckDB profile."""
    project = ProjectConfig(
        dbt_project_path=settings.dbt_project_dir,
        # compiled by `dbt parse` before Airflow starts: ManifestMissing says how, if it is not
        manifest_path=require_manifest(settings),
        env_vars=dbt_environment(settings, "duckdb"),
        install_dbt_deps=False,
    )
    profile = ProfileConfig(
        profile_name="zhongtai",
        target_name="duckdb",
        profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml",
    )
    return project, profile


def dbt_layer(
    group_id: str, paths: list[str], project: ProjectConfig, profile: ProfileConfig
) -> DbtTaskGroup:
    return DbtTaskGroup(
        group_id=group_id,
        project_config=project,
        profile_config=profile,
        execution_config=EXECUTION,
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=[f"path:{path}" for path in paths],
            # dbt unit tests run in the test suite, not against production data
            exclude=["resource_type:unit_test"],
            # a test between two models (relationships) runs once both are built
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
        # DuckDB allows one writer per file: every dbt task goes through a one-slot pool.
        operator_args={"pool": DUCKDB_POOL},
    )


def gate(layer: str):
    @task(task_id=f"gate_{layer}", pool=DUCKDB_POOL)
    def run_gate(**context) -> dict[str, object]:
        from airflow.sdk.exceptions import AirflowFailException

        from zhongtai.quality.gates import GateFailed, run_gate

        try:
            return run_gate(layer, run_settings(context)).summary()
        except GateFailed as failed:
            # Retrying cannot make bad data good: stop here, downstream stays untouched.
            raise AirflowFailException(str(failed)) from failed

    return run_gate()


@task
def prepare_zones(**context) -> None:
    """Create the zones' folders if this is the first build, and the empty stand-in of every
    declared source, which dbt reads for a source that has not delivered yet."""
    from zhongtai.warehouse.dbt import prepare_zones

    prepare_zones(run_settings(context))


# One asset per mart of the dbt project (its models/marts files, listed without running dbt).
@task(outlets=[mart_asset(mart) for mart in marts(Settings())])
def publish_marts(raw_gate: dict[str, object], **context) -> list[str]:
    """Record the raw partitions this build took in; the next run's gates start after them."""
    from zhongtai.quality.published import mark_published

    published = mark_published(run_settings(context), raw_gate["ingest_dates"])  # type: ignore[arg-type]
    return [day.isoformat() for day in published]


@dag(
    dag_id="build_warehouse",
    schedule=[raw_asset(source) for source in declared_sources()],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["zhongtai", "warehouse", "dbt", "quality"],
    default_args={"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=5)},
)
def build_warehouse() -> None:
    # Cosmos renders one task per dbt node while the DAG is parsed: it needs the manifest's
    # path then (the tasks themselves take the run's settings).
    project, profile = dbt_project(Settings())
    staging = dbt_layer("staging", ["models/staging"], project, profile)
    warehouse = dbt_layer("warehouse", ["models/intermediate", "models/marts"], project, profile)
    gate_raw, gate_marts, gate_reconciliation = gate("raw"), gate("marts"), gate("reconciliation")
    (
        prepare_zones()
        >> gate_raw
        >> staging
        >> gate("staging")
        >> warehouse
        >> [gate_marts, gate_reconciliation]
    )
    [gate_marts, gate_reconciliation] >> publish_marts(gate_raw)


dag = build_warehouse()

if __name__ == "__main__":
    dag.test()
