"""The real German Credit portfolio, landed as partner P900's book."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from zhongtai.sources.german_credit import land_german_credit_file

from .conftest import contract, read_text_csv


def test_german_credit_lands_1000_records_with_the_contract_columns(tmp_path: Path) -> None:
    path = land_german_credit_file(tmp_path, date(2025, 6, 1))
    assert path == tmp_path / "2025-06-01" / "partner_portfolio" / "part-00000.csv"
    table = read_text_csv([path])
    fields = contract("partner_portfolio")["fields"]
    assert table.column_names == [f["name"] for f in fields]
    assert table.num_rows == 1000
    records = table["record_id"].to_pylist()
    assert records[0] == "GC-0001" and len(set(records)) == 1000
    assert set(table["partner_id"].to_pylist()) == {"P900"}
    assert set(table["creditability"].to_pylist()) == {"good", "bad"}
    for field in fields:
        assert table[field["name"]].null_count == 0
        if field["type"] == "int64":
            assert all(v.isdigit() for v in table[field["name"]].to_pylist())
    # values with commas survive the round trip
    assert "yes, registered under the customers name" in table["telephone"].to_pylist()
