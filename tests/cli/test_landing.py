"""``zhongtai generate`` and ``zhongtai land`` (cli/landing.py) on a tiny world."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli.ran import AS_OF, Ran
from zhongtai.settings import Settings


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def test_generate_writes_the_inbox_of_the_as_of_date(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("generate", "--applicants", "20", "--no-partner-portfolio")
    assert ran.exit_code == 0, ran.output
    assert f"inbox/{AS_OF}" in ran.text
    assert list((settings.inbox_dir / AS_OF / "applications").glob("*.csv"))
    assert "partner_portfolio" not in ran.text


def test_generate_on_a_given_date_with_the_partner_book(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("generate", "--applicants", "20", "--date", "2025-01-31")
    assert ran.exit_code == 0, ran.output
    assert "partner_portfolio 1,000 1" in ran.text
    assert (settings.inbox_dir / "2025-01-31" / "applications").is_dir()
    assert not (settings.inbox_dir / AS_OF).exists()


def test_generate_refuses_no_applicants_naming_the_option(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("generate", "--applicants", "0")
    assert ran.exit_code == 2
    assert "'--applicants'" in ran.text
    assert not settings.inbox_dir.exists()


def test_a_bad_date_is_refused_naming_the_option(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("land", "--date", "15/03/2025")
    assert ran.exit_code == 2
    assert "'--date'" in ran.text and "15/03/2025" in ran.text


def test_land_lands_the_inbox_once(zhongtai: Callable[..., Ran], settings: Settings) -> None:
    assert zhongtai("generate", "--applicants", "20").exit_code == 0
    ran = zhongtai("land")
    assert ran.exit_code == 0, ran.output
    assert "(0 file(s) refused)" in ran.text
    landed = files_under(settings.raw_dir)
    assert list((settings.raw_dir / "applications" / f"ingest_date={AS_OF}").rglob("*.parquet"))

    again = zhongtai("land")
    assert again.exit_code == 0, again.output
    assert files_under(settings.raw_dir) == landed  # nothing landed twice


def test_land_only_the_sources_asked_for(zhongtai: Callable[..., Ran], settings: Settings) -> None:
    assert zhongtai("generate", "--applicants", "20").exit_code == 0
    ran = zhongtai("land", "--source", "loans")
    assert ran.exit_code == 0, ran.output
    assert (settings.raw_dir / "loans").is_dir()
    assert not (settings.raw_dir / "applications").exists()


def test_land_refuses_a_file_that_breaks_its_contract(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    (delivered,) = (settings.inbox_dir / AS_OF / "loans").glob("*.csv")
    delivered.write_text("not,the,loans,header\n1,2,3,4\n")
    ran = zhongtai("land", "--source", "loans")
    assert ran.exit_code == 1
    assert "refused and quarantined" in ran.text
    assert files_under(settings.quarantine_dir)
