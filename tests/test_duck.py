"""The ground floor: DuckDB's bounded connection, SQL quoting, and files replaced whole."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zhongtai.atomic import replacing, write_parquet_atomically
from zhongtai.duck import (
    connect,
    read_parquet_sql,
    sql_identifier,
    sql_literal,
    write_query_parquet,
)
from zhongtai.settings import Settings


def test_a_quote_in_a_value_or_a_name_stays_one_value(settings: Settings) -> None:
    with connect(settings) as connection:
        quoted = sql_literal("it's")
        (value,) = connection.execute(f"select {quoted}").fetchone() or ()
        assert value == "it's"
        name = 'a "quoted" column'
        (column,) = connection.execute(f"select 1 as {sql_identifier(name)}").description or ()
        assert column[0] == name


def test_the_connection_is_bounded_and_in_utc(settings: Settings) -> None:
    with connect(settings) as connection:
        settings_of = dict(
            connection.execute(
                "select name, value from duckdb_settings() "
                "where name in ('threads', 'TimeZone', 'memory_limit')"
            ).fetchall()
        )
    assert settings_of["threads"] == "2"
    assert settings_of["TimeZone"] == "UTC"
    assert settings_of["memory_limit"].startswith("1.8")  # 2GB, as DuckDB shows it (GiB)


def test_the_warehouse_is_opened_read_only_and_must_exist(settings: Settings) -> None:
    import duckdb

    missing = pytest.raises(FileNotFoundError, match="build it first")
    with missing, connect(settings, warehouse=True):
        pass

    settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    read_only = pytest.raises(duckdb.InvalidInputException, match="read-only")
    with connect(settings, warehouse=True) as connection, read_only:
        connection.execute("create table t (x int)")


def test_a_query_is_written_to_parquet_and_read_back(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "it's here"
    target = folder / "table.parquet"
    with connect(settings) as connection:
        rows = write_query_parquet(connection, "select range as x from range(5)", target)
        assert rows == 5
        (total,) = connection.execute(f"select sum(x) from {read_parquet_sql(target)}").fetchone()
        both = read_parquet_sql([target, target], union_by_name="true")
        (twice,) = connection.execute(f"select count(*) from {both}").fetchone()
    assert total == 10 and twice == 10
    assert sorted(path.name for path in folder.iterdir()) == ["table.parquet"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "table.parquet"
    write_parquet_atomically(pa.table({"x": [1, 2]}), target)
    with pytest.raises(RuntimeError, match="half way"), replacing(target) as partial:
        partial.write_bytes(b"half a file")
        raise RuntimeError("failed half way")
    assert pq.read_table(target).column("x").to_pylist() == [1, 2]
    assert [path.name for path in tmp_path.iterdir()] == ["table.parquet"]

    write_parquet_atomically(pa.table({"x": [3]}), target)
    assert pq.read_table(target).column("x").to_pylist() == [3]
