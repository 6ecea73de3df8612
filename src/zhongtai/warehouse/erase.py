"""Erasure in the warehouse: the DuckDB file's tables and the marts' Parquet files.

Rows are deleted from every table where a text column holds one of the subject's keys.
DuckDB does not zero the blocks it frees, so a warehouse that lost rows is then copied
into a fresh file (``COPY FROM DATABASE``) that replaces the old one in one step: the
deleted rows are in no block of the file that stays. The views (staging over the raw
zone) are copied too; they read the raw batches, already rewritten by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from zhongtai.duck import release_duckdb, sql_identifier, sql_literal
from zhongtai.privacy.erasure import rewrite_parquet_without
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path, marts


def erase_warehouse(settings: Settings, keys: Iterable[str]) -> int:
    """Delete the rows holding one of ``keys`` from every warehouse table; returns how many."""
    import duckdb

    path = settings.warehouse_path
    if not path.is_file():
        return 0
    release_duckdb()
    wanted = sorted(set(keys))
    deleted = 0
    connection = duckdb.connect(str(path))
    try:
        connection.execute("create temporary table erased_keys (value varchar)")
        connection.executemany("insert into erased_keys values (?)", [(k,) for k in wanted])
        columns = connection.execute(
            "select c.table_schema, c.table_name, c.column_name "
            "from information_schema.columns c join information_schema.tables t "
            "using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR' "
            "and t.table_catalog = current_database() "
            "order by 1, 2, 3"
        ).fetchall()
        tables: dict[str, list[str]] = {}
        for schema, table, column in columns:
            name = f"{sql_identifier(schema)}.{sql_identifier(table)}"
            tables.setdefault(name, []).append(sql_identifier(column))
        connection.execute("begin transaction")
        for name, text_columns in tables.items():
            held = " or ".join(f"{c} in (select value from erased_keys)" for c in text_columns)
            [(count,)] = connection.execute(f"delete from {name} where {held}").fetchall()
            deleted += int(count)
        connection.execute("commit")
        connection.execute("checkpoint")
    finally:
        connection.close()
    if deleted:
        _compact(path)
    return deleted


def _compact(path: Path) -> None:
    """Copy the database into a fresh file and put it in place of ``path``."""
    import duckdb

    fresh = path.with_name(f".{path.name}.compacting")
    fresh.unlink(missing_ok=True)
    connection = duckdb.connect()
    try:
        connection.execute(f"attach {sql_literal(str(path))} as old (read_only)")
        connection.execute(f"attach {sql_literal(str(fresh))} as fresh")
        connection.execute("copy from database old to fresh")
        connection.execute("detach fresh")
        connection.execute("detach old")
    finally:
        connection.close()
    fresh.chmod(path.stat().st_mode & 0o777)
    fresh.replace(path)
    path.with_name(f"{path.name}.wal").unlink(missing_ok=True)


def erase_marts(settings: Settings, keys: Iterable[str]) -> int:
    """Rewrite every mart's Parquet file without the rows holding one of ``keys``."""
    keys = set(keys)
    return sum(
        rewrite_parquet_without(path, keys)
        for path in (mart_path(settings, mart) for mart in marts(settings))
        if path.is_file()
    )
