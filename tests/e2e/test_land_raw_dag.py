"""The land_raw DAG, run by Airflow itself (`airflow dags test`), lands every source."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest

from zhongtai.airflow_env import run_dag_test
from zhongtai.landing.contracts import SOURCES
from zhongtai.landing.rawzone import read_manifests
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file

pytestmark = pytest.mark.e2e

DELIVERY = date(2026, 11, 23)


def test_land_raw_lands_every_source_and_a_rerun_adds_nothing(settings: Settings) -> None:
    generate(settings.inbox_dir, applicants=300, seed=3, delivery_date=DELIVERY)
    land_german_credit_file(settings.inbox_dir, DELIVERY)

    run_dag_test("land_raw", DELIVERY, settings)
    first = read_manifests(settings.raw_dir)
    run_dag_test("land_raw", DELIVERY, settings)

    assert {manifest.source for manifest in first} == set(SOURCES)
    assert read_manifests(settings.raw_dir) == first
    german = [m for m in first if m.source == "partner_portfolio"]
    assert sum(m.rows for m in german) == 1000
    for manifest in first:
        folder = (
            settings.raw_dir
            / manifest.source
            / f"ingest_date={manifest.ingest_date}"
            / f"batch_id={manifest.batch_id}"
        )
        assert pq.read_metadata(folder / manifest.data_file).num_rows == manifest.rows
