from __future__ import annotations

import re
from pathlib import Path

import pytest

from zhongtai.contracts import ContractError, declared_sources, load_contract, read_contract

SOURCES = declared_sources()

CONTRACT = """
source: sample
version: 1
description: a test source
fields:
  - name: sample_id
    type: string
    pii: none
    purpose: key
    legal_basis: contract
    required: true
  - name: {name}
    type: string
    pii: {pii}
    treatment: {treatment}
    purpose: test
    legal_basis: contract
    required: true
"""


@pytest.mark.parametrize("source", SOURCES)
def test_every_field_says_why_it_is_held(source: str) -> None:
    contract = load_contract(source)
    assert contract.version >= 1
    for field in contract.fields:
        assert field.purpose.strip() and field.legal_basis.strip(), field.name


def test_direct_identifiers_never_leave_landing_in_clear() -> None:
    for source in SOURCES:
        for field in load_contract(source).fields:
            if field.pii == "direct_identifier":
                assert field.is_pseudonymised, f"{source}.{field.name}"


@pytest.mark.parametrize(
    "name", ["contacts", "sms_messages", "photo_album", "audio_clip", "location_history"]
)
def test_a_contract_cannot_declare_a_prohibited_category(name: str, tmp_path: Path) -> None:
    path = tmp_path / "sample.yml"
    path.write_text(CONTRACT.format(name=name, pii="sensitive", treatment="keep"))
    with pytest.raises(ContractError, match=re.escape(f"{path}: ") + ".*prohibited"):
        read_contract(path)


def test_a_contract_cannot_keep_a_direct_identifier_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "sample.yml"
    path.write_text(CONTRACT.format(name="phone", pii="direct_identifier", treatment="keep"))
    expected = re.escape(f"{path}: fields.1: ") + ".*must be pseudonymised"
    with pytest.raises(ContractError, match=expected):
        read_contract(path)


def test_unknown_source_is_named() -> None:
    with pytest.raises(KeyError, match="unknown source 'payslips'"):
        load_contract("payslips")


KEYLESS = """
source: sample
version: 1
description: a source without a key of its own
record_key: {record_key}
fields:
  - {{name: sample_id, type: {key_type}, pii: {key_pii}, purpose: key,
      legal_basis: contract, required: true}}
  - {{name: amount, type: int64, pii: financial, purpose: test,
      legal_basis: contract, required: true}}
  - {{name: note, type: string, pii: none, purpose: test, legal_basis: contract, required: false}}
"""


def _keyless(tmp_path: Path, record_key: str, key_type: str = "string", key_pii: str = "none"):
    path = tmp_path / "sample.yml"
    path.write_text(KEYLESS.format(record_key=record_key, key_type=key_type, key_pii=key_pii))
    return path


def test_a_derived_key_is_a_field_that_no_delivery_carries(tmp_path: Path) -> None:
    contract = read_contract(_keyless(tmp_path, "{column: sample_id, derive_from: [amount]}"))
    assert contract.derived_key == "sample_id"
    assert contract.field_names == ("sample_id", "amount", "note")
    assert [field.name for field in contract.delivered_fields] == ["amount", "note"]
    assert [field.name for field in contract.key_fields] == ["amount"]
    everything = read_contract(_keyless(tmp_path, "{column: sample_id}"))
    assert [field.name for field in everything.key_fields] == ["amount", "note"]
    assert everything.record_key is not None and everything.record_key.duplicates == "number"


@pytest.mark.parametrize(
    ("record_key", "key_type", "key_pii", "expected"),
    [
        ("{column: row_id}", "string", "none", "record_key.column 'row_id' is not a field"),
        ("{column: sample_id}", "int64", "none", "a derived key is a string with pii: none"),
        ("{column: sample_id}", "string", "quasi_identifier", "pii quasi_identifier"),
        ("{column: sample_id, derive_from: [amount, colour]}", "string", "none", "['colour']"),
        ("{column: sample_id, derive_from: [sample_id]}", "string", "none", "it is derived"),
        ("{column: sample_id, derive_from: []}", "string", "none", "name at least one field"),
        ("{column: sample_id, derive_from: [amount, amount]}", "string", "none", "named twice"),
        ("{column: sample_id, duplicates: drop}", "string", "none", "'number' or 'refuse'"),
        ("{column: sample_id, hash: md5}", "string", "none", "record_key.hash"),
    ],
)
def test_a_bad_record_key_is_named(
    tmp_path: Path, record_key: str, key_type: str, key_pii: str, expected: str
) -> None:
    path = _keyless(tmp_path, record_key, key_type, key_pii)
    with pytest.raises(ContractError, match=re.escape(f"{path}: ") + ".*" + re.escape(expected)):
        read_contract(path)


def test_an_allowed_value_cannot_name_a_prohibited_category(tmp_path: Path) -> None:
    path = tmp_path / "sample.yml"
    text = CONTRACT.format(name="event_type", pii="none", treatment="keep")
    path.write_text(text + "    allowed_values: [app_open, sms_read]\n")
    with pytest.raises(ContractError, match=r"allowed_values \['sms_read'\] name prohibited"):
        read_contract(path)


def test_string_limits_apply_to_strings_only(tmp_path: Path) -> None:
    path = tmp_path / "sample.yml"
    text = CONTRACT.format(name="count", pii="none", treatment="keep").replace(
        "type: string\n    pii: none\n    treatment", "type: int64\n    pii: none\n    treatment"
    )
    path.write_text(text + "    max_length: 10\n")
    with pytest.raises(ContractError, match="'count': max_length apply to strings only"):
        read_contract(path)


def test_every_string_field_has_a_size_limit() -> None:
    for source in SOURCES:
        for field in load_contract(source).fields:
            if field.type == "string":
                assert field.length_limit, f"{source}.{field.name}"


def test_clear_strings_are_scanned_for_the_personal_data_they_are_not_for() -> None:
    applications = load_contract("applications")
    assert applications.field("application_id").scanned_kinds == (
        "national_id", "mobile", "bank_card", "email",
    )  # fmt: skip
    assert "bank_card" not in applications.field("device_id").scanned_kinds
    assert applications.field("national_id").scanned_kinds == ()  # pseudonymised: never lands
    assert applications.field("term_months").scanned_kinds == ("national_id", "mobile", "bank_card")


def test_an_identity_check_names_fields_of_the_right_type(tmp_path: Path) -> None:
    path = tmp_path / "sample.yml"
    text = CONTRACT.format(name="national_id", pii="none", treatment="keep")
    path.write_text(text + "identity: {national_id: national_id, birth_date: sample_id}\n")
    with pytest.raises(ContractError, match=r"identity\.birth_date 'sample_id' must be a date"):
        read_contract(path)
