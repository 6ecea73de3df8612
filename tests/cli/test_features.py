"""``zhongtai features`` (cli/features.py): building and reading the feature store is in
tests/features; here, the group and its arguments."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import psutil

from tests.cli.ran import Ran
from tests.worlds import copy_world
from zhongtai.serving import free_port, running
from zhongtai.settings import Settings


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


def test_the_feast_ui_listens_on_this_machine_only(feature_world: Settings, tmp_path: Path) -> None:
    """`zhongtai features feast ui` as a user runs it (Feast's own default: 0.0.0.0)."""
    settings = copy_world(feature_world, tmp_path)
    port = free_port()
    env = {**os.environ, "ZHONGTAI_DATA_DIR": str(settings.data_dir), "ZHONGTAI_ENV": "test"}
    command = [str(Path(sys.executable).parent / "zhongtai"), "features", "feast", "ui"]
    with running([*command, "--port", str(port)], env, lambda: bool(_listening_on(port))):
        addresses = _listening_on(port)
    assert addresses == {"127.0.0.1"}


def _listening_on(port: int) -> set[str]:
    return {
        connection.laddr.ip
        for connection in psutil.net_connections("inet")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }
