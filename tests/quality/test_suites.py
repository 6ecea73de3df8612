"""The suite files: every one loads, covers its layer, and a wrong one is named precisely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zhongtai.contracts import declared_sources, load_contract
from zhongtai.quality.batches import check_tables, known_tables, uncovered_tables
from zhongtai.quality.gates import run_gate
from zhongtai.quality.suites import (
    LAYERS,
    SuiteSpecError,
    build_suite,
    load_suite_spec,
    read_suite_spec,
    suite_path,
)
from zhongtai.settings import Settings
from zhongtai.warehouse.staging import staging_views

SOURCES = declared_sources()


@pytest.mark.parametrize("layer", LAYERS)
def test_every_suite_loads_and_covers_its_layer(layer: str, settings: Settings) -> None:
    spec = load_suite_spec(layer, settings.expectations_dir)
    check_tables(
        spec, str(suite_path(layer, settings.expectations_dir)), settings, settings.expectations_dir
    )
    assert uncovered_tables(spec, settings) == {}
    if layer != "reconciliation":
        assert set(spec.tables) == set(known_tables(layer, settings))
    for table in spec.tables:
        suite = build_suite(spec, table)
        assert suite.name == f"{layer}.{table}"
        assert len(suite.expectations) == len(spec.tables[table].expectations)


def test_raw_schemas_are_the_contracts_as_landed(settings: Settings) -> None:
    spec = load_suite_spec("raw", settings.expectations_dir)
    for source in SOURCES:
        (schema,) = [
            entry
            for entry in spec.tables[source].expectations
            if entry["type"] == "expect_table_columns_to_match_set"
        ]
        landed = [field.output_column for field in load_contract(source).fields]
        assert set(schema["column_set"]) == {*landed, "_batch_id", "_loaded_at"}, source


def test_every_pseudonym_column_is_checked_and_never_echoed(settings: Settings) -> None:
    """The privacy check: no identifier reaches the raw zone or staging in clear, and a
    failing value of an identifier column is redacted from every report."""
    for layer in ("raw", "staging"):
        spec = load_suite_spec(layer, settings.expectations_dir)
        checked = {
            (table, entry["column"])
            for table, table_spec in spec.tables.items()
            for entry in table_spec.expectations
            if entry.get("regex") == "^[0-9a-f]{64}$"
        }
        for source in SOURCES:
            table = source if layer == "raw" else _staging_view(source)
            for field in load_contract(source).fields:
                if field.is_pseudonymised:
                    assert (table, field.output_column) in checked, (layer, table, field.name)
                    sensitive = spec.tables[table].sensitive_columns
                    assert field.output_column in sensitive, (layer, table, field.name)


def test_freshness_parameters_are_naive_utc_offsets_of_the_run(settings: Settings) -> None:
    spec = load_suite_spec("raw", settings.expectations_dir)
    run_time = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    values = spec.parameter_values(run_time)
    assert values["loaded_error_before"] == datetime(2026, 11, 20, 6, 0)
    assert values["loaded_latest"] - values["loaded_warn_before"] == timedelta(hours=27)
    assert all(value.tzinfo is None for value in values.values())


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            "{type: expect_column_values_to_not_be_nul, column: x}",
            "expect_column_values_to_not_be_nul",
        ),
        ("{type: expect_column_values_to_be_between, colum: x, min_value: 0}", "colum"),
        (
            "{type: expect_column_values_to_not_be_null, column: x, severity: fatal}",
            "severity 'fatal'",
        ),
        (
            "{type: expect_column_max_to_be_between, column: x, min_value: {$PARAMETER: nope}}",
            "'nope'",
        ),
        ("{column: x}", "needs a 'type'"),
    ],
)
def test_a_wrong_expectation_names_file_table_and_position(
    entry: str, problem: str, tmp_path: Path
) -> None:
    path = tmp_path / "expectations" / "marts.yml"
    path.parent.mkdir()
    path.write_text(f"""
layer: marts
tables:
  list_entries:
    expectations:
      - {{type: expect_column_to_exist, column: list_entry_id}}
      - {entry}
""")
    with pytest.raises(SuiteSpecError) as failed:
        read_suite_spec(path)
    message = str(failed.value)
    assert "expectations/marts.yml: table 'list_entries', expectation #2" in message
    assert problem in message


def test_an_unknown_table_or_layer_is_refused(tmp_path: Path, world: Settings) -> None:
    (tmp_path / "marts.yml").write_text(
        "layer: marts\ntables:\n  list_entrie:\n    expectations:\n"
        "      - {type: expect_column_to_exist, column: list_entry_id}\n"
    )
    with pytest.raises(SuiteSpecError, match=r"unknown marts table\(s\) \['list_entrie'\]"):
        run_gate("marts", world, expectations_dir=tmp_path)
    with pytest.raises(SuiteSpecError, match="unknown quality layer 'features'"):
        run_gate("features", world)
    (tmp_path / "mart.yml").write_text("layer: mart\ntables: {}\n")
    with pytest.raises(SuiteSpecError, match="layer: Input should be"):
        read_suite_spec(tmp_path / "mart.yml")


def _staging_view(source: str) -> str:
    return next(view for view, of in staging_views(Settings()).items() if of == source)


_A_PAIR = (
    "    expectations:\n"
    "      - {type: expect_column_pair_values_to_be_equal, column_A: a_rows, column_B: b_rows}\n"
)


def _reconciliation_suite(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "reconciliation.yml"
    path.write_text(f"layer: reconciliation\ntables:\n{table}")
    return path


def test_a_declared_reconciliation_expects_its_pairs_equal(settings: Settings) -> None:
    spec = load_suite_spec("reconciliation", settings.expectations_dir)
    loans = spec.tables["loans_raw_to_staging"]
    assert loans.id_columns == ("ingest_date",)
    assert [(entry["column_A"], entry["column_B"]) for entry in loans.expectations] == [
        ("raw_rows", "staging_rows"),
        ("raw_principal_minor", "staging_principal_minor"),
        ("raw_instalment_amount_minor", "staging_instalment_amount_minor"),
    ]
    partner = spec.tables["partner_portfolio_staging_to_marts"]
    assert {(entry["column_A"], entry["column_B"]) for entry in partner.expectations} == {
        ("staging_rows", "mart_rows"),
        ("staging_credit_amount", "mart_credit_amount"),
    }


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            "  loose:\n    expectations: [{type: expect_column_to_exist, column: x}]\n",
            "tables.loose: a reconciliation table declares what it compares",
        ),
        (
            "  both:\n    reconcile:\n      sql: a.sql\n"
            "      raw_to_staging: {staging: stg_lists__entries, key: list_entry_id}\n",
            "give exactly one of raw_to_staging, staging_to_mart, sql (got raw_to_staging, sql)",
        ),
        (
            "  sneaky:\n    reconcile:\n      raw_to_staging: "
            "{staging: stg_lists__entries, key: 'list_entry_id; drop table x'}\n",
            "is not a table or column name",
        ),
    ],
)
def test_a_malformed_reconciliation_is_refused(table: str, problem: str, tmp_path: Path) -> None:
    path = _reconciliation_suite(tmp_path, table)
    with pytest.raises(SuiteSpecError) as failed:
        read_suite_spec(path)
    assert str(path) in str(failed.value)
    assert problem in str(failed.value)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            "  lists:\n    reconcile:\n"
            "      raw_to_staging: {staging: stg_lists, key: list_entry_id}\n",
            "lists: 'stg_lists' is not a staging view that reads a raw source (those are: ",
        ),
        (
            "  lists:\n    reconcile:\n      staging_to_mart: "
            "{staging: stg_lists__entries, mart: list_entry, key: list_entry_id}\n",
            "lists: unknown mart 'list_entry' (the marts are: ",
        ),
        (
            "  custom:\n    reconcile: {sql: reconciliation/nowhere.sql}\n" + _A_PAIR,
            "custom: sql file ",
        ),
        (
            "  custom:\n    reconcile: {sql: custom.sql}\n" + _A_PAIR,
            "custom: unknown mart 'no_such_mart'",
        ),
    ],
)
def test_a_reconciliation_of_what_the_project_lacks_is_refused(
    table: str, problem: str, tmp_path: Path, settings: Settings
) -> None:
    (tmp_path / "custom.sql").write_text("select * from {{ mart('no_such_mart') }}\n")
    path = _reconciliation_suite(tmp_path, table)
    spec = read_suite_spec(path)
    with pytest.raises(SuiteSpecError) as failed:
        check_tables(spec, str(path), settings, tmp_path)
    assert str(failed.value).startswith(f"{path}: ")
    assert problem in str(failed.value)


def test_declarations_belong_to_the_reconciliation_layer(tmp_path: Path) -> None:
    path = tmp_path / "staging.yml"
    path.write_text(
        "layer: staging\ntables:\n  stg_lists__entries:\n"
        "    reconcile: {sql: a.sql}\n"
        "    expectations: [{type: expect_column_to_exist, column: list_entry_id}]\n"
    )
    with pytest.raises(SuiteSpecError, match="reconcile belongs in the reconciliation layer"):
        read_suite_spec(path)
