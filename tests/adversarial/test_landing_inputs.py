"""Hostile deliveries, as a careless supplier or a hostile partner would send them.

Each case puts one bad entry in an inbox beside good files of several sources, lands the
whole delivery and asserts what a person would check: the bad entry is quarantined with
the named reason, field and row, or reported as not for landing; landing does not crash;
every good row of the other files lands; and the clear value planted in the bad entry is
found nowhere the platform writes (raw zone, quarantine, vault, logs) nor in what it says.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.adversarial.conftest import FilesHolding
from tests.landing.delivery import (
    INGEST_DATE,
    application,
    device_event,
    list_entry,
    loan,
    national_id,
    write_delivery,
)
from zhongtai.contracts import load_contract
from zhongtai.landing.land import LandingRefused, land_delivery, unclaimed_inbox_content
from zhongtai.landing.quarantine import REASON_NAME, QuarantineRecord
from zhongtai.landing.rawzone import read_manifests
from zhongtai.settings import Settings

GOOD_ROWS = {"applications": 2, "loans": 2, "device_events": 2, "lists": 1}
HOSTILE_NAME = "part-00009.csv"

SECRET_ID = national_id("11010519800101123")  # a valid ID, born 1980-01-01
SECRET_X_ID = national_id("11010519800101106")  # ends in X: never an integer
SECRET_PHONE = "13912345678"
SECRET_CARD = "6222021234567894"  # passes Luhn
SECRET_EMAIL = "zhang.wei@example.cn"
MINOR_ID = national_id("11010520100615123")  # born 2010-06-15: 16 on 2026-11-20


@dataclass(frozen=True)
class Hostile:
    """One bad entry: how to deliver it and what landing must make of it."""

    id: str
    kind: str
    outcome: str  # "quarantined" or "not_for_landing"
    reason: str  # the quarantine reason, or words of the not-for-landing reason
    deliver: Callable[[Settings], Path]
    field: str | None = None
    row: int | None = None
    secret: str | None = None


def _day(settings: Settings) -> Path:
    return settings.inbox_dir / INGEST_DATE.isoformat()


def _rows(source: str, rows: list[dict[str, str]]) -> Callable[[Settings], Path]:
    def deliver(settings: Settings) -> Path:
        return write_delivery(settings.inbox_dir, source, rows, name=HOSTILE_NAME)

    return deliver


def _app(**overrides: str) -> Callable[[Settings], Path]:
    """An applications file: a good row, then a row with ``overrides`` (row 2)."""
    return _rows("applications", [application(8), application(9, **overrides)])


def _event(**overrides: str) -> Callable[[Settings], Path]:
    return _rows("device_events", [device_event(8), device_event(9, **overrides)])


def _entry(**overrides: str) -> Callable[[Settings], Path]:
    return _rows("lists", [list_entry(8), list_entry(9, **overrides)])


def _header(source: str, change: Callable[[list[str]], list[str]]) -> Callable[[Settings], Path]:
    def deliver(settings: Settings) -> Path:
        header = [field.name for field in load_contract(source).delivered_fields]
        rows = [application(9, contacts=SECRET_PHONE)]
        return write_delivery(
            settings.inbox_dir, source, rows, name=HOSTILE_NAME, header=change(header)
        )

    return deliver


def _bytes(
    source: str, content: Callable[[list[str]], bytes], name: str = HOSTILE_NAME
) -> Callable[[Settings], Path]:
    """A file of raw bytes; ``content`` gets the contract's header."""

    def deliver(settings: Settings) -> Path:
        header = [field.name for field in load_contract(source).delivered_fields]
        folder = _day(settings) / source
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(content(header))
        return path

    return deliver


def _csv_line(header: list[str], row: dict[str, str]) -> str:
    return ",".join(row.get(name, "") for name in header) + "\n"


def _gb18030_after_utf8(header: list[str]) -> bytes:
    good = ",".join(header) + "\n" + _csv_line(header, application(8))
    bad = _csv_line(header, application(9, national_id=SECRET_ID, name="王秀英"))
    return good.encode() + bad.encode("gb18030")


def _latin1_header(header: list[str]) -> bytes:
    return ("é" + ",".join(header) + "\n").encode("latin-1")


def _utf16(header: list[str]) -> bytes:
    return (",".join(header) + "\n" + _csv_line(header, application(9))).encode("utf-16")


def _unclosed_quote(header: list[str]) -> bytes:
    line = _csv_line(header, application(9, national_id=SECRET_ID))
    return (",".join(header) + "\n" + line.replace("A-9,", 'A-9,"', 1)).encode()


def _extra_fields(header: list[str]) -> bytes:
    line = _csv_line(header, application(9)).rstrip("\n") + f",{SECRET_PHONE}\n"
    return (",".join(header) + "\n" + line).encode()


def _huge_name(header: list[str]) -> bytes:
    # Larger than the CSV reader's 64 MiB block: one field of one row.
    huge = "王" * (24 << 20)  # 72 MiB of UTF-8
    return (",".join(header) + "\n" + _csv_line(header, application(9, name=huge))).encode()


def _directory(name: str, source: str = "applications") -> Callable[[Settings], Path]:
    def deliver(settings: Settings) -> Path:
        path = _day(settings) / source / name
        path.mkdir(parents=True)
        write_delivery(settings.inbox_dir, source, [application(9)], name=f"{name}/inner.csv")
        return path

    return deliver


def _good_file_named(name: str, source: str = "applications") -> Callable[[Settings], Path]:
    """A valid file under a name that is not for landing."""

    def deliver(settings: Settings) -> Path:
        rows = [application(9, national_id=SECRET_ID)]
        return write_delivery(settings.inbox_dir, source, rows, name=name)

    return deliver


def _symlink_out(settings: Settings) -> Path:
    outside = settings.data_dir.parent / "outside"
    stolen = write_delivery(outside, "applications", [application(9, national_id=SECRET_ID)])
    link = _day(settings) / "applications" / HOSTILE_NAME
    link.symlink_to(stolen)
    return link


def _symlinked_source_folder(settings: Settings) -> Path:
    outside = settings.data_dir.parent / "outside"
    write_delivery(outside, "bureau_inquiries", [], name="x.csv")
    folder = outside / INGEST_DATE.isoformat() / "bureau_inquiries"
    (folder / "x.csv").write_text(
        "inquiry_id,national_id,lender_id,inquiry_reason,inquired_at\n"
        f"Q-1,{SECRET_ID},L1,loan_approval,2026-11-01T00:00:00Z\n"
    )
    link = _day(settings) / "bureau_inquiries"
    link.symlink_to(folder, target_is_directory=True)
    return link


def _fifo(settings: Settings) -> Path:
    path = _day(settings) / "applications" / HOSTILE_NAME
    os.mkfifo(path)
    return path


def _stray_file(settings: Settings) -> Path:
    path = _day(settings) / "applications.csv"
    path.write_text(f"national_id\n{SECRET_ID}\n")
    return path


def _uncontracted_folder(settings: Settings) -> Path:
    folder = _day(settings) / "payslips"
    folder.mkdir()
    (folder / "part-00000.csv").write_text(f"national_id,salary\n{SECRET_ID},1\n")
    return folder


CASES = [
    # -- bytes that are not UTF-8 CSV ------------------------------------------------------
    Hostile("gb18030-row-after-utf8-rows", "landing.encoding", "quarantined", "not_utf8",
            _bytes("applications", _gb18030_after_utf8), field="name", row=2, secret=SECRET_ID),
    Hostile("latin1-header", "landing.encoding", "quarantined", "not_utf8",
            _bytes("applications", _latin1_header)),
    Hostile("utf16-file", "landing.encoding", "quarantined", "not_utf8",
            _bytes("applications", _utf16)),
    Hostile("empty-file", "landing.format", "quarantined", "empty_file",
            _bytes("applications", lambda header: b"")),
    Hostile("unclosed-quote", "landing.format", "quarantined", "unparseable_row",
            _bytes("applications", _unclosed_quote), secret=SECRET_ID),
    Hostile("row-with-an-extra-field", "landing.format", "quarantined", "unparseable_row",
            _bytes("applications", _extra_fields), row=1, secret=SECRET_PHONE),
    # -- entries that are not for landing --------------------------------------------------
    Hostile("directory-named-x.csv", "landing.entry", "not_for_landing", "a folder",
            _directory("x.csv")),
    Hostile("uppercase-.CSV", "landing.entry", "not_for_landing", "not a .csv file",
            _good_file_named("PART-00009.CSV"), secret=SECRET_ID),
    Hostile("txt-file", "landing.entry", "not_for_landing", "not a .csv file",
            _good_file_named("part-00009.txt"), secret=SECRET_ID),
    Hostile("gzipped-csv", "landing.entry", "not_for_landing", "not a .csv file",
            _good_file_named("part-00009.csv.gz"), secret=SECRET_ID),
    Hostile("symlink-out-of-the-inbox", "landing.entry", "not_for_landing", "symbolic link",
            _symlink_out, secret=SECRET_ID),
    Hostile("symlinked-source-folder", "landing.entry", "not_for_landing", "symbolic link",
            _symlinked_source_folder, secret=SECRET_ID),
    Hostile("fifo-named-.csv", "landing.entry", "not_for_landing", "not a regular file", _fifo),
    Hostile("file-named-after-a-national-id", "landing.entry", "not_for_landing",
            "name holds personal data", _good_file_named(f"{SECRET_ID}.csv"), secret=SECRET_ID),
    Hostile("file-beside-the-source-folders", "landing.entry", "not_for_landing",
            "outside any source folder", _stray_file, secret=SECRET_ID),
    Hostile("folder-no-contract-claims", "landing.entry", "not_for_landing",
            "no contract claims", _uncontracted_folder, secret=SECRET_ID),
    # -- header -----------------------------------------------------------------------------
    Hostile("prohibited-contacts-column", "landing.prohibited", "quarantined",
            "prohibited_field", _header("applications", lambda h: [*h, "contacts"]),
            field="contacts", secret=SECRET_PHONE),
    Hostile("column-named-with-a-phone", "landing.header", "quarantined", "undeclared_field",
            _header("applications", lambda h: [*h, SECRET_PHONE]), secret=SECRET_PHONE),
    Hostile("required-column-missing", "landing.header", "quarantined", "missing_field",
            _header("applications", lambda h: [n for n in h if n != "birth_date"]),
            field="birth_date"),
    Hostile("duplicated-column", "landing.header", "quarantined", "duplicate_field",
            _header("applications", lambda h: [*h, "name"]), field="name"),
    # -- required values --------------------------------------------------------------------
    Hostile("national-id-of-blanks", "landing.required", "quarantined", "missing_value",
            _app(national_id=" " * 18), field="national_id", row=2),
    Hostile("empty-application-id", "landing.required", "quarantined", "missing_value",
            _app(application_id=""), field="application_id", row=2),
    # -- identity at the door ---------------------------------------------------------------
    Hostile("national-id-wrong-check-digit", "landing.identity", "quarantined",
            "invalid_national_id", _app(national_id=SECRET_ID[:17] + "0"
                                        if SECRET_ID[17] != "0" else SECRET_ID[:17] + "1"),
            field="national_id", row=2),
    Hostile("national-id-17-characters", "landing.identity", "quarantined",
            "invalid_national_id", _app(national_id=SECRET_ID[:17]), field="national_id", row=2),
    Hostile("national-id-fullwidth-digits", "landing.identity", "quarantined",
            "invalid_national_id", _app(national_id="１" + SECRET_ID[1:]), field="national_id"),
    Hostile("national-id-born-30-february", "landing.identity", "quarantined",
            "invalid_national_id", _app(national_id=national_id("11010519900230123")),
            field="national_id", row=2),
    Hostile("national-id-born-in-the-future", "landing.identity", "quarantined",
            "invalid_national_id", _app(national_id=national_id("11010521000101123")),
            field="national_id", row=2),
    Hostile("birth-date-disagrees-with-the-id", "landing.identity", "quarantined",
            "birth_date_mismatch", _app(national_id=SECRET_ID, birth_date="1990-01-01"),
            field="birth_date", row=2, secret=SECRET_ID),
    Hostile("minor-applicant", "landing.identity", "quarantined", "under_age",
            _app(national_id=MINOR_ID, birth_date="2010-06-15"), field="national_id", row=2,
            secret=MINOR_ID),
    Hostile("list-entry-with-an-invalid-id", "landing.identity", "quarantined",
            "invalid_national_id", _entry(national_id="110105198001011230"),
            field="national_id", row=2),
    # -- personal data in fields declared non-personal --------------------------------------
    Hostile("phone-in-list-reason", "landing.privacy", "quarantined", "personal_data",
            _entry(reason=f"customer called from {SECRET_PHONE}"), field="reason", row=2,
            secret=SECRET_PHONE),
    Hostile("national-id-in-list-reason", "landing.privacy", "quarantined", "personal_data",
            _entry(reason=f"same person as {SECRET_ID}"), field="reason", row=2,
            secret=SECRET_ID),
    Hostile("national-id-as-application-id", "landing.privacy", "quarantined", "personal_data",
            _app(application_id=SECRET_ID), field="application_id", row=2, secret=SECRET_ID),
    Hostile("contacts-dump-in-os-version", "landing.privacy", "quarantined", "personal_data",
            _event(os_version=f"{SECRET_PHONE};13800138000"), field="os_version", row=2,
            secret=SECRET_PHONE),
    Hostile("email-in-loan-purpose", "landing.privacy", "quarantined", "personal_data",
            _app(loan_purpose=SECRET_EMAIL), field="loan_purpose", row=2, secret=SECRET_EMAIL),
    Hostile("bank-card-in-list-reason", "landing.privacy", "quarantined", "personal_data",
            _entry(reason=f"card {SECRET_CARD[:4]} {SECRET_CARD[4:8]} {SECRET_CARD[8:12]} "
                   f"{SECRET_CARD[12:]}"), field="reason", row=2, secret=SECRET_CARD[4:12]),
    Hostile("plus86-mobile-as-ip-address", "landing.privacy", "quarantined", "personal_data",
            _app(ip_address=f"+86{SECRET_PHONE}"), field="ip_address", row=2,
            secret=SECRET_PHONE),
    Hostile("phone-as-partner-id", "landing.privacy", "quarantined", "personal_data",
            _app(partner_id=SECRET_PHONE), field="partner_id", row=2, secret=SECRET_PHONE),
    Hostile("phone-as-loan-application-id", "landing.privacy", "quarantined", "personal_data",
            _rows("loans", [loan(8), loan(9, application_id=SECRET_PHONE)]),
            field="application_id", row=2, secret=SECRET_PHONE),
    Hostile("national-id-in-an-integer-field", "landing.privacy", "quarantined",
            "personal_data", _app(term_months=SECRET_ID), field="term_months", row=2,
            secret=SECRET_ID),
    Hostile("national-id-ending-x-in-an-integer-field", "landing.echo", "quarantined",
            "wrong_type", _app(term_months=SECRET_X_ID), field="term_months", row=2,
            secret=SECRET_X_ID),
    Hostile("phone-in-an-amount-field", "landing.privacy", "quarantined", "personal_data",
            _app(requested_amount_minor=SECRET_PHONE), field="requested_amount_minor", row=2),
    # -- prohibited categories by value -----------------------------------------------------
    Hostile("event-type-sms-read", "landing.prohibited", "quarantined", "prohibited_value",
            _event(event_type="sms_read"), field="event_type", row=2),
    Hostile("event-type-contacts-read", "landing.prohibited", "quarantined",
            "prohibited_value", _event(event_type="contacts_read"), field="event_type", row=2),
    Hostile("event-type-call-log-read", "landing.prohibited", "quarantined",
            "prohibited_value", _event(event_type="call_log_read"), field="event_type", row=2),
    Hostile("undeclared-event-type", "landing.prohibited", "quarantined", "value_not_allowed",
            _event(event_type="screen_capture"), field="event_type", row=2),
    # -- sizes and control characters -------------------------------------------------------
    Hostile("300-character-loan-purpose", "landing.size", "quarantined", "too_long",
            _app(loan_purpose="x" * 300), field="loan_purpose", row=2),
    Hostile("72-mib-name", "landing.size", "quarantined", "too_long",
            _bytes("applications", _huge_name), field="name", row=1),
    Hostile("terminal-escape-in-channel", "landing.size", "quarantined", "control_characters",
            _app(channel="app\x1b[2J"), field="channel", row=2),
    Hostile("nul-byte-in-employment-type", "landing.size", "quarantined",
            "control_characters", _app(employment_type="salaried\x00"),
            field="employment_type", row=2),
]  # fmt: skip


def _deliver_good_files(settings: Settings) -> None:
    inbox = settings.inbox_dir
    write_delivery(inbox, "applications", [application(1), application(2)])
    write_delivery(inbox, "loans", [loan(1), loan(2)])
    write_delivery(inbox, "device_events", [device_event(1), device_event(2)])
    write_delivery(inbox, "lists", [list_entry(1)])


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_entry_is_refused_by_name_and_good_files_land(
    case: Hostile,
    settings: Settings,
    record_property: Callable[[str, object], None],
    clear_value_files: FilesHolding,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record_property("kind", case.kind)
    record_property("outcome", case.outcome)
    _deliver_good_files(settings)
    entry = case.deliver(settings)
    caplog.set_level(logging.INFO)

    refused: list[QuarantineRecord] = []
    try:
        land_delivery(INGEST_DATE, settings)
    except LandingRefused as refusal:
        refused = refusal.refused
        said = [str(refusal)]
    else:
        said = []
    unclaimed = unclaimed_inbox_content(INGEST_DATE, settings)
    said += [item.describe() for item in unclaimed]

    landed: dict[str, int] = {}
    for manifest in read_manifests(settings.raw_dir):
        landed[manifest.source] = landed.get(manifest.source, 0) + manifest.rows
    assert landed == GOOD_ROWS  # every good row of the sibling files, nothing of the bad one

    if case.outcome == "quarantined":
        assert unclaimed == []
        (record,) = refused
        assert case.reason in record.reasons, record.summary
        problems = json.loads((record.path / REASON_NAME).read_text())["problems"]
        named = [p for p in problems if p["reason"] == case.reason]
        assert named, problems
        if case.field:
            assert case.field in {p["field"] for p in named}, named
        if case.row:
            assert case.row in {p["row"] for p in named}, named
    else:
        assert refused == []
        assert [item.reason for item in unclaimed if item.path == entry], unclaimed
        (reason,) = [item.reason for item in unclaimed if item.path == entry]
        assert case.reason in reason

    if case.secret:
        assert clear_value_files(settings.data_dir, case.secret, skip=settings.inbox_dir) == []
        assert [text for text in said if case.secret in text] == []
        assert case.secret not in caplog.text


def test_quarantine_and_raw_zone_are_private_to_the_owner(settings: Settings) -> None:
    _deliver_good_files(settings)
    _app(national_id=" ")(settings)

    with pytest.raises(LandingRefused):
        land_delivery(INGEST_DATE, settings)

    for zone in (settings.raw_dir, settings.quarantine_dir):
        for path in [zone, *zone.rglob("*")]:
            mode = path.stat().st_mode & 0o777
            if path.is_dir():
                assert mode == 0o700, path
            else:
                assert mode & 0o077 == 0, path
