"""The decision store: a partner's latest answer on an applicant, and review requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zhongtai.stores.decisions import DecisionNotFound, DecisionStore

DAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def applicant(n: int) -> str:
    return hashlib.sha256(f"applicant {n}".encode()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DecisionStore]:
    with DecisionStore.open(tmp_path / "api" / "decisions.db") as opened:
        yield opened


def save(store: DecisionStore, decision_id: str, partner: str, n: int, at: datetime) -> str:
    answer = json.dumps({"decision_id": decision_id, "decided_at": at.isoformat()})
    store.save(decision_id, partner, applicant(n), decided_at=at, answer=answer)
    return answer


def test_the_latest_answer_is_the_partner_s_own_as_saved(store: DecisionStore) -> None:
    save(store, "d1", "bank-a", 1, DAY)
    second = save(store, "d2", "bank-a", 1, DAY + timedelta(hours=1))
    save(store, "d3", "bank-b", 1, DAY + timedelta(hours=2))

    assert store.latest("bank-a", applicant(1)) == second
    assert store.latest("bank-a", applicant(2)) is None
    assert store.latest("bank-c", applicant(1)) is None
    assert store.applicant_of("d3") == applicant(1)


def test_a_review_is_queued_once_and_keeps_its_first_time(store: DecisionStore) -> None:
    save(store, "d1", "bank-a", 1, DAY)
    first = store.request_review("d1", "bank-a", "please look again")
    again = store.request_review("d1", "bank-a", "still waiting")

    assert (first.decision_id, first.status) == ("d1", "queued")
    assert again == first
    assert store.review_queue() == [("d1", "bank-a", first.requested_at.isoformat())]


def test_another_partner_s_decision_reads_as_unknown(store: DecisionStore) -> None:
    save(store, "d1", "bank-a", 1, DAY)
    with pytest.raises(DecisionNotFound, match="no decision 'd1' of yours"):
        store.request_review("d1", "bank-b", "let me see")
    with pytest.raises(DecisionNotFound):
        store.applicant_of("d9")


def test_decisions_name_applicants_by_pseudonym_only(store: DecisionStore) -> None:
    with pytest.raises(ValueError, match="pseudonym"):
        store.save("d1", "bank-a", "11010519491231002X", decided_at=DAY, answer="{}")


def test_a_decision_and_its_audit_record_commit_together_or_not_at_all(tmp_path: Path) -> None:
    from zhongtai.stores.audit import AuditLog, verify

    path = tmp_path / "api" / "audit.db"
    with AuditLog.open(path) as log:
        decisions = DecisionStore.beside(log)
        saving = decisions.saving("d1", "bank-a", applicant(1), decided_at=DAY, answer="{}")
        log.append(
            partner_id="bank-a",
            purpose="credit_scoring",
            action="decision",
            applicant_id=applicant(1),
            decision_id="d1",
            alongside=saving,
        )
        again = decisions.saving("d1", "bank-a", applicant(1), decided_at=DAY, answer="{}")
        with pytest.raises(Exception, match="UNIQUE"):  # the decision fails: no record either
            log.append(
                partner_id="bank-a",
                purpose="credit_scoring",
                action="decision",
                applicant_id=applicant(1),
                decision_id="d1",
                alongside=again,
            )
        assert log.head[0] == 1
    checked = verify(path)
    assert checked.ok and checked.records == 1, checked.reason


def test_erasing_a_subject_deletes_their_decisions_and_reviews(store: DecisionStore) -> None:
    save(store, "d1", "bank-a", 1, DAY)
    save(store, "d2", "bank-b", 1, DAY)
    save(store, "d3", "bank-a", 2, DAY)
    store.request_review("d1", "bank-a", "my income changed")

    assert store.erase_subject(applicant(1)) == 2
    assert store.latest("bank-a", applicant(1)) is None
    assert store.latest("bank-a", applicant(2)) is not None
    assert store.review_queue() == []
    raw = b"".join(p.read_bytes() for p in store._database.path.parent.glob("decisions.db*"))
    assert applicant(1).encode() not in raw
