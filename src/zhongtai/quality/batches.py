"""What each gate reads: one batch of rows per table, loaded only when its turn comes.

Memory stays bounded by reading as little as the suite needs:

- only the columns some expectation (or the failure report) reads (``frames``);
- for ``raw`` and ``staging``, only the partitions the warehouse has not taken in yet
  (``published.pending_ingest_dates``); ``marts`` are read whole;
- one table at a time: a batch is loaded, validated and dropped before the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.contracts import DATA_NAME, declared_sources
from zhongtai.duck import connect, read_parquet_sql, sql_identifier, sql_literal
from zhongtai.quality.frames import read_relation
from zhongtai.quality.reconcile import (
    mart_references,
    reconciliation_frame,
    sql_file,
    staging_source,
)
from zhongtai.quality.suites import SuiteSpec, SuiteSpecError
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path, marts
from zhongtai.warehouse.staging import staging_views

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Batch:
    """One table's rows for a gate: what will be read, and how to read it."""

    table: str
    description: str  # for logs and the summary: which relation, which partitions
    load: Callable[[], pd.DataFrame]


@dataclass(frozen=True)
class Skipped:
    """A table the gate has nothing to check this time (no pending partition)."""

    table: str
    reason: str


def known_tables(layer: str, settings: Settings) -> Sequence[str]:
    """The tables of a layer, from the project's files: the sources (one per contract),
    the staging views and the marts (dbt's models). A reconciliation may have any name:
    it declares what it compares."""
    if layer == "raw":
        return declared_sources(settings)
    if layer == "staging":
        return tuple(staging_views(settings))
    if layer == "marts":
        return marts(settings)
    return ()


def check_tables(spec: SuiteSpec, source: str, settings: Settings, expectations_dir: Path) -> None:
    """Refuse a suite that names a table the project does not have, or a reconciliation
    whose staging view, mart or SQL file does not exist, before any data is read."""
    if spec.layer == "reconciliation":
        _check_reconciliations(spec, source, settings, expectations_dir)
        return
    known = known_tables(spec.layer, settings)
    unknown = [table for table in spec.tables if table not in known]
    if unknown:
        raise SuiteSpecError(
            f"{source}: unknown {spec.layer} table(s) {unknown}; the {spec.layer} tables are: "
            + ", ".join(known)
        )


def _check_reconciliations(
    spec: SuiteSpec, source: str, settings: Settings, expectations_dir: Path
) -> None:
    views, known_marts = staging_views(settings), marts(settings)
    problems = []
    for table, table_spec in spec.tables.items():
        declared = table_spec.reconcile
        assert declared is not None  # the suite's own validation requires it
        named_views: list[str] = []
        named_marts: list[str] = []
        if declared.raw_to_staging is not None:
            named_views.append(declared.raw_to_staging.staging)
        if declared.staging_to_mart is not None:
            named_views.append(declared.staging_to_mart.staging)
            named_marts.append(declared.staging_to_mart.mart)
        if declared.sql is not None:
            path = sql_file(expectations_dir, declared.sql)
            if not path.is_file():
                problems.append(f"{table}: sql file {path} does not exist")
                continue
            named_marts += mart_references(path.read_text())
        problems += [
            f"{table}: {view!r} is not a staging view that reads a raw source "
            f"(those are: {', '.join(views) or 'none'})"
            for view in named_views
            if view not in views
        ]
        problems += [
            f"{table}: unknown mart {mart!r} (the marts are: {', '.join(known_marts) or 'none'})"
            for mart in named_marts
            if mart not in known_marts
        ]
    if problems:
        raise SuiteSpecError(f"{source}: " + "; ".join(problems))


def uncovered_tables(spec: SuiteSpec, settings: Settings) -> dict[str, str]:
    """Tables the project has that this layer's suite does not check, and why each matters:
    a declared source, staging view or mart with no expectations, a staging view that no
    raw_to_staging reconciliation compares with its source. Each is a critical finding of
    the gate: something nobody validates must not flow on unseen."""
    where = f"expectations/{spec.layer}.yml"
    if spec.layer == "reconciliation":
        reconciled = {
            table.reconcile.raw_to_staging.staging
            for table in spec.tables.values()
            if table.reconcile is not None and table.reconcile.raw_to_staging is not None
        }
        return {
            f"{source}_raw_to_staging": (
                f"staging view {view} (source {source}) is not reconciled with its raw "
                f"source: add a table to {where} with reconcile: {{raw_to_staging: "
                f"{{staging: {view}, key: <its key>, amounts: [...]}}}}"
            )
            for view, source in staging_views(settings).items()
            if view not in reconciled
        }
    kind = {"raw": "source", "staging": "staging view", "marts": "mart"}[spec.layer]
    declared_by = {
        "raw": "its contract",
        "staging": "its dbt staging model",
        "marts": "its dbt mart model",
    }[spec.layer]
    return {
        table: (
            f"{kind} {table} (declared by {declared_by}) has no expectations: add a table "
            f"{table!r} to {where}; until then nobody validates it"
        )
        for table in known_tables(spec.layer, settings)
        if table not in spec.tables
    }


def layer_batches(
    spec: SuiteSpec, settings: Settings, ingest_dates: Sequence[date], expectations_dir: Path
) -> list[Batch | Skipped]:
    """The batches of a gate, in suite order; ``ingest_dates`` bound raw and staging."""
    if spec.layer == "raw":
        return [_raw_batch(spec, table, settings, ingest_dates) for table in spec.tables]
    if spec.layer == "staging":
        return [_staging_batch(spec, table, settings, ingest_dates) for table in spec.tables]
    if spec.layer == "marts":
        return [_mart_batch(spec, table, settings) for table in spec.tables]
    return [_reconciliation_batch(spec, table, settings, expectations_dir) for table in spec.tables]


# --- raw: the pending partitions' Parquet files ----------------------------------------------


def raw_files(settings: Settings, source: str, ingest_dates: Sequence[date]) -> list[Path]:
    files: list[Path] = []
    for day in sorted(ingest_dates):
        folder = settings.raw_dir / source / f"ingest_date={day.isoformat()}"
        files.extend(sorted(folder.glob(f"batch_id=*/{DATA_NAME}")))
    return files


def _raw_batch(
    spec: SuiteSpec, table: str, settings: Settings, ingest_dates: Sequence[date]
) -> Batch | Skipped:
    files = raw_files(settings, table, ingest_dates)
    if not files:
        dates = ", ".join(day.isoformat() for day in ingest_dates) or "none"
        return Skipped(table, f"no raw batch in the pending ingest dates ({dates})")
    relation = read_parquet_sql(
        [path.resolve() for path in files], union_by_name="true", hive_partitioning="false"
    )
    columns = spec.tables[table].columns_used()
    days = sorted({path.parent.parent.name.removeprefix("ingest_date=") for path in files})
    description = f"raw/{table}: {len(files)} batch(es), ingest dates {', '.join(days)}"

    def load() -> pd.DataFrame:
        with connect(settings) as connection:
            return read_relation(connection, relation, columns)

    return Batch(table, description, load)


# --- staging: the views, restricted to pending partitions ------------------------------------


def _staging_batch(
    spec: SuiteSpec, table: str, settings: Settings, ingest_dates: Sequence[date]
) -> Batch | Skipped:
    if not ingest_dates:
        return Skipped(table, "no pending ingest date")
    source = staging_views(settings)[table]
    if not raw_files(settings, source, ingest_dates):
        # its rows of those days come from its raw batches of those days: there are none
        days = ", ".join(day.isoformat() for day in sorted(ingest_dates))
        return Skipped(table, f"no raw batch of {source} in the pending ingest dates ({days})")
    dates = ", ".join(sql_literal(day.isoformat()) for day in sorted(ingest_dates))
    columns = spec.tables[table].columns_used()
    description = (
        f"{table}: ingest dates {', '.join(day.isoformat() for day in sorted(ingest_dates))}"
    )

    def load() -> pd.DataFrame:
        with connect(settings, warehouse=True) as connection:
            return read_relation(
                connection, sql_identifier(table), columns, where=f"ingest_date in ({dates})"
            )

    return Batch(table, description, load)


# --- marts: whole Parquet files ---------------------------------------------------------------


def _mart_batch(spec: SuiteSpec, table: str, settings: Settings) -> Batch:
    path = mart_path(settings, table)
    columns = spec.tables[table].columns_used()

    def load() -> pd.DataFrame:
        if not path.is_file():
            raise FileNotFoundError(f"mart {table} has no file at {path}: was it built?")
        with connect(settings) as connection:
            return read_relation(connection, read_parquet_sql(path), columns)

    return Batch(table, f"{table}: {path}", load)


# --- reconciliation: one frame per check, computed in the warehouse ---------------------------


def _reconciliation_batch(
    spec: SuiteSpec, table: str, settings: Settings, expectations_dir: Path
) -> Batch | Skipped:
    declared = spec.tables[table].reconcile
    compared = declared and (declared.raw_to_staging or declared.staging_to_mart)
    if compared:
        # a source with no delivery yet has an empty staging view and mart: nothing to compare
        source = staging_source(settings, compared.staging)
        if not any((settings.raw_dir / source).glob(f"ingest_date=*/batch_id=*/{DATA_NAME}")):
            return Skipped(table, f"no raw batch of {source} yet")
    return Batch(
        table,
        f"{table}: per ingest date, from {settings.warehouse_path.name}",
        lambda: reconciliation_frame(table, settings, expectations_dir=expectations_dir, spec=spec),
    )
