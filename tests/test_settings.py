"""One clock: ZHONGTAI_AS_OF or --as-of, else the real date, for every "today" and "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from zhongtai.cli import app
from zhongtai.settings import Settings


def test_the_clock_defaults_to_the_real_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHONGTAI_AS_OF", raising=False)
    settings = Settings()
    assert settings.as_of is None
    assert settings.today() == datetime.now(UTC).date()
    assert settings.cutoff() == datetime.combine(settings.today(), datetime.min.time(), UTC)


def test_as_of_pins_today_cutoff_and_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHONGTAI_AS_OF", "2027-02-06")
    settings = Settings()
    assert settings.today() == date(2027, 2, 6)
    assert settings.cutoff() == datetime(2027, 2, 6, tzinfo=UTC)
    assert settings.now().date() == date(2027, 2, 6) and settings.now().tzinfo is not None


def test_a_bad_as_of_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHONGTAI_AS_OF", "2027-13-01")
    with pytest.raises(ValueError, match="as_of"):
        Settings()


def test_the_cli_as_of_option_reaches_every_settings_of_the_run(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # set (so that it is restored when the test ends), then changed by the option
    monkeypatch.setenv("ZHONGTAI_AS_OF", "2020-01-01")
    monkeypatch.setenv("ZHONGTAI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ZHONGTAI_ENV", "test")
    args = ["--as-of", "2025-03-15", "generate", "--applicants", "20", "--no-partner-portfolio"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "inbox" / "2025-03-15" / "applications").is_dir()
    assert Settings().today() == date(2025, 3, 15)  # and the processes it starts
