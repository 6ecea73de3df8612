"""Copies of the feature world (the session fixture ``feature_world`` is in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from tests.worlds import copy_world
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

PLANTED_INCOME = 987_654_321


@dataclass(frozen=True)
class PlantedIncome:
    """A copy of the world with a later income planted for one applicant."""

    settings: Settings
    event: pd.Series  # the application the value is planted a day after
    entity_df: pd.DataFrame  # the applicant at the event, 23 hours later, at the plant


def plant_later_income(world: Settings, target: Path) -> PlantedIncome:
    settings = copy_world(world, target)
    path = mart_path(settings, "application_features")
    applications = duckdb.sql(f"select * from read_parquet('{path}')").df()
    event = applications.sort_values("applied_at").iloc[len(applications) // 2]
    planted = applications[applications.application_id == event.application_id].copy()
    planted["application_id"] = "APP-PLANTED"
    planted["applied_at"] = event.applied_at + timedelta(days=1)
    planted["monthly_income_minor"] = PLANTED_INCOME
    pd.concat([applications, planted]).to_parquet(path, index=False, coerce_timestamps="us")

    times = [event.applied_at, event.applied_at + timedelta(hours=23), planted.applied_at.iloc[0]]
    entity_df = pd.DataFrame(
        {
            "applicant_id": [event.applicant_id] * 3,
            "event_timestamp": pd.to_datetime(times, utc=True),
        }
    )
    return PlantedIncome(settings, event, entity_df)
