"""``zhongtai airflow`` (cli/airflow.py): Airflow's own commands run in tests/dags and
tests/e2e; here, that the command is ours until its arguments."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.ran import Ran


def test_airflow_help_is_the_platforms(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("airflow", "--help")
    assert ran.exit_code == 0, ran.output
    assert "Run any airflow command against this project" in ran.text.replace("``", "")
