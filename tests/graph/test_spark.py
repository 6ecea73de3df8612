"""The Spark path gives exactly the default path's features (igraph + DuckDB)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.graph import small_graph as world
from tests.graph.random_world import random_world
from zhongtai.graph.features import GRAPH_FEATURES_SCHEMA, graph_features
from zhongtai.graph.spark import spark_graph_features
from zhongtai.graph.sql import REQUIRED_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

MARTS = tuple(REQUIRED_COLUMNS)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    from pyspark.sql import SparkSession

    existing = SparkSession.getActiveSession()  # a process holds one session: share it
    if existing is not None:
        yield existing
        return
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("zhongtai-graph-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.shuffle.partitions", "4")
        # Not UTC on purpose: naive timestamps must not move with the session's zone.
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .getOrCreate()
    )
    yield session
    session.stop()


def _on_both(spark: SparkSession, folder: Path, tables: list[pa.Table]) -> tuple[pa.Table, ...]:
    frames = []
    for name, table in zip(MARTS, tables, strict=True):
        pq.write_table(table, folder / f"{name}.parquet")  # read as Spark reads the marts
        frames.append(spark.read.parquet(str(folder / f"{name}.parquet")))
    on_spark = spark_graph_features(*frames).toArrow()
    on_spark = on_spark.cast(GRAPH_FEATURES_SCHEMA).sort_by("application_id")
    return on_spark, graph_features(*tables)


def test_spark_equals_the_default_path_on_the_hand_built_world(
    spark: SparkSession, tmp_path: Path
) -> None:
    tables = [world.edges(), world.applications(), world.labels(), world.lists()]

    on_spark, on_default = _on_both(spark, tmp_path, tables)

    assert on_spark.num_rows == len(world.APPLICATIONS)
    assert on_spark.to_pylist() == on_default.to_pylist()


def test_spark_equals_the_default_path_on_a_random_world(
    spark: SparkSession, tmp_path: Path
) -> None:
    on_spark, on_default = _on_both(
        spark, tmp_path, random_world(seed=11, applicants=60, applications=150)
    )

    assert on_spark.num_rows == 150
    assert on_spark.to_pylist() == on_default.to_pylist()
