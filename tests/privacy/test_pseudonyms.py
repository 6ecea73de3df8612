"""Pseudonyms: stable join keys across sources, useless without the key, never the clear value."""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Sequence

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhongtai.privacy.pseudonyms import normalise, pseudonymise, pseudonymise_one

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
HEX64 = re.compile(r"[0-9a-f]{64}")


def pseudonyms(values: Sequence[str | None], kind: str, key: bytes = KEY) -> list[str | None]:
    return pseudonymise(pa.array(values, type=pa.string()), kind=kind, key=key).to_pylist()


def test_pseudonyms_are_deterministic_hex_digests() -> None:
    first = pseudonyms(["13800138000", "13900139000"], "phone")

    assert first == pseudonyms(["13800138000", "13900139000"], "phone")
    assert all(p is not None and HEX64.fullmatch(p) for p in first)
    assert first[0] != first[1]


def test_pseudonyms_differ_across_keys() -> None:
    assert pseudonyms(["13800138000"], "phone") != pseudonyms(["13800138000"], "phone", OTHER_KEY)


def test_the_same_digits_as_phone_and_as_id_never_collide() -> None:
    digits = "13800138000"

    assert pseudonyms([digits], "phone") != pseudonyms([digits], "national_id")
    assert pseudonyms([digits], "phone") != pseudonyms([digits], "device_id")


def test_pseudonym_is_keyed_hmac_sha256_over_kind_and_normalised_value() -> None:
    """Anyone holding the key can reproduce a pseudonym with the standard library."""
    long_key = os.urandom(100)  # longer than the SHA-256 block: hashed first, per RFC 2104
    for key in (KEY, long_key):
        expected = hmac.digest(key, b"phone\x1f13800138000", "sha256").hex()
        assert pseudonyms(["+86 138 0013 8000"], "phone", key) == [expected]
        expected = hmac.digest(key, "name\x1f张三".encode(), "sha256").hex()
        assert pseudonyms([" 张三 "], "name", key) == [expected]


@pytest.mark.parametrize(
    "written",
    [
        " 13800138000",
        "+86 138 0013 8000",
        "86-138-0013-8000",
        "0086 13800138000",
        "(138) 0013-8000",
        "１３８００１３８０００",  # full-width digits, as typed on a Chinese keyboard
    ],
)
def test_one_phone_written_many_ways_gives_one_pseudonym(written: str) -> None:
    assert pseudonyms([written], "phone") == pseudonyms(["13800138000"], "phone")


def test_a_short_number_starting_with_86_keeps_its_86() -> None:
    assert normalise(pa.array(["86123"]), kind="phone").to_pylist() == ["86123"]
    assert normalise(pa.array(["8613800138000"]), kind="phone").to_pylist() == ["13800138000"]


def test_national_id_is_case_and_space_insensitive() -> None:
    canonical = pseudonyms(["11010519491231002X"], "national_id")

    assert pseudonyms([" 11010519491231002x "], "national_id") == canonical
    assert pseudonyms(["１１０１０５１９４９１２３１００２ｘ"], "national_id") == canonical


def test_name_and_address_normalisation() -> None:
    assert pseudonyms(["Ｚｈａｎｇ Ｓａｎ "], "name") == pseudonyms(["Zhang San"], "name")
    assert pseudonyms(["北京市\u3000朝阳区  建国路 1号\n"], "residential_address") == pseudonyms(
        ["北京市 朝阳区 建国路 1号"], "residential_address"
    )


def test_other_kinds_are_only_stripped() -> None:
    assert pseudonyms([" Ab "], "device_id") == pseudonyms(["Ab"], "device_id")
    assert pseudonyms(["Ab"], "device_id") != pseudonyms(["AB"], "device_id")


def test_nulls_stay_null_and_blanks_become_null() -> None:
    result = pseudonyms([None, "13800138000", None, "  ", " - "], "phone")

    assert result[0] is None and result[2] is None
    assert result[1] is not None
    # A blank phone is missing, not one shared identifier linking every blank applicant.
    assert result[3] is None and result[4] is None


def test_output_never_contains_the_clear_value() -> None:
    clear_by_kind = {
        "phone": ["13800138000", "13900139000"],
        "national_id": ["11010519491231002X", "440301199001011234"],
        "name": ["Zhang San", "李四"],
    }

    for kind, values in clear_by_kind.items():
        for clear, pseudonym in zip(values, pseudonyms(values, kind), strict=True):
            assert pseudonym is not None
            assert clear.lower() not in pseudonym
            assert clear.encode().hex() not in pseudonym


def test_arrow_layouts_give_the_same_pseudonyms() -> None:
    values = ["13800138000", None, "13900139000", "13800138000"]
    expected = pseudonyms(values, "phone")
    layouts = [
        pa.array(values, type=pa.large_string()),
        pa.array(values, type=pa.string_view()),
        pa.array(values).dictionary_encode(),
        pa.chunked_array([pa.array(values[:2]), pa.array(values[2:])]),
        pa.chunked_array(
            [pa.array(values[:1]).dictionary_encode(), pa.array(values[1:]).dictionary_encode()]
        ),
        pa.array([13800138000, None, 13900139000, 13800138000], type=pa.int64()),
    ]

    for layout in layouts:
        result = pseudonymise(layout, kind="phone", key=KEY)
        assert isinstance(result, pa.Array)
        assert result.type == pa.string()
        assert result.to_pylist() == expected, layout.type


def test_empty_and_all_null_inputs() -> None:
    assert pseudonymise(pa.array([], type=pa.string()), kind="phone", key=KEY).to_pylist() == []
    assert (
        pseudonymise(pa.chunked_array([], type=pa.string()), kind="phone", key=KEY).to_pylist()
        == []
    )
    assert pseudonymise(pa.array([None, None]), kind="phone", key=KEY).to_pylist() == [None, None]


def test_pseudonymise_one_agrees_with_the_column_version() -> None:
    assert (
        pseudonymise_one("+86 138 0013 8000", kind="phone", key=KEY)
        == pseudonyms(["13800138000"], "phone")[0]
    )
    assert pseudonymise_one(None, kind="phone", key=KEY) is None


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20))
def test_a_national_id_pseudonymised_alone_matches_the_column_version(text: str) -> None:
    """Plain ASCII ids skip Arrow: whatever the text, the two must agree."""
    expected = pseudonymise(pa.array([text]), kind="national_id", key=KEY)[0].as_py()
    assert pseudonymise_one(text, kind="national_id", key=KEY) == expected


def test_bad_kind_key_or_type_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        pseudonymise(pa.array(["x"]), kind="Phone\x1f", key=KEY)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        pseudonymise(pa.array(["x"]), kind="phone", key=b"short")
    with pytest.raises(TypeError, match="double"):
        pseudonymise(pa.array([1.5]), kind="phone", key=KEY)
