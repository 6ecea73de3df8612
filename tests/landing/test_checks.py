"""Value checks at the door: the boundaries a lender's honest file sits on still land."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.landing.delivery import INGEST_DATE, application, national_id, write_delivery
from zhongtai.landing.land import LandingRefused, land_source
from zhongtai.landing.quarantine import read_quarantine
from zhongtai.settings import Settings

ADULT_TODAY = national_id("11010520081120001")  # 18 on 2026-11-20, the applied_at below
MINOR_BY_A_DAY = national_id("11010520081121001")


def _landed_applicants(settings: Settings) -> list[str]:
    (data,) = (settings.raw_dir / "applications").rglob("*.parquet")
    return pq.read_table(data).column("applicant_id").to_pylist()


def test_an_applicant_of_exactly_eighteen_lands(settings: Settings) -> None:
    row = application(1, national_id=ADULT_TODAY, birth_date="2008-11-20")
    write_delivery(settings.inbox_dir, "applications", [row])

    assert land_source("applications", INGEST_DATE, settings).rows_landed == 1


def test_an_applicant_a_day_short_of_eighteen_is_refused(settings: Settings) -> None:
    row = application(1, national_id=MINOR_BY_A_DAY, birth_date="2008-11-21")
    write_delivery(settings.inbox_dir, "applications", [row])

    with pytest.raises(LandingRefused, match=r"under_age \(row 1, field 'national_id'\)"):
        land_source("applications", INGEST_DATE, settings)
    (record,) = read_quarantine(settings.quarantine_dir)
    assert MINOR_BY_A_DAY not in record.summary


def test_a_lowercase_x_is_the_same_person_as_an_uppercase_one(settings: Settings) -> None:
    upper = application(1, national_id="11010519491231002X")
    lower = application(2, national_id="11010519491231002x")
    write_delivery(settings.inbox_dir, "applications", [upper, lower])

    land_source("applications", INGEST_DATE, settings)

    first, second = _landed_applicants(settings)
    assert first == second


def test_every_problem_of_a_file_is_named_at_once(settings: Settings) -> None:
    rows = [
        application(1, loan_purpose="call 13800138000"),
        application(2, birth_date="1990-01-01"),
        application(3, channel="x" * 300),
    ]
    write_delivery(settings.inbox_dir, "applications", rows)

    with pytest.raises(LandingRefused):
        land_source("applications", INGEST_DATE, settings)

    (record,) = read_quarantine(settings.quarantine_dir)
    assert record.reasons == ["birth_date_mismatch", "personal_data", "too_long"]
    assert "13800138000" not in record.summary


def test_a_file_of_only_a_header_lands_as_an_empty_batch(settings: Settings) -> None:
    write_delivery(settings.inbox_dir, "applications", [])

    (manifest,) = land_source("applications", INGEST_DATE, settings).landed
    assert manifest.rows == 0
