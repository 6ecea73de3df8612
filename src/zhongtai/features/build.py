"""The feature platform's run, step by step: tables → definitions → online store.

The Airflow DAG ``materialize_features`` runs each step as a task; ``zhongtai features
build`` runs them in a row.
"""

from __future__ import annotations

from collections.abc import Callable

from zhongtai.features.indices import build_risk_indices
from zhongtai.features.materialize import Materialized, materialize_features
from zhongtai.features.repo import apply_definitions
from zhongtai.settings import Settings

# The services models and partners read; each is an Airflow asset once materialised.
FEATURE_SERVICES: tuple[str, ...] = (
    "credit_scoring_v1",
    "fraud_detection_v1",
    "partner_credit_v1",
    "partner_fraud_v1",
)


def build_feature_tables(settings: Settings) -> dict[str, int]:
    """The graph features, then the risk indices and velocity tables built on them."""
    import pyarrow.parquet as pq

    from zhongtai.graph.build import build_graph_features

    graph = build_graph_features(settings)
    return {
        "graph_features": pq.ParquetFile(graph).metadata.num_rows,
        **build_risk_indices(settings),
    }


def build_features(
    settings: Settings, progress: Callable[[str], None] = print, *, materialize: bool = True
) -> list[Materialized]:
    """Every step: feature tables, ``feast apply``, incremental materialisation (unless
    ``materialize`` is false: offline retrieval needs no online store)."""
    for table, rows in build_feature_tables(settings).items():
        progress(f"{table}: {rows:,} rows")
    apply_definitions(settings)
    progress("feast apply: definitions registered")
    return materialize_features(settings, progress=progress) if materialize else []
