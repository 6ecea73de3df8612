"""Partners: keys shown once and stored hashed, scopes, consent, ownership, rate limits."""

from __future__ import annotations

import hashlib
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from zhongtai.settings import Settings
from zhongtai.stores.limits import RateLimiter
from zhongtai.stores.partners import (
    KEY_PREFIX,
    SHOWN_KEY_CHARS,
    Access,
    Partner,
    PartnerStore,
    Refusal,
    partners_add,
    partners_list,
    partners_path,
    partners_revoke,
)

CREDIT = "credit_scoring"
FRAUD = "fraud_prevention"


def applicant(n: int) -> str:
    return hashlib.sha256(f"applicant {n}".encode()).hexdigest()


def on_disk(path: Path) -> bytes:
    """Every byte SQLite keeps for the store: the database and its WAL."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PartnerStore]:
    with PartnerStore.open(tmp_path / "api" / "partners.db") as opened:
        yield opened


def add_bank(store: PartnerStore, partner_id: str = "bank-a") -> tuple[Partner, str]:
    return store.create_partner(
        partner_id,
        "Bank A",
        scopes=["partner_credit_v1"],
        purposes=[CREDIT, FRAUD],
        rate_limit_per_minute=120,
    )


def test_the_key_is_shown_once_and_only_its_hash_is_stored(store: PartnerStore) -> None:
    partner, key = add_bank(store)
    second_key = store.issue_key(partner.partner_id)

    stored = on_disk(store.path)
    for shown in (key, second_key):
        assert shown.startswith(KEY_PREFIX)
        assert len(shown) >= len(KEY_PREFIX) + 43  # 32 random bytes, url-safe base64
        assert shown.encode() not in stored
        assert shown[len(KEY_PREFIX) :].encode() not in stored
        assert hashlib.sha256(shown.encode()).digest() in stored
    listed = store.keys(partner.partner_id)
    assert [info.key_prefix for info in listed] == [
        key[:SHOWN_KEY_CHARS],
        second_key[:SHOWN_KEY_CHARS],
    ]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_authenticate_a_good_a_bad_and_a_revoked_key(store: PartnerStore) -> None:
    partner, key = add_bank(store)

    assert store.authenticate(key) == partner
    assert store.authenticate(key) == partner  # from the cache
    assert store.authenticate(KEY_PREFIX + "A" * 43) is None
    assert store.authenticate(key[:-1]) is None
    assert store.authenticate(key[len(KEY_PREFIX) :]) is None
    assert store.authenticate("") is None

    store.revoke_key(key[:SHOWN_KEY_CHARS])
    assert store.authenticate(key) is None

    rotated = store.issue_key(partner.partner_id)
    assert store.authenticate(rotated) == partner


def test_a_revoke_by_another_process_takes_effect_on_the_next_request(
    store: PartnerStore,
) -> None:
    partner, key = add_bank(store)
    assert store.authenticate(key) == partner  # cached by the API's store

    with PartnerStore.open(store.path) as cli_store:  # as `zhongtai partners revoke` does
        cli_store.revoke_key(key[:SHOWN_KEY_CHARS])

    assert store.authenticate(key) is None


def test_a_deactivated_partner_authenticates_with_no_key(store: PartnerStore) -> None:
    partner, key = add_bank(store)
    assert store.authenticate(key) == partner

    store.deactivate(partner.partner_id)

    assert store.authenticate(key) is None
    with pytest.raises(KeyError, match="no active partner 'bank-a'"):
        store.issue_key(partner.partner_id)
    assert store.partners()[0].active is False


def test_partners_are_validated(store: PartnerStore) -> None:
    add_bank(store)
    with pytest.raises(ValueError, match="'bank-a' already exists"):
        add_bank(store)
    with pytest.raises(ValueError, match="partner id 'Bank A' is not a slug"):
        add_bank(store, "Bank A")
    with pytest.raises(ValueError, match="rate_limit_per_minute must be at least 1"):
        store.create_partner("bank-b", "B", scopes=[], purposes=[], rate_limit_per_minute=0)
    with pytest.raises(KeyError, match="no key starts with 'zt_nothing'"):
        store.revoke_key("zt_nothing")


def test_scope_and_purpose_refusals(store: PartnerStore) -> None:
    partner, _ = add_bank(store)
    store.record_submission(partner, applicant(1), [CREDIT, "marketing"])

    assert store.access(partner, applicant(1), CREDIT, "partner_credit_v1").allowed
    assert store.access(partner, applicant(1), CREDIT).allowed

    marketing = store.access(partner, applicant(1), "marketing")
    assert marketing.refusal is Refusal.PURPOSE_NOT_IN_SCOPE
    assert marketing.refusal.http_status == 403
    assert "'marketing'" in marketing.message and "credit_scoring, fraud_prevention" in (
        marketing.message
    )

    other_service = store.access(partner, applicant(1), CREDIT, "fraud_detection_v1")
    assert other_service.refusal is Refusal.FEATURE_SERVICE_NOT_IN_SCOPE
    assert other_service.refusal.http_status == 403
    assert "'fraud_detection_v1'" in other_service.message


def test_ownership_and_consent_refusals(store: PartnerStore) -> None:
    bank_a, _ = add_bank(store, "bank-a")
    bank_b, _ = add_bank(store, "bank-b")
    store.record_submission(bank_a, applicant(1), [CREDIT])

    not_consented = store.access(bank_a, applicant(1), FRAUD)
    assert not_consented.refusal is Refusal.NO_CONSENT
    assert not_consented.refusal.http_status == 403
    assert "'fraud_prevention'" in not_consented.message

    # Bank B never submitted applicant 1: answered exactly as for an applicant nobody knows.
    someone_elses = store.access(bank_b, applicant(1), CREDIT)
    nobodys = store.access(bank_b, applicant(2), CREDIT)
    assert someone_elses.refusal is nobodys.refusal is Refusal.UNKNOWN_APPLICANT
    assert Refusal.UNKNOWN_APPLICANT.http_status == 404
    assert someone_elses.message.replace(applicant(1), "X") == nobodys.message.replace(
        applicant(2), "X"
    )
    assert "unknown to you" in nobodys.message


def test_the_latest_submission_s_consent_counts(store: PartnerStore) -> None:
    partner, _ = add_bank(store)
    store.record_submission(partner, applicant(1), [CREDIT, FRAUD])
    assert store.access(partner, applicant(1), FRAUD) == Access(None, "allowed")

    store.record_submission(partner, applicant(1), [CREDIT])

    assert store.access(partner, applicant(1), FRAUD).refusal is Refusal.NO_CONSENT
    assert store.consented_purposes(partner, applicant(1)) == {CREDIT}


def test_submissions_name_applicants_by_pseudonym_only(store: PartnerStore) -> None:
    partner, _ = add_bank(store)
    with pytest.raises(ValueError, match="pseudonym"):
        store.record_submission(partner, "11010519491231002X", [CREDIT])
    assert b"11010519491231002X" not in on_disk(store.path)


def test_the_rate_limiter_allows_a_minute_s_worth_then_says_when_to_retry(tmp_path: Path) -> None:
    now = [1000.0]
    limiter = RateLimiter(tmp_path / "limits.db", clock=lambda: now[0])

    assert [limiter.allow("bank-a", 5) for _ in range(5)] == [(True, 0.0)] * 5
    allowed, retry_after = limiter.allow("bank-a", 5)
    assert not allowed
    assert retry_after == pytest.approx(12.0)  # 5 a minute: one every 12 s
    assert limiter.allow("bank-b", 5) == (True, 0.0)  # buckets are per partner

    now[0] += 6.0
    allowed, retry_after = limiter.allow("bank-a", 5)
    assert not allowed
    assert retry_after == pytest.approx(6.0)

    now[0] += 6.0
    assert limiter.allow("bank-a", 5) == (True, 0.0)
    assert limiter.allow("bank-a", 5)[0] is False

    now[0] += 3600.0  # an idle hour refills the bucket to a minute's worth, no more
    assert [limiter.allow("bank-a", 5)[0] for _ in range(6)] == [True] * 5 + [False]


def test_the_rate_limiter_is_exact_under_threads(tmp_path: Path) -> None:
    limiter = RateLimiter(tmp_path / "limits.db", clock=lambda: 0.0)
    allowed: list[bool] = []

    def hammer() -> None:
        results = [limiter.allow("bank-a", 1000)[0] for _ in range(500)]
        allowed.extend(results)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(allowed) == 1000
    assert len(allowed) == 4000


def test_the_rate_limit_is_shared_by_every_process_s_limiter(tmp_path: Path) -> None:
    """Two workers (two limiters on one file) share one budget, not one each."""
    first = RateLimiter(tmp_path / "limits.db", clock=lambda: 0.0)
    second = RateLimiter(tmp_path / "limits.db", clock=lambda: 0.0)
    taken = [(first if n % 2 else second).allow("bank-a", 30)[0] for n in range(66)]
    assert sum(taken) == 30


def test_the_cli_bodies_add_list_and_revoke(settings: Settings) -> None:
    partner, key = partners_add(
        settings,
        "bank-a",
        "Bank A",
        scopes=["partner_credit_v1"],
        purposes=[CREDIT],
        rate_limit_per_minute=60,
    )
    assert partners_path(settings) == settings.data_dir / "api" / "partners.db"

    [(listed, keys)] = partners_list(settings)
    assert listed == partner
    assert [(info.key_prefix, info.revoked_at) for info in keys] == [(key[:SHOWN_KEY_CHARS], None)]
    assert key not in repr(partners_list(settings))

    revoked = partners_revoke(settings, key[:SHOWN_KEY_CHARS])
    assert revoked.partner_id == "bank-a" and revoked.revoked_at is not None
    with PartnerStore.open(partners_path(settings)) as store:
        assert store.authenticate(key) is None


def test_erasing_a_subject_deletes_their_submissions_and_consents(store: PartnerStore) -> None:
    partner, _ = add_bank(store)
    store.record_submission(partner, applicant(1), [CREDIT])
    store.record_submission(partner, applicant(2), [CREDIT])

    assert store.erase_subject(applicant(1)) == 1
    assert store.consented_purposes(partner, applicant(1)) is None
    assert store.consented_purposes(partner, applicant(2)) == {CREDIT}
    assert applicant(1).encode() not in on_disk(store.path)
