"""The day a DAG run works on: the one clock (ZHONGTAI_AS_OF) first, else the run's date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from zhongtai.clock import run_day, run_settings
from zhongtai.settings import Settings

MOMENT = datetime(2026, 11, 23, 14, 7, 31, tzinfo=UTC)


def test_as_of_wins_over_the_logical_date() -> None:
    settings = Settings(as_of=date(2026, 11, 20))
    assert run_day({"logical_date": MOMENT}, settings) == date(2026, 11, 20)


def test_without_as_of_the_day_is_the_logical_dates_in_utc() -> None:
    settings = Settings(as_of=None)
    assert run_day({"logical_date": MOMENT}, settings) == date(2026, 11, 23)
    # 01:30 in UTC+8 is still the day before in UTC
    shanghai = datetime(2026, 11, 24, 1, 30, tzinfo=timezone(timedelta(hours=8)))
    assert run_day({"logical_date": shanghai}, settings) == date(2026, 11, 23)


def test_a_run_without_logical_date_takes_the_day_it_was_due() -> None:
    """Asset-triggered runs have no logical date."""
    context = {"logical_date": None, "dag_run": SimpleNamespace(run_after=MOMENT)}
    assert run_day(context, Settings(as_of=None)) == date(2026, 11, 23)


def test_every_task_of_a_run_gets_settings_whose_today_is_the_runs_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ZHONGTAI_AS_OF", raising=False)
    assert run_settings({"logical_date": MOMENT}).today() == date(2026, 11, 23)
    monkeypatch.setenv("ZHONGTAI_AS_OF", "2026-11-20")
    settings = run_settings({"logical_date": MOMENT})
    assert settings.today() == date(2026, 11, 20)
    assert settings.cutoff() == datetime(2026, 11, 20, tzinfo=UTC)
