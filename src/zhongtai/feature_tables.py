"""The feature tables computed beyond the marts, one Parquet file each, read by Feast.

Stated here, below both, because the graph writes one of them and the feature platform
writes and reads them all.
"""

from __future__ import annotations

from pathlib import Path

from zhongtai.settings import Settings

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
