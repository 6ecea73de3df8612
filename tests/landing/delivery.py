"""Small hand-made deliveries, valid by their contract, that a test can then break."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np

from zhongtai.contracts import load_contract
from zhongtai.privacy.identity import check_characters
from zhongtai.settings import Settings

INGEST_DATE = date(2026, 11, 23)

APPLICATION = {
    "application_id": "A-1",
    "applied_at": "2026-11-20T08:30:00Z",
    "national_id": "11010519491231002X",
    "name": "张伟",
    "phone": "13800138000",
    "residential_address": "北京市朝阳区建国路88号",
    "birth_date": "1949-12-31",
    "city_code": "110105",
    "employment_type": "salaried",
    "monthly_income_minor": "1200000",
    "monthly_debt_payment_minor": "300000",
    "requested_amount_minor": "5000000",
    "term_months": "12",
    "loan_purpose": "consumer",
    "channel": "app",
    "partner_id": "",
    "device_id": "dev-1",
    "ip_address": "10.1.2.3",
    "has_consented_credit_scoring": "true",
    "has_consented_fraud_prevention": "true",
    "has_consented_marketing": "false",
}


def national_id(body: str) -> str:
    """``body`` (17 digits: area, birth date, sequence) completed with its check character."""
    code = check_characters(np.frombuffer(body.encode(), dtype=np.uint8)[None, :])[0]
    return body + chr(code)


def application(index: int, **overrides: str) -> dict[str, str]:
    """A valid application row with distinct identifiers per ``index`` (below 1000)."""
    row = dict(APPLICATION)
    row.update(
        application_id=f"A-{index}",
        national_id=national_id(f"11010519491231{index:03d}"),
        name=f"张{index}",
        phone=f"138{index:08d}",
        residential_address=f"北京市朝阳区建国路{index}号",
    )
    row.update(overrides)
    return row


def loan(index: int, **overrides: str) -> dict[str, str]:
    """A valid loan row for application ``A-<index>``."""
    row = {
        "loan_id": f"L-{index}",
        "application_id": f"A-{index}",
        "disbursed_at": "2026-11-21T09:00:00Z",
        "principal_minor": "5000000",
        "term_months": "12",
        "apr_bps": "1800",
        "instalment_amount_minor": "458000",
    }
    row.update(overrides)
    return row


def device_event(index: int, **overrides: str) -> dict[str, str]:
    """A valid device event row."""
    row = {
        "event_id": f"E-{index}",
        "device_id": f"dev-{index}",
        "application_id": f"A-{index}",
        "event_type": "app_open",
        "os": "android",
        "os_version": "14",
        "is_emulator": "false",
        "is_rooted": "false",
        "ip_address": "10.1.2.3",
        "occurred_at": "2026-11-20T08:29:00Z",
    }
    row.update(overrides)
    return row


def list_entry(index: int, **overrides: str) -> dict[str, str]:
    """A valid grey-list entry on a national ID."""
    row = {
        "list_entry_id": f"LE-{index}",
        "list_type": "grey",
        "national_id": national_id(f"44030519900101{index:03d}"),
        "phone": "",
        "device_id": "",
        "list_source": "internal_risk",
        "reason": "multi_lender_shopping",
        "added_at": "2026-11-01T00:00:00Z",
        "expires_at": "",
    }
    row.update(overrides)
    return row


def write_delivery(
    inbox_dir: Path,
    source: str,
    rows: list[dict[str, str]],
    *,
    name: str = "part-00000.csv",
    header: list[str] | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write ``rows`` as a delivered CSV (header: the delivered fields of the contract of
    ``settings``' project unless given)."""
    folder = inbox_dir / INGEST_DATE.isoformat() / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    columns = header or [field.name for field in load_contract(source, settings).delivered_fields]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
    return path
