"""What of a delivery date no contract claims is named, and never stops the rest landing."""

from __future__ import annotations

from pathlib import Path

from tests.landing.delivery import INGEST_DATE, application, write_delivery
from zhongtai.landing.land import delivered_files, land_delivery, unclaimed_inbox_content
from zhongtai.landing.rawzone import read_manifests
from zhongtai.settings import Settings


def _day(settings: Settings) -> Path:
    return settings.inbox_dir / INGEST_DATE.isoformat()


def _write(path: Path, text: str = "a,b\n1,2\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _unclaimed(settings: Settings, **kwargs) -> dict[Path, str]:
    return {
        item.path: item.reason for item in unclaimed_inbox_content(INGEST_DATE, settings, **kwargs)
    }


def test_a_delivery_all_claimed_has_nothing_unclaimed(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1)])
    assert unclaimed_inbox_content(INGEST_DATE, settings) == []


def test_no_delivery_that_day_has_nothing_unclaimed(settings: Settings) -> None:
    assert unclaimed_inbox_content(INGEST_DATE, settings) == []


def test_a_folder_without_a_contract_is_named_and_the_sources_still_land(
    settings: Settings,
) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1)])
    payslips = _day(settings) / "payslips"
    _write(payslips / "part-00000.csv")
    _write(payslips / "2026" / "part-00001.csv")

    outcomes = land_delivery(INGEST_DATE, settings)
    unclaimed = _unclaimed(settings)

    assert unclaimed == {
        payslips: f"no contract claims this folder (no {settings.contracts_dir / 'payslips'}.yml)"
        ": its 2 file(s) are not landed"
    }
    assert [m.source for m in read_manifests(settings.raw_dir)] == ["applications"]
    assert sum(outcome.rows_landed for outcome in outcomes) == 1


def test_files_no_contract_reads_are_named(settings: Settings) -> None:
    good = write_delivery(settings.inbox_dir, "applications", [application(1)])
    folder = good.parent
    stray = _write(_day(settings) / "applications.csv")
    wrong = [
        _write(folder / "part-00001.xlsx"),
        _write(folder / "part-00002.csv.gz"),
        _write(folder / "PART-00003.CSV"),
        _write(folder / ".part-00004.csv.partial"),
    ]
    nested = folder / "resent"
    _write(nested / "part-00005.csv")

    unclaimed = _unclaimed(settings)

    assert delivered_files(settings.inbox_dir, INGEST_DATE, "applications") == [good]
    assert set(unclaimed) == {stray, nested, *wrong}
    assert unclaimed[stray].startswith("a file outside any source folder")
    assert unclaimed[nested].startswith("a folder inside the source folder")
    for path in wrong:
        assert unclaimed[path] == "not a .csv file: the applications contract reads only CSV"
    (outcome,) = land_delivery(INGEST_DATE, settings, sources=["applications"])
    assert outcome.rows_landed == 1


def test_a_folder_named_like_a_file_is_not_delivered(settings: Settings) -> None:
    odd = _day(settings) / "loans" / "part-00000.csv"
    odd.mkdir(parents=True)
    assert delivered_files(settings.inbox_dir, INGEST_DATE, "loans") == []
    assert set(_unclaimed(settings)) == {odd}


def test_asked_for_sources_only_their_folders_are_looked_at(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [application(1)])
    _write(_day(settings) / "payslips" / "part-00000.csv")
    _write(_day(settings) / "notes.txt")
    loans = _write(_day(settings) / "loans" / "part-00000.txt")

    assert _unclaimed(settings, sources=["applications"]) == {}
    assert set(_unclaimed(settings, sources=["loans"])) == {loans}
    assert len(_unclaimed(settings)) == 3


def test_a_symlinked_delivery_day_is_never_followed(settings: Settings, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_delivery(elsewhere, "applications", [application(1)])
    settings.inbox_dir.mkdir(parents=True)
    _day(settings).symlink_to(elsewhere / INGEST_DATE.isoformat(), target_is_directory=True)

    assert delivered_files(settings.inbox_dir, INGEST_DATE, "applications") == []
    assert land_delivery(INGEST_DATE, settings, sources=["applications"])[0].landed == []
    assert _unclaimed(settings) == {
        _day(settings): "a symbolic link: links are never followed, not landed"
    }
