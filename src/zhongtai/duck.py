"""DuckDB as every floor uses it: one bounded connection, SQL quoting, Parquet in and out.

Gates, reconciliations, risk indices and the graph read Parquet files and the warehouse
through DuckDB; they build their SQL with the quoting here (a path or name with a quote
in it stays one value) and write their results with ``write_query_parquet``, which
replaces the file in one step.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.atomic import replacing
from zhongtai.settings import Settings

if TYPE_CHECKING:
    import duckdb

# Bounded by default, so a gate or an index never takes the machine: DuckDB spills to disk.
MEMORY_LIMIT = "2GB"
THREADS = 2

ConfigValue = str | bool | int | float | list[str]


def spill_dir(settings: Settings) -> Path:
    """Where a bounded connection spills what does not fit its memory limit."""
    return settings.data_dir / "duckdb_tmp"


@contextmanager
def connect(
    settings: Settings,
    *,
    warehouse: bool = False,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = THREADS,
    temp_directory: Path | None = None,
    **config: ConfigValue,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A bounded DuckDB connection in UTC: in memory, or the warehouse opened read-only.

    ``threads=None`` leaves DuckDB one thread per core; ``config`` adds DuckDB settings
    (e.g. ``preserve_insertion_order=False``).
    """
    import duckdb

    if warehouse and not settings.warehouse_path.is_file():
        raise FileNotFoundError(
            f"no warehouse at {settings.warehouse_path}: build it first (zhongtai warehouse build)"
        )
    spill = temp_directory or spill_dir(settings)
    spill.mkdir(parents=True, exist_ok=True)
    options: dict[str, ConfigValue] = {
        "memory_limit": memory_limit,
        "temp_directory": str(spill),
        **config,
    }
    if threads is not None:
        options["threads"] = threads
    if warehouse:
        release_duckdb()
    database = str(settings.warehouse_path) if warehouse else ":memory:"
    connection = duckdb.connect(database, read_only=warehouse, config=options)
    try:
        connection.execute("set TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()


def release_duckdb() -> None:
    """Close the warehouse if dbt-duckdb still holds it open in this process.

    dbt-duckdb caches its database for the life of the process: after an in-process dbt
    run (ours, or Cosmos's; `airflow dags test` runs every task in one process) nothing
    else could open the file, not even read-only.
    """
    import gc

    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        connections.DuckDBConnectionManager.close_all_connections()
        gc.collect()


def sql_literal(value: str | Path) -> str:
    """``value`` as a single-quoted SQL string."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (a column or relation)."""
    return '"' + name.replace('"', '""') + '"'


def read_parquet_sql(paths: str | Path | Sequence[str | Path], **options: str) -> str:
    """``read_parquet(...)`` over one file or glob, or a list of them; ``options`` are
    DuckDB's, written as SQL (``union_by_name="true"``)."""
    if isinstance(paths, str | Path):
        files = sql_literal(paths)
    else:
        files = "[" + ", ".join(sql_literal(path) for path in paths) + "]"
    settings = "".join(f", {name} = {value}" for name, value in options.items())
    return f"read_parquet({files}{settings})"


def write_query_parquet(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """Write a query's rows to ``path`` as Parquet (zstd), atomically; return the row count."""
    with replacing(path) as partial:
        connection.execute(
            f"copy ({query}) to {sql_literal(partial)} (format parquet, compression zstd)"
        )
        rows = connection.execute(f"select count(*) from {read_parquet_sql(partial)}").fetchone()
    return int(rows[0]) if rows else 0
