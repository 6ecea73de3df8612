"""The audit log: an append-only, hash-chained record of every read and decision.

Each record says who (``partner_id``) did what (``action``: ``decision``,
``read_features``, ``read_scores``, ``review_request``, ...) for which purpose, with which
model and rules versions (the record's *header*), and about which applicant, with what
evidence: the decision, the feature values as used and the outcome (its *payload*). A
compliance officer can then show why any automated decision was made and that a partner
only read what it was entitled to.

**No clear identifier is ever stored.** ``applicant_id`` must be a pseudonym (64 lowercase
hex characters, see :mod:`zhongtai.privacy.pseudonyms`) and :meth:`AuditLog.append` refuses
anything else.

**Redactable payloads.** The chain covers the header and the SHA-256 of the payload (its
canonical JSON with a random salt), not the payload itself. An erasure
(:meth:`AuditLog.redact_subject`) replaces a subject's payloads by a redaction marker (when
and why) and the chain still verifies; the salt makes the kept hash useless for guessing
what was redacted. A payload that is not redacted must still hash to its ``payload_hash``,
so editing one is found.

Tamper evidence. Record ``n`` stores ``prev_hash`` (the hash of record ``n - 1``, 64 zeros
for the first) and ``hash = SHA-256(canonical JSON of its header, prev_hash, seq and
payload_hash included)``. :func:`verify` recomputes the chain, so editing a field, deleting
or reordering records, inserting one, or overwriting a hash is reported with the first
record that can no longer be vouched for. Triggers refuse ``DELETE`` and any ``UPDATE``
but a redaction, which stops accidents but not someone with the file (they can drop the
triggers). What a chain alone cannot show: whoever can write the file can rewrite *every*
record from some point on, or cut the tail. Anchor the head against that: record ``(seq,
hash)`` printed by ``zhongtai audit verify`` somewhere the database's writers cannot reach,
and pass it back as ``anchor`` later.

The log shares its file with the decision store (:mod:`zhongtai.stores.ledger`): a
decision and its record commit together, and :func:`verify` also checks that every stored
decision has its record.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from zhongtai.stores.ledger import BUSY_TIMEOUT_SECONDS, open_ledger
from zhongtai.stores.sqlite import PrivateSqlite, SqliteStore, check_pseudonym, utc_now

if TYPE_CHECKING:
    from zhongtai.settings import Settings

GENESIS_HASH = "0" * 64
SALT_BYTES = 16

# The header columns in hashing order: the canonical JSON's keys are sorted, and so is this.
_HASHED_COLUMNS = (
    "action",
    "at",
    "model_versions",
    "partner_id",
    "payload_hash",
    "prev_hash",
    "purpose",
    "rules_version",
    "seq",
)
# The payload columns in hashing order (the salt hashes as "salt").
_PAYLOAD_COLUMNS = ("applicant_id", "decision_id", "features", "outcome", "payload_salt")
_JSON_COLUMNS = frozenset({"features", "model_versions", "outcome"})
_INSERT = (
    f"INSERT INTO audit_records ({', '.join(_HASHED_COLUMNS)}, hash, "
    f"{', '.join(_PAYLOAD_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_HASHED_COLUMNS) + 1 + len(_PAYLOAD_COLUMNS)))})"
)
_SELECT = (
    f"SELECT {', '.join(_HASHED_COLUMNS)}, hash, {', '.join(_PAYLOAD_COLUMNS)}, redacted_at "
    "FROM audit_records ORDER BY seq"
)

Alongside = Callable[[sqlite3.Connection], None]


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
    redacted: int = 0
    decisions_without_record: int = 0


def audit_log_path(settings: Settings) -> Path:
    """The API's ledger (SQLite): the audit log and the decisions it explains."""
    return settings.data_dir / "api" / "audit.db"


class AuditLog(SqliteStore[PrivateSqlite]):
    """The open audit log; one per process, shared by its threads, and by the decision
    store opened on the same database (:attr:`database`).

    Open with :meth:`AuditLog.open`, preferably as a context manager.
    """

    def __init__(self, database: PrivateSqlite) -> None:
        self._database = database
        self._connection = database.connection
        self._lock = database.lock
        self.path = database.path

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Self:
        """Open (creating if needed, mode 0600 in a 0700 folder) the log at ``path``; a
        write waits up to ``busy_timeout`` seconds for another writer's lock."""
        return cls(open_ledger(Path(path), busy_timeout=busy_timeout))

    @property
    def database(self) -> PrivateSqlite:
        """The ledger this log is in (the decision store shares it)."""
        return self._database

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record (``(0, GENESIS_HASH)`` when empty)."""
        with self._lock:
            return _head(self._connection)

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
        alongside: Alongside | None = None,
    ) -> AuditReceipt:
        """Append one record; returns its ``seq``, time and ``hash``.

        ``alongside`` (e.g. :meth:`DecisionStore.saving`) writes in the same transaction:
        both commit, or neither. Feature values are recorded as used; a missing one (None,
        NaN) is recorded as null. Raises ``ValueError`` if ``applicant_id`` is not a
        pseudonym, ``sqlite3.OperationalError`` if the ledger stays locked.
        """
        check_pseudonym(applicant_id)
        record = {
            "action": action,
            "applicant_id": applicant_id,
            "decision_id": decision_id,
            "features": _features_json(features or {}),
            "model_versions": canonical_json(model_versions or {}),
            "outcome": None if outcome is None else canonical_json(outcome),
            "partner_id": partner_id,
            "purpose": purpose,
            "rules_version": rules_version,
        }
        with self._database.transaction() as connection:
            if alongside is not None:
                alongside(connection)
            return append_stored(connection, record, at=utc_now())

    def redact_subject(self, applicant_id: str, reason: str) -> int:
        """Replace every payload about ``applicant_id`` (a pseudonym) by a redaction
        marker (when, and ``reason``); returns how many. The chain still verifies."""
        check_pseudonym(applicant_id)
        if not reason.strip():
            raise ValueError("a redaction needs a reason (e.g. 'erasure request 2026-11-23')")
        with self._database.transaction() as connection:
            redacted = connection.execute(
                "UPDATE audit_records SET applicant_id = NULL, decision_id = NULL, "
                "features = NULL, outcome = NULL, payload_salt = NULL, redacted_at = ?, "
                "redaction_reason = ? WHERE applicant_id = ? AND redacted_at IS NULL",
                (utc_now(), reason.strip(), applicant_id),
            ).rowcount
        self._database.checkpoint()
        return int(redacted)


def append_stored(
    connection: sqlite3.Connection, record: Mapping[str, Any], *, at: str
) -> AuditReceipt:
    """Chain one record onto the log in the caller's write transaction (its lock held, so
    no other process appends between reading the head and inserting). ``record`` holds
    the fields of :meth:`AuditLog.append`, its dicts as canonical JSON text."""
    payload = {name: record[name] for name in _PAYLOAD_COLUMNS[:-1]}
    payload["payload_salt"] = secrets.token_hex(SALT_BYTES)
    seq, prev = _head(connection)
    values = {
        **{name: record[name] for name in ("action", "model_versions", "partner_id")},
        **{name: record[name] for name in ("purpose", "rules_version")},
        "payload_hash": payload_hash(payload),
        "seq": seq + 1,
        "prev_hash": prev,
        "at": at,
    }
    digest = record_hash(values)
    connection.execute(
        _INSERT,
        (
            *(values[name] for name in _HASHED_COLUMNS),
            digest,
            *(payload[name] for name in _PAYLOAD_COLUMNS),
        ),
    )
    return AuditReceipt(seq=values["seq"], at=at, hash=digest)


def verify(path: Path, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain of the log at ``path`` (opened read-only).

    ``first_bad_seq`` is the first record that can no longer be vouched for: a missing
    ``seq``, a record whose stored hash is not the hash of its header, a payload (not
    redacted) that is not the one hashed, or a record whose hash is not the ``prev_hash``
    its successor chained to (it was rewritten, hash and all). ``anchor`` (a ``(seq,
    hash)`` kept elsewhere) must still be in the log, which catches a rewrite of the whole
    tail or a cut one. Every stored decision must have its ``decision`` record.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no audit log at {path}")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            raise ValueError(
                f"{path} is a schema-1 audit log (an older zhongtai, which chained whole "
                "payloads): verify it with that release"
            )
        connection.execute("BEGIN")  # one snapshot, while the API goes on appending
        records, redacted = connection.execute(
            "SELECT COUNT(*), COUNT(redacted_at) FROM audit_records"
        ).fetchone()
        found = _first_break(connection.execute(_SELECT), anchor)
        unexplained = connection.execute(
            "SELECT COUNT(*) FROM (SELECT decision_id FROM decisions EXCEPT "
            "SELECT decision_id FROM audit_records WHERE action = 'decision')"
        ).fetchone()[0]
    finally:
        connection.close()
    if isinstance(found, _Break):
        return Verification(
            ok=False,
            records=records,
            first_bad_seq=found.seq,
            reason=found.reason,
            head=found.head,
            redacted=redacted,
            decisions_without_record=unexplained,
        )
    if unexplained:
        return Verification(
            ok=False,
            records=records,
            first_bad_seq=None,
            reason=f"{unexplained} stored decision(s) have no audit record: a decision was "
            "stored without the record that explains it",
            head=found if records else None,
            redacted=redacted,
            decisions_without_record=unexplained,
        )
    return Verification(
        ok=True,
        records=records,
        first_bad_seq=None,
        reason=f"{records} record(s), chain intact ({redacted} redacted); every stored "
        "decision has its record",
        head=found if records else None,
        redacted=redacted,
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
    width = len(_HASHED_COLUMNS)
    for row in rows:
        values = dict(zip(_HASHED_COLUMNS, row[:width], strict=True))
        stored_hash = row[width]
        payload = dict(zip(_PAYLOAD_COLUMNS, row[width + 1 : -1], strict=True))
        is_redacted = row[-1] is not None
        seq = values["seq"]
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
        if not is_redacted and payload_hash(payload) != values["payload_hash"]:
            return _Break(
                seq,
                f"record {seq}'s payload is not the payload it was recorded with: its "
                "applicant, decision, features or outcome were altered",
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
    """SHA-256 (hex) of a record header's canonical JSON: keys sorted, no spaces, UTF-8,
    ``model_versions`` embedded exactly as its stored canonical JSON text. Equal to
    ``canonical_json`` of the parsed header."""
    return canonical_hash(values, _HASHED_COLUMNS)


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a payload's canonical JSON (``applicant_id``, ``decision_id``,
    ``features``, ``outcome``, ``payload_salt``), JSON fields embedded as stored."""
    return canonical_hash(payload, _PAYLOAD_COLUMNS)


def canonical_hash(values: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``values``' fields ``names`` (in sorted
    order); ``features``, ``model_versions`` and ``outcome`` are embedded as stored text."""
    parts = []
    for name in names:
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
