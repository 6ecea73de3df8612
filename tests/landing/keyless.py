"""A synthetic source that delivers no key of its own, in a copy of the project's rooms."""

from __future__ import annotations

import shutil
from pathlib import Path

from zhongtai.settings import Settings

SOURCE = "ledger"
KEY = "ledger_line_id"

CONTRACT = """
source: ledger
version: 1
description: A partner's ledger lines, delivered without a key of their own.
{record_key}
fields:
  - {{name: ledger_line_id, type: string, pii: none, purpose: "the record key landing derives",
      legal_basis: contract, required: true}}
  - {{name: booked_at, type: timestamp, pii: none, purpose: "when the line was booked",
      legal_basis: contract, required: true}}
  - {{name: value_date, type: date, pii: none, purpose: "the value date",
      legal_basis: contract, required: true}}
  - {{name: account_ref, type: string, pii: none, purpose: "the partner's account",
      legal_basis: contract, required: true}}
  - {{name: phone, type: string, pii: direct_identifier, treatment: pseudonymise,
      purpose: "link to the applicant",
      legal_basis: contract, required: false}}
  - {{name: amount, type: float64, pii: financial, purpose: "the amount booked",
      legal_basis: contract, required: true}}
  - {{name: units, type: int64, pii: none, purpose: "units booked",
      legal_basis: contract, required: false}}
  - {{name: is_settled, type: bool, pii: none, purpose: "settlement",
      legal_basis: contract, required: true}}
"""

LINE = {
    "booked_at": "2026-11-20T08:30:00Z",
    "value_date": "2026-11-20",
    "account_ref": "ACC-1",
    "phone": "13800138000",
    "amount": "12.5",
    "units": "",
    "is_settled": "true",
}


def line(**overrides: str) -> dict[str, str]:
    return {**LINE, **overrides}


def project_with(settings: Settings, tmp_path: Path, files: dict[str, str]) -> Settings:
    """``settings`` over a copy of the project's contracts plus ``files`` (name → text)."""
    project = tmp_path / "project"
    shutil.copytree(settings.contracts_dir, project / "contracts")
    for name, text in files.items():
        (project / "contracts" / name).write_text(text)
    return settings.model_copy(update={"project_dir": project})


def keyless_project(
    settings: Settings, tmp_path: Path, record_key: str = "record_key: {column: ledger_line_id}"
) -> Settings:
    """``settings`` over a project that also declares the keyless ``ledger`` source."""
    return project_with(settings, tmp_path, {"ledger.yml": CONTRACT.format(record_key=record_key)})
