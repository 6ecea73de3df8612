"""Personal data found by value, in one text and in a whole column."""

from __future__ import annotations

import pyarrow as pa
import pytest

from zhongtai.privacy.scan import personal_data_in, scan_column


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        pytest.param("call 13800138000 tonight", {"mobile"}, id="mobile-in-text"),
        pytest.param("+8613800138000", {"mobile"}, id="mobile-plus86"),
        pytest.param("86-138-0013-8000", {"mobile"}, id="mobile-86-dashed"),
        pytest.param("id 11010519491231002X", {"national_id"}, id="national-id"),
        pytest.param("11010519491231002x", {"national_id"}, id="national-id-lowercase-x"),
        pytest.param("card 4111111111111111", {"bank_card"}, id="card"),
        pytest.param("6222 0212 3456 7894", {"bank_card"}, id="card-grouped"),
        pytest.param("mail zhang.wei@example.cn", {"email"}, id="email"),
        pytest.param("张伟 13800138000 a@b.cn", {"mobile", "email"}, id="several"),
    ],
)
def test_finds_personal_data(text: str, kinds: set[str]) -> None:
    assert personal_data_in(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("110105194912310021", id="id-wrong-check"),
        pytest.param("4111111111111112", id="card-failing-luhn"),
        pytest.param("213800138000", id="mobile-inside-longer-run"),
        pytest.param("12800138000", id="not-a-mobile-segment"),
        pytest.param("LN00000-0000000-001", id="instalment-id"),
        pytest.param("2025-01-22T16:03:29Z", id="timestamp"),
        pytest.param("117.195.235.228", id="ip-address"),
        pytest.param("24c67aaac127d8f8", id="device-id"),
        pytest.param("multi_lender_shopping", id="reason-code"),
        pytest.param("user at example dot cn", id="spelled-out-email"),
    ],
)
def test_leaves_ordinary_values_alone(text: str) -> None:
    assert personal_data_in(text) == set()


def test_column_scan_gives_the_first_row_of_each_kind() -> None:
    column = pa.chunked_array(
        [["ok", None, "110105194912310021"], ["13800138000", "x", "a@b.cn", "13900139000"]]
    )
    assert scan_column(column) == {"mobile": 3, "email": 5}


def test_column_scan_confirms_prefilter_hits_before_reporting() -> None:
    near_misses = ["4111111111111112"] * 5_000 + ["4111111111111111"]
    assert scan_column(pa.array(near_misses)) == {"bank_card": 5_000}


def test_column_scan_can_skip_kinds_a_field_may_hold() -> None:
    column = pa.array(["13800138000", "a@b.cn"])
    assert scan_column(column, kinds=["email"]) == {"email": 1}
