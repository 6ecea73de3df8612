"""``zhongtai audit verify`` (cli/audit.py) on a small log written here."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

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
