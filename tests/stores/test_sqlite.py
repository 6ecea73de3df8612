"""The one opening of a private SQLite file, shared by the API's stores and the vault."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from zhongtai.stores.sqlite import PrivateSqlite, open_private

SCHEMA = """
begin immediate;
create table if not exists things (name text primary key);
pragma user_version = 1;
commit;
"""


def test_the_file_is_private_in_wal_mode_with_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "private" / "things.db"
    connection = open_private(path, SCHEMA, 1, what="thing store", pragmas=("secure_delete = ON",))
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert connection.execute("pragma journal_mode").fetchone() == ("wal",)
        assert connection.execute("pragma secure_delete").fetchone() == (1,)
        assert connection.execute("pragma user_version").fetchone() == (1,)
        connection.execute("insert into things values ('kept')")
    finally:
        connection.close()

    reopened = open_private(path, SCHEMA, 1, what="thing store")  # the schema is not reapplied
    try:
        assert reopened.execute("select name from things").fetchall() == [("kept",)]
    finally:
        reopened.close()


class Refused(Exception):
    pass


def test_a_newer_file_is_refused_naming_what_and_where(tmp_path: Path) -> None:
    path = tmp_path / "things.db"
    open_private(path, SCHEMA, 1, what="thing store").close()
    with sqlite3.connect(path) as connection:
        connection.execute("pragma user_version = 2")
    connection.close()

    with pytest.raises(RuntimeError, match=f"thing store {path} has schema version 2; .* 1"):
        open_private(path, SCHEMA, 1, what="thing store")
    with pytest.raises(Refused, match="upgrade zhongtai"):
        open_private(path, SCHEMA, 1, what="thing store", refused=Refused)


def test_the_shared_connection_leaves_checkpoints_to_its_own_thread(tmp_path: Path) -> None:
    path = tmp_path / "things.db"
    database = PrivateSqlite(path, SCHEMA, 1, what="thing store")
    try:
        with database.lock:
            assert database.connection.execute("pragma wal_autocheckpoint").fetchone() == (0,)
        with database.transaction() as connection:
            connection.execute("insert into things values ('one')")
    finally:
        database.close()
    database.close()  # twice is harmless
    wal = path.with_name("things.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # closing emptied the WAL
