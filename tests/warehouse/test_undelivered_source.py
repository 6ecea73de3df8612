"""A source declared in files only: before its first delivery it builds as an empty relation
with its contract's columns and passes the gates; once it delivers, the same build reads it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.warehouse.project import (
    MART,
    SOURCE,
    STAGING_VIEW,
    deliver_settlements,
    with_settlements,
)
from zhongtai.contracts import load_contract
from zhongtai.duck import connect
from zhongtai.landing.land import land_delivery
from zhongtai.landing.rawzone import read_manifests
from zhongtai.quality.gates import run_gate
from zhongtai.quality.published import pending_ingest_dates
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.dbt import DbtFailed, run_dbt
from zhongtai.warehouse.empty_sources import empty_source_file, landed_schema
from zhongtai.warehouse.marts import mart_path, marts
from zhongtai.warehouse.staging import staging_views

STAGING_COLUMNS = {
    "settlement_id": "VARCHAR",
    "settled_at": "TIMESTAMP",
    "value_date": "DATE",
    "merchant_phone_pseudonym": "VARCHAR",
    "amount": "DOUBLE",
    "units": "BIGINT",
    "is_reversed": "BOOLEAN",
    "batch_id": "VARCHAR",
    "ingest_date": "DATE",
    "loaded_at": "TIMESTAMP",
}


def _staging(settings: Settings) -> tuple[dict[str, str], int]:
    with connect(settings, warehouse=True) as connection:
        columns = dict(
            connection.execute(
                f"select column_name, column_type from (describe {STAGING_VIEW})"
            ).fetchall()
        )
        (rows,) = connection.execute(f"select count(*) from {STAGING_VIEW}").fetchone() or (0,)
    return columns, rows


def _types(schema: pa.Schema) -> list[tuple[str, pa.DataType]]:
    return [(field.name, field.type) for field in schema]


@pytest.fixture
def project(settings: Settings, tmp_path: Path) -> Settings:
    """A lender's world whose project also declares settlements, which has not delivered."""
    project = with_settlements(settings, tmp_path / "project")
    day = project.today()
    generate(project.inbox_dir, applicants=200, seed=3, delivery_date=day)
    land_german_credit_file(project.inbox_dir, day)
    land_delivery(day, project)
    return project


def test_a_declared_source_with_no_delivery_builds_empty_then_reads_its_first_batch(
    project: Settings,
) -> None:
    assert staging_views(project)[STAGING_VIEW] == SOURCE and MART in marts(project)
    run_dbt(["build"], project)

    columns, rows = _staging(project)
    assert (columns, rows) == (STAGING_COLUMNS, 0)
    mart = pq.read_table(mart_path(project, MART))
    assert mart.num_rows == 0
    assert mart.column_names == [
        "settlement_id",
        "settled_at",
        "value_date",
        "amount",
        "units",
        "is_reversed",
        "loaded_at",
    ]
    # the stand-in the view read is not a delivery: nothing of it is in the raw zone
    assert not (project.raw_dir / SOURCE).exists()
    assert read_manifests(project.raw_dir, SOURCE) == []
    stand_in = pq.read_table(empty_source_file(project, SOURCE))
    assert stand_in.num_rows == 0
    assert stand_in.schema.equals(landed_schema(load_contract(SOURCE, project)))
    assert project.raw_dir not in empty_source_file(project, SOURCE).parents
    # the gates see a source with expectations and no batch: nothing to check, no failure
    for layer in ("raw", "staging", "marts", "reconciliation"):
        result = run_gate(layer, project)
        summary = result.summary()["tables"]
        if layer in ("raw", "staging"):
            assert "skipped" in summary[SOURCE if layer == "raw" else STAGING_VIEW], layer
    assert "skipped" in result.summary()["tables"][f"{SOURCE}_raw_to_staging"]

    day = project.today()
    deliver_settlements(project, day, rows=5)
    land_delivery(day, project, sources=[SOURCE])
    run_dbt(["build"], project)

    columns, rows = _staging(project)
    assert (columns, rows) == (STAGING_COLUMNS, 5)
    published = pq.read_table(mart_path(project, MART))
    assert published.num_rows == 5
    assert _types(published.schema) == _types(mart.schema)
    assert published.column("units").null_count == 1
    assert day in pending_ingest_dates(project)
    for layer in ("raw", "staging", "marts", "reconciliation"):
        summary = run_gate(layer, project).summary()["tables"]
        table = {"raw": SOURCE, "staging": STAGING_VIEW, "marts": MART}.get(
            layer, f"{SOURCE}_raw_to_staging"
        )
        assert summary[table]["rows"] >= 1 and summary[table]["failed"] == 0, (layer, summary)


def test_the_stand_in_of_every_source_is_its_landed_schema(settings: Settings) -> None:
    """The stand-in's columns are a real batch's, for every declared source (a change to
    how landing writes a batch shows here)."""
    day = settings.today()
    generate(settings.inbox_dir, applicants=60, seed=4, delivery_date=day)
    land_german_credit_file(settings.inbox_dir, day)
    landed = land_delivery(day, settings)
    assert all(outcome.landed for outcome in landed)
    for outcome in landed:
        batch = next(iter((settings.raw_dir / outcome.source).rglob("part-0.parquet")))
        expected = landed_schema(load_contract(outcome.source, settings))
        assert pq.read_schema(batch).remove_metadata().equals(expected), outcome.source


def test_stand_ins_follow_the_contracts(settings: Settings, tmp_path: Path) -> None:
    from zhongtai.warehouse.empty_sources import write_empty_sources

    project = with_settlements(settings, tmp_path / "project", expectations=False)
    assert SOURCE in write_empty_sources(project)
    path = empty_source_file(project, SOURCE)
    written = path.stat().st_mtime_ns
    write_empty_sources(project)
    assert path.stat().st_mtime_ns == written  # unchanged contract: not rewritten

    # the contract gains a field (a new project version over the same data dir)
    changed = with_settlements(settings, tmp_path / "changed", expectations=False)
    contract = changed.contracts_dir / f"{SOURCE}.yml"
    contract.write_text(
        contract.read_text() + '  - {name: channel, type: string, pii: none, purpose: "channel", '
        "legal_basis: contract, required: false}\n"
    )
    write_empty_sources(changed)
    assert pq.read_schema(path).field("channel").type == pa.string()

    contract.unlink()
    assert SOURCE not in write_empty_sources(changed)
    assert not path.parents[2].exists()  # the folder of a source no longer declared


def test_a_dbt_source_without_a_contract_is_named(settings: Settings, tmp_path: Path) -> None:
    project = with_settlements(settings, tmp_path / "project", expectations=False)
    (project.contracts_dir / f"{SOURCE}.yml").unlink()
    with pytest.raises(DbtFailed) as failed:
        run_dbt(["run", "--select", STAGING_VIEW], project)
    message = " ".join(str(failed.value).split())
    assert f"dbt source acquirer.{SOURCE} (schema raw) has no batch in" in message
    assert f"contracts/{SOURCE}.yml" in message
