"""``zhongtai erase`` (cli/erase.py): the command's contract on an empty platform.

What it reaches on a real world (every room, the enumeration attack, re-landing, a run
stopped midway) is tested in tests/adversarial/test_erasure.py."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tests.cli.ran import Ran
from zhongtai.privacy.keys import resolve_keyring
from zhongtai.privacy.vault import Vault
from zhongtai.settings import Settings

PSEUDONYM = hashlib.sha256(b"an applicant").hexdigest()


def test_erase_needs_a_reason(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("erase", PSEUDONYM)
    assert ran.exit_code == 2
    assert "'--reason'" in ran.text


def test_erase_records_the_erasure_in_the_vault(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("erase", PSEUDONYM, "--reason", "erasure request 2025-03-15")
    assert ran.exit_code == 0, ran.output
    assert f"erased {PSEUDONYM}" in ran.text
    assert settings.vault_path.is_file()
    with Vault.open(settings.vault_path, resolve_keyring(settings)) as vault:
        assert vault.erased([PSEUDONYM]) == {PSEUDONYM}


def test_erase_reports_each_room_and_is_idempotent(zhongtai: Callable[..., Ran]) -> None:
    first = zhongtai("erase", PSEUDONYM, "--reason", "request")
    second = zhongtai("erase", PSEUDONYM, "--reason", "request")

    assert first.exit_code == second.exit_code == 0, (first.output, second.output)
    assert "vault: 0 values crypto-shredded" in second.text
    rooms = (
        *("inbox", "quarantine", "raw zone", "warehouse", "marts", "feature tables"),
        *("online store", "decisions", "submissions", "audit payloads", "logs and reports"),
    )
    for room in rooms:
        assert f"{room}: 0 erased" in second.text
    assert "vault 0, inbox 0" in second.text


def test_erase_help_says_a_stopped_run_is_completed_by_running_it_again(
    zhongtai: Callable[..., Ran],
) -> None:
    ran = zhongtai("erase", "--help")
    assert ran.exit_code == 0
    assert "running the same command again" in ran.text


def test_erase_refuses_a_clear_identifier(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("erase", "110101199003074518", "--reason", "request")
    assert ran.exit_code == 1
    assert "pseudonym" in str(ran.exception)
