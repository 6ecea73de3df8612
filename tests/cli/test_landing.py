"""``zhongtai generate`` and ``zhongtai land`` (cli/landing.py) on a tiny world."""

from __future__ import annotations

import shutil
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


def test_an_unknown_source_is_one_line_and_exit_2(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("land", "--source", "loans", "--source", "payslips")
    assert ran.exit_code == 2
    (line,) = ran.output.strip().splitlines()
    assert line.startswith("unknown source 'payslips': no contract ")
    assert "the sources are: applications, bureau_inquiries" in line
    assert "Traceback" not in ran.output
    assert not settings.raw_dir.exists()  # nothing landed: the command was wrong


def test_land_names_what_no_contract_claims_and_exits_4(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    payslips = settings.inbox_dir / AS_OF / "payslips"
    payslips.mkdir()
    (payslips / "part-00000.csv").write_text("payslip_id\n1\n")
    readme = settings.inbox_dir / AS_OF / "loans" / "README.txt"
    readme.write_text("delivered by the core banking system")

    ran = zhongtai("land")

    assert ran.exit_code == 4, ran.output
    assert "2 inbox item(s) claimed by no contract, not landed:" in ran.text
    assert f"{payslips}: no contract claims this folder" in ran.text
    assert f"{readme}: not a .csv file" in ran.text
    assert "(0 file(s) refused)" in ran.text
    for source in ("applications", "loans", "repayments"):  # the good sources landed
        assert list((settings.raw_dir / source).rglob("*.parquet")), source


def test_land_exits_5_when_a_file_is_refused_and_a_folder_unclaimed(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    (delivered,) = (settings.inbox_dir / AS_OF / "loans").glob("*.csv")
    delivered.write_text("not,the,loans,header\n1,2,3,4\n")
    (settings.inbox_dir / AS_OF / "payslips").mkdir()

    ran = zhongtai("land")

    assert ran.exit_code == 5, ran.output
    assert "refused and quarantined" in ran.text
    assert "1 inbox item(s) claimed by no contract" in ran.text
    assert list((settings.raw_dir / "applications").rglob("*.parquet"))


def test_land_quarantines_an_undecodable_file_skips_a_symlink_and_lands_the_rest(
    zhongtai: Callable[..., Ran], settings: Settings, tmp_path: Path
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    (applications,) = (settings.inbox_dir / AS_OF / "applications").glob("*.csv")
    lines = applications.read_bytes().splitlines(keepends=True)
    good = b"".join(lines[:-1])
    applications.write_bytes(good + lines[-1].decode().encode("gb18030"))
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("loan_id\n1\n")
    link = settings.inbox_dir / AS_OF / "loans" / "part-00009.csv"
    link.symlink_to(outside)

    ran = zhongtai("land")

    assert ran.exit_code == 5, ran.output
    assert "not_utf8" in ran.text
    assert f"{link}: a symbolic link: links are never followed" in ran.text
    assert not list((settings.raw_dir / "applications").rglob("*.parquet"))
    for source in ("loans", "repayments", "device_events"):  # every other source landed
        assert list((settings.raw_dir / source).rglob("*.parquet")), source


def test_land_of_one_source_looks_only_at_its_folder(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    (settings.inbox_dir / AS_OF / "payslips").mkdir()
    assert zhongtai("land", "--source", "loans").exit_code == 0
    (settings.inbox_dir / AS_OF / "loans" / "part-00001.json").write_text("{}")
    assert zhongtai("land", "--source", "loans").exit_code == 4


def test_a_contract_that_does_not_load_stops_only_its_source(
    zhongtai: Callable[..., Ran], settings: Settings, tmp_path: Path, monkeypatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(settings.contracts_dir, project / "contracts")
    broken = project / "contracts" / "payslips.yml"
    broken.write_text("source: payslips\nversion: one\ndescription: x\nfields: []\n")
    monkeypatch.setenv("ZHONGTAI_PROJECT_DIR", str(project))
    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0

    ran = zhongtai("land")

    assert ran.exit_code == 2, ran.output
    assert f"source payslips not landed: its contract does not load: {broken}: version" in ran.text
    assert list((settings.raw_dir / "applications").rglob("*.parquet"))


def test_land_help_documents_its_exit_codes(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("land", "--help")
    assert ran.exit_code == 0
    for meaning in (
        "0 every delivered file landed",
        "1 a file was quarantined",
        "4 an entry of the inbox is not for landing",
        "a symbolic link (never followed)",
        "5 both 1 and 4",
        "2 a usage or configuration error",
    ):
        assert meaning in ran.text, meaning


def test_land_counts_the_rows_of_erased_subjects_it_did_not_land(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    import csv

    import duckdb

    from zhongtai.privacy.keys import resolve_keyring
    from zhongtai.privacy.pseudonyms import pseudonymise_one

    assert zhongtai("generate", "--applicants", "20", "--no-partner-portfolio").exit_code == 0
    (delivered,) = (settings.inbox_dir / AS_OF / "applications").glob("*.csv")
    header, *rows = delivered.read_text(encoding="utf-8").splitlines(keepends=True)
    assert zhongtai("land", "--source", "applications").exit_code == 0
    raw = settings.raw_dir / "applications"
    [(subject,)] = duckdb.sql(
        f"select min(applicant_id) from read_parquet('{raw}/**/*.parquet')"
    ).fetchall()
    key = resolve_keyring(settings).pseudonym_key
    column = next(csv.reader([header])).index("national_id")

    def holder(row: str) -> str | None:
        return pseudonymise_one(next(csv.reader([row]))[column], kind="national_id", key=key)

    theirs = [row for row in rows if holder(row) == subject]
    others = [row for row in rows if holder(row) != subject][:2]
    assert zhongtai("erase", subject, "--reason", "request").exit_code == 0
    later = settings.inbox_dir / "2025-03-16" / "applications"
    later.mkdir(parents=True)
    (later / "resent.csv").write_text(header + "".join(theirs + others), encoding="utf-8")

    ran = zhongtai("land", "--date", "2025-03-16", "--source", "applications")

    assert ran.exit_code == 0, ran.output
    assert f"applications: {len(theirs)} row(s) of erased subjects not landed" in ran.text
    assert theirs and subject not in ran.output
