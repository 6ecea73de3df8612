"""Decisions kept for their partner: the latest scores of an applicant, and reviews.

Each decision is stored with the partner that asked for it and the applicant's pseudonym
(never a clear identifier). A partner reads its own decisions only; an applicant's
request for a person to look again marks the decision and queues it for the review team.

The store keeps a decision's answer as the JSON text it is given and returns it as such:
what an answer holds is the decision's business (``zhongtai.decision.schemas``), not the
store's. Decisions live in the API's ledger (:mod:`zhongtai.stores.ledger`), beside the
audit records that explain them: the API stores each with its record in one transaction
(:meth:`DecisionStore.saving`), and an erasure deletes a subject's decisions and reviews
(:meth:`DecisionStore.erase_subject`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

from zhongtai.stores.audit import Alongside, AuditLog, audit_log_path
from zhongtai.stores.ledger import BUSY_TIMEOUT_SECONDS, open_ledger
from zhongtai.stores.sqlite import PrivateSqlite, SqliteStore, check_pseudonym

if TYPE_CHECKING:
    from zhongtai.settings import Settings


def decisions_path(settings: Settings) -> Path:
    """The decisions live in the API's ledger, beside the audit records that explain them."""
    return audit_log_path(settings)


class DecisionNotFound(LookupError):
    """No such decision for this partner (another partner's reads as unknown)."""


@dataclass(frozen=True, slots=True)
class Review:
    """A decision queued for a person to look at again, since ``requested_at``."""

    decision_id: str
    status: Literal["queued"]
    requested_at: datetime


class DecisionStore(SqliteStore[PrivateSqlite]):
    """Decisions and reviews in the ledger; share the audit log's database
    (:meth:`beside`) so a decision and its audit record commit together."""

    def __init__(self, database: PrivateSqlite) -> None:
        self._database = database
        self._connection = database.connection
        self._lock = database.lock

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Self:
        """Open (creating if needed, mode 0600 in a 0700 folder) the ledger at ``path``."""
        return cls(open_ledger(Path(path), busy_timeout=busy_timeout))

    @classmethod
    def beside(cls, audit: AuditLog) -> Self:
        """The decisions of ``audit``'s ledger, through its connection (closing either
        closes both)."""
        return cls(audit.database)

    def saving(
        self,
        decision_id: str,
        partner_id: str,
        applicant_id: str,
        *,
        decided_at: datetime,
        answer: str,
    ) -> Alongside:
        """The write of :meth:`save`, to run inside the audit record's transaction
        (``AuditLog.append(..., alongside=...)``)."""
        check_pseudonym(applicant_id)

        def insert(connection: sqlite3.Connection) -> None:
            connection.execute(
                "insert into decisions (decision_id, partner_id, applicant_id, decided_at, "
                "answer) values (?, ?, ?, ?, ?)",
                (decision_id, partner_id, applicant_id, decided_at.isoformat(), answer),
            )

        return insert

    def save(
        self,
        decision_id: str,
        partner_id: str,
        applicant_id: str,
        *,
        decided_at: datetime,
        answer: str,
    ) -> None:
        """Keep the decision's ``answer`` (JSON text) for the partner that asked for it
        (without its audit record: the API saves through :meth:`saving`)."""
        insert = self.saving(
            decision_id, partner_id, applicant_id, decided_at=decided_at, answer=answer
        )
        with self._database.transaction() as connection:
            insert(connection)

    def erase_subject(self, applicant_id: str) -> int:
        """Delete every decision (and so review) about ``applicant_id`` (a pseudonym);
        returns how many. Their audit payloads are redacted by ``AuditLog.redact_subject``."""
        check_pseudonym(applicant_id)
        with self._database.transaction() as connection:
            deleted = connection.execute(
                "delete from decisions where applicant_id = ?", (applicant_id,)
            ).rowcount
        self._database.checkpoint()
        return int(deleted)

    def latest(self, partner_id: str, applicant_id: str) -> str | None:
        """The answer (JSON text, as saved) of the partner's latest decision on the
        applicant, if any."""
        with self._lock:
            row = self._connection.execute(
                "select answer from decisions where partner_id = ? and applicant_id = ? "
                "order by decided_at desc limit 1",
                (partner_id, applicant_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def request_review(self, decision_id: str, partner_id: str, reason: str) -> Review:
        """Mark the decision for a person to look at again and queue it (idempotent: a
        second request keeps the first request's time)."""
        now = datetime.now(UTC)
        with self._lock:
            row = self._connection.execute(
                "select applicant_id, review_requested_at from decisions "
                "where decision_id = ? and partner_id = ?",
                (decision_id, partner_id),
            ).fetchone()
            if row is None:
                raise DecisionNotFound(f"no decision {decision_id!r} of yours")
            if row[1] is None:
                self._connection.execute(
                    "update decisions set review_status = 'queued', review_reason = ?, "
                    "review_requested_at = ? where decision_id = ?",
                    (reason, now.isoformat(), decision_id),
                )
                requested = now
            else:
                requested = datetime.fromisoformat(row[1])
        return Review(decision_id=decision_id, status="queued", requested_at=requested)

    def applicant_of(self, decision_id: str) -> str:
        with self._lock:
            row = self._connection.execute(
                "select applicant_id from decisions where decision_id = ?", (decision_id,)
            ).fetchone()
        if row is None:
            raise DecisionNotFound(f"no decision {decision_id!r}")
        return str(row[0])

    def review_queue(self) -> list[tuple[str, str, str]]:
        """Queued reviews, oldest first: (decision_id, partner_id, requested_at)."""
        with self._lock:
            rows = self._connection.execute(
                "select decision_id, partner_id, review_requested_at from decisions "
                "where review_status = 'queued' order by review_requested_at"
            ).fetchall()
        return [(str(a), str(b), str(c)) for a, b, c in rows]
