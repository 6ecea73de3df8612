"""Small hand-made deliveries, valid by their contract, that a test can then break."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from zhongtai.contracts import load_contract
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


def application(index: int, **overrides: str) -> dict[str, str]:
    """A valid application row with distinct identifiers per ``index``."""
    row = dict(APPLICATION)
    row.update(
        application_id=f"A-{index}",
        national_id=f"1101051949123{index:04d}X",
        name=f"张{index}",
        phone=f"138{index:08d}",
        residential_address=f"北京市朝阳区建国路{index}号",
    )
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
