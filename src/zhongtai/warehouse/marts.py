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


SPARK_SCHEMA = "zhongtai"


def mart_path(settings: Settings, mart: str) -> Path:
    """The mart's Parquet file, as built on the default DuckDB target."""
    _check(mart)
    return settings.marts_dir / f"{mart}.parquet"


def spark_mart_path(settings: Settings, mart: str) -> Path:
    """The mart's Parquet table folder, as built on the Spark target."""
    _check(mart)
    return settings.spark_dir / "warehouse" / f"{SPARK_SCHEMA}.db" / mart


def _check(mart: str) -> None:
    if mart not in MARTS:
        raise KeyError(f"unknown mart {mart!r}; the marts are: {', '.join(MARTS)}")
