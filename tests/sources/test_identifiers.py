"""National IDs, phones and the permutation that keeps them unique."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest

from zhongtai.sources import identifiers as ids

MOBILE = re.compile(r"^1(3\d|5[0-35-9]|7[013-8]|8\d|9[135-9])\d{8}$")


@pytest.mark.parametrize(
    ("national_id", "valid"),
    [
        ("11010519491231002X", True),  # the example of GB 11643-1999
        ("440524188001010014", True),
        ("11010519491231002Y", False),
        ("110105194912310021", False),
        ("1101051949123100", False),
    ],
)
def test_check_digit_follows_iso_7064_mod_11_2(national_id: str, valid: bool) -> None:
    assert ids.is_valid_national_id(national_id) is valid


def test_permutation_is_a_bijection() -> None:
    permute = ids.permutation(10_007, seed=3, salt=1)
    out = permute(np.arange(10_007))
    assert sorted(out.tolist()) == list(range(10_007))
    assert not np.array_equal(out, np.arange(10_007))


def test_national_ids_are_unique_valid_and_encode_area_and_birth_date() -> None:
    space = ids.national_id_space(date(1955, 6, 1), date(2005, 3, 1), seed=1)
    people = ids.national_ids(np.arange(50_000), space)
    text = people.text.to_pylist()
    assert len(set(text)) == len(text)
    assert all(ids.is_valid_national_id(t) for t in text)
    codes = {a.code for a in ids.AREAS}
    assert {int(t[:6]) for t in text} <= codes
    birth = np.array(people.birth_day).astype("datetime64[D]").astype(str)
    assert [t[6:14] for t in text[:1000]] == [b.replace("-", "") for b in birth[:1000]]
    assert all((int(t[16]) % 2 == 1) == m for t, m in zip(text, people.is_male, strict=True))


def test_phones_are_unique_mainland_mobiles() -> None:
    phones = ids.phones(np.arange(50_000), ids.phone_permutation(seed=1)).to_pylist()
    assert len(set(phones)) == len(phones)
    assert all(MOBILE.match(p) for p in phones)
