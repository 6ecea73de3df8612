"""The marts the warehouse publishes: one Parquet file each, read by Feast and the models.

A mart is a dbt model under ``dbt_project/models/marts/`` (``<area>/<mart>.sql``): the
marts are those files, so a new one needs no Python edit. Listing them reads no dbt
manifest and runs no dbt, so an Airflow DAG file may call ``marts`` while it is parsed.
"""

from __future__ import annotations

from pathlib import Path

from zhongtai.settings import Settings

MARTS_FOLDER = Path("models") / "marts"
SPARK_SCHEMA = "zhongtai"


class UnknownMart(KeyError):
    """No dbt model under models/marts has this name."""

    def __str__(self) -> str:
        return str(self.args[0])


def mart_models_dir(settings: Settings) -> Path:
    """The dbt project's marts folder (the models, not the Parquet files they build)."""
    return settings.dbt_project_dir / MARTS_FOLDER


def marts(settings: Settings) -> tuple[str, ...]:
    """The marts of the project, by name: one per ``models/marts/**/<mart>.sql``."""
    return tuple(sorted({path.stem for path in mart_models_dir(settings).rglob("*.sql")}))


def mart_path(settings: Settings, mart: str) -> Path:
    """The mart's Parquet file, as built on the default DuckDB target."""
    _check(settings, mart)
    return settings.marts_dir / f"{mart}.parquet"


def spark_mart_path(settings: Settings, mart: str) -> Path:
    """The mart's Parquet table folder, as built on the Spark target."""
    _check(settings, mart)
    return settings.spark_dir / "warehouse" / f"{SPARK_SCHEMA}.db" / mart


def _check(settings: Settings, mart: str) -> None:
    known = marts(settings)
    if mart not in known:
        raise UnknownMart(
            f"unknown mart {mart!r}: no dbt model {mart_models_dir(settings)}/**/{mart}.sql; "
            f"the marts are: {', '.join(known) or 'none'}"
        )
