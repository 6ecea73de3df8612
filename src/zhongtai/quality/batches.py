"""What each gate reads: one batch of rows per table, loaded only when its turn comes.

Memory stays bounded by reading as little as the suite needs:

- only the columns some expectation (or the failure report) reads; the other columns of
  the table are carried as empty Arrow ``null`` columns (no memory), so schema
  expectations still see the table's real column set;
- for ``raw`` and ``staging``, only the partitions the warehouse has not taken in yet
  (``published.pending_ingest_dates``); ``marts`` are read whole;
- one table at a time: a batch is loaded, validated and dropped before the next.

Text columns stay Arrow-backed (a third of the memory of Python strings); time zone aware
timestamps become naive UTC, as the warehouse keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.landing.contracts import SOURCES
from zhongtai.landing.rawzone import DATA_NAME
from zhongtai.quality.suites import SuiteSpec, SuiteSpecError
from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import release_duckdb
from zhongtai.warehouse.marts import MARTS, mart_path

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

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

# DuckDB of the gates: bounded, and spilling next to the quality results, not the warehouse.
DUCKDB_MEMORY_LIMIT = "2GB"
DUCKDB_THREADS = 2


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


def known_tables(layer: str) -> Sequence[str]:
    """The tables a layer's suite may name."""
    from zhongtai.quality.reconcile import RECONCILIATIONS

    return {
        "raw": SOURCES,
        "staging": tuple(STAGING_VIEWS),
        "marts": MARTS,
        "reconciliation": tuple(RECONCILIATIONS),
    }[layer]


def check_tables(spec: SuiteSpec, source: str) -> None:
    known = known_tables(spec.layer)
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
    from zhongtai.quality.reconcile import reconciliation_batch

    return [reconciliation_batch(table, settings) for table in spec.tables]


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
    relation = (
        "read_parquet(["
        + ", ".join(_literal(str(path.resolve())) for path in files)
        + "], union_by_name = true, hive_partitioning = false)"
    )
    columns = spec.tables[table].columns_used()
    days = sorted({path.parent.parent.name.removeprefix("ingest_date=") for path in files})
    description = f"raw/{table}: {len(files)} batch(es), ingest dates {', '.join(days)}"

    def load() -> pd.DataFrame:
        with duckdb_connection(settings) as connection:
            return read_relation(connection, relation, columns)

    return Batch(table, description, load)


# --- staging: the views, restricted to pending partitions ------------------------------------


def _staging_batch(
    spec: SuiteSpec, table: str, settings: Settings, ingest_dates: Sequence[date]
) -> Batch | Skipped:
    if not ingest_dates:
        return Skipped(table, "no pending ingest date")
    dates = ", ".join(_literal(day.isoformat()) for day in sorted(ingest_dates))
    columns = spec.tables[table].columns_used()
    description = (
        f"{table}: ingest dates {', '.join(day.isoformat() for day in sorted(ingest_dates))}"
    )

    def load() -> pd.DataFrame:
        with duckdb_connection(settings, warehouse=True) as connection:
            return read_relation(
                connection, _identifier(table), columns, where=f"ingest_date in ({dates})"
            )

    return Batch(table, description, load)


# --- marts: whole Parquet files ---------------------------------------------------------------


def _mart_batch(spec: SuiteSpec, table: str, settings: Settings) -> Batch:
    path = mart_path(settings, table)
    columns = spec.tables[table].columns_used()

    def load() -> pd.DataFrame:
        if not path.is_file():
            raise FileNotFoundError(f"mart {table} has no file at {path}: was it built?")
        with duckdb_connection(settings) as connection:
            return read_relation(connection, f"read_parquet({_literal(str(path))})", columns)

    return Batch(table, f"{table}: {path}", load)


# --- reading ----------------------------------------------------------------------------------


@contextmanager
def duckdb_connection(
    settings: Settings, *, warehouse: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A bounded DuckDB connection: in memory, or the warehouse opened read-only."""
    import duckdb

    temp_directory = settings.quality_dir / "duckdb_tmp"
    temp_directory.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": DUCKDB_MEMORY_LIMIT,
        "threads": DUCKDB_THREADS,
        "temp_directory": str(temp_directory),
    }
    if warehouse and not settings.warehouse_path.is_file():
        raise FileNotFoundError(
            f"no warehouse at {settings.warehouse_path}: build it first (zhongtai warehouse build)"
        )
    if warehouse:
        release_duckdb()
    database = str(settings.warehouse_path) if warehouse else ":memory:"
    connection = duckdb.connect(database, read_only=warehouse, config=config)
    try:
        connection.execute("set TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()


def read_relation(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    columns: Sequence[str],
    *,
    where: str | None = None,
) -> pd.DataFrame:
    """Read ``columns`` of ``relation`` into pandas; the relation's other columns as nulls.

    A column the suite names but the relation lacks is not read (its expectation then
    fails with "column not found", which is the finding a user needs).
    """
    import pyarrow as pa

    schema = connection.execute(f"describe select * from {relation}").fetchall()
    types = {name: str(type_) for name, type_, *_ in schema}
    wanted = [column for column in columns if column in types]
    selected = [_select_expression(column, types[column]) for column in wanted] or ["1 as _one"]
    query = f"select {', '.join(selected)} from {relation}"
    if where:
        query += f" where {where}"
    table = connection.sql(query).to_arrow_table()
    arrays = [table.column(name) if name in wanted else pa.nulls(table.num_rows) for name in types]
    return arrow_to_pandas(pa.table(arrays, names=list(types)))


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Text as pandas' Arrow-backed ``str`` dtype, nulls as Arrow nulls, nullable booleans.

    Validate such frames under ``text_stays_arrow()``: GX's regex and string checks
    call ``astype(str)``, which is then a no-op instead of a copy into Python objects.
    Integers with nulls become float64, exact for every amount below 2**53 fen.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    text = pd.StringDtype("pyarrow", na_value=np.nan)
    mapping = {
        pa.null(): pd.ArrowDtype(pa.null()),
        pa.string(): text,
        pa.large_string(): text,
        pa.bool_(): pd.BooleanDtype(),
    }
    return table.to_pandas(types_mapper=mapping.get, split_blocks=True, self_destruct=True)


@contextmanager
def text_stays_arrow() -> Iterator[None]:
    """Within: ``astype(str)`` keeps Arrow-backed text (pandas' future string inference)."""
    import pandas as pd

    with pd.option_context("future.infer_string", True):
        yield


def _select_expression(column: str, type_: str) -> str:
    quoted = _identifier(column)
    if type_.upper().startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {quoted}) as {quoted}"
    return quoted


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
