"""The land_raw DAG, run by Airflow itself (`airflow dags test`), lands every source."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from zhongtai.airflow_env import DagRunFailed, run_dag_test
from zhongtai.contracts import declared_sources, load_contract
from zhongtai.landing.rawzone import read_manifests
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file

SOURCES = declared_sources()

pytestmark = pytest.mark.e2e

DELIVERY = date(2026, 11, 23)


def test_land_raw_lands_every_source_and_a_rerun_adds_nothing(settings: Settings) -> None:
    settings = settings.model_copy(update={"as_of": DELIVERY})
    generate(settings.inbox_dir, applicants=300, seed=3, delivery_date=DELIVERY)
    land_german_credit_file(settings.inbox_dir, DELIVERY)

    run_dag_test("land_raw", settings)
    first = read_manifests(settings.raw_dir)
    run_dag_test("land_raw", settings)

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


def test_unclaimed_inbox_content_fails_its_check_while_every_source_lands(
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"as_of": DELIVERY})
    generate(settings.inbox_dir, applicants=100, seed=5, delivery_date=DELIVERY)
    payslips = settings.inbox_dir / DELIVERY.isoformat() / "payslips"
    payslips.mkdir()
    (payslips / "part-00000.csv").write_text("payslip_id\n1\n")

    with pytest.raises(DagRunFailed) as failed:
        run_dag_test("land_raw", settings)

    assert failed.value.failed_tasks == ["check_inbox"]
    assert f"{payslips}: no contract claims this folder" in str(failed.value)
    landed = {manifest.source for manifest in read_manifests(settings.raw_dir)}
    assert landed == set(SOURCES) - {"partner_portfolio"}  # not delivered that day


def _clear_identifiers(settings: Settings) -> pa.Array:
    """Every clear value the generator wrote into a field the contracts pseudonymise."""
    values = []
    for source in SOURCES:
        fields = [f.name for f in load_contract(source).fields if f.is_pseudonymised]
        for path in sorted((settings.inbox_dir / DELIVERY.isoformat() / source).glob("*.csv")):
            options = pv.ConvertOptions(
                include_columns=fields, column_types=dict.fromkeys(fields, pa.string())
            )
            table = pv.read_csv(path, convert_options=options)
            values += [pc.drop_null(table[name]).combine_chunks() for name in fields]
    return pc.unique(pa.concat_arrays(values))


def test_no_clear_identifier_reaches_the_raw_zone(settings: Settings) -> None:
    settings = settings.model_copy(update={"as_of": DELIVERY})
    generate(settings.inbox_dir, applicants=2000, seed=11, delivery_date=DELIVERY)
    run_dag_test("land_raw", settings)

    clear = _clear_identifiers(settings)
    assert len(clear) > 6000  # national ids, names, phones, addresses of 2,000 applicants
    parquet_files = sorted(settings.raw_dir.rglob("*.parquet"))
    assert {p.relative_to(settings.raw_dir).parts[0] for p in parquet_files} >= set(SOURCES) - {
        "partner_portfolio"
    }
    for path in parquet_files:
        table = pq.read_table(path)
        for name, column in zip(table.column_names, table.columns, strict=True):
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                continue
            leaked = pc.sum(pc.is_in(column, value_set=clear)).as_py() or 0
            assert leaked == 0, f"{path.name}: column {name!r} holds {leaked} clear identifiers"
