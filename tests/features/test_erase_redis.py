"""Erasure reaches the Redis online store (scale environment): the subject's entity rows
go, through Feast's own key format, and every other applicant's stay."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import running_redis
from tests.worlds import copy_world
from zhongtai.features.erase import erase_online_store
from zhongtai.features.online import online_vector
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

SERVICE = "credit_scoring_v1"


def _two_applicants(settings: Settings) -> list[dict[str, object]]:
    """The latest application of two applicants, each on a device only they used."""
    path = mart_path(settings, "application_features")
    return (
        duckdb.execute(
            f"select * from read_parquet('{path}') qualify "
            "row_number() over (partition by applicant_id order by applied_at desc) = 1 "
            "and count(*) over (partition by device_id) = 1 "
            "order by applicant_id limit 2"
        )
        .df()
        .to_dict("records")
    )


def _load_online(settings: Settings, rows: list[dict[str, object]]) -> None:
    """The two applicants' profiles and devices' velocity, written as Feast writes them."""
    import pandas as pd

    store = open_store(settings)
    frame = pd.DataFrame(rows)
    store.write_to_online_store("application_profile", frame)
    velocity = frame[["device_id", "applied_at"]].assign(
        device_applications_1h=1,
        device_application_times_1h=[[1], [2]],
    )
    store.write_to_online_store("device_velocity", velocity)


def _redis_bytes(connection: str) -> list[bytes]:
    """Every key and every stored value in the Redis server."""
    import redis

    host, port = connection.split(":")
    client = redis.Redis(host=host, port=int(port))
    found = []
    for key in client.scan_iter():
        found.append(key)
        found.extend(value for pair in client.hgetall(key).items() for value in pair)
    return found


def test_erasure_deletes_the_subjects_rows_from_redis_and_keeps_the_others(
    feature_world: Settings, tmp_path: Path, redis_server: str
) -> None:
    scale = copy_world(feature_world, tmp_path, feature_env="scale", redis_connection=redis_server)
    subject, other = _two_applicants(scale)
    _load_online(scale, [subject, other])
    store = open_store(scale)
    before = online_vector(store, SERVICE, {"applicant_id": str(other["applicant_id"])})
    assert before["monthly_income_minor"] == other["monthly_income_minor"]

    erased = erase_online_store(scale, {str(subject["applicant_id"]), str(subject["device_id"])})

    assert erased == 2  # the applicant's row and their device's row
    gone = online_vector(store, SERVICE, {"applicant_id": str(subject["applicant_id"])})
    assert gone["monthly_income_minor"] is None and gone["age_years"] is None
    assert online_vector(store, SERVICE, {"applicant_id": str(other["applicant_id"])}) == before
    stored = _redis_bytes(redis_server)
    for needle in (subject["applicant_id"], subject["device_id"]):
        assert not [item for item in stored if str(needle).encode() in item], needle
    for needle in (other["applicant_id"], other["device_id"]):
        assert [item for item in stored if str(needle).encode() in item], needle
    assert erase_online_store(scale, {str(subject["applicant_id"])}) == 0  # a rerun: nothing


def test_erasure_with_redis_down_fails_naming_the_store_not_the_subject(
    feature_world: Settings, tmp_path: Path
) -> None:
    with running_redis(tmp_path) as (connection, process):
        scale = copy_world(
            feature_world, tmp_path, feature_env="scale", redis_connection=connection
        )
        process.terminate()
        process.wait(timeout=10)
        subject = "a" * 64
        with pytest.raises(RuntimeError, match="run the erasure again") as failed:
            erase_online_store(scale, {subject})
    assert connection in str(failed.value) and subject not in str(failed.value)
