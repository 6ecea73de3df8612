"""Build ``graph_features.parquet`` from the marts, on the default path (DuckDB + igraph).

DuckDB reads the marts' Parquet files in place (no copy in Python), under a memory limit
with spilling to a scratch folder beside the output, so a million applicants fit in a few
GB. The file is replaced atomically: readers (Feast, training) see the old or the new one.
Timestamps are written in microseconds, which Feast's DuckDB offline store requires.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from zhongtai.features.tables import feature_table_path
from zhongtai.graph.features import features_on
from zhongtai.graph.sql import REQUIRED_COLUMNS
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

log = logging.getLogger(__name__)

DUCKDB_MEMORY_LIMIT = "2GB"


def graph_features_path(settings: Settings) -> Path:
    return feature_table_path(settings, "graph_features")


def build_graph_features(settings: Settings, *, memory_limit: str = DUCKDB_MEMORY_LIMIT) -> Path:
    """Compute the graph features of every application in the marts; return the file."""
    sources = {name: mart_path(settings, name) for name in REQUIRED_COLUMNS}
    for name, path in sources.items():
        if not path.exists():
            raise FileNotFoundError(f"mart {name} not found at {path}: build the warehouse first")
    target = graph_features_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".graph-scratch-", dir=target.parent))
    try:
        connection = duckdb.connect(
            config={
                "memory_limit": memory_limit,
                "temp_directory": str(scratch),
                "preserve_insertion_order": False,
            }
        )
        try:
            for name, path in sources.items():
                connection.execute(
                    f"create view {name} as select * from read_parquet({_literal(path)})"
                )
            features = features_on(connection)
        finally:
            connection.close()
        partial = scratch / target.name
        pq.write_table(features, partial, coerce_timestamps="us")
        os.replace(partial, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("wrote %d rows to %s", features.num_rows, target)
    return target


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
