"""Mainland resident national IDs read at the door: check character, birth date, age.

An 18-character ID (GB 11643-1999) is six digits of area, eight of birth date, three of
sequence (odd for men) and an ISO 7064 MOD 11-2 check character. The platform never takes
a partner's word for what the ID already says: the birth date and so the age come from
the ID itself, and an ID whose check character or birth date is wrong is refused.

Errors name the reason, never the value: the ID is a direct identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.settings import Settings

MIN_AGE_YEARS = 18
ID_LENGTH = 18

_SHAPE = r"^[0-9]{17}[0-9Xx]$"
_EARLIEST_BIRTH = date(1900, 1, 1)
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


class InvalidNationalId(ValueError):
    """A text is not a valid national ID; the message says why, never what the text was."""


@dataclass(frozen=True)
class NationalIdFacts:
    """What a valid national ID states about its holder."""

    area_code: str
    birth_date: date
    is_male: bool


def check_characters(body: np.ndarray) -> np.ndarray:
    """MOD 11-2 check characters (ASCII codes) for an (n, 17) matrix of digit codes."""
    total = (body.astype(np.int64) - 48) @ _WEIGHTS
    return _CHECK[total % 11]


def has_valid_check_character(text: str) -> bool:
    """Whether 18 characters (17 digits and a check character) carry the right check."""
    if len(text) != ID_LENGTH or not (text[:17].isascii() and text[:17].isdigit()):
        return False
    body = np.frombuffer(text[:17].encode(), dtype=np.uint8)[None, :]
    return chr(check_characters(body)[0]) == text[17].upper()


def read_national_id(text: str, *, today: date | None = None) -> NationalIdFacts:
    """The facts a national ID states, or ``InvalidNationalId`` naming what is wrong.

    A lowercase ``x`` check character is read as ``X``. A birth date after ``today``
    (default: the platform's today, ``Settings.today()``) is refused.
    """
    if len(text) != ID_LENGTH:
        raise InvalidNationalId(f"wrong length: a national ID has {ID_LENGTH} characters")
    if not (text[:17].isascii() and text[:17].isdigit()) or text[17] not in "0123456789Xx":
        raise InvalidNationalId(
            "bad characters: a national ID is 17 digits and a check character (0-9 or X)"
        )
    if not has_valid_check_character(text):
        raise InvalidNationalId("check digit: the check character does not match the digits")
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidNationalId("impossible birth date: digits 7-14 are not a date") from None
    if birth < _EARLIEST_BIRTH:
        raise InvalidNationalId("impossible birth date: before 1900")
    if birth > (today or Settings().today()):
        raise InvalidNationalId("birth date in the future")
    return NationalIdFacts(area_code=text[:6], birth_date=birth, is_male=int(text[16]) % 2 == 1)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day`` (a 29 February birthday counts from 1 March)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birth_dates_of(values: pa.Array | pa.ChunkedArray, today: date) -> pa.Array:
    """Vectorised ``read_national_id`` for a column: per value, the birth date a valid ID
    states (date32), null where the value is null or not a valid ID (for the reason, read
    those values one by one)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    shaped = pc.fill_null(pc.match_substring_regex(values, _SHAPE), False)
    # Every value made 18 ASCII characters, so that the column is one digit matrix.
    ids = pc.ascii_upper(pc.if_else(shaped, values, pa.scalar("0" * ID_LENGTH)))
    ids = pa.concat_arrays([ids])  # a fresh array: its characters start the data buffer
    matrix = np.frombuffer(ids.buffers()[2], dtype=np.uint8, count=ID_LENGTH * len(ids))
    matrix = matrix.reshape(-1, ID_LENGTH)
    checked = check_characters(matrix[:, :17]) == matrix[:, 17]
    digits = pc.utf8_slice_codeunits(ids, 6, 14)
    moment = pc.strptime(digits, format="%Y%m%d", unit="s", error_is_null=True)
    # strptime rolls 30 February over to 1 March: a real date keeps its day of the month.
    day_digits = (matrix[:, 12].astype(np.int64) - 48) * 10 + matrix[:, 13] - 48
    real = pc.fill_null(pc.equal(pc.day(moment), pa.array(day_digits)), False)
    born = pc.cast(moment, pa.date32())
    in_range = pc.fill_null(
        pc.and_(
            pc.greater_equal(born, pa.scalar(_EARLIEST_BIRTH, pa.date32())),
            pc.less_equal(born, pa.scalar(today, pa.date32())),
        ),
        False,
    )
    valid = pc.and_(pc.and_(shaped, pa.array(checked)), pc.and_(real, in_range))
    return pc.if_else(valid, born, pa.scalar(None, pa.date32()))


def ages_on(born: pa.Array | pa.ChunkedArray, on: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised ``age_on``: completed years of each birth date on each day (date32
    columns), null where either is null."""
    years = pc.subtract(pc.year(on), pc.year(born))
    born_day = pc.add(pc.multiply(pc.month(born), 100), pc.day(born))
    on_day = pc.add(pc.multiply(pc.month(on), 100), pc.day(on))
    return pc.subtract(years, pc.cast(pc.less(on_day, born_day), pa.int64()))
