"""Hostile API inputs (issue 13, rows 1, 4, 7, 8 and the API side of 2), as a careless or
hostile partner would send them: each is refused with its status and a named reason, as
problem details, with no server error and no clear value echoed back or stored.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.test_app import request_for
from zhongtai.api.main import create_app
from zhongtai.api.platform import open_platform
from zhongtai.cli.demo_api import delivered_applications
from zhongtai.privacy.identity import check_characters
from zhongtai.privacy.keys import resolve_keyring
from zhongtai.privacy.pseudonyms import pseudonymise_one
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings
from zhongtai.stores.audit import audit_log_path, verify
from zhongtai.stores.partners import PartnerStore, partners_path

PHONE = "13812345678"
OUTCOMES = {
    401: "refused",
    403: "refused",
    404: "not_found",
    410: "erased",
    413: "refused",
    422: "refused",
    429: "rate_limited",
    503: "unavailable",
}


def national_id(born: date | str, area: str = "110105", sequence: str = "123") -> str:
    """A national ID with a valid check character; ``born`` as YYYYMMDD text may be an
    impossible date."""
    body = f"{area}{born:%Y%m%d}{sequence}" if isinstance(born, date) else area + born + sequence
    codes = np.frombuffer(body.encode(), dtype=np.uint8)[None, :]
    return body + chr(check_characters(codes)[0])


def with_bad_check(text: str) -> str:
    last = "0" if text[-1] != "0" else "1"
    return text[:-1] + last


@dataclass
class Hostile:
    client: TestClient
    settings: Settings
    keys: dict[str, str]
    rows: list[dict[str, str]]
    sent: list[str]  # every clear value planted: none may turn up in an answer or a file
    erased: str | None = None

    def auth(self, partner: str = "hostile_a") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[partner]}"}

    def body(self, n: int = 0, **applicant: Any) -> dict[str, Any]:
        body = request_for(self.rows[n])
        body["applicant"] = {**body["applicant"], **applicant}
        self.sent.append(body["applicant"]["national_id"])
        return body

    def decide(self, body: Any, partner: str = "hostile_a") -> httpx.Response:
        return self.client.post("/v1/decisions", json=body, headers=self.auth(partner))

    def pseudonym(self, text: str) -> str:
        key = resolve_keyring(self.settings, announce=lambda _: None).pseudonym_key
        found = pseudonymise_one(text, kind="national_id", key=key)
        assert found is not None
        return found


@pytest.fixture(scope="module")
def hostile(served_world: Settings, feature_world: Settings) -> Iterator[Hostile]:
    keys = {}
    with PartnerStore.open(partners_path(served_world)) as store:
        for partner in ("hostile_a", "hostile_b"):
            _, keys[partner] = store.create_partner(
                partner,
                partner.title(),
                scopes=["partner_credit_v1", "partner_fraud_v1"],
                purposes=["credit_scoring", "fraud_prevention"],
                rate_limit_per_minute=100_000,
            )
    app = create_app(lambda: open_platform(served_world))
    with TestClient(app) as client:
        yield Hostile(client, served_world, keys, delivered_applications(feature_world), [])


# --- the cases ----------------------------------------------------------------------

Send = Callable[[Hostile], httpx.Response]


def _decided(h: Hostile, n: int, partner: str = "hostile_a") -> dict[str, Any]:
    answer = h.decide(h.body(n), partner)
    assert answer.status_code == 200, answer.text
    decided: dict[str, Any] = answer.json()
    return decided


ERASED_ID = national_id(date(1981, 3, 4), sequence="777")


def _erased_subject(h: Hostile) -> str:
    """A subject decided once, then erased in the vault: their pseudonym."""
    if h.erased is None:
        body = h.body(7, national_id=ERASED_ID, birth_date="1981-03-04")
        assert h.decide(body).status_code == 200
        h.erased = h.pseudonym(ERASED_ID)
        keyring = resolve_keyring(h.settings, announce=lambda _: None)
        with Vault.open(h.settings.vault_path, keyring) as vault:
            vault.erase(h.erased, "erasure request (adversarial test)")
    return h.erased


def _decide_erased(h: Hostile) -> httpx.Response:
    _erased_subject(h)
    return h.decide(h.body(7, national_id=ERASED_ID, birth_date="1981-03-04"))


def _clear_id_as_entity(h: Hostile) -> httpx.Response:
    h.sent.append(h.rows[5]["national_id"])
    return h.client.get(f"/v1/scores/{h.rows[5]['national_id']}", headers=h.auth())


def _subject_of(h: Hostile, n: int) -> str:
    """Row ``n`` decided for hostile_a: the applicant's pseudonym."""
    platform = h.client.app.state.platform  # type: ignore[attr-defined]
    subject: str = platform.decisions.applicant_of(_decided(h, n)["decision_id"])
    return subject


def _withdrawn_then_read(h: Hostile) -> httpx.Response:
    subject = _subject_of(h, 8)
    before = h.client.get(f"/v1/features/partner_fraud_v1/{subject}", headers=h.auth())
    assert before.status_code == 200, before.text
    withdrawn = h.body(8)
    withdrawn["consents"] = ["credit_scoring"]
    refused = h.decide(withdrawn)
    assert refused.status_code == 403 and "fraud_prevention" in refused.json()["detail"]
    return h.client.get(f"/v1/features/partner_fraud_v1/{subject}", headers=h.auth())


def _withdrawn_credit_then_scores(h: Hostile) -> httpx.Response:
    subject = _subject_of(h, 9)
    withdrawn = h.body(9)
    withdrawn["consents"] = ["fraud_prevention"]
    assert h.decide(withdrawn).status_code == 403
    return h.client.get(f"/v1/scores/{subject}", headers=h.auth())


def _review(h: Hostile, reason: str) -> httpx.Response:
    decided = _decided(h, 10)
    h.sent.append(reason)
    return h.client.post(
        f"/v1/decisions/{decided['decision_id']}/review", json={"reason": reason}, headers=h.auth()
    )


def _failed_authentication_flood(h: Hostile) -> httpx.Response:
    flooder = TestClient(h.client.app, client=("203.0.113.9", 40000))  # the app is running
    bad = {"Authorization": "Bearer zt_guessing"}
    answers = [flooder.get(f"/v1/scores/{'0' * 64}", headers=bad) for _ in range(25)]
    assert answers[0].status_code == 401
    return answers[-1]


def _locked_ledger(h: Hostile) -> httpx.Response:
    """A real exclusive lock on the ledger, held by another connection: the decision waits
    its bounded time and answers 503; /healthz answers all along."""
    holder = sqlite3.connect(audit_log_path(h.settings), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        answer: list[httpx.Response] = []
        deciding = threading.Thread(target=lambda: answer.append(h.decide(h.body(11))))
        deciding.start()
        health = [h.client.get("/healthz").status_code for _ in range(3)]
        deciding.join()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert health == [200, 200, 200]
    assert answer[0].headers["Retry-After"]
    return answer[0]


CASES: list[tuple[str, str, Send, int, str]] = [
    # (id, kind, send, status, the reason named in the answer)
    (
        "national-id-bad-check-digit",
        "api.identity",
        lambda h: h.decide(h.body(national_id=with_bad_check(h.rows[0]["national_id"]))),
        422,
        "national_id: value error, check digit",
    ),
    (
        "national-id-impossible-date",
        "api.identity",
        lambda h: h.decide(h.body(national_id=national_id("19901341"))),
        422,
        "impossible birth date",
    ),
    (
        "national-id-born-in-the-future",
        "api.identity",
        lambda h: h.decide(
            h.body(national_id=national_id(date(2090, 5, 5)), birth_date="2090-05-05")
        ),
        422,
        "birth date in the future",
    ),
    (
        "national-id-of-blanks",
        "api.identity",
        lambda h: h.decide(h.body(national_id=" " * 18)),
        422,
        "national_id",
    ),
    (
        "national-id-too-short",
        "api.identity",
        lambda h: h.decide(h.body(national_id="11010519491231")),
        422,
        "national_id",
    ),
    (
        "birth-date-says-36-id-says-62",
        "api.identity",
        lambda h: h.decide(
            h.body(national_id=national_id(date(1964, 6, 1)), birth_date="1990-06-01")
        ),
        422,
        "birth_date disagrees",
    ),
    (
        "minor-by-the-id",
        "api.identity",
        lambda h: h.decide(
            h.body(
                national_id=national_id(date(h.settings.today().year - 14, 1, 2)),
                birth_date=f"{h.settings.today().year - 14}-01-02",
            )
        ),
        422,
        "under 18",
    ),
    (
        "born-more-than-120-years-ago",
        "api.identity",
        lambda h: h.decide(
            h.body(national_id=national_id(date(1900, 2, 2)), birth_date="1900-02-02")
        ),
        422,
        "more than 120 years",
    ),
    (
        "fraud-consent-withdrawn",
        "api.consent",
        lambda h: h.decide({**h.body(1), "consents": ["credit_scoring"]}),
        403,
        "fraud_prevention",
    ),
    (
        "no-consent-at-all",
        "api.consent",
        lambda h: h.decide({**h.body(1), "consents": []}),
        403,
        "credit_scoring",
    ),
    (
        "consent-to-an-unknown-purpose",
        "api.consent",
        lambda h: h.decide({**h.body(1), "consents": ["marketing"]}),
        422,
        "consents",
    ),
    (
        "features-read-after-fraud-consent-withdrawn",
        "api.consent",
        _withdrawn_then_read,
        403,
        "did not consent to 'fraud_prevention'",
    ),
    (
        "scores-read-after-credit-consent-withdrawn",
        "api.consent",
        _withdrawn_credit_then_scores,
        403,
        "did not consent to 'credit_scoring'",
    ),
    (
        "term-as-a-string",
        "api.schema",
        lambda h: h.decide(
            {**h.body(2), "application": {**h.body(2)["application"], "term_months": "12"}}
        ),
        422,
        "term_months",
    ),
    (
        "amount-over-ten-million",
        "api.schema",
        lambda h: h.decide(
            {
                **h.body(2),
                "application": {**h.body(2)["application"], "requested_amount_minor": 10**12},
            }
        ),
        422,
        "requested_amount_minor",
    ),
    (
        "negative-income",
        "api.schema",
        lambda h: h.decide(
            {**h.body(2), "application": {**h.body(2)["application"], "monthly_income_minor": -1}}
        ),
        422,
        "monthly_income_minor",
    ),
    (
        "ipv6-address",
        "api.schema",
        lambda h: h.decide(h.body(2, ip_address="::1")),
        422,
        "ip_address",
    ),
    (
        "city-code-with-letters",
        "api.schema",
        lambda h: h.decide(
            {**h.body(2), "application": {**h.body(2)["application"], "city_code": "11O1O5"}}
        ),
        422,
        "city_code",
    ),
    (
        "phone-in-an-unknown-field",
        "api.schema",
        lambda h: h.decide({**h.body(2), "contacts": [PHONE]}),
        422,
        "contacts",
    ),
    (
        "seventy-kilobyte-name",
        "api.size",
        lambda h: h.decide({**h.body(2), "name": "x" * 70_000}),
        413,
        "request body over",
    ),
    (
        "not-json",
        "api.schema",
        lambda h: h.client.post(
            "/v1/decisions",
            content=b"{national_id",
            headers={**h.auth(), "Content-Type": "application/json"},
        ),
        422,
        "json",
    ),
    (
        "no-key",
        "api.auth",
        lambda h: h.client.post("/v1/decisions", json=h.body(3)),
        401,
        "missing or invalid API key",
    ),
    (
        "failed-authentication-flood",
        "api.auth",
        _failed_authentication_flood,
        429,
        "too many failed authentications",
    ),
    (
        "metrics-without-a-key",
        "api.auth",
        lambda h: h.client.get("/metrics"),
        401,
        "missing or invalid API key",
    ),
    (
        "metrics-with-a-partner-key",
        "api.auth",
        lambda h: h.client.get("/metrics", headers=h.auth()),
        403,
        "operations",
    ),
    (
        "another-partner-s-applicant",
        "api.ownership",
        lambda h: h.client.get(f"/v1/scores/{_subject_of(h, 4)}", headers=h.auth("hostile_b")),
        404,
        "unknown to you",
    ),
    (
        "entity-that-is-a-clear-id",
        "api.schema",
        _clear_id_as_entity,
        422,
        "entity",
    ),
    (
        "review-reason-with-a-phone",
        "api.review",
        lambda h: _review(h, f"please call me on {PHONE}"),
        422,
        "reason: value error, holds personal data (mobile)",
    ),
    (
        "review-reason-with-a-national-id",
        "api.review",
        lambda h: _review(h, f"my id is {national_id(date(1970, 7, 7), sequence='555')}"),
        422,
        "holds personal data (national_id)",
    ),
    (
        "review-of-a-forged-decision-id",
        "api.review",
        lambda h: h.client.post(
            "/v1/decisions/not-a-decision/review", json={"reason": "x"}, headers=h.auth()
        ),
        422,
        "decision_id",
    ),
    (
        "review-of-another-partner-s-decision",
        "api.ownership",
        lambda h: h.client.post(
            f"/v1/decisions/{_decided(h, 6)['decision_id']}/review",
            json={"reason": "a person please"},
            headers=h.auth("hostile_b"),
        ),
        404,
        "no decision",
    ),
    (
        "decision-for-an-erased-subject",
        "api.erasure",
        _decide_erased,
        410,
        "erased at their request",
    ),
    (
        "features-of-an-erased-subject",
        "api.erasure",
        lambda h: h.client.get(
            f"/v1/features/partner_credit_v1/{_erased_subject(h)}",
            headers=h.auth(),
        ),
        410,
        "erased at their request",
    ),
    (
        "scores-of-an-erased-subject",
        "api.erasure",
        lambda h: h.client.get(
            f"/v1/scores/{_erased_subject(h)}",
            headers=h.auth(),
        ),
        410,
        "erased at their request",
    ),
    (
        "decision-while-the-ledger-is-locked",
        "api.store_lock",
        _locked_ledger,
        503,
        "busy or unavailable",
    ),
]


@pytest.mark.parametrize(
    ("kind", "send", "status", "named"),
    [pytest.param(*case, id=case_id) for case_id, *case in CASES],
)
def test_a_hostile_input_is_refused_with_its_reason(
    hostile: Hostile,
    kind: str,
    send: Send,
    status: int,
    named: str,
    record_property: Callable[[str, object], None],
) -> None:
    record_property("kind", kind)
    answer = send(hostile)
    record_property("outcome", OUTCOMES.get(answer.status_code, str(answer.status_code)))
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem["status"] == status and problem["title"]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert named.lower() in problem["detail"].lower()
    for value in [*hostile.sent, PHONE]:
        assert value not in answer.text, "a clear value was echoed"
    for internal in ("audit_records", "decisions.", "sqlite", "Traceback", "/var/"):
        assert internal not in answer.text


def files_holding_elsewhere(root: Path, values: set[str]) -> list[str]:
    """``files_holding`` for each value, run in another process: this one has SQLite
    connections open on these files, and closing any other descriptor of a file drops all
    of a process's POSIX locks on it."""
    script = (
        "import json, sys; from pathlib import Path\n"
        "from tests.adversarial.conftest import files_holding\n"
        "asked = json.load(sys.stdin)\n"
        "found = [str(p) for v in asked['values'] for p in files_holding(Path(asked['root']), v)]\n"
        "print(json.dumps(found))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"root": str(root), "values": sorted(values)}),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    found: list[str] = json.loads(done.stdout)
    return found


def test_no_planted_value_is_stored_anywhere(hostile: Hostile) -> None:
    """After every case above: no national ID, phone or free text sent turns up in any
    file the API writes (its stores, the vault's tombstones, logs)."""
    assert hostile.sent, "runs after the cases"
    values = {PHONE, *(sent for sent in hostile.sent if sent.strip())}
    for folder in ("api", "vault", "logs"):
        assert files_holding_elsewhere(hostile.settings.data_dir / folder, values) == []


def test_the_ledger_verifies_after_the_hostile_run(hostile: Hostile) -> None:
    checked = verify(audit_log_path(hostile.settings))
    assert checked.ok, checked.reason
    assert checked.decisions_without_record == 0
