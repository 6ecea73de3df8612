"""The marts the warehouse publishes: one Parquet file each, read by Feast and the models."""

from __future__ import annotations

from pathlib import Path

from zhongtai.settings import Settings

MARTS: tuple[str, ...] = (
    "application_features",
    "applicant_features",
    "loan_performance_labels",
    "identifier_edges",
    "list_entries",
    "partner_portfolio_records",
)


def mart_path(settings: Settings, mart: str) -> Path:
    if mart not in MARTS:
        raise KeyError(f"unknown mart {mart!r}; the marts are: {', '.join(MARTS)}")
    return settings.marts_dir / f"{mart}.parquet"
