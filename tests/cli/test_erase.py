"""``zhongtai erase`` (cli/erase.py): crypto-shredding one subject of the vault."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tests.cli.ran import Ran
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


def test_erase_refuses_a_clear_identifier(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("erase", "110101199003074518", "--reason", "request")
    assert ran.exit_code == 1
    assert "pseudonym" in str(ran.exception)
