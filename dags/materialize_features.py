"""
### materialize_features: validated marts → graph and risk features → Feast online store

Runs when `build_warehouse` has published the marts (every quality gate passed):

1. **graph_features**: the shared-identifier graph as of each application (no edge from
   the future): component size, applicants sharing the device / phone / IP range in 7 and
   30 days, neighbours in default or blacklisted, ring score;
2. **risk_indices**: device risk, social relationship and list hits per application, and
   the one-hour velocity tables behind the push sources;
3. **apply_definitions**: `feast apply` of `feature_repo/` (idempotent);
4. **materialize**: each feature view resumes where its last run ended and moves forward
   in bounded windows into the online store, then the feature service assets are emitted
   (what model training is scheduled on).

Between runs, application events reach the velocity views through the push sources.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from zhongtai.assets import feature_asset, mart_asset
from zhongtai.clock import run_settings
from zhongtai.features.build import FEATURE_SERVICES

FEATURE_MARTS = (
    "application_features",
    "applicant_features",
    "loan_performance_labels",
    "identifier_edges",
    "list_entries",
)


@task
def graph_features(**context) -> int:
    import pyarrow.parquet as pq

    from zhongtai.graph.build import build_graph_features

    return pq.ParquetFile(build_graph_features(run_settings(context))).metadata.num_rows


@task
def risk_indices(**context) -> dict[str, int]:
    from zhongtai.features.indices import build_risk_indices

    return build_risk_indices(run_settings(context))


@task
def apply_definitions(**context) -> None:
    from zhongtai.features.repo import apply_definitions

    apply_definitions(run_settings(context))


@task(outlets=[feature_asset(service) for service in FEATURE_SERVICES])
def materialize(**context) -> list[str]:
    from zhongtai.features.materialize import materialize_features

    done = materialize_features(run_settings(context))
    return [f"{m.view}: {m.start:%Y-%m-%d %H:%M} → {m.end:%Y-%m-%d %H:%M}" for m in done]


@dag(
    dag_id="materialize_features",
    schedule=[mart_asset(mart) for mart in FEATURE_MARTS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["zhongtai", "features", "feast", "graph"],
    default_args={"owner": "risk-data", "retries": 1, "retry_delay": timedelta(minutes=5)},
)
def materialize_features() -> None:
    graph_features() >> risk_indices() >> apply_definitions() >> materialize()


dag = materialize_features()

if __name__ == "__main__":
    dag.test()
