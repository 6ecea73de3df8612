"""``zhongtai airflow`` (cli/airflow.py): Airflow's own commands run in tests/dags and
tests/e2e; here, that the command is ours until its arguments."""

from __future__ import annotations

import stat
from collections.abc import Callable

import pytest

from tests.cli.ran import Ran
from zhongtai.airflow_env import bind_locally
from zhongtai.settings import Settings


def test_airflow_help_is_the_platforms(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("airflow", "--help")
    assert ran.exit_code == 0, ran.output
    assert "Run any airflow command against this project" in ran.text.replace("``", "")


def test_airflow_listens_on_this_machine_only_and_keeps_its_files_private(
    zhongtai: Callable[..., Ran], settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    ran = zhongtai("airflow", "config", "get-value", "api", "host")
    assert ran.exit_code == 0, ran.output
    assert capfd.readouterr().out.strip().splitlines()[-1] == "127.0.0.1"
    config = (settings.airflow_home / "airflow.cfg").read_text()
    assert "\nhost = 127.0.0.1\n" in config  # [api], where Airflow writes 0.0.0.0
    assert "scheduler_health_check_server_host = 127.0.0.1" in config
    assert "= 0.0.0.0\n" not in config
    assert stat.S_IMODE((settings.airflow_home / "airflow.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.airflow_home.stat().st_mode) == 0o700


def test_a_host_the_user_set_is_kept(settings: Settings) -> None:
    settings.airflow_home.mkdir(parents=True)
    config = settings.airflow_home / "airflow.cfg"
    config.write_text("[api]\nhost = 10.0.0.5\n[celery]\nflower_host = 0.0.0.0\n")
    bind_locally(settings.airflow_home)
    assert config.read_text() == "[api]\nhost = 10.0.0.5\n[celery]\nflower_host = 127.0.0.1\n"
