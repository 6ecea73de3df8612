"""Erasure's shared pieces: tombstones, the row filters every room uses, and the ledger.

A subject is erased room by room (``zhongtai erase``, cli/erase.py). Every room's eraser
removes the rows that hold one of the subject's *keys*: the pseudonym and the keys of
the subject's own records (application, loan, instalment ids...), found by landing
(:mod:`zhongtai.landing.erase`). The pieces here are those rooms share:

* :func:`tombstone`: what is kept of an erased subject, so that landing an old file
  cannot bring them back. It is a keyed hash of the pseudonym, never the pseudonym, so a
  scan of the platform's files for the pseudonym finds nothing. (Whoever holds the
  pseudonym key and already knows a national ID can still tell that it was erased:
  any record that stops re-landing must allow that.)
* :func:`table_without` / :func:`rewrite_parquet_without`: drop the rows holding a key.
* :func:`erase_from_sqlite`: delete such rows from a plain SQLite file (Feast's online
  store), with ``secure_delete`` and a ``VACUUM`` so no freed page keeps them.
* :func:`redact_lines`: rewrite the lines of a text file (a log) that hold a key.
* :class:`ErasureLedger`: one row per erasure (id, tombstone, reason, times, counts per
  room). While an erasure runs it also keeps the subject's keys, so a run that crashed
  midway can be rerun to completion; they are deleted when it completes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.atomic import replacing
from zhongtai.stores.sqlite import open_private, utc_now

if TYPE_CHECKING:
    import pyarrow as pa

REDACTED = "[erased]"
_TOMBSTONE_LABEL = b"zhongtai.erasure-tombstone"
LEDGER_NAME = "erasures.db"
LEDGER_SCHEMA_VERSION = 1
_LEDGER_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS erasure_runs (
    erasure_id TEXT PRIMARY KEY,
    tombstone TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    started_at TEXT NOT NULL,
    completed_at TEXT,
    pending_keys TEXT,
    counts TEXT NOT NULL DEFAULT '{{}}'
) WITHOUT ROWID;
PRAGMA user_version = {LEDGER_SCHEMA_VERSION};
COMMIT;
"""


def tombstone(subject_id: str, pseudonym_key: bytes) -> str:
    """The erasure record of ``subject_id``: a keyed hash of it, never the pseudonym."""
    key = hmac.new(pseudonym_key, _TOMBSTONE_LABEL, hashlib.sha256).digest()
    return "t:" + hmac.new(key, subject_id.encode(), hashlib.sha256).hexdigest()


def _string_columns(table: pa.Table) -> list[str]:
    import pyarrow as pa

    def is_text(kind: pa.DataType) -> bool:
        if pa.types.is_dictionary(kind):
            return is_text(kind.value_type)
        return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))

    return [field.name for field in table.schema if is_text(field.type)]


def table_without(table: pa.Table, keys: Iterable[str]) -> tuple[pa.Table, int]:
    """``table`` without the rows where any string column equals one of ``keys``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pa.array(sorted(set(keys)), pa.string())
    if len(wanted) == 0 or table.num_rows == 0:
        return table, 0
    hit = pa.array([False] * table.num_rows)
    for name in _string_columns(table):
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        hit = pc.or_(hit, pc.fill_null(pc.is_in(column, value_set=wanted), False))
    removed = pc.sum(hit).as_py() or 0
    if removed == 0:
        return table, 0
    return table.filter(pc.invert(hit)), removed


def rewrite_parquet_without(path: Path, keys: Iterable[str]) -> int:
    """Drop the rows holding one of ``keys`` from the Parquet file ``path``, replacing it
    atomically (same schema and key-value metadata, mode kept); returns the rows dropped."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    kept, removed = table_without(table, keys)
    if removed:
        mode = path.stat().st_mode & 0o777
        with replacing(path) as partial:
            pq.write_table(kept, partial, compression="zstd")
            partial.chmod(mode)
        # Spark (Hadoop's local file system) checks a file against a stale checksum.
        path.with_name(f".{path.name}.crc").unlink(missing_ok=True)
    return removed


def erase_from_sqlite(path: Path, keys: Iterable[str]) -> int:
    """Delete every row of every table of ``path`` whose text or blob columns contain one
    of ``keys`` (a key may sit inside a serialised blob, as Feast's entity keys do)."""
    needles = [key.encode() for key in sorted(set(keys))]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete = ON")
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        deleted = 0
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in tables:
                quoted = '"' + table.replace('"', '""') + '"'
                columns = [
                    '"' + name.replace('"', '""') + '"'
                    for _, name, kind, *_ in connection.execute(f"PRAGMA table_info({quoted})")
                    if kind.upper() in ("", "BLOB", "TEXT") or "CHAR" in kind.upper()
                ]
                for column in columns:
                    for needle in needles:
                        cursor = connection.execute(
                            f"DELETE FROM {quoted} WHERE instr(CAST({column} AS BLOB), ?) > 0",
                            (needle,),
                        )
                        deleted += max(cursor.rowcount, 0)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        if deleted:
            connection.execute("VACUUM")  # no freed page keeps a deleted row
    finally:
        connection.close()
    return deleted


def redact_lines(path: Path, keys: Iterable[str]) -> int:
    """Replace each of ``keys`` by ``[erased]`` in the text file ``path``; returns the lines
    rewritten. Bytes that are not UTF-8 are kept as they were; a binary file (one with a
    NUL byte) is not text and is left alone."""
    needles = sorted(set(keys), key=len, reverse=True)
    data = path.read_bytes()
    if b"\x00" in data or not any(needle.encode() in data for needle in needles):
        return 0
    lines = data.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
    rewritten = 0
    for index, line in enumerate(lines):
        if any(needle in line for needle in needles):
            for needle in needles:
                line = line.replace(needle, REDACTED)
            lines[index] = line
            rewritten += 1
    mode = path.stat().st_mode & 0o777
    with replacing(path) as partial:
        partial.write_bytes("".join(lines).encode("utf-8", errors="surrogateescape"))
        partial.chmod(mode)
    return rewritten


@dataclass(frozen=True)
class ErasureRun:
    """One erasure as the ledger holds it; ``keys`` only while it is under way."""

    erasure_id: str
    reason: str
    started_at: str
    completed_at: str | None
    keys: frozenset[str] | None
    counts: dict[str, int]


class ErasureLedger:
    """Which erasures ran, when, why, how many rows each room lost: never who.

    A private SQLite file beside the vault. Open with :meth:`open`, use with ``with``.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> ErasureLedger:
        connection = open_private(
            path,
            _LEDGER_SCHEMA,
            LEDGER_SCHEMA_VERSION,
            what="erasure ledger",
            pragmas=("secure_delete = ON",),
        )
        return cls(connection, path)

    def __enter__(self) -> ErasureLedger:
        return self

    def __exit__(self, *_: object) -> None:
        self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._connection.close()

    def find(self, subject_tombstone: str) -> ErasureRun | None:
        row = self._connection.execute(
            "SELECT erasure_id, reason, started_at, completed_at, pending_keys, counts "
            "FROM erasure_runs WHERE tombstone = ?",
            (subject_tombstone,),
        ).fetchone()
        return None if row is None else _run(row)

    def start(self, subject_tombstone: str, reason: str, keys: Iterable[str]) -> ErasureRun:
        """Record an erasure under way with the subject's keys (or resume the one there)."""
        found = self.find(subject_tombstone)
        if found is not None and found.completed_at is None:
            return found  # a run that stopped midway: resume it with its keys
        # New, or done before and run again (idempotent: it finds what is left, if any).
        erasure_id = found.erasure_id if found else secrets.token_hex(8)
        self._connection.execute(
            "INSERT INTO erasure_runs (erasure_id, tombstone, reason, started_at, pending_keys) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (erasure_id) DO UPDATE SET "
            "completed_at = NULL, pending_keys = excluded.pending_keys",
            (erasure_id, subject_tombstone, reason, utc_now(), json.dumps(sorted(set(keys)))),
        )
        found = self.find(subject_tombstone)
        assert found is not None
        return found

    def count(self, erasure_id: str, room: str, rows: int) -> None:
        """Add ``rows`` erased from ``room`` to the run's counts."""
        (text,) = self._connection.execute(
            "SELECT counts FROM erasure_runs WHERE erasure_id = ?", (erasure_id,)
        ).fetchone()
        counts = json.loads(text)
        counts[room] = counts.get(room, 0) + rows
        self._connection.execute(
            "UPDATE erasure_runs SET counts = ? WHERE erasure_id = ?",
            (json.dumps(counts, sort_keys=True), erasure_id),
        )

    def complete(self, erasure_id: str) -> None:
        """The run is done: forget the subject's keys (zeroed on disk)."""
        self._connection.execute(
            "UPDATE erasure_runs SET completed_at = ?, pending_keys = NULL WHERE erasure_id = ?",
            (utc_now(), erasure_id),
        )
        self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def runs(self) -> list[ErasureRun]:
        return [
            _run(row)
            for row in self._connection.execute(
                "SELECT erasure_id, reason, started_at, completed_at, pending_keys, counts "
                "FROM erasure_runs ORDER BY started_at, erasure_id"
            )
        ]


def _run(row: tuple[str, str, str, str | None, str | None, str]) -> ErasureRun:
    erasure_id, reason, started_at, completed_at, pending, counts = row
    keys = None if pending is None else frozenset(json.loads(pending))
    return ErasureRun(erasure_id, reason, started_at, completed_at, keys, json.loads(counts))


def ledger_path(vault_path: Path) -> Path:
    """The ledger sits beside the vault: both are the privacy records of the platform."""
    return vault_path.parent / LEDGER_NAME


def counts_summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{room} {rows:,}" for room, rows in counts.items()) or "nothing"
