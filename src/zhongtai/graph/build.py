"""Build ``graph_features.parquet`` from the marts, on the default path (DuckDB + igraph).

DuckDB reads the marts' Parquet files in place (no copy in Python), under a memory limit
with spilling to a scratch folder beside the output, so a million applicants fit in a few
GB. The file is replaced atomically: readers (Feast, training) see the old or the new one.
Timestamps are written in microseconds, which Feast's DuckDB offline store requires.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from zhongtai.atomic import write_parquet_atomically
from zhongtai.duck import MEMORY_LIMIT, connect, read_parquet_sql, sql_identifier
from zhongtai.feature_tables import feature_table_path
from zhongtai.graph.features import features_on
from zhongtai.graph.sql import REQUIRED_COLUMNS
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

log = logging.getLogger(__name__)


def graph_features_path(settings: Settings) -> Path:
    return feature_table_path(settings, "graph_features")


def build_graph_features(settings: Settings, *, memory_limit: str = MEMORY_LIMIT) -> Path:
    """Compute the graph features of every application in the marts; return the file."""
    sources = {name: mart_path(settings, name) for name in REQUIRED_COLUMNS}
    for name, path in sources.items():
        if not path.exists():
            raise FileNotFoundError(f"mart {name} not found at {path}: build the warehouse first")
    target = graph_features_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".graph-scratch-", dir=target.parent))
    try:
        with connect(
            settings,
            memory_limit=memory_limit,
            threads=None,  # every core: the graph is the long step of the feature build
            temp_directory=scratch,
            preserve_insertion_order=False,
        ) as connection:
            for name, path in sources.items():
                connection.execute(
                    f"create view {sql_identifier(name)} as select * from {read_parquet_sql(path)}"
                )
            features = features_on(connection)
        write_parquet_atomically(features, target, coerce_timestamps="us")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("wrote %d rows to %s", features.num_rows, target)
    return target
