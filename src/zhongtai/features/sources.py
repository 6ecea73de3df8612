"""Batch sources for the feature repo: one Parquet file, read by the environment's engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.settings import Settings

if TYPE_CHECKING:
    from feast.data_source import DataSource


def parquet_source(
    settings: Settings, name: str, path: Path, *, timestamp_field: str, description: str
) -> DataSource:
    """A FileSource (DuckDB offline store) or a SparkSource (Spark offline store) over ``path``.

    The path is made absolute: Feast would otherwise resolve it against the repository.
    """
    from feast import FileSource
    from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import SparkSource

    path_text = str(path.resolve())
    tags = {"layer": "marts" if path.parent == settings.marts_dir else "features"}
    if settings.feature_env == "scale":
        return SparkSource(
            name=name,
            path=path_text,
            file_format="parquet",
            timestamp_field=timestamp_field,
            description=description,
            owner="data-engineering",
            tags=tags,
        )
    return FileSource(
        name=name,
        path=path_text,
        timestamp_field=timestamp_field,
        description=description,
        owner="data-engineering",
        tags=tags,
    )
