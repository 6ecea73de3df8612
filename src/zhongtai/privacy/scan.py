"""Personal data found by value: national IDs, mainland mobiles, bank cards, e-mail addresses.

A field declared non-personal can still carry personal data (a phone in a free-text
reason, an ID used as a key). Landing scans every such column before anything is written,
and the API scans free text the same way. Each kind is found in two steps: a cheap regular
expression over the whole column (Arrow's RE2, vectorised), then, only on its hits, the
exact rule: a national ID's check character, a card number's Luhn sum, digit-run bounds.

Nothing here returns or logs a value: callers get kinds and row positions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.contracts import PERSONAL_KINDS, PersonalKind
from zhongtai.privacy.identity import has_valid_check_character

__all__ = ["PERSONAL_KINDS", "PersonalKind", "personal_data_in", "scan_column"]

# Exact patterns (Python re), bounded: a digit run inside a longer run or inside a token of
# ASCII letters and digits (a hex install id, a reference) is not a hit. Chinese text,
# punctuation and spaces are boundaries.
_NATIONAL_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9A-Za-z])"
)
_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){3}(?:[ -]?[0-9]{1,3})?)"
    r"(?![0-9A-Za-z])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# Prefilters (RE2, no look-around): every exact hit matches its prefilter.
_PREFILTER: dict[PersonalKind, str] = {
    "national_id": r"[0-9]{17}[0-9Xx]",
    "mobile": r"1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}",
    "bank_card": r"[0-9]{13}|[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}",
    "email": r"@[A-Za-z0-9-]+\.",
}


def _luhn_ok(digits: str) -> bool:
    numbers = np.frombuffer(digits.encode(), dtype=np.uint8)[::-1].astype(np.int64) - 48
    doubled = numbers[1::2] * 2
    return int(numbers[::2].sum() + (doubled - 9 * (doubled > 9)).sum()) % 10 == 0


def _has_national_id(text: str) -> bool:
    return any(has_valid_check_character(m.group()) for m in _NATIONAL_ID.finditer(text))


def _has_mobile(text: str) -> bool:
    return _MOBILE.search(text) is not None


def _has_bank_card(text: str) -> bool:
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            return True
    return False


def _has_email(text: str) -> bool:
    return _EMAIL.search(text) is not None


_CONFIRM: dict[PersonalKind, Callable[[str], bool]] = {
    "national_id": _has_national_id,
    "mobile": _has_mobile,
    "bank_card": _has_bank_card,
    "email": _has_email,
}


def personal_data_in(text: str) -> set[PersonalKind]:
    """The kinds of personal data ``text`` holds (empty when none)."""
    return {kind for kind in PERSONAL_KINDS if _CONFIRM[kind](text)}


def scan_column(
    values: pa.Array | pa.ChunkedArray, kinds: Iterable[PersonalKind] = PERSONAL_KINDS
) -> dict[PersonalKind, int]:
    """The first row (0-based) holding each kind of personal data; kinds not found are absent.

    ``values`` are strings (nulls allowed). The regex prefilter runs over the whole column;
    only its hits are confirmed one by one, so a clean column of a million rows is cheap.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    found: dict[PersonalKind, int] = {}
    for kind in kinds:
        hits = pc.fill_null(pc.match_substring_regex(values, _PREFILTER[kind]), False)
        for row in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
            if _CONFIRM[kind](values[int(row)].as_py()):
                found[kind] = int(row)
                break
    return found
