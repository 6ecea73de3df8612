from __future__ import annotations

import re
from pathlib import Path

import pytest

from zhongtai.landing.contracts import ContractError, declared_sources, load_contract, read_contract

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
