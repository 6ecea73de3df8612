"""materialize_features, run by Airflow: validated marts in, an online feature vector out."""

from __future__ import annotations

import pytest

from tests.worlds import build_world
from zhongtai.airflow_env import run_dag_test
from zhongtai.feature_tables import FEATURE_TABLES, feature_table_path
from zhongtai.features.online import latest_application, online_vector
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings

pytestmark = pytest.mark.e2e


def test_materialize_features_serves_the_latest_applicant(settings: Settings) -> None:
    build_world(settings, applicants=400, seed=3, delivery_date=settings.today())

    run_dag_test("materialize_features", settings)

    assert all(feature_table_path(settings, table).is_file() for table in FEATURE_TABLES)
    entity = latest_application(settings)
    store = open_store(settings)
    vector = online_vector(store, "fraud_detection_v1", entity)
    assert vector["component_size"] >= 1
    # velocity counts the last hour only: older counts have expired (TTL) and read as null
    served = {name: value for name, value in vector.items() if not name.endswith("_1h")}
    assert all(value is not None for value in served.values()), vector
