"""A daily run takes in only new partitions, and gives the marts a full rebuild would."""

from __future__ import annotations

import json

import duckdb

from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import dbt_run_dir, run_dbt
from zhongtai.warehouse.fingerprint import Fingerprint, parquet_fingerprint
from zhongtai.warehouse.marts import mart_path, marts

from .conftest import DAY_ONE, DAY_TWO, deliver_two_days


def _marts(settings: Settings) -> dict[str, Fingerprint]:
    return {mart: parquet_fingerprint(mart_path(settings, mart)) for mart in marts(settings)}


def _ingest_dates(settings: Settings, table: str) -> list[tuple[str, int]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
        rows = warehouse.sql(
            f"select cast(ingest_date as varchar), count(*) from {table} group by 1 order by 1"
        ).fetchall()
    return [(day, count) for day, count in rows]


def test_daily_runs_add_only_new_partitions_and_match_a_full_rebuild(settings: Settings) -> None:
    deliver_two_days(settings)
    land_delivery(DAY_ONE, settings)
    run_dbt(["build"], settings)
    first_day = _ingest_dates(settings, "int_applications_enriched")
    assert [day for day, _ in first_day] == [DAY_ONE.isoformat()]

    land_delivery(DAY_TWO, settings)
    run_dbt(["build"], settings)
    both_days = _ingest_dates(settings, "int_applications_enriched")
    assert both_days[0] == first_day[0]  # day one's rows were not rebuilt, only kept
    assert [day for day, _ in both_days] == [DAY_ONE.isoformat(), DAY_TWO.isoformat()]
    incremental = _marts(settings)
    assert incremental["application_features"].rows == sum(count for _, count in both_days)

    run_dbt(["build"], settings)
    assert _marts(settings) == incremental  # rerunning the day changes nothing

    run_dbt(["build", "--full-refresh"], settings)
    assert _marts(settings) == incremental  # incremental == rebuilt from scratch


def test_dbt_docs_describe_every_mart(settings: Settings) -> None:
    deliver_two_days(settings, applicants=200)
    land_delivery(DAY_ONE, settings)
    run_dbt(["build"], settings)
    run_dbt(["docs", "generate"], settings)

    target = dbt_run_dir(settings) / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert set(marts(settings)) <= documented
    assert (target / "index.html").is_file()
