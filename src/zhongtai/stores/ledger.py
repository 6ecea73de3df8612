"""The API's ledger: decisions and the audit chain in one SQLite file.

A decision and its audit record commit in one transaction (:meth:`AuditLog.append` with
``alongside``), so no crash, ``kill -9`` included, can leave a stored decision without the
record that explains it. Both stores open the file through :func:`open_ledger`, which
applies the one schema below; the API shares one connection between them.

Schema 2 chains the *hash* of each record's payload (applicant, decision, features,
outcome and a random salt), not the payload itself, so a payload can be redacted (an
erasure) while the chain still verifies. A schema-1 audit file chained whole payloads: it is
refused with what to do (``zhongtai audit migrate``, :mod:`zhongtai.stores.migrate`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from zhongtai.stores.sqlite import PrivateSqlite

SCHEMA_VERSION = 2
BUSY_TIMEOUT_SECONDS = 30.0

# The header of a record (hashed as is) and its payload (hashed into payload_hash).
SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS audit_records (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    action TEXT NOT NULL,
    model_versions TEXT NOT NULL,
    rules_version TEXT,
    payload_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    applicant_id TEXT,
    decision_id TEXT,
    features TEXT,
    outcome TEXT,
    payload_salt TEXT,
    redacted_at TEXT,
    redaction_reason TEXT
);
CREATE INDEX IF NOT EXISTS audit_records_by_applicant ON audit_records (applicant_id);
CREATE TRIGGER IF NOT EXISTS audit_records_are_never_updated BEFORE UPDATE ON audit_records
WHEN NOT (
    OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
    AND NEW.applicant_id IS NULL AND NEW.decision_id IS NULL AND NEW.features IS NULL
    AND NEW.outcome IS NULL AND NEW.payload_salt IS NULL
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.partner_id = OLD.partner_id
    AND NEW.purpose = OLD.purpose AND NEW.action = OLD.action
    AND NEW.model_versions = OLD.model_versions AND NEW.rules_version IS OLD.rules_version
    AND NEW.payload_hash = OLD.payload_hash AND NEW.prev_hash = OLD.prev_hash
    AND NEW.hash = OLD.hash
)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only (a payload may only be redacted)'); END;
CREATE TRIGGER IF NOT EXISTS audit_records_are_never_deleted BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS decisions (
    decision_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    answer TEXT NOT NULL,
    review_status TEXT,
    review_reason TEXT,
    review_requested_at TEXT
);
CREATE INDEX IF NOT EXISTS decisions_by_applicant
    ON decisions (partner_id, applicant_id, decided_at);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""


class OldLedgerError(RuntimeError):
    """A file written by an older zhongtai that this one cannot read in place."""


def open_ledger(path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> PrivateSqlite:
    """Open (creating if needed, 0600 in a 0700 folder) the ledger at ``path``.

    ``busy_timeout`` bounds how long a write waits for another writer's lock before
    ``sqlite3.OperationalError`` ("database is locked"); the API keeps it short.
    """
    path = Path(path)
    _refuse_schema_1(path)
    return PrivateSqlite(
        path,
        SCHEMA,
        SCHEMA_VERSION,
        what="API ledger (decisions and audit log)",
        busy_timeout=busy_timeout,
        pragmas=("secure_delete = ON",),  # erased and redacted values are zeroed on disk
    )


def _refuse_schema_1(path: Path) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        return
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()
    if version == 1:
        raise OldLedgerError(
            f"{path} was written by an older zhongtai (schema 1: the audit chain covers whole "
            "payloads, decisions are kept in a separate file): run `zhongtai audit migrate`, "
            "which verifies it, carries its records and decisions into the ledger and keeps "
            "the old files beside it"
        )
