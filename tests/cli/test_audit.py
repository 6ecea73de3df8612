"""``zhongtai audit verify`` and ``migrate`` (cli/audit.py) on small logs written here."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

import pytest

from tests.cli.ran import Ran
from zhongtai.settings import Settings
from zhongtai.stores.audit import AuditLog, audit_log_path


def write_log(settings: Settings, records: int) -> tuple[int, str]:
    """A log of ``records`` decisions; its head."""
    with AuditLog.open(audit_log_path(settings)) as log:
        for n in range(records):
            log.append(
                partner_id="bank_a",
                purpose="credit_scoring",
                action="decision",
                applicant_id=hashlib.sha256(f"applicant {n}".encode()).hexdigest(),
            )
        return log.head


def test_without_a_log_it_fails_naming_where_it_looked(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("audit", "verify")
    assert ran.exit_code == 1
    assert f"no audit log at {audit_log_path(settings)}" in ran.text


def test_an_intact_log_passes_and_prints_its_head(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    seq, digest = write_log(settings, 3)
    ran = zhongtai("audit", "verify")
    assert ran.exit_code == 0, ran.output
    assert "3 record(s), chain intact" in ran.text
    assert ran.output.strip().splitlines()[-1] == f"{seq}:{digest}"
    assert zhongtai("audit", "verify", "--anchor", f"{seq}:{digest}").exit_code == 0


def test_a_rewritten_record_fails_at_that_record(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    write_log(settings, 3)
    with sqlite3.connect(audit_log_path(settings)) as connection:  # as one with the file
        connection.execute("DROP TRIGGER audit_records_are_never_updated")
        connection.execute("UPDATE audit_records SET purpose = 'marketing' WHERE seq = 2")
    ran = zhongtai("audit", "verify")
    assert ran.exit_code == 1
    assert "audit log broken at record 2" in ran.text


def test_a_decision_without_its_audit_record_fails(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    from datetime import UTC, datetime

    from zhongtai.stores.decisions import DecisionStore, decisions_path

    write_log(settings, 2)
    with DecisionStore.open(decisions_path(settings)) as decisions:  # no audit record
        decisions.save(
            "d" * 32,
            "bank_a",
            hashlib.sha256(b"applicant 0").hexdigest(),
            decided_at=datetime.now(UTC),
            answer="{}",
        )
    ran = zhongtai("audit", "verify")
    assert ran.exit_code == 1
    assert "1 stored decision(s) have no audit record" in ran.text


def test_an_anchor_that_is_not_in_the_log_fails(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    write_log(settings, 2)
    ran = zhongtai("audit", "verify", "--anchor", f"5:{'0' * 64}")
    assert ran.exit_code == 1
    assert "audit log broken" in ran.text


def test_a_malformed_anchor_is_refused(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("audit", "verify", "--anchor", "latest")
    assert ran.exit_code == 2
    assert "anchor 'latest' is not SEQ:HASH" in ran.text


SCHEMA_1 = """
CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, partner_id TEXT NOT NULL, purpose TEXT NOT NULL,
    action TEXT NOT NULL, applicant_id TEXT NOT NULL, decision_id TEXT, features TEXT NOT NULL,
    model_versions TEXT NOT NULL, rules_version TEXT, outcome TEXT, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE decisions (
    decision_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, applicant_id TEXT NOT NULL,
    decided_at TEXT NOT NULL, answer TEXT NOT NULL, review_status TEXT, review_reason TEXT,
    review_requested_at TEXT
);
PRAGMA user_version = 1;
"""
V1_COLUMNS = (
    "action", "applicant_id", "at", "decision_id", "features", "model_versions", "outcome",
    "partner_id", "prev_hash", "purpose", "rules_version", "seq",
)  # fmt: skip


def write_schema_1(settings: Settings, decisions: int) -> tuple[int, str]:
    """The two files an older zhongtai left: a schema-1 audit log and decisions.db."""
    from zhongtai.stores.audit import GENESIS_HASH, canonical_hash

    folder = audit_log_path(settings).parent
    folder.mkdir(parents=True)
    previous = GENESIS_HASH
    with (
        sqlite3.connect(folder / "audit.db") as log,
        sqlite3.connect(folder / "decisions.db") as kept,
    ):
        log.executescript(SCHEMA_1)
        kept.executescript(SCHEMA_1)
        for n in range(1, decisions + 1):
            applicant = hashlib.sha256(f"applicant {n}".encode()).hexdigest()
            values = {
                "action": "decision", "applicant_id": applicant, "at": f"2026-11-0{n}T09:00:00Z",
                "decision_id": f"{n:032x}", "features": '{"age_years":40}',
                "model_versions": '{"credit_pd":"1"}', "outcome": '{"outcome":"approve"}',
                "partner_id": "bank_a", "prev_hash": previous, "purpose": "credit_scoring",
                "rules_version": "r1", "seq": n,
            }  # fmt: skip
            previous = canonical_hash(values, V1_COLUMNS)
            log.execute(
                f"INSERT INTO audit_records ({', '.join(V1_COLUMNS)}, hash) "
                f"VALUES ({', '.join('?' * 13)})",
                (*values.values(), previous),
            )
            kept.execute(
                "INSERT INTO decisions (decision_id, partner_id, applicant_id, decided_at, "
                "answer) VALUES (?, ?, ?, ?, '{}')",
                (f"{n:032x}", "bank_a", applicant, values["at"]),
            )
    return decisions, previous


def test_an_older_log_is_refused_then_migrated_and_verifies(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    from zhongtai.stores.decisions import DecisionStore, decisions_path
    from zhongtai.stores.ledger import OldLedgerError

    old_head = write_schema_1(settings, 3)
    with pytest.raises(OldLedgerError, match="zhongtai audit migrate"):
        AuditLog.open(audit_log_path(settings))

    ran = zhongtai("audit", "migrate")
    assert ran.exit_code == 0, ran.output
    assert "migrated 3 audit record(s) and 3 decision(s)" in ran.text
    assert ran.output.strip().splitlines()[-1] == f"{old_head[0]}:{old_head[1]}"
    assert (audit_log_path(settings).parent / "audit.schema1.db").exists()
    verified = zhongtai("audit", "verify")
    assert verified.exit_code == 0, verified.output
    with DecisionStore.open(decisions_path(settings)) as store:
        assert store.latest("bank_a", hashlib.sha256(b"applicant 2").hexdigest()) == "{}"


def test_a_broken_older_log_is_not_migrated(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    write_schema_1(settings, 3)
    with sqlite3.connect(audit_log_path(settings)) as connection:
        connection.execute("UPDATE audit_records SET outcome = '{}' WHERE seq = 2")
    ran = zhongtai("audit", "migrate")
    assert ran.exit_code == 1
    assert "record 2 of the schema-1 audit log" in ran.text and "nothing was migrated" in ran.text
    assert not (audit_log_path(settings).parent / "audit.schema1.db").exists()
