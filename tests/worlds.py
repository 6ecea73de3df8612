"""Small real worlds for tests: generated, landed and built by dbt, as the platform does."""

from __future__ import annotations

from datetime import date

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
