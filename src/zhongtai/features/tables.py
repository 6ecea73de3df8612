"""The feature tables computed beyond the marts, one Parquet file each, read by Feast."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.settings import Settings

if TYPE_CHECKING:
    import duckdb

FEATURE_TABLES: tuple[str, ...] = (
    "graph_features",  # zhongtai.graph: the shared-identifier graph, as of each application
    "risk_indices",  # device risk, social relationship and list hits, per application
    "device_velocity",  # applications per device in the last hour (push source's batch)
    "ip_range_velocity",  # applications per /24 IP range in the last hour (likewise)
)


def feature_table_path(settings: Settings, table: str) -> Path:
    if table not in FEATURE_TABLES:
        raise KeyError(f"unknown feature table {table!r}; they are: {', '.join(FEATURE_TABLES)}")
    return settings.features_dir / f"{table}.parquet"


def write_query(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """Write a query's rows to ``path`` as Parquet, atomically; return the row count.

    Readers (Feast, a running materialisation) see the old file or the new one, never half.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        connection.execute(f"copy ({query}) to '{partial}' (format parquet, compression zstd)")
        rows = connection.execute(f"select count(*) from read_parquet('{partial}')").fetchone()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return int(rows[0]) if rows else 0
