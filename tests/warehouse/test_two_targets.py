"""The same dbt project builds the same marts on DuckDB and on Spark (local, in session)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.dbt import run_dbt
from zhongtai.warehouse.fingerprint import parquet_fingerprint
from zhongtai.warehouse.marts import MARTS, mart_path, spark_mart_path

pytestmark = pytest.mark.spark

DELIVERY = date(2026, 11, 23)


def _build_on_spark(settings: Settings) -> None:
    """In its own process: a process holds one SparkSession, with its own metastore."""
    env = {
        **os.environ,
        "ZHONGTAI_DATA_DIR": str(settings.data_dir),
        "ZHONGTAI_ENV": "test",
        "ZHONGTAI_SPARK_DRIVER_MEMORY": "2g",
    }
    zhongtai = Path(sys.executable).parent / "zhongtai"
    subprocess.run([str(zhongtai), "warehouse", "build", "--target", "spark"], env=env, check=True)


def test_duckdb_and_spark_build_identical_marts(settings: Settings) -> None:
    generate(settings.inbox_dir, applicants=500, seed=21, delivery_date=DELIVERY)
    land_german_credit_file(settings.inbox_dir, DELIVERY)
    land_delivery(DELIVERY, settings)

    run_dbt(["build"], settings, "duckdb")
    _build_on_spark(settings)

    for mart in MARTS:
        on_duckdb = parquet_fingerprint(mart_path(settings, mart))
        on_spark = parquet_fingerprint(spark_mart_path(settings, mart))
        assert on_duckdb.rows > 0, mart
        assert on_spark == on_duckdb, mart
