"""The online store serves each applicant's latest values, incrementally, on SQLite and Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.worlds import copy_world
from zhongtai.features.materialize import materialize_features
from zhongtai.features.online import latest_application, online_vector
from zhongtai.features.repo import open_store
from zhongtai.features.velocity import push_application_event
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def _latest_mart_row(settings: Settings, applicant_id: str) -> dict[str, object]:
    path = mart_path(settings, "application_features")
    frame = duckdb.execute(
        f"select * from read_parquet('{path}') where applicant_id = ? "
        "order by applied_at desc limit 1",
        [applicant_id],
    ).df()
    return frame.iloc[0].to_dict()


def test_online_vector_is_the_applicants_latest_application(feature_world: Settings) -> None:
    entity = latest_application(feature_world)
    vector = online_vector(
        open_store(feature_world), "credit_scoring_v1", {"applicant_id": entity["applicant_id"]}
    )
    latest = _latest_mart_row(feature_world, entity["applicant_id"])
    for feature in ("monthly_income_minor", "debt_to_income_ratio", "inquiries_30d_count"):
        assert vector[feature] == pytest.approx(latest[feature]), feature
    assert set(vector) >= {"is_blacklisted", "prior_loans_count", "age_years"}


def test_an_unknown_service_is_named(feature_world: Settings) -> None:
    with pytest.raises(KeyError, match="no feature service 'credit_scoring_v9'"):
        online_vector(open_store(feature_world), "credit_scoring_v9", {"applicant_id": "x"})


def test_materialisation_resumes_where_it_ended(feature_world: Settings, tmp_path: Path) -> None:
    settings = copy_world(feature_world, tmp_path)
    end = settings.now()
    first = materialize_features(settings, end=end, progress=lambda _: None)
    later = materialize_features(settings, end=end + timedelta(days=1), progress=lambda _: None)
    assert all(run.windows >= 2 for run in first if run.view == "application_profile")
    for before, after in zip(first, later, strict=True):
        assert after.start == before.end and after.windows == 1, after


def _push_reads_back(settings: Settings) -> None:
    store = open_store(settings)
    now = datetime.now(UTC)
    keys = {"device_id": f"device-{now.timestamp()}", "ip_range": "203.0.113.0/24"}
    assert push_application_event(store, **keys, applied_at=now - timedelta(hours=2)) == {
        "device_applications_1h": 1,
        "ip_range_applications_1h": 1,
    }
    push_application_event(store, **keys, applied_at=now - timedelta(minutes=5))
    counts = push_application_event(store, **keys, applied_at=now)
    # the event two hours ago has left the window
    assert counts == {"device_applications_1h": 2, "ip_range_applications_1h": 2}
    read = store.get_online_features(
        features=[
            "device_velocity:device_applications_1h",
            "ip_range_velocity:ip_range_applications_1h",
        ],
        entity_rows=[keys],
    ).to_dict()
    assert read["device_applications_1h"] == [2] and read["ip_range_applications_1h"] == [2]


def test_a_pushed_event_updates_velocity_online(feature_world: Settings, tmp_path: Path) -> None:
    _push_reads_back(copy_world(feature_world, tmp_path))


@pytest.mark.spark
def test_scale_environment_spark_and_redis_serve_the_same_vector(
    feature_world: Settings, tmp_path: Path, redis_server: str
) -> None:
    """The same definitions on Spark (offline) and Redis (online) as on DuckDB and SQLite."""
    scale = copy_world(feature_world, tmp_path, feature_env="scale", redis_connection=redis_server)
    materialize_features(scale, progress=lambda _: None)
    entity = latest_application(feature_world)
    for service in ("credit_scoring_v1", "fraud_detection_v1"):
        on_sqlite = online_vector(open_store(feature_world), service, entity)
        on_redis = online_vector(open_store(scale), service, entity)
        assert on_redis == pytest.approx(on_sqlite), service
    _push_reads_back(scale)
