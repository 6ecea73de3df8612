"""The audit log: an append-only, hash-chained record of every read and decision.

Each record says who (``partner_id``) did what (``action``: ``decision``,
``read_features``, ``read_scores``, ``review_request``, ...) for which purpose, about which
applicant, with what evidence (the feature values as used, model versions, rules version,
outcome). A compliance officer can then show why any automated decision was made and that
a partner only read what it was entitled to.

**No clear identifier is ever stored.** ``applicant_id`` must be a pseudonym (64 lowercase
hex characters, see :mod:`zhongtai.privacy.pseudonyms`) and :meth:`AuditLog.append` refuses
anything else; feature values are the model's inputs, which downstream of landing hold no
identifier either. An erasure crypto-shreds the vault and leaves the log intact: it keeps
pseudonyms and decisions, which is what regulators ask a lender to keep.

Tamper evidence. Record ``n`` stores ``prev_hash`` (the hash of record ``n - 1``, 64 zeros
for the first) and ``hash = SHA-256(canonical JSON of its fields, prev_hash and seq
included)``. :func:`verify` recomputes the chain, so editing a field, deleting or
reordering records, inserting one, or overwriting a hash is reported with the first record
that can no longer be vouched for. Triggers also refuse ``UPDATE`` and ``DELETE``, which
stops accidents but not someone with the file (they can drop the triggers). What a chain
alone cannot show: whoever can write the file can rewrite *every* record from some point on,
or cut the tail. Anchor the head against that: record ``(seq, hash)`` printed by
``zhongtai audit verify`` somewhere the database's writers cannot reach, and pass it back as
``anchor`` later.

Cost: an append serialises its dicts once, hashes about a kilobyte and runs one
``INSERT`` (WAL, ``synchronous = NORMAL``: survives a crash of the process; a power cut
may lose the last few records, which only shortens the chain). The last ``(seq, hash)`` is
kept in memory, so no read precedes the write.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from zhongtai.stores.sqlite import PrivateSqlite, SqliteStore, check_pseudonym, utc_now

if TYPE_CHECKING:
    from zhongtai.settings import Settings

SCHEMA_VERSION = 1
GENESIS_HASH = "0" * 64
_APPEND_RETRIES = 3

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS audit_records (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    action TEXT NOT NULL,
    applicant_id TEXT NOT NULL,
    decision_id TEXT,
    features TEXT NOT NULL,
    model_versions TEXT NOT NULL,
    rules_version TEXT,
    outcome TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- One index only: each costs every append a page write. A decision is found through its
-- applicant (the decision store maps decision_id to applicant_id).
CREATE INDEX IF NOT EXISTS audit_records_by_applicant ON audit_records (applicant_id);
CREATE TRIGGER IF NOT EXISTS audit_records_are_never_updated BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_records_are_never_deleted BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""

# The columns in hashing order: the canonical JSON's keys are sorted, and so is this.
_HASHED_COLUMNS = (
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
_JSON_COLUMNS = frozenset({"features", "model_versions", "outcome"})
_INSERT = (
    f"INSERT INTO audit_records ({', '.join(_HASHED_COLUMNS)}, hash) "
    f"VALUES ({', '.join('?' * (len(_HASHED_COLUMNS) + 1))})"
)


@dataclass(frozen=True, slots=True)
class AuditReceipt:
    """Where an appended record landed: its ``seq``, time and chain hash (e.g. to quote
    in a decision's answer or a complaint's file)."""

    seq: int
    at: str
    hash: str


@dataclass(frozen=True, slots=True)
class Verification:
    """What :func:`verify` found: ``records`` is how many the log holds, ``head`` the
    ``(seq, hash)`` of its last intact record (the value to anchor elsewhere)."""

    ok: bool
    records: int
    first_bad_seq: int | None
    reason: str
    head: tuple[int, str] | None = None


def audit_log_path(settings: Settings) -> Path:
    """The API's audit log (SQLite)."""
    return settings.data_dir / "api" / "audit.db"


class AuditLog(SqliteStore[PrivateSqlite]):
    """The open audit log; one per process, shared by its threads.

    Open with :meth:`AuditLog.open`, preferably as a context manager.
    """

    def __init__(self, database: PrivateSqlite) -> None:
        self._database = database
        self._connection = database.connection
        self._lock = database.lock
        self.path = database.path
        self._seq, self._hash = _head(self._connection)

    @classmethod
    def open(cls, path: Path) -> Self:
        """Open (creating if needed, mode 0600 in a 0700 folder) the log at ``path``."""
        return cls(PrivateSqlite(Path(path), _SCHEMA, SCHEMA_VERSION, what="audit log"))

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record appended (``(0, GENESIS_HASH)`` when empty)."""
        with self._lock:
            return self._seq, self._hash

    def append(
        self,
        *,
        partner_id: str,
        purpose: str,
        action: str,
        applicant_id: str,
        decision_id: str | None = None,
        features: Mapping[str, Any] | None = None,
        model_versions: Mapping[str, Any] | None = None,
        rules_version: str | None = None,
        outcome: Mapping[str, Any] | None = None,
    ) -> AuditReceipt:
        """Append one record; returns its ``seq``, time and ``hash``.

        Feature values are recorded as used; a missing one (None, NaN) is recorded as null.
        Raises ``ValueError`` if ``applicant_id`` is not a pseudonym.
        """
        check_pseudonym(applicant_id)
        features_json = _features_json(features or {})
        model_versions_json = canonical_json(model_versions or {})
        outcome_json = None if outcome is None else canonical_json(outcome)
        with self._lock:
            for _ in range(_APPEND_RETRIES):
                values: dict[str, Any] = {
                    "action": action,
                    "applicant_id": applicant_id,
                    "at": utc_now(),
                    "decision_id": decision_id,
                    "features": features_json,
                    "model_versions": model_versions_json,
                    "outcome": outcome_json,
                    "partner_id": partner_id,
                    "prev_hash": self._hash,
                    "purpose": purpose,
                    "rules_version": rules_version,
                    "seq": self._seq + 1,
                }
                digest = record_hash(values)
                try:
                    self._connection.execute(
                        _INSERT, (*(values[name] for name in _HASHED_COLUMNS), digest)
                    )
                except sqlite3.IntegrityError:
                    # Another process appended since we read the head: chain onto its record.
                    head = _head(self._connection)
                    if head == (self._seq, self._hash):
                        raise  # not a lost race: a field the schema refuses
                    self._seq, self._hash = head
                    continue
                self._seq, self._hash = values["seq"], digest
                break
            else:
                raise RuntimeError(
                    f"could not append to the audit log {self.path}: another writer keeps "
                    "appending at the same time (one API process per log)"
                )
        return AuditReceipt(seq=values["seq"], at=values["at"], hash=digest)


def verify(path: Path, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain of the log at ``path`` (opened read-only).

    ``first_bad_seq`` is the first record that can no longer be vouched for: a missing
    ``seq``, a record whose stored hash is not the hash of its fields, or one whose hash
    is not the ``prev_hash`` its successor chained to (it was rewritten, hash and all).
    ``anchor`` (a ``(seq, hash)`` kept elsewhere) must still be in the log, which catches
    a rewrite of the whole tail or a cut one.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no audit log at {path}")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("BEGIN")  # one snapshot, while the API goes on appending
        records = connection.execute("SELECT COUNT(*) FROM audit_records").fetchone()[0]
        rows = connection.execute(
            f"SELECT {', '.join(_HASHED_COLUMNS)}, hash FROM audit_records ORDER BY seq"
        )
        found = _first_break(rows, anchor)
    finally:
        connection.close()
    if isinstance(found, tuple):
        return Verification(
            ok=True,
            records=records,
            first_bad_seq=None,
            reason=f"{records} record(s), chain intact",
            head=found if records else None,
        )
    return Verification(
        ok=False, records=records, first_bad_seq=found.seq, reason=found.reason, head=found.head
    )


def audit_verify(settings: Settings, anchor: str | None = None) -> Verification:
    """``zhongtai audit verify [--anchor SEQ:HASH]``: verify the API's audit log."""
    return verify(audit_log_path(settings), anchor=None if anchor is None else parse_anchor(anchor))


def parse_anchor(text: str) -> tuple[int, str]:
    """``"SEQ:HASH"`` (as ``zhongtai audit verify`` prints the head) → ``(seq, hash)``."""
    seq, _, digest = text.partition(":")
    if not (seq.isdigit() and int(seq) > 0 and re.fullmatch(r"[0-9a-f]{64}", digest)):
        raise ValueError(
            f"anchor {text!r} is not SEQ:HASH (a record number, a colon, 64 hex characters), "
            "as `zhongtai audit verify` prints the head"
        )
    return int(seq), digest


@dataclass(frozen=True, slots=True)
class _Break:
    seq: int
    reason: str
    head: tuple[int, str] | None


def _first_break(rows: sqlite3.Cursor, anchor: tuple[int, str] | None) -> _Break | tuple[int, str]:
    """The first break in the chain, or the head ``(seq, hash)`` if there is none."""
    expected_seq = 1
    # (seq, hash) of the last two records that passed every check, newest last.
    checked: list[tuple[int, str]] = [(0, GENESIS_HASH)]
    for row in rows:
        values = dict(zip(_HASHED_COLUMNS, row[:-1], strict=True))
        seq, stored_hash = values["seq"], row[-1]
        intact = checked[-1] if checked[-1][0] else None
        if seq != expected_seq:
            return _Break(
                expected_seq,
                f"record {expected_seq} is missing (the next is {seq}): records were "
                "deleted or renumbered",
                intact,
            )
        if record_hash(values) != stored_hash:
            return _Break(
                seq,
                f"record {seq}'s hash is not the hash of its fields: a field or the hash "
                "was altered, or records were swapped or inserted",
                intact,
            )
        if values["prev_hash"] != checked[-1][1]:
            if seq == 1:
                return _Break(seq, "record 1 does not start from the genesis hash", None)
            before = checked[-2] if len(checked) > 1 and checked[-2][0] else None
            return _Break(
                seq - 1,
                f"record {seq - 1} is not the record that record {seq} chained to (its "
                f"hash differs from record {seq}'s prev_hash): one of them was rewritten, "
                "hash and all",
                before,
            )
        if anchor is not None and seq == anchor[0] and stored_hash != anchor[1]:
            return _Break(
                seq,
                f"record {seq} is not the anchored record: the log was rewritten from here "
                "or before",
                intact,
            )
        checked = [checked[-1], (seq, stored_hash)]
        expected_seq = seq + 1
    head = checked[-1]
    if anchor is not None and anchor[0] > head[0]:
        return _Break(
            expected_seq,
            f"the anchored record {anchor[0]} is gone: the log was cut after record {head[0]}",
            head if head[0] else None,
        )
    return head


def record_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a record's canonical JSON: keys sorted, no spaces, UTF-8, with the
    dict fields (``features``, ``model_versions``, ``outcome``) embedded exactly as their
    stored canonical JSON text. Equal to ``canonical_json`` of the parsed record."""
    parts = []
    for name in _HASHED_COLUMNS:
        value = values[name]
        if value is None:
            text = "null"
        elif name in _JSON_COLUMNS:
            text = value
        elif isinstance(value, str):
            text = _json_string(value)
        else:  # seq
            text = str(int(value))
        parts.append(f'"{name}":{text}')
    return hashlib.sha256(("{" + ",".join(parts) + "}").encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no whitespace, UTF-8 kept, strict JSON (no NaN);
    numpy scalars and dates are converted, anything else unknown is refused."""
    return _ENCODER.encode(value)


def _features_json(features: Mapping[str, Any]) -> str:
    """Features as used, a missing value (None, NaN) as null."""
    try:
        return _ENCODER.encode(features)
    except ValueError:  # a NaN or an infinity: rare, so only then is each value looked at
        return _ENCODER.encode({name: _finite_or_none(value) for name, value in features.items()})


def _plain(value: Any) -> Any:
    """What JSON cannot encode itself: numpy scalars, dates; anything else is refused."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _finite_or_none(item())
    raise TypeError(f"cannot record a {type(value).__name__} in the audit log: {value!r}")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain
)
_json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _head(connection: sqlite3.Connection) -> tuple[int, str]:
    row = connection.execute(
        "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return (0, GENESIS_HASH) if row is None else (row[0], row[1])
