"""Training sets are point in time: a value dated after an event never reaches its row."""

from __future__ import annotations

from pathlib import Path

from tests.features.conftest import PLANTED_INCOME, plant_later_income
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings


def test_a_value_dated_after_the_event_does_not_appear(
    feature_world: Settings, tmp_path: Path
) -> None:
    planted = plant_later_income(feature_world, tmp_path)
    event, entity_df = planted.event, planted.entity_df
    rows = (
        open_store(planted.settings)
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
