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
