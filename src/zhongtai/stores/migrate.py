"""``zhongtai audit migrate``: the API files of an older zhongtai into the ledger.

Schema 1 kept decisions (``decisions.db``) apart from an audit log (``audit.db``) whose
chain covered whole payloads. The migration verifies that old chain first (a log that
does not verify is not laundered into a new one), then appends its records, oldest first
and with their times, to a fresh ledger whose chain covers payload hashes, and copies the
decisions beside them. The old files are kept, renamed ``*.schema1.db``, for the record;
the old head is printed so that anchors kept of the old log can still be checked there.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from zhongtai.stores.audit import GENESIS_HASH, append_stored, canonical_hash
from zhongtai.stores.ledger import open_ledger

KEPT_SUFFIX = ".schema1.db"
# Schema 1 hashed these columns (sorted), dicts embedded as their stored JSON text.
_V1_COLUMNS = (
    "action",
    "applicant_id",
    "at",
    "decision_id",
    "features",
    "model_versions",
    "outcome",
    "partner_id",
    "prev_hash",
    "purpose",
    "rules_version",
    "seq",
)
_DECISION_COLUMNS = (
    "decision_id, partner_id, applicant_id, decided_at, answer, review_status, "
    "review_reason, review_requested_at"
)


@dataclass(frozen=True)
class Migration:
    """What :func:`migrate_schema_1` moved, where the old files are kept, the old head."""

    records: int
    decisions: int
    kept: list[Path]
    old_head: tuple[int, str] | None


def migrate_schema_1(ledger: Path) -> Migration:
    """Migrate the schema-1 audit log at ``ledger`` (and ``decisions.db`` beside it)."""
    decisions = ledger.with_name("decisions.db")
    if _user_version(ledger) != 1:
        raise ValueError(
            f"{ledger} is not a schema-1 audit log: nothing to migrate"
            + (
                f" (and {decisions.name} beside it has no log to explain it)"
                if decisions.exists()
                else ""
            )
        )
    records, old_head = _verified_records(ledger)
    old_decisions: list[tuple[object, ...]] = []
    if decisions.exists():
        with closing(_connect(decisions)) as connection:
            old_decisions = connection.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions"
            ).fetchall()
    kept = [_keep(path) for path in (ledger, decisions) if path.exists()]
    database = open_ledger(ledger)
    try:
        with database.transaction() as connection:
            for record in records:
                append_stored(connection, record, at=str(record["at"]))
            marks = ", ".join("?" * 8)
            connection.executemany(
                f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES ({marks})", old_decisions
            )
    finally:
        database.close()
    return Migration(len(records), len(old_decisions), kept, old_head)


def _verified_records(path: Path) -> tuple[list[dict[str, object]], tuple[int, str] | None]:
    with closing(_connect(path)) as connection:
        rows = connection.execute(
            f"SELECT {', '.join(_V1_COLUMNS)}, hash FROM audit_records ORDER BY seq"
        ).fetchall()
    records, previous, head = [], GENESIS_HASH, None
    for expected_seq, row in enumerate(rows, start=1):
        values = dict(zip(_V1_COLUMNS, row[:-1], strict=True))
        if (
            values["seq"] != expected_seq
            or values["prev_hash"] != previous
            or canonical_hash(values, _V1_COLUMNS) != row[-1]
        ):
            raise ValueError(
                f"record {expected_seq} of the schema-1 audit log {path} does not verify: "
                "nothing was migrated (a broken log is not carried into a new chain)"
            )
        records.append(values)
        previous, head = row[-1], (expected_seq, row[-1])
    return records, head


def _keep(path: Path) -> Path:
    """Rename a closed SQLite file (its WAL emptied) to ``*.schema1.db``; returns where."""
    with closing(_connect(path, writable=True)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kept = path.with_name(path.stem + KEPT_SUFFIX)
    if kept.exists():
        raise FileExistsError(f"{kept} exists: an earlier migration's copy; move it first")
    os.replace(path, kept)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return kept


def _user_version(path: Path) -> int | None:
    if not path.is_file():
        return None
    with closing(_connect(path)) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _connect(path: Path, *, writable: bool = False) -> sqlite3.Connection:
    mode = "rw" if writable else "ro"
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
