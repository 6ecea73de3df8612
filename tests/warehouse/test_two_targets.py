"""The same dbt project builds the same marts on DuckDB and on Spark (local, in session),
a source declared with no delivery yet included (its mart is empty on both)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.warehouse.project import MART, with_settlements
from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.dbt import run_dbt
from zhongtai.warehouse.fingerprint import parquet_fingerprint
from zhongtai.warehouse.marts import mart_path, marts, spark_mart_path

pytestmark = pytest.mark.spark

DELIVERY = date(2026, 11, 23)


def _build_on_spark(settings: Settings) -> None:
    """In its own process: a process holds one SparkSession, with its own metastore."""
    env = {
        **os.environ,
        "ZHONGTAI_DATA_DIR": str(settings.data_dir),
        "ZHONGTAI_PROJECT_DIR": str(settings.project_dir),
        "ZHONGTAI_ENV": "test",
        "ZHONGTAI_SPARK_DRIVER_MEMORY": "2g",
    }
    zhongtai = Path(sys.executable).parent / "zhongtai"
    subprocess.run([str(zhongtai), "warehouse", "build", "--target", "spark"], env=env, check=True)


def test_duckdb_and_spark_build_identical_marts(settings: Settings, tmp_path: Path) -> None:
    settings = with_settlements(settings, tmp_path / "project")  # declared, never delivered
    generate(settings.inbox_dir, applicants=500, seed=21, delivery_date=DELIVERY)
    land_german_credit_file(settings.inbox_dir, DELIVERY)
    land_delivery(DELIVERY, settings)

    run_dbt(["build"], settings, "duckdb")
    _build_on_spark(settings)

    for mart in marts(settings):
        on_duckdb = parquet_fingerprint(mart_path(settings, mart))
        on_spark = parquet_fingerprint(spark_mart_path(settings, mart))
        assert (on_duckdb.rows > 0) is (mart != MART), mart
        assert on_spark == on_duckdb, mart
    # the empty mart's columns and types (timestamps: Spark writes INT96, DuckDB microseconds)
    empty = {
        engine: [
            (field.name, "timestamp" if pa.types.is_timestamp(field.type) else str(field.type))
            for field in pq.read_schema(path)
        ]
        for engine, path in (
            ("duckdb", mart_path(settings, MART)),
            ("spark", next(spark_mart_path(settings, MART).glob("*.parquet"))),
        )
    }
    assert empty["spark"] == empty["duckdb"]
    assert [name for name, _ in empty["duckdb"]][:3] == [
        "settlement_id",
        "settled_at",
        "value_date",
    ]
