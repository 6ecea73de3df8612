"""``zhongtai warehouse`` (cli/warehouse.py): dbt's own runs are in tests/dbt and tests/e2e;
here, the group and the choice of target."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.ran import Ran
from zhongtai.settings import Settings


def test_warehouse_help_lists_build_and_docs(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("warehouse", "--help")
    assert ran.exit_code == 0, ran.output
    assert " build " in ran.text and " docs " in ran.text


def test_build_help_names_both_targets(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("warehouse", "build", "--help")
    assert ran.exit_code == 0, ran.output
    assert "duckdb" in ran.text and "spark" in ran.text and "--full-refresh" in ran.text


def test_an_unknown_target_is_refused_before_dbt_runs(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("warehouse", "build", "--target", "oracle")
    assert ran.exit_code == 2
    assert "unknown target 'oracle': use duckdb or spark" in ran.text
    assert not settings.marts_dir.exists()
