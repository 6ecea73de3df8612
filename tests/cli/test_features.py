"""``zhongtai features`` (cli/features.py): building and reading the feature store is in
tests/features; here, the group and its arguments."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.ran import Ran


def test_features_help_lists_its_commands(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("features", "--help")
    assert ran.exit_code == 0, ran.output
    for command in ("build", "online", "feast"):
        assert f" {command} " in ran.text


def test_online_needs_an_applicant(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("features", "online")
    assert ran.exit_code == 2
    assert "Missing argument" in ran.text


def test_online_help_names_the_default_service(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("features", "online", "--help")
    assert ran.exit_code == 0, ran.output
    assert "credit_scoring_v1" in ran.text and "--device-id" in ran.text
