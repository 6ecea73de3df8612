"""train_models, run by Airflow: feature services in, registered and gated models out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worlds import copy_world
from zhongtai.airflow_env import run_dag_test
from zhongtai.ml.register import CHALLENGER
from zhongtai.ml.track import use_mlflow
from zhongtai.settings import Settings

pytestmark = pytest.mark.e2e


def test_train_models_registers_both_families_reproducibly(
    feature_world: Settings, tmp_path: Path
) -> None:
    settings = copy_world(feature_world, tmp_path)

    run_dag_test("train_models", settings)
    run_dag_test("train_models", settings)

    client = use_mlflow(settings)
    for family in ("credit_pd", "fraud"):
        first, second = (client.get_model_version(family, v) for v in ("1", "2"))
        assert str(client.get_model_version_by_alias(family, CHALLENGER).version) == "2"
        # the gate decided both times, and said why
        assert {first.tags["promotion"], second.tags["promotion"]} <= {"promoted", "refused"}
        assert second.tags["promotion.reasons"]
        # same features, labels and spec: same model, same out-of-time metrics
        runs = [client.get_run(str(v.run_id)).data for v in (first, second)]
        metric = "out_of_time.auc"  # the chosen algorithm's, as every candidate's run names it
        assert runs[0].metrics[metric] == runs[1].metrics[metric]
        assert runs[0].tags["training_set.fingerprint"] == runs[1].tags["training_set.fingerprint"]
        assert first.tags["model_digest"] == second.tags["model_digest"]
