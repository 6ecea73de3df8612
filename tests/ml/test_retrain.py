"""Retraining end to end on a real small world: MLflow run, registry, promotion gate."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import free_port, serving
from tests.ml.gates import as_committed, strict
from tests.worlds import copy_world
from zhongtai.ml.data import load_frame, split_out_of_time
from zhongtai.ml.register import (
    CHALLENGER,
    CHAMPION,
    ModelNotRegistered,
    load_registered,
)
from zhongtai.ml.retrain import retrain
from zhongtai.ml.spec import load_spec
from zhongtai.ml.track import use_mlflow
from zhongtai.settings import Settings


@pytest.fixture(scope="module")
def trained(feature_world: Settings, tmp_path_factory: pytest.TempPathFactory):
    """One world, three credit trainings: strict (refused), the spec as committed (its
    burden in test is harm: promoted), and again (same data: the champion reproduced,
    a gain of exactly 0, refused)."""
    settings = copy_world(feature_world, tmp_path_factory.mktemp("retrain"))
    outcomes = [
        retrain(spec, settings, progress=lambda _: None)
        for spec in (strict("credit_pd"), as_committed("credit_pd"), as_committed("credit_pd"))
    ]
    return settings, outcomes


def candidates(client, run) -> dict[str, object]:
    """The child runs of a training run, by algorithm."""
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    return {child.data.tags["algorithm"]: child for child in children}


def test_a_challenger_without_evidence_is_registered_but_not_promoted(trained) -> None:
    settings, (strict, _, _) = trained
    assert strict.version == "1" and not strict.promoted and strict.champion is None
    assert strict.decision.burden == "model" and strict.decision.env == "test"
    (auc,) = [check for check in strict.decision.checks if check.name == "min_auc"]
    assert not auc.passed and auc.reason in strict.decision.reasons
    assert auc.reason.startswith("out-of-time AUC") and "0.9900" in auc.reason
    client = use_mlflow(settings)
    version = client.get_model_version("credit_pd", "1")
    assert version.tags["promotion"] == "refused"
    assert version.tags["promotion.burden"] == "model"
    assert auc.reason in version.tags["promotion.reasons"]
    assert len(version.tags["promotion.checks"].splitlines()) == len(strict.decision.checks)
    # the registry shows the decision on the version itself
    assert version.description.startswith(
        "Promotion gate: refused (against no champion; burden of proof in test: model)."
    )
    assert f"- FAIL min_auc: {auc.reason}" in version.description.splitlines()


def test_the_gate_promotes_and_every_run_records_its_evidence(trained) -> None:
    settings, (_, promoted, _) = trained
    assert promoted.promoted and promoted.champion == promoted.version == "2"
    # the test world is too thin to show the limits, and nothing in it shows harm
    assert promoted.decision.burden == "harm"
    for check in promoted.decision.checks:
        assert check.passed, check.reason
        assert check.measurable or "not measurable" in check.reason or check.value is None
    client = use_mlflow(settings)
    run = client.get_run(promoted.run_id)
    metrics, tags = run.data.metrics, run.data.tags
    # the parent run: the chosen model's metrics, under the candidates' names
    assert tags["algorithm"] == "scorecard" and run.info.run_name == "credit_pd v2"
    for name in ("auc", "gini", "ks", "brier"):
        assert f"out_of_time.{name}" in metrics and f"development.{name}" in metrics, name
    assert "out_of_time.score_psi" in metrics  # against development
    assert metrics["out_of_time.auc"] == promoted.metrics["auc"]
    assert tags["feature_service"] == "credit_scoring_v1"
    assert len(tags["training_set.fingerprint"]) == 64
    assert {d.dataset.name for d in run.inputs.dataset_inputs} == {
        "credit_pd development",
        "credit_pd out of time",
    }
    artifacts = Path(run.info.artifact_uri.removeprefix("file://"))
    decision = json.loads((artifacts / "promotion" / "decision.json").read_text())
    assert (decision["promote"], decision["env"], decision["burden"]) == (True, "test", "harm")
    assert decision["report"] == promoted.decision.report
    assert {"interval", "rows", "events", "measurable"} <= set(decision["checks"][0])
    assert (artifacts / "spec" / "credit_pd.yml").is_file()
    # each candidate its own child run, with its own plots and selection
    for child in candidates(client, run).values():
        artifacts = Path(child.info.artifact_uri.removeprefix("file://"))
        for plot in ("roc", "ks", "calibration", "score_distribution"):
            assert (artifacts / "plots" / f"{plot}.png").read_bytes()[:4] == b"\x89PNG"
        assert (artifacts / "selection.json").is_file()


def test_each_candidate_is_a_child_run_with_the_same_metric_names(trained) -> None:
    settings, (_, promoted, _) = trained
    client = use_mlflow(settings)
    run = client.get_run(promoted.run_id)
    children = candidates(client, run)
    assert set(children) == {"scorecard", "lightgbm"}
    assert {c.info.run_name for c in children.values()} == {"scorecard", "lightgbm"}
    names = [set(c.data.metrics) for c in children.values()]
    # comparable side by side: the same keys, none prefixed by an algorithm
    assert names[0] == names[1] and {"out_of_time.auc", "development.auc"} <= names[0]
    for run_metrics in (*names, set(run.data.metrics)):
        assert not any(m.startswith(("scorecard", "lightgbm")) for m in run_metrics)
    chosen = children["scorecard"]
    assert run.data.tags["chosen_run_id"] == chosen.info.run_id
    assert chosen.data.metrics["out_of_time.auc"] == run.data.metrics["out_of_time.auc"]
    for algorithm, child in children.items():
        assert child.data.params["algorithm"] == algorithm and "features" in child.data.params
    assert "num_leaves" in children["lightgbm"].data.params  # unprefixed, as the UI lists them
    # each run's model is an MLflow 3 logged model, its run's metrics linked to it (the
    # parent's: the chosen model's and the gate's)
    models = client.search_logged_models([run.info.experiment_id])
    for source in (*children.values(), run):
        (model,) = [m for m in models if m.source_run_id == source.info.run_id]
        assert {m.key for m in model.metrics or []} == set(source.data.metrics)
    # the experiment is a model-training one, not GenAI
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    # the registered version is the parent's model
    assert client.get_model_version("credit_pd", "2").run_id == promoted.run_id


def test_same_data_same_metrics_and_no_gain_keeps_the_champion(trained) -> None:
    settings, (_, first, again) = trained
    assert again.metrics["auc"] == first.metrics["auc"]
    assert again.metrics["ks"] == first.metrics["ks"]
    assert not again.promoted and again.champion == "2"
    assert again.decision.reasons == [
        f"AUC gain over the champion 0.0000 (95% CI 0.0000–0.0000; the challenger scores all "
        f"{again.metrics['rows']:,} rows as the champion does) falls short of 0.0050: its "
        "upper bound does too"
    ]
    client = use_mlflow(settings)
    assert str(client.get_model_version_by_alias("credit_pd", CHAMPION).version) == "2"
    assert str(client.get_model_version_by_alias("credit_pd", CHALLENGER).version) == "3"


def test_the_champion_loads_without_pickle_and_scores_as_measured(trained) -> None:
    import mlflow

    settings, (_, promoted, _) = trained
    client = use_mlflow(settings)
    champion = load_registered(client, "credit_pd", alias=CHAMPION)
    assert champion.label == "credit_pd/2" and champion.run_id == promoted.run_id
    spec = load_spec("credit_pd")
    _, out_of_time, _ = split_out_of_time(load_frame(spec, settings), "applied_at", 3)
    from zhongtai.ml.evaluate import auc

    probability = champion.model.predict_pd(out_of_time)
    assert auc(out_of_time[spec.label], probability) == pytest.approx(promoted.metrics["auc"])
    served = mlflow.pyfunc.load_model("models:/credit_pd@champion")
    rows = out_of_time[champion.model.features].head(20)
    np.testing.assert_allclose(served.predict(rows)["probability"], probability[:20])


def test_the_loader_refuses_what_is_not_a_registered_version(trained) -> None:
    settings, _ = trained
    client = use_mlflow(settings)
    with pytest.raises(ModelNotRegistered, match="credit_pd version 99: no such registered"):
        load_registered(client, "credit_pd", version="99")
    with pytest.raises(ModelNotRegistered, match="no such registered"):
        load_registered(client, "credit_pd", alias="staging")
    with pytest.raises(ModelNotRegistered, match="no such registered"):
        load_registered(client, "not_a_model", alias=CHAMPION)
    # files swapped after registration are refused
    champion = load_registered(client, "credit_pd", alias=CHAMPION)
    uri = client.get_model_version_download_uri("credit_pd", champion.version)
    import mlflow

    exported = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri)) / "artifacts" / "model"
    model_json = exported / "model.json"
    original = model_json.read_text()
    model_json.write_text(original.replace('"features"', '"features" ', 1))
    try:
        with pytest.raises(ModelNotRegistered, match="do not match the digest"):
            load_registered(client, "credit_pd", alias=CHAMPION)
    finally:
        model_json.write_text(original)


def test_fraud_is_tracked_with_its_review_budget(feature_world: Settings, tmp_path: Path) -> None:
    settings = copy_world(feature_world, tmp_path)
    outcome = retrain(as_committed("fraud"), settings, progress=lambda _: None)
    assert outcome.promoted, outcome.decision.report  # the committed rule, on any day
    client = use_mlflow(settings)
    run = client.get_run(outcome.run_id)
    assert "out_of_time.auprc" in run.data.metrics
    assert "out_of_time.review.recall" in run.data.metrics
    champion = load_registered(client, "fraud", version=outcome.version)
    assert 0 < champion.model.metadata["review_threshold"] < 1
    child = candidates(client, run)["lightgbm"]
    artifacts = Path(child.info.artifact_uri.removeprefix("file://"))
    assert (artifacts / "plots" / "precision_recall.png").is_file()


def test_the_mlflow_ui_lists_the_registered_models(trained) -> None:
    settings, _ = trained
    port = free_port()
    command = [str(Path(sys.executable).parent / "zhongtai"), "models", "ui", "--port", str(port)]
    env = {**os.environ, "ZHONGTAI_DATA_DIR": str(settings.data_dir), "ZHONGTAI_ENV": "test"}
    with serving(command, env, port, "/health") as base:
        page = httpx.get(base + "/", timeout=30)
        models = httpx.get(base + "/ajax-api/2.0/mlflow/registered-models/search", timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    names = {model["name"] for model in models.json()["registered_models"]}
    assert "credit_pd" in names


def test_the_console_reports_every_check_and_which_champion_keeps_serving(
    trained, capsys: pytest.CaptureFixture[str]
) -> None:
    from zhongtai.cli.models import print_promotions

    settings, _ = trained
    without_champion = print_promotions(settings)
    assert without_champion == ["fraud"]  # never trained here; credit_pd has its champion
    printed = " ".join(capsys.readouterr().out.split())
    assert "credit_pd v3: refused by its gate" in printed
    assert "FAIL AUC gain over the champion" in printed
    assert "credit_pd v2, the champion, keeps serving" in printed
    assert "fraud: no version registered" in printed
