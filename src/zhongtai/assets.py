"""The Airflow assets that wire zhongtai's DAGs together (producer outlets, consumer schedules)."""

from __future__ import annotations

from airflow.sdk import Asset


def raw_asset(source: str) -> Asset:
    """The raw-zone batches of one source, emitted by ``land_raw``."""
    return Asset(name=f"raw_{source}", uri=f"x-zhongtai://raw/{source}", group="raw")


def mart_asset(mart: str) -> Asset:
    """A validated mart, emitted by ``build_warehouse`` once every gate has passed."""
    return Asset(name=f"mart_{mart}", uri=f"x-zhongtai://marts/{mart}", group="marts")


def feature_asset(service: str) -> Asset:
    """A feature service materialised online, emitted by ``materialize_features``."""
    return Asset(
        name=f"features_{service}", uri=f"x-zhongtai://features/{service}", group="features"
    )
