"""The suites of expectations: one YAML file per layer under ``expectations/``.

A suite file names, for each table the layer holds, the expectations a data engineer
wants met (Great Expectations' own names and arguments, plus an optional ``severity``),
the key columns that identify a failing row, and the run-time parameters (freshness
windows) the gate computes when it runs::

    layer: raw
    parameters:
      loaded_after: {hours_before_run: 74}
    tables:
      applications:
        id_columns: [_batch_id, application_id]
        expectations:
          - {type: expect_column_values_to_not_be_null, column: application_id}
          - {type: expect_column_max_to_be_between, column: _loaded_at,
             min_value: {$PARAMETER: loaded_after}, severity: warning}

A wrong spec is refused before any data is read, naming the file, the table, the
expectation and what is wrong with it.

Each table of the ``reconciliation`` layer declares what it compares (``reconcile``): a
raw source against its staging view (``raw_to_staging``), a staging view against the mart
that publishes it (``staging_to_mart``), or a SQL file for anything else (``sql``). The
pair expectations of a raw_to_staging or staging_to_mart table (rows and every amount
equal) follow from the declaration and need not be written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from zhongtai.yaml_models import read_yaml_model

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

Layer = Literal["raw", "staging", "marts", "reconciliation"]
LAYERS: tuple[Layer, ...] = ("raw", "staging", "marts", "reconciliation")
SEVERITIES = ("critical", "warning", "info")  # critical fails the gate

# Keys of an expectation entry that configure the expectation itself, not its arguments.
_ENTRY_KEYS = ("type", "severity", "meta", "notes", "description")
# Arguments that name the columns an expectation reads.
_COLUMN_ARGUMENTS = ("column", "column_A", "column_B")
_COLUMN_LIST_ARGUMENTS = ("column_list",)
_PARAMETER = "$PARAMETER"


class SuiteSpecError(ValueError):
    """A suite file is malformed; the message names the file, table and expectation."""


class RunTimeParameter(BaseModel):
    """A timestamp relative to the run, e.g. the oldest acceptable ``loaded_at``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours_before_run: float | None = Field(default=None, ge=0)
    hours_after_run: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> RunTimeParameter:
        if (self.hours_before_run is None) == (self.hours_after_run is None):
            raise ValueError("give exactly one of hours_before_run, hours_after_run")
        return self

    def value(self, run_time: datetime) -> datetime:
        """Naive UTC, as the warehouse keeps timestamps (GX refuses to compare naive with aware)."""
        hours = (
            -self.hours_before_run if self.hours_before_run is not None else self.hours_after_run
        )
        assert hours is not None
        return naive_utc(run_time) + timedelta(hours=hours)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    """Table and column names go into SQL as they are: only plain identifiers."""
    for value in values:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a table or column name (letters, digits, _)")
    return values


class _Compared(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _plain_names(self) -> _Compared:
        for value in self.model_dump().values():
            _names(tuple(value) if isinstance(value, tuple | list) else (value,))
        return self


class RawToStaging(_Compared):
    """A raw source against its staging view, per ingest date: rows (each key counted once,
    on the day of its latest delivery) and the sum of each amount. The source is the one
    the staging model reads."""

    staging: str
    key: str
    amounts: tuple[str, ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        return [("raw_rows", "staging_rows")] + [
            (f"raw_{amount}", f"staging_{amount}") for amount in self.amounts
        ]


class StagingToMart(_Compared):
    """A staging view against the mart that publishes it one row per key, per ingest date:
    rows and the sum of each amount (a mart row whose key staging lacks counts on
    ``(not in staging)``)."""

    staging: str
    mart: str
    key: str
    amounts: tuple[str, ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        return [("staging_rows", "mart_rows")] + [
            (f"staging_{amount}", f"mart_{amount}") for amount in self.amounts
        ]


class Reconcile(BaseModel):
    """What a reconciliation table compares: exactly one of the three."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raw_to_staging: RawToStaging | None = None
    staging_to_mart: StagingToMart | None = None
    # A SQL file, relative to the expectations folder, giving one row per ingest date;
    # {{ mart('<name>') }} in it reads a mart's Parquet file.
    sql: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Reconcile:
        given = [
            name
            for name in ("raw_to_staging", "staging_to_mart", "sql")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of raw_to_staging, staging_to_mart, sql"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    def pairs(self) -> list[tuple[str, str]]:
        declared = self.raw_to_staging or self.staging_to_mart
        return declared.pairs() if declared else []


class TableSpec(BaseModel):
    """The expectations of one table of a layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    id_columns: tuple[str, ...] = ()
    # Identifiers and pseudonyms: their values never appear in results, logs or Data Docs.
    sensitive_columns: tuple[str, ...] = ()
    # Only in the reconciliation layer: what the table's frame compares.
    reconcile: Reconcile | None = None
    expectations: tuple[dict[str, Any], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _declared_pairs_expected(cls, data: Any) -> Any:
        """A raw_to_staging / staging_to_mart table expects each of its pairs equal: those
        expectations come first, then the ones written (a repeated pair is kept once)."""
        if not isinstance(data, dict) or not isinstance(data.get("reconcile"), dict):
            return data
        try:
            pairs = Reconcile.model_validate(data["reconcile"]).pairs()
        except ValueError:
            return data  # reported with the table's own validation
        derived = [
            {"type": "expect_column_pair_values_to_be_equal", "column_A": a, "column_B": b}
            for a, b in pairs
        ]
        written = [entry for entry in data.get("expectations") or () if entry not in derived]
        return {
            **data,
            "id_columns": data.get("id_columns", ["ingest_date"]),
            "expectations": [*derived, *written],
        }

    @model_validator(mode="after")
    def _something_expected(self) -> TableSpec:
        if not self.expectations:
            raise ValueError(
                "expectations: list at least one (only a raw_to_staging or staging_to_mart "
                "reconciliation has its own)"
            )
        return self

    def columns_used(self) -> list[str]:
        """Every column an expectation or the failure report reads, in first-use order."""
        seen: dict[str, None] = dict.fromkeys(self.id_columns)
        for entry in self.expectations:
            for argument in _COLUMN_ARGUMENTS:
                if isinstance(entry.get(argument), str):
                    seen[entry[argument]] = None
            for argument in _COLUMN_LIST_ARGUMENTS:
                seen.update(dict.fromkeys(entry.get(argument) or ()))
            for column in _condition_columns(entry.get("row_condition")):
                seen[column] = None
        return list(seen)


class SuiteSpec(BaseModel):
    """One layer's suite file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer: Layer
    description: str = ""
    parameters: dict[str, RunTimeParameter] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _reconcile_only_in_reconciliation(self) -> SuiteSpec:
        for name, table in self.tables.items():
            if self.layer == "reconciliation" and table.reconcile is None:
                raise ValueError(
                    f"tables.{name}: a reconciliation table declares what it compares: "
                    "reconcile: {raw_to_staging: {staging, key, amounts}} or "
                    "{staging_to_mart: {staging, mart, key, amounts}} or {sql: <file>}"
                )
            if self.layer != "reconciliation" and table.reconcile is not None:
                raise ValueError(
                    f"tables.{name}: reconcile belongs in the reconciliation layer, "
                    f"not {self.layer}"
                )
        return self

    def suite_name(self, table: str) -> str:
        return f"{self.layer}.{table}"

    def parameter_values(self, run_time: datetime) -> dict[str, datetime]:
        return {name: spec.value(run_time) for name, spec in self.parameters.items()}


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as a naive UTC datetime (a naive input is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def suite_path(layer: str, expectations_dir: Path) -> Path:
    return expectations_dir / f"{layer}.yml"


def load_suite_spec(layer: str, expectations_dir: Path) -> SuiteSpec:
    """Read and check the suite of ``layer``; raise SuiteSpecError naming what is wrong."""
    if layer not in LAYERS:
        raise SuiteSpecError(
            f"unknown quality layer {layer!r}; the layers are: {', '.join(LAYERS)}"
        )
    path = suite_path(layer, expectations_dir)
    if not path.is_file():
        raise SuiteSpecError(f"{path}: no suite file for layer {layer!r}")
    spec = read_suite_spec(path)
    if spec.layer != layer:
        raise SuiteSpecError(f"{path}: declares layer {spec.layer!r}, expected {layer!r}")
    return spec


def read_suite_spec(path: Path) -> SuiteSpec:
    """Read a suite file and build every expectation once, so that a typo fails here."""
    spec = read_yaml_model(path, SuiteSpec, SuiteSpecError)
    for table in spec.tables:
        build_suite(spec, table, source=str(path))
    return spec


def build_suite(spec: SuiteSpec, table: str, *, source: str = "<suite>") -> ExpectationSuite:
    """The Great Expectations suite ``<layer>.<table>`` of a checked spec."""
    import great_expectations as gx

    table_spec = spec.tables[table]
    expectations = []
    for index, entry in enumerate(table_spec.expectations, start=1):
        where = f"{source}: table {table!r}, expectation #{index} ({entry.get('type', '?')})"
        for name in _parameter_references(entry):
            if name not in spec.parameters:
                known = ", ".join(spec.parameters) or "none"
                raise SuiteSpecError(
                    f"{where}: uses $PARAMETER {name!r}, which the file's 'parameters' does not "
                    f"define (defined: {known})"
                )
        if isinstance(entry.get("row_condition"), str):
            raise SuiteSpecError(
                f"{where}: write row_condition as an object, e.g. {{type: comparison, "
                "column: {name: channel}, operator: '==', parameter: partner_api}"
            )
        expectations.append(_expectation(entry, where))
    # Built detached from any context: the gate saves it into its own context.
    return gx.ExpectationSuite(
        name=spec.suite_name(table),
        expectations=expectations,
        notes=table_spec.description or None,
    )


def _expectation(entry: Mapping[str, Any], where: str) -> Any:
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    if not isinstance(entry.get("type"), str):
        raise SuiteSpecError(
            f"{where}: every expectation needs a 'type', e.g. expect_column_to_exist"
        )
    severity = entry.get("severity", "critical")
    if severity not in SEVERITIES:
        raise SuiteSpecError(f"{where}: severity {severity!r} is not critical, warning or info")
    kwargs = {key: value for key, value in entry.items() if key not in _ENTRY_KEYS}
    try:
        configuration = ExpectationConfiguration(
            type=entry["type"],
            kwargs=kwargs,
            meta=entry.get("meta"),
            notes=entry.get("notes"),
            description=entry.get("description"),
            severity=severity,
        )
        return configuration.to_domain_obj()
    except Exception as error:  # GX raises pydantic, registry and its own errors alike
        message = " ".join(str(error).split())
        raise SuiteSpecError(f"{where}: {type(error).__name__}: {message[:600]}") from error


def _parameter_references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {_PARAMETER}:
            yield str(value[_PARAMETER])
            return
        for item in value.values():
            yield from _parameter_references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _parameter_references(item)


def _condition_columns(condition: Any) -> Iterator[str]:
    """Columns a row_condition in GX's object form reads ({type: comparison, column: {name}})."""
    if not isinstance(condition, dict):
        return
    column = condition.get("column")
    if isinstance(column, dict) and isinstance(column.get("name"), str):
        yield column["name"]
    for inner in condition.get("conditions") or ():
        yield from _condition_columns(inner)
