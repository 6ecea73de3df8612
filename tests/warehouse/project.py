"""A copy of the project's rooms with a new source added by files only: ``settlements``.

What a data engineer writes to onboard a source on the warehouse side: its contract, a dbt
source and staging model, a mart (with its enforced column contract), and its
expectations in each layer's suite, the raw → staging reconciliation included. No Python.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import yaml

from zhongtai.settings import Settings

ROOMS = ("contracts", "dbt_project", "expectations")

SOURCE = "settlements"
STAGING_VIEW = "stg_acquirer__settlements"
MART = "settlement_lines"

# Columns unlike every other source's: a timestamp, a date, a float, a bool, a nullable
# integer and an identifier landed as a pseudonym.
FILES = {
    "contracts/settlements.yml": """
source: settlements
version: 1
description: A payment acquirer's settlement lines (synthetic, for tests).
fields:
  - {name: settlement_id, type: string, pii: none, purpose: "identify the line",
     legal_basis: contract, required: true}
  - {name: settled_at, type: timestamp, pii: none, purpose: "when it settled",
     legal_basis: contract, required: true}
  - {name: value_date, type: date, pii: none, purpose: "the value date",
     legal_basis: contract, required: true}
  - {name: merchant_phone, type: string, pii: direct_identifier, treatment: pseudonymise,
     purpose: "link to the merchant", legal_basis: contract, required: false}
  - {name: amount, type: float64, pii: financial, purpose: "the amount settled",
     legal_basis: contract, required: true}
  - {name: units, type: int64, pii: none, purpose: "units settled",
     legal_basis: contract, required: false}
  - {name: is_reversed, type: bool, pii: none, purpose: "a reversal",
     legal_basis: contract, required: true}
""",
    "dbt_project/models/staging/acquirer/_acquirer__sources.yml": """
version: 2
sources:
  - name: acquirer
    description: A payment acquirer (synthetic).
    schema: raw
    loaded_at_field: _loaded_at
    tables:
      - name: settlements
""",
    "dbt_project/models/staging/acquirer/stg_acquirer__settlements.sql": """
with

source as (
    {{ latest_delivery(source('acquirer', 'settlements'), 'settlement_id') }}
),

renamed as (
    select
        settlement_id,
        {{ utc('settled_at') }} as settled_at,
        value_date,
        merchant_phone_pseudonym,
        amount,
        units,
        is_reversed,
        {{ lineage_columns() }}
    from source
)

select * from renamed
""",
    "dbt_project/models/marts/acquirer/settlement_lines.sql": """
with

settlements as (
    select * from {{ ref('stg_acquirer__settlements') }}
),

final as (
    select settlement_id, settled_at, value_date, amount, units, is_reversed, loaded_at
    from settlements
)

select * from final
""",
    "dbt_project/models/marts/acquirer/settlement_lines.yml": """
version: 2
models:
  - name: settlement_lines
    description: One settlement line per row.
    columns:
      - {name: settlement_id, data_type: string, data_tests: [not_null, unique]}
      - {name: settled_at, data_type: timestamp}
      - {name: value_date, data_type: date}
      - {name: amount, data_type: double}
      - {name: units, data_type: bigint}
      - {name: is_reversed, data_type: boolean}
      - {name: loaded_at, data_type: timestamp}
""",
}

EXPECTATIONS = {
    "raw": {
        SOURCE: {
            "id_columns": ["_batch_id", "settlement_id"],
            "sensitive_columns": ["merchant_phone_pseudonym"],
            "expectations": [
                {"type": "expect_column_values_to_not_be_null", "column": "settlement_id"},
                {
                    "type": "expect_column_values_to_match_regex",
                    "column": "merchant_phone_pseudonym",
                    "regex": "^[0-9a-f]{64}$",
                },
            ],
        }
    },
    "staging": {
        STAGING_VIEW: {
            "id_columns": ["settlement_id"],
            "expectations": [
                {"type": "expect_column_values_to_be_unique", "column": "settlement_id"}
            ],
        }
    },
    "marts": {
        MART: {
            "expectations": [
                {"type": "expect_column_values_to_be_between", "column": "amount", "min_value": 0}
            ]
        }
    },
    "reconciliation": {
        f"{SOURCE}_raw_to_staging": {
            "reconcile": {
                "raw_to_staging": {
                    "staging": STAGING_VIEW,
                    "key": "settlement_id",
                    "amounts": ["units"],
                }
            }
        }
    },
}


def copy_project(settings: Settings, target: Path) -> Settings:
    """``settings`` over a copy of the project's contracts, dbt project and expectations."""
    for room in ROOMS:
        shutil.copytree(
            settings.project_dir / room,
            target / room,
            ignore=shutil.ignore_patterns("target", "logs"),
        )
    return settings.model_copy(update={"project_dir": target})


def with_settlements(settings: Settings, target: Path, *, expectations: bool = True) -> Settings:
    """A project copy that declares ``settlements``: contract, dbt models and, unless
    ``expectations`` is false, its expectations in every layer."""
    project = copy_project(settings, target)
    for name, text in FILES.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip())
    if expectations:
        for layer, tables in EXPECTATIONS.items():
            add_expectations(project, layer, tables)
    return project


def add_expectations(settings: Settings, layer: str, tables: dict[str, object]) -> None:
    path = settings.expectations_dir / f"{layer}.yml"
    suite = yaml.safe_load(path.read_text())
    suite["tables"].update(tables)
    path.write_text(yaml.safe_dump(suite, sort_keys=False))


def deliver_settlements(settings: Settings, day: date, rows: int = 5) -> Path:
    """A CSV delivery of ``rows`` settlement lines in the inbox of ``day``."""
    folder = settings.inbox_dir / day.isoformat() / SOURCE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settlements.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "settlement_id",
                "settled_at",
                "value_date",
                "merchant_phone",
                "amount",
                "units",
                "is_reversed",
            ]
        )
        for index in range(rows):
            writer.writerow(
                [
                    f"S{index:04d}",
                    f"{day.isoformat()}T0{index % 10}:15:00Z",
                    day.isoformat(),
                    f"1380013{index:04d}",
                    f"{10.5 + index}",
                    "" if index == 0 else str(index),
                    "true" if index == 1 else "false",
                ]
            )
    return path
