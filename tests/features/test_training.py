"""The platform's training sets are Feast's, point in time, in the entity rows' order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.features.conftest import PLANTED_INCOME, plant_later_income
from zhongtai.features.repo import open_store
from zhongtai.features.training import training_set
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def _entity_rows(settings: Settings) -> pd.DataFrame:
    """Applications at their own time, an hour and two after, and past the one-year TTL."""
    path = mart_path(settings, "application_features")
    sample = duckdb.sql(
        "select applicant_id, device_id, ip_range, applied_at from read_parquet(?) "
        "using sample 200 rows (reservoir, 7)",
        params=[str(path)],
    ).df()
    shifts = [timedelta(0), timedelta(minutes=59), timedelta(hours=2), timedelta(days=400)]
    rows = pd.concat([sample.assign(event_timestamp=sample.applied_at + s) for s in shifts])
    rows["event_timestamp"] = pd.to_datetime(rows.event_timestamp, utc=True)
    rows = rows.drop(columns="applied_at").sample(frac=1, random_state=7)
    return rows.assign(row=range(len(rows))).reset_index(drop=True)


@pytest.mark.parametrize("service", ["credit_scoring_v1", "fraud_detection_v1"])
def test_the_training_set_is_feasts(feature_world: Settings, service: str) -> None:
    entity_df = _entity_rows(feature_world)
    store = open_store(feature_world)
    expected = (
        store.get_historical_features(
            entity_df=entity_df, features=store.get_feature_service(service)
        )
        .to_df()
        .sort_values("row")
        .reset_index(drop=True)
    )
    got = training_set(feature_world, service, entity_df).to_pandas()
    assert got.row.tolist() == entity_df.row.tolist()  # the caller's order, kept
    assert list(got.columns) == list(expected.columns)
    features = [c for c in got.columns if c not in entity_df.columns]
    pd.testing.assert_frame_equal(got[features], expected[features], check_dtype=False)
    # the sample reaches both sides of the TTLs: values found, and values expired
    assert got[features].notna().any().all() and got[features].isna().any().all()


def test_a_value_dated_after_the_event_does_not_appear(
    feature_world: Settings, tmp_path: Path
) -> None:
    planted = plant_later_income(feature_world, tmp_path)
    event, entity_df = planted.event, planted.entity_df
    rows = training_set(planted.settings, "credit_scoring_v1", entity_df).to_pandas()
    at_event, before_plant, at_plant = rows.monthly_income_minor.tolist()
    assert at_event == before_plant == event.monthly_income_minor != PLANTED_INCOME
    assert at_plant == PLANTED_INCOME


def test_rows_without_a_join_key_are_refused_with_its_name(feature_world: Settings) -> None:
    entity_df = pd.DataFrame(
        {"applicant_id": ["x"], "event_timestamp": pd.to_datetime(["2026-01-01"], utc=True)}
    )
    with pytest.raises(KeyError, match="fraud_detection_v1 joins on device_id, ip_range"):
        training_set(feature_world, "fraud_detection_v1", entity_df)
    with pytest.raises(KeyError, match="no feature service 'credit_scoring_v9'"):
        training_set(feature_world, "credit_scoring_v9", entity_df)
