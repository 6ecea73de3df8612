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

from zhongtai.duck import connect, read_parquet_sql, sql_identifier, sql_literal
from zhongtai.landing.contracts import declared_sources
from zhongtai.landing.rawzone import DATA_NAME
from zhongtai.quality.frames import read_relation
from zhongtai.quality.reconcile import RAW_TO_STAGING, RECONCILIATIONS, reconciliation_frame
from zhongtai.quality.suites import SuiteSpec, SuiteSpecError
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import MARTS, mart_path

if TYPE_CHECKING:
    import pandas as pd

# The staging views dbt builds in the warehouse, one per source.
STAGING_VIEWS: dict[str, str] = {
    "stg_lender__applications": "applications",
    "stg_lender__loans": "loans",
    "stg_lender__repayments": "repayments",
    "stg_bureau__inquiries": "bureau_inquiries",
    "stg_device_sdk__events": "device_events",
    "stg_lists__entries": "lists",
    "stg_partner__portfolio_records": "partner_portfolio",
}


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
    """The tables a layer's suite may name."""
    return {
        "raw": declared_sources(settings),
        "staging": tuple(STAGING_VIEWS),
        "marts": MARTS,
        "reconciliation": RECONCILIATIONS,
    }[layer]


def check_tables(spec: SuiteSpec, source: str, settings: Settings) -> None:
    known = known_tables(spec.layer, settings)
    unknown = [table for table in spec.tables if table not in known]
    if unknown:
        raise SuiteSpecError(
            f"{source}: unknown {spec.layer} table(s) {unknown}; the {spec.layer} tables are: "
            + ", ".join(known)
        )


def layer_batches(
    spec: SuiteSpec, settings: Settings, ingest_dates: Sequence[date]
) -> list[Batch | Skipped]:
    """The batches of a gate, in suite order; ``ingest_dates`` bound raw and staging."""
    if spec.layer == "raw":
        return [_raw_batch(spec, table, settings, ingest_dates) for table in spec.tables]
    if spec.layer == "staging":
        return [_staging_batch(spec, table, settings, ingest_dates) for table in spec.tables]
    if spec.layer == "marts":
        return [_mart_batch(spec, table, settings) for table in spec.tables]
    return [_reconciliation_batch(table, settings) for table in spec.tables]


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


def _reconciliation_batch(table: str, settings: Settings) -> Batch | Skipped:
    if table in RAW_TO_STAGING:
        source = RAW_TO_STAGING[table].source
        if not any((settings.raw_dir / source).glob(f"ingest_date=*/batch_id=*/{DATA_NAME}")):
            return Skipped(table, f"no raw batch of {source} yet")
    return Batch(
        table,
        f"{table}: per ingest date, from {settings.warehouse_path.name}",
        lambda: reconciliation_frame(table, settings),
    )
