"""Protected characteristics in contracts, and the columns that carry them downstream."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.landing.keyless import project_with
from zhongtai.contracts import (
    PROTECTED_CHARACTERISTICS,
    ContractError,
    declared_sources,
    load_contract,
    protected_fields,
    read_contract,
)
from zhongtai.settings import Settings

CONTRACT = """
source: {source}
version: 1
description: a test source
fields:
  - {{name: sample_id, type: string, pii: none, purpose: key,
      legal_basis: contract, required: true}}
  - {{name: {name}, type: string, pii: {pii}, {extra} purpose: test,
      legal_basis: contract, required: true}}
"""


def _contract(tmp_path: Path, extra: str, name: str = "marker", pii: str = "none") -> Path:
    path = tmp_path / "sample.yml"
    path.write_text(CONTRACT.format(source="sample", name=name, pii=pii, extra=extra))
    return path


def test_the_project_marks_every_protected_and_proxy_field() -> None:
    assert protected_fields() == {
        "age_in_years": ("age",),
        "age_years": ("age",),  # birth_date lands as age_years: no birth_date anywhere
        "city_code": ("region",),
        "foreign_worker": ("ethnicity",),
        "personal_status_and_sex": ("sex", "marital_status"),
    }


def test_the_characteristics_are_the_five_protected_ones() -> None:
    assert PROTECTED_CHARACTERISTICS == ("age", "sex", "marital_status", "ethnicity", "region")


def test_every_protected_column_is_a_column_downstream(settings: Settings) -> None:
    """A contract's protected and derived columns name columns dbt really builds: a renamed
    column that the contract no longer names would slip past the model side's refusal."""
    models = "\n".join(
        path.read_text() for path in sorted((settings.dbt_project_dir / "models").rglob("*.sql"))
    )
    for column in protected_fields(settings):
        assert re.search(rf"\b{column}\b", models), f"{column} is in no dbt model"
    derived = [
        column
        for source in declared_sources(settings)
        for field in load_contract(source, settings).fields
        for column in field.derived_columns
    ]
    for column in derived:
        assert re.search(rf"\bas {column}\b", models), f"no dbt model computes {column}"


def test_one_characteristic_or_several(tmp_path: Path) -> None:
    one = read_contract(_contract(tmp_path, "protected: region,")).field("marker")
    two = read_contract(_contract(tmp_path, "protected: [sex, marital_status],")).field("marker")
    assert one.protected == ("region",) and one.protected_columns == ("marker",)
    assert two.protected == ("sex", "marital_status")
    unprotected = read_contract(_contract(tmp_path, "")).field("marker")
    assert unprotected.protected == () and unprotected.protected_columns == ()


def test_a_pseudonymised_field_is_protected_under_its_landed_name(tmp_path: Path) -> None:
    extra = "treatment: pseudonymise, protected: [sex, ethnicity], derived_columns: [name_band],"
    contract = read_contract(_contract(tmp_path, extra, name="given_name", pii="direct_identifier"))
    assert contract.protected_columns == {
        "given_name_pseudonym": ("sex", "ethnicity"),
        "name_band": ("sex", "ethnicity"),
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("protected: religion,", "protected.0: Input should be 'age', 'sex', 'marital_status'"),
        ("protected: [age, age],", "protected lists a characteristic twice"),
        ("derived_columns: [age_years],", "name it with protected:"),
        ("protected: age, derived_columns: [Age Years],", "'Age Years' is not a column name"),
        ("protected: age, derived_columns: [marker],", "is the landed column itself"),
        ("protected: age, proxy: true,", "fields.1.proxy: Extra inputs are not permitted"),
    ],
)
def test_a_bad_protected_marking_is_named(tmp_path: Path, extra: str, expected: str) -> None:
    path = _contract(tmp_path, extra)
    with pytest.raises(ContractError, match=re.escape(f"{path}: ") + ".*" + re.escape(expected)):
        read_contract(path)


def test_a_column_shared_by_sources_carries_all_their_characteristics(
    settings: Settings, tmp_path: Path
) -> None:
    other = CONTRACT.format(
        source="branches", name="city_code", pii="none", extra="protected: [ethnicity, region],"
    )
    settings = project_with(settings, tmp_path, {"branches.yml": other})

    columns = protected_fields(settings)

    assert columns["city_code"] == ("ethnicity", "region")
    assert columns["age_years"] == ("age",)
