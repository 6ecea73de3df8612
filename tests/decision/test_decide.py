"""A decision's online features: the lean per-view read gives what Feast's own call gives."""

from __future__ import annotations

import math
from typing import Any

import duckdb

from zhongtai.decision.decide import OnlineFeatures, Subject
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def subjects(settings: Settings, count: int) -> list[Subject]:
    """Applicants, devices and ranges of the world's latest applications, and a stranger."""
    rows = duckdb.execute(
        "select applicant_id, device_id, ip_range from read_parquet(?) "
        "order by applied_at desc, application_id limit ?",
        [str(mart_path(settings, "application_features")), count],
    ).fetchall()
    stranger = Subject("0" * 64, "an unknown device", "203.0.113.0/24", 30)
    return [Subject(*row, age_years=30) for row in rows] + [stranger]


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def test_the_lean_read_gives_what_get_online_features_gives(served_world: Settings) -> None:
    store = open_store(served_world)
    online = OnlineFeatures(store)
    found_any = False
    for subject in subjects(served_world, 40):
        expected = store.get_online_features(
            features=online.references, entity_rows=[subject.entity]
        ).to_dict()
        expected = {k: v[0] for k, v in expected.items() if k not in subject.entity}
        read = online.read(subject)
        assert read.keys() == expected.keys()
        for name, value in read.items():
            assert same(value, expected[name]), name
        found_any |= any(value is not None for value in read.values())
    assert found_any  # the world's applicants are in the store, not only strangers
