"""``zhongtai keys`` (cli/keys.py): rotating the development keyring's master key."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable

from tests.cli.ran import Ran
from zhongtai.settings import Settings


def test_keys_help_lists_rotate(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("keys", "--help")
    assert ran.exit_code == 0, ran.output
    assert "rotate" in ran.text


def test_rotate_adds_a_master_key_version_each_time(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    first = zhongtai("keys", "rotate")
    assert first.exit_code == 0, first.output
    assert "LOCAL DEVELOPMENT keyring" in first.text  # created on first use, loudly
    assert "master key v2 active; 0 data keys re-wrapped" in first.text
    second = zhongtai("keys", "rotate")
    assert second.exit_code == 0, second.output
    assert "master key v3 active" in second.text


def test_rotate_rewraps_the_data_keys_of_landed_subjects(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    assert zhongtai("land", "--source", "applications").exit_code == 0
    ran = zhongtai("keys", "rotate")
    assert ran.exit_code == 0, ran.output
    rewrapped = re.search(r"master key v2 active; ([\d,]+) data keys re-wrapped", ran.text)
    assert rewrapped is not None, ran.output
    count = int(rewrapped.group(1).replace(",", ""))
    assert count > 0
    assert f"data keys per master key version: {{2: {count}}}" in ran.text  # none left on v1


def test_what_the_command_writes_is_private_to_its_owner(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    assert zhongtai("land", "--source", "applications").exit_code == 0
    raw = sorted(path for path in settings.raw_dir.rglob("*") if path.is_file())
    assert raw, "nothing landed"
    assert {stat.S_IMODE(path.stat().st_mode) for path in raw} <= {0o600, 0o400}
    assert stat.S_IMODE(settings.raw_dir.stat().st_mode) == 0o700
    readable = [
        f"{path.relative_to(settings.data_dir)} {stat.S_IMODE(path.stat().st_mode):o}"
        for path in [settings.data_dir, *settings.data_dir.rglob("*")]
        if not path.is_symlink() and path.stat().st_mode & 0o077
    ]
    assert readable == []  # inbox, vault, logs, folders: none open to other accounts
