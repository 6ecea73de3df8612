"""``zhongtai partners`` (cli/partners.py): registering partners, listing and revoking keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.ran import Ran

ADD_BANK_A = (
    "partners", "add", "bank_a", "--name", "Bank A",
    "--scope", "partner_credit_v1", "--purpose", "credit_scoring",
)  # fmt: skip


def test_partners_help_lists_its_commands(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("partners", "--help")
    assert ran.exit_code == 0, ran.output
    for command in ("add", "list", "revoke"):
        assert f" {command} " in ran.text


def test_add_shows_the_key_once_and_list_never(zhongtai: Callable[..., Ran]) -> None:
    added = zhongtai(*ADD_BANK_A, "--rate-limit", "120")
    assert added.exit_code == 0, added.output
    assert "partner bank_a registered; its API key (shown once):" in added.text
    key = added.output.strip().splitlines()[-1]
    assert key.startswith("zt_") and len(key) > 40

    listed = zhongtai("partners", "list")
    assert listed.exit_code == 0, listed.output
    assert "bank_a" in listed.text and "Bank A" in listed.text and "120" in listed.text
    assert "partner_credit_v1" in listed.text and "credit_scoring" in listed.text
    assert key[:11] in listed.text and key not in listed.output


def test_revoke_marks_the_key_revoked(zhongtai: Callable[..., Ran]) -> None:
    key = zhongtai(*ADD_BANK_A).output.strip().splitlines()[-1]
    prefix = key[:11]
    ran = zhongtai("partners", "revoke", prefix)
    assert ran.exit_code == 0, ran.output
    assert f"revoked {prefix} of bank_a at" in ran.text
    assert f"{prefix} (revoked)" in zhongtai("partners", "list").text


def test_an_unknown_key_prefix_is_refused(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("partners", "revoke", "zt_nothing")
    assert ran.exit_code == 2
    assert "no key starts with 'zt_nothing'" in ran.text


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("partners", "add", "Bank A", "--name", "A", *ADD_BANK_A[5:]), "slug"),
        (("partners", "add", "bank_a", *ADD_BANK_A[5:]), "'--name'"),
        ((*ADD_BANK_A, "--rate-limit", "0"), "'--rate-limit'"),
        ((*ADD_BANK_A[:6], "everything", "--purpose", "credit_scoring"), "unknown 'everything'"),
        ((*ADD_BANK_A[:8], "marketing"), "--purpose: unknown 'marketing'"),
    ],
)
def test_a_bad_partner_is_refused_naming_what_is_wrong(
    zhongtai: Callable[..., Ran], args: tuple[str, ...], named: str
) -> None:
    ran = zhongtai(*args)
    assert ran.exit_code == 2
    assert named in ran.text


def test_an_operations_key_needs_no_purpose(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("partners", "add", "ops", "--name", "Operations", "--scope", "operations")
    assert ran.exit_code == 0, ran.output


def test_a_partner_is_registered_once(zhongtai: Callable[..., Ran]) -> None:
    assert zhongtai(*ADD_BANK_A).exit_code == 0
    again = zhongtai(*ADD_BANK_A)
    assert again.exit_code == 2
    assert "bank_a" in again.text
