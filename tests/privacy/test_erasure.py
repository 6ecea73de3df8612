"""Erasure's shared pieces (privacy/erasure.py): tombstones, row filters, the ledger."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zhongtai.privacy.erasure import (
    REDACTED,
    ErasureLedger,
    erase_from_sqlite,
    redact_lines,
    rewrite_parquet_without,
    table_without,
    tombstone,
)


def subject(n: int) -> str:
    return hashlib.sha256(f"subject {n}".encode()).hexdigest()


def test_a_tombstone_is_keyed_and_never_the_pseudonym() -> None:
    key, other_key = b"k" * 32, b"o" * 32

    mark = tombstone(subject(1), key)

    assert mark == tombstone(subject(1), key)
    assert subject(1) not in mark
    assert mark != tombstone(subject(2), key)
    assert mark != tombstone(subject(1), other_key)


def test_rows_holding_a_key_in_any_text_column_are_dropped() -> None:
    table = pa.table(
        {
            "applicant_id": [subject(1), subject(2), None, subject(3)],
            "application_id": ["A-1", "A-2", "A-3", "A-4"],
            "channel": pa.array(["app", "web", "app", "web"]).dictionary_encode(),
            "amount": [1, 2, 3, 4],
        }
    )

    kept, removed = table_without(table, {subject(1), "A-3"})

    assert removed == 2
    assert kept.column("application_id").to_pylist() == ["A-2", "A-4"]
    assert kept.schema == table.schema
    assert table_without(table, {"web"})[1] == 2  # a dictionary column is read by value
    assert table_without(table, set())[1] == 0


def test_a_parquet_file_is_rewritten_only_when_it_held_a_key(tmp_path: Path) -> None:
    path = tmp_path / "mart.parquet"
    pq.write_table(pa.table({"applicant_id": [subject(1), subject(2)], "n": [1, 2]}), path)
    path.chmod(0o444)
    before = path.read_bytes()

    assert rewrite_parquet_without(path, {subject(9)}) == 0
    assert path.read_bytes() == before

    assert rewrite_parquet_without(path, {subject(1)}) == 1
    assert pq.read_table(path).to_pylist() == [{"applicant_id": subject(2), "n": 2}]
    assert subject(1).encode() not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert list(tmp_path.iterdir()) == [path]  # no partial file left


def test_sqlite_rows_holding_a_key_inside_a_blob_are_deleted_and_vacuumed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "online_store.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE view_a (entity_key BLOB, value BLOB, event_ts INT)")
        connection.executemany(
            "INSERT INTO view_a VALUES (?, ?, 1)",
            [(b"\x02\x00applicant_id\x00" + subject(n).encode(), b"x" * 500) for n in range(3)],
        )
    connection.close()

    assert erase_from_sqlite(path, {subject(1)}) == 1

    connection = sqlite3.connect(path)
    assert connection.execute("SELECT COUNT(*) FROM view_a").fetchone() == (2,)
    connection.close()
    assert subject(1).encode() not in path.read_bytes()
    assert subject(2).encode() in path.read_bytes()
    assert erase_from_sqlite(path, {subject(1)}) == 0


def test_log_lines_holding_a_key_are_rewritten_and_others_kept(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_bytes(
        f"decision for {subject(1)}: approve\nhealthz ok\nreview A-7 of {subject(1)}\n".encode()
        + b"\xff raw bytes\n"
    )

    assert redact_lines(log, {subject(1), "A-7"}) == 2

    assert log.read_bytes() == (
        f"decision for {REDACTED}: approve\nhealthz ok\nreview {REDACTED} of {REDACTED}\n".encode()
        + b"\xff raw bytes\n"
    )
    assert redact_lines(log, {subject(1)}) == 0
    binary = tmp_path / "store.bin"
    binary.write_bytes(b"\x00\x01" + subject(1).encode())
    assert redact_lines(binary, {subject(1)}) == 0
    assert binary.read_bytes() == b"\x00\x01" + subject(1).encode()


def test_the_ledger_keeps_the_keys_while_a_run_is_under_way_and_forgets_them_after(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vault" / "erasures.db"
    mark = tombstone(subject(1), b"k" * 32)
    with ErasureLedger.open(path) as ledger:
        run = ledger.start(mark, "request #1", {subject(1), "A-1"})
        ledger.count(run.erasure_id, "raw zone", 3)
        ledger.count(run.erasure_id, "raw zone", 2)

        # A crash here: the next run resumes the same erasure with its keys.
        resumed = ledger.start(mark, "request #1", {subject(1)})
        assert resumed.erasure_id == run.erasure_id
        assert resumed.keys == frozenset({subject(1), "A-1"})

        ledger.complete(run.erasure_id)
        [done] = ledger.runs()

    assert done.completed_at is not None and done.keys is None
    assert done.counts == {"raw zone": 5}
    stored = b"".join(p.read_bytes() for p in path.parent.glob("erasures.db*"))
    assert subject(1).encode() not in stored
    assert b"A-1" not in stored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_running_a_completed_erasure_again_reuses_its_record(tmp_path: Path) -> None:
    mark = tombstone(subject(1), b"k" * 32)
    with ErasureLedger.open(tmp_path / "erasures.db") as ledger:
        first = ledger.start(mark, "request", {subject(1)})
        ledger.complete(first.erasure_id)

        again = ledger.start(mark, "request", {subject(1)})

        assert again.erasure_id == first.erasure_id
        assert again.completed_at is None and again.keys == frozenset({subject(1)})
        assert len(ledger.runs()) == 1


@pytest.mark.parametrize("keys", [set(), {"nothing-here"}])
def test_nothing_to_drop_leaves_a_table_as_it_was(keys: set[str]) -> None:
    table = pa.table({"applicant_id": [subject(1)]})
    assert table_without(table, keys) == (table, 0)
