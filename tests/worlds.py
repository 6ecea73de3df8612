"""Small real worlds for tests: generated, landed and built by dbt, as the platform does."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from zhongtai.features.repo import apply_definitions
from zhongtai.landing.land import land_delivery
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file
from zhongtai.warehouse.dbt import run_dbt


def build_world(settings: Settings, *, applicants: int, seed: int, delivery_date: date) -> None:
    """Generate a lender's world, land it and build the warehouse and marts (no tests run)."""
    generate(settings.inbox_dir, applicants=applicants, seed=seed, delivery_date=delivery_date)
    land_german_credit_file(settings.inbox_dir, delivery_date)
    land_delivery(delivery_date, settings)
    run_dbt(["run"], settings)


def copy_world(world: Settings, target: Path, **changes: object) -> Settings:
    """A copy of the world's marts and feature tables, its definitions applied afresh."""
    settings = Settings(data_dir=target / "var", env="test", **changes)  # type: ignore[arg-type]
    for folder in (world.marts_dir, world.features_dir):
        shutil.copytree(folder, settings.data_dir / folder.name)
    apply_definitions(settings)
    return settings
