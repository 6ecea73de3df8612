"""National IDs read at the door: the check character, the birth date and the age."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from tests.landing.delivery import national_id as with_check
from zhongtai.privacy.identity import (
    MIN_AGE_YEARS,
    InvalidNationalId,
    NationalIdFacts,
    age_on,
    birth_dates_of,
    read_national_id,
)


def test_reads_area_birth_date_and_sex() -> None:
    assert read_national_id("11010519491231002X") == NationalIdFacts(
        area_code="110105", birth_date=date(1949, 12, 31), is_male=False
    )
    assert read_national_id(with_check("44030519900101001")).is_male


def test_lowercase_x_is_read_as_uppercase() -> None:
    assert read_national_id("11010519491231002x").birth_date == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("1101051949123100", "wrong length", id="short"),
        pytest.param("11010519491231002XX", "wrong length", id="long"),
        pytest.param("", "wrong length", id="empty"),
        pytest.param(" " * 18, "bad characters", id="blanks"),
        pytest.param("1101051949123100２X", "bad characters", id="fullwidth-digit"),
        pytest.param("11010519491231002Y", "bad characters", id="bad-check-letter"),
        pytest.param("110105194912310021", "check digit", id="wrong-check"),
        pytest.param(with_check("11010519490230002"), "impossible birth date", id="feb-30"),
        pytest.param(with_check("11010518001231002"), "impossible birth date", id="year-1800"),
        pytest.param(with_check("11010521001231002"), "birth date in the future", id="future"),
    ],
)
def test_refuses_naming_the_reason_never_the_value(text: str, reason: str) -> None:
    with pytest.raises(InvalidNationalId) as refused:
        read_national_id(text)
    assert str(refused.value).startswith(reason)
    if text.strip():
        assert text not in str(refused.value)


def test_future_is_judged_against_the_given_day() -> None:
    born_2010 = with_check("11010520100101001")
    assert read_national_id(born_2010, today=date(2010, 1, 1)).birth_date == date(2010, 1, 1)
    with pytest.raises(InvalidNationalId, match="future"):
        read_national_id(born_2010, today=date(2009, 12, 31))


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2000, 6, 15), date(2018, 6, 14), 17),
        (date(2000, 6, 15), date(2018, 6, 15), 18),
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
    ],
)
def test_age_counts_completed_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def test_minimum_age_is_adulthood() -> None:
    assert MIN_AGE_YEARS == 18


def test_the_column_reader_agrees_with_the_one_value_reader() -> None:
    today = date(2026, 1, 1)
    values = [
        "11010519491231002X",
        "11010519491231002x",
        "110105194912310021",
        with_check("11010519490230002"),
        with_check("11010520000229002"),
        with_check("11010520300101001"),
        with_check("11010518991231001"),
        " " * 18,
        "1101051949123100２X",
        "short",
        None,
    ]

    def one_by_one(text: str | None) -> date | None:
        try:
            return None if text is None else read_national_id(text, today=today).birth_date
        except InvalidNationalId:
            return None

    column = pa.chunked_array([values[:4], values[4:]])
    assert birth_dates_of(column, today).to_pylist() == [one_by_one(v) for v in values]
