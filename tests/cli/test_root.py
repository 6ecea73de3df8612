"""The root command (cli/__init__.py): its commands and groups, and the one clock option."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.ran import Ran
from zhongtai.settings import Settings

COMMANDS = ("generate", "land", "demo", "serve", "airflow", "erase")
GROUPS = ("keys", "warehouse", "features", "models", "partners", "audit")


def test_help_lists_every_command_and_group(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("--help")
    assert ran.exit_code == 0, ran.output
    assert "--as-of" in ran.text
    for name in (*COMMANDS, *GROUPS):
        assert f" {name} " in ran.text, name


def test_without_a_command_it_shows_the_help(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai()
    assert "Usage:" in ran.text and "generate" in ran.text


def test_a_bad_as_of_is_refused_naming_the_option(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("--as-of", "2025-13-01", "partners", "list")
    assert ran.exit_code == 2
    assert "'--as-of'" in ran.text and "2025-13-01" in ran.text
    assert not settings.data_dir.exists()  # refused before anything ran


def test_a_bad_as_of_in_the_environment_is_refused_naming_the_setting(
    zhongtai: Callable[..., Ran], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHONGTAI_AS_OF", "2025-13-01")
    ran = zhongtai("partners", "list")
    assert ran.exit_code == 2
    assert "bad setting" in ran.text and "as_of" in ran.text


def test_an_unknown_command_is_refused(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("lend")
    assert ran.exit_code == 2
    assert "No such command 'lend'" in ran.text


def test_a_command_logs_its_tools_to_a_file_of_the_data_dir(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("partners", "list")
    assert ran.exit_code == 0, ran.output
    assert (settings.logs_dir / "partners.log").is_file()
