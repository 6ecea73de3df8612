"""build_warehouse, run by Airflow: the warehouse is built between gates, and a bad batch
stops at the gate with yesterday's marts untouched and nothing lost."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pytest

from zhongtai.airflow_env import DagRunFailed, dag_log_file, run_dag_test
from zhongtai.landing.land import land_delivery
from zhongtai.landing.rawzone import read_manifests
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.fingerprint import parquet_fingerprint
from zhongtai.warehouse.marts import mart_path, marts

pytestmark = pytest.mark.e2e

DAY_ONE = date(2026, 11, 22)
DAY_TWO = DAY_ONE + timedelta(days=1)


def _plant_negative_incomes(settings: Settings) -> None:
    """Day two: a partner redelivers ten applications with negative declared incomes."""
    source = settings.inbox_dir / DAY_ONE.isoformat() / "applications" / "part-00000.csv"
    table = pv.read_csv(source, convert_options=pv.ConvertOptions(strings_can_be_null=False))
    table = table.slice(0, 10).cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    table = table.set_column(
        table.schema.get_field_index("monthly_income_minor"),
        "monthly_income_minor",
        pa.array(["-500000"] * 10),
    )
    folder = settings.inbox_dir / DAY_TWO.isoformat() / "applications"
    folder.mkdir(parents=True)
    pv.write_csv(table, folder / "part-00000.csv")
    assert pc.all(pc.equal(table["monthly_income_minor"], "-500000")).as_py()


def test_a_bad_batch_stops_at_the_gate_and_leaves_the_marts_untouched(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    day_one = settings.model_copy(update={"as_of": DAY_ONE})
    day_two = settings.model_copy(update={"as_of": DAY_TWO})
    generate(settings.inbox_dir, applicants=400, seed=5, delivery_date=DAY_ONE)
    land_german_credit_file(settings.inbox_dir, DAY_ONE)
    land_delivery(DAY_ONE, day_one)

    capfd.readouterr()
    log = run_dag_test("build_warehouse", day_one)
    console = capfd.readouterr()
    assert (console.out, console.err) == ("", "")  # Airflow, dbt and GX wrote to the log
    assert "publish_marts" in log.read_text()
    built = {mart: parquet_fingerprint(mart_path(settings, mart)) for mart in marts(settings)}
    assert all(fingerprint.rows > 0 for fingerprint in built.values())
    assert (settings.quality_dir / "data_docs" / "index.html").is_file()

    _plant_negative_incomes(settings)
    land_delivery(DAY_TWO, day_two)  # the contract allows it: the type is right
    with pytest.raises(DagRunFailed) as failed:
        run_dag_test("build_warehouse", day_two)
    message = str(failed.value)

    assert failed.value.failed_tasks == ["gate_raw"]
    assert "monthly_income_minor" in message
    assert "expect_column_values_to_be_between" in message
    assert "Traceback" not in message and str(dag_log_file(settings, "build_warehouse")) in message
    assert {
        mart: parquet_fingerprint(mart_path(settings, mart)) for mart in marts(settings)
    } == built
    bad_batches = [
        m for m in read_manifests(settings.raw_dir) if m.ingest_date == DAY_TWO.isoformat()
    ]
    assert [m.rows for m in bad_batches] == [10]  # the bad batch is kept, not dropped
