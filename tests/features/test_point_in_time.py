"""Training sets are point in time: a value dated after an event never reaches its row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from tests.features.conftest import copy_world
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

PLANTED_INCOME = 987_654_321


def test_a_value_dated_after_the_event_does_not_appear(
    feature_world: Settings, tmp_path: Path
) -> None:
    settings = copy_world(feature_world, tmp_path)
    path = mart_path(settings, "application_features")
    applications = duckdb.sql(f"select * from read_parquet('{path}')").df()
    event = applications.sort_values("applied_at").iloc[len(applications) // 2]
    planted = applications[applications.application_id == event.application_id].copy()
    planted["application_id"] = "APP-PLANTED"
    planted["applied_at"] = event.applied_at + timedelta(days=1)
    planted["monthly_income_minor"] = PLANTED_INCOME
    pd.concat([applications, planted]).to_parquet(path, index=False, coerce_timestamps="us")

    entity_df = pd.DataFrame(
        {
            "applicant_id": [event.applicant_id] * 3,
            "event_timestamp": pd.to_datetime(
                [
                    event.applied_at,
                    event.applied_at + timedelta(hours=23),
                    planted.applied_at.iloc[0],
                ],
                utc=True,
            ),
        }
    )
    rows = (
        open_store(settings)
        .get_historical_features(
            entity_df=entity_df, features=["application_profile:monthly_income_minor"]
        )
        .to_df()
        .sort_values("event_timestamp")
    )
    at_event, before_plant, at_plant = rows.monthly_income_minor.tolist()
    assert at_event == before_plant == event.monthly_income_minor != PLANTED_INCOME
    # the planted value is there, and served from its own timestamp on
    assert at_plant == PLANTED_INCOME
