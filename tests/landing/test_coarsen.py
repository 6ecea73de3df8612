"""Quasi-identifiers coarsened at the door (issue 13): an age for a birth date, a region
for a division code; the finer values are nowhere in the raw zone or the warehouse's
stand-ins, and the decision API coarsens a request as landing does."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.landing.delivery import INGEST_DATE, application, national_id, write_delivery
from zhongtai.contracts import ContractError, load_contract, read_contract
from zhongtai.landing.coarsen import region_code
from zhongtai.landing.land import land_source
from zhongtai.settings import Settings
from zhongtai.warehouse.empty_sources import landed_schema

# Born 1990-06-15; applied 2026-06-14 (still 35) and 2026-06-15 (36 that day).
BORN = "1990-06-15"
ID = national_id("11010519900615001")


def _landed(settings: Settings):
    (data,) = (settings.raw_dir / "applications").rglob("*.parquet")
    return pq.read_table(data)


def test_the_birth_date_lands_as_the_age_at_application_and_the_city_as_its_region(
    settings: Settings,
) -> None:
    rows = [
        application(1, national_id=ID, birth_date=BORN, applied_at="2026-06-14T23:59:59Z"),
        application(2, national_id=ID, birth_date=BORN, applied_at="2026-06-15T00:00:00Z"),
    ]
    write_delivery(settings.inbox_dir, "applications", rows)

    land_source("applications", INGEST_DATE, settings)

    table = _landed(settings)
    assert "birth_date" not in table.column_names
    assert table.column("age_years").to_pylist() == [35, 36]
    assert table.column("city_code").to_pylist() == ["1101", "1101"]
    assert table.schema.equals(landed_schema(load_contract("applications", settings)))


def test_no_landed_file_holds_the_birth_date_or_the_county(settings: Settings) -> None:
    write_delivery(
        settings.inbox_dir, "applications", [application(1, national_id=ID, birth_date=BORN)]
    )

    land_source("applications", INGEST_DATE, settings)

    for path in settings.raw_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for clear in (BORN, BORN.replace("-", ""), "110105"):
                assert clear.encode() not in data, f"{clear} in {path.name}"


def test_the_api_coarsens_a_division_code_as_landing_does() -> None:
    assert region_code("440305") == "4403"


CONTRACT = """
source: sample
version: 1
description: a test source
fields:
  - {{name: applied_at, type: timestamp, pii: none, purpose: when,
      legal_basis: contract, required: true}}
  - {{name: marker, type: {type}, pii: quasi_identifier, {extra} purpose: test,
      legal_basis: contract, required: true}}
"""


@pytest.mark.parametrize(
    ("type_", "extra", "expected"),
    [
        ("string", "treatment: coarsen_to_age, age_at: applied_at,", "applies to date fields"),
        ("date", "treatment: coarsen_to_region,", "applies to string fields"),
        ("date", "treatment: coarsen_to_age,", "age_at (the timestamp field"),
        ("date", "age_at: applied_at,", "age_at (the timestamp field"),
        ("date", "treatment: coarsen_to_age, age_at: born,", "age_at 'born' is not a timestamp"),
        ("string", "coarsened_column: region,", "coarsened_column goes with a coarsen_"),
        ("string", "treatment: coarsen_to_region, coarsened_column: applied_at,", "lands"),
    ],
    ids=[
        "age-of-a-string",
        "region-of-a-date",
        "age-without-age-at",
        "age-at-alone",
        "age-at-unknown",
        "column-without-coarsening",
        "landed-name-clash",
    ],
)
def test_a_bad_coarsening_is_named(tmp_path: Path, type_: str, extra: str, expected: str) -> None:
    path = tmp_path / "sample.yml"
    path.write_text(CONTRACT.format(type=type_, extra=extra))
    with pytest.raises(ContractError, match=re.escape(f"{path}: ") + ".*" + re.escape(expected)):
        read_contract(path)


def test_the_contract_says_what_lands_in_place_of_each_quasi_identifier(
    settings: Settings,
) -> None:
    contract = load_contract("applications", settings)
    born, city = contract.field("birth_date"), contract.field("city_code")
    assert (born.treatment, born.output_column, born.landed_type) == (
        "coarsen_to_age",
        "age_years",
        "int64",
    )
    assert (city.treatment, city.output_column, city.landed_type) == (
        "coarsen_to_region",
        "city_code",
        "string",
    )
    assert contract.protected_columns["age_years"] == ("age",)
    assert "birth_date" not in contract.protected_columns
