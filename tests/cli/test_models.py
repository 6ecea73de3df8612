"""``zhongtai models`` (cli/models.py): any spec cross-validated, any family trained,
registered and gated, on the German Credit book (its mart as the warehouse builds it).

Training and the registry in depth are in tests/ml; here, what a user runs and reads."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.cli.ran import Ran
from tests.ml.frames import german_credit_rows, write_german_credit_mart
from zhongtai.ml.register import CHALLENGER, CHAMPION
from zhongtai.ml.spec import model_families
from zhongtai.ml.track import use_mlflow
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path


def _project(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of the project's rooms the models read (to edit), which the command uses."""
    project = tmp_path / "project"
    for room in ("contracts", "ml", "dbt_project"):
        shutil.copytree(settings.project_dir / room, project / room)
    monkeypatch.setenv("ZHONGTAI_PROJECT_DIR", str(project))
    return settings.model_copy(update={"project_dir": project})


def _spec(settings: Settings, family: str) -> dict:
    return yaml.safe_load((settings.ml_dir / f"{family}.yml").read_text())


def test_models_help_lists_its_commands(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("models", "--help")
    assert ran.exit_code == 0, ran.output
    for command in ("train", "cv", "list", "ui"):
        assert f" {command} " in ran.text


def test_an_unknown_family_is_refused_naming_the_families(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("models", "train", "credit_pd", "credit_scorecard")
    assert ran.exit_code == 2
    assert "unknown model family 'credit_scorecard'" in ran.text
    assert f"the families of ml/ are {', '.join(model_families(settings))}" in ran.text
    assert not settings.mlflow_dir.exists()  # refused before anything was trained


def test_the_partner_book_is_a_family_cross_validated_as_its_spec_says(
    zhongtai: Callable[..., Ran], settings: Settings, tmp_path: Path
) -> None:
    assert "german_credit" in model_families(settings)
    write_german_credit_mart(settings)
    report_path = tmp_path / "cv" / "german_credit.json"
    ran = zhongtai("models", "cv", "german_credit", "--json", str(report_path))
    assert ran.exit_code == 0, ran.output
    report = json.loads(report_path.read_text())
    assert (report["n_splits"], report["n_repeats"], report["seed"]) == (5, 5, 42)
    assert (report["rows"], report["default_rate"]) == (1000, 0.3)
    chosen = report["algorithms"]["lightgbm"]
    assert len(chosen["folds"]) == 25
    # published results on this book: 0.75 to 0.80; without its protected columns
    assert chosen["auc_mean"] >= 0.79, chosen
    assert "5 x 5 repeated stratified cross-validation (seed 42)" in ran.text
    assert "1,000 rows of partner_portfolio_records, 30.0% with is_bad" in ran.text
    assert "mean ± std over 25 folds" in ran.text
    assert f"AUC {report['algorithms']['scorecard']['auc_mean']:.4f} ± " in ran.text
    assert f"{chosen['auc_mean']:.4f} ± {chosen['auc_std']:.4f}" in ran.text
    assert "lightgbm (chosen)" in ran.text
    folds = " ".join(f"{auc:.4f}" for auc in chosen["folds"])
    assert f"lightgbm AUC by fold: {folds}" in ran.text
    assert not settings.mlflow_dir.exists()  # validated, nothing registered


def test_any_spec_file_is_cross_validated_with_the_folds_asked_for(
    zhongtai: Callable[..., Ran], settings: Settings, tmp_path: Path
) -> None:
    write_german_credit_mart(settings)
    document = _spec(settings, "german_credit")
    del document["promotion"]
    del document["validation"]["cross_validation"]
    document["name"] = "partner_trial"
    path = tmp_path / "partner_trial.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    ran = zhongtai("models", "cv", str(path))
    assert ran.exit_code == 2
    assert "partner_trial has no validation.cross_validation: give --splits and --repeats" in (
        ran.text
    )
    ran = zhongtai("models", "cv", str(path), "--splits", "2", "--repeats", "1")
    assert ran.exit_code == 0, ran.output
    assert "partner_trial: 1 x 2 repeated stratified cross-validation" in ran.text
    assert "mean ± std over 2 folds" in ran.text
    # a spec without promotion is validated, never registered
    ran = zhongtai("models", "train", str(path))
    assert ran.exit_code == 2
    assert "partner_trial has no promotion section, so no gate to register it through" in (ran.text)
    assert "`zhongtai models cv " in ran.text and "cross-validates it as it is" in ran.text
    ran = zhongtai("models", "cv", "german_credt")
    assert ran.exit_code == 2 and "german_credt.yml: no such spec" in ran.text


def test_the_partner_book_trains_registers_and_is_gated_from_the_command(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    write_german_credit_mart(settings)
    ran = zhongtai("models", "train", "german_credit")
    assert ran.exit_code == 0, ran.output
    assert "development rows outside the holdout of 30%" in ran.text
    assert "german_credit version 1: promoted to champion (burden of proof in test: harm)" in (
        ran.text
    )
    for check in ("min_auc: holdout AUC", "max_psi", "max_fairness_gap.age_in_years"):
        assert check in ran.text
    assert "max_fairness_gap.personal_status_and_sex" in ran.text
    assert "max_fairness_gap.foreign_worker" in ran.text
    # the same book again: the same model, no gain, the champion stays
    again = zhongtai("models", "train", "german_credit")
    assert again.exit_code == 0, again.output
    assert "german_credit version 2: not promoted" in again.text
    assert "AUC gain over the champion 0.0000" in again.text
    client = use_mlflow(settings)
    assert str(client.get_model_version_by_alias("german_credit", CHAMPION).version) == "1"
    assert str(client.get_model_version_by_alias("german_credit", CHALLENGER).version) == "2"
    version = client.get_model_version("german_credit", "2")
    assert version.tags["promotion"] == "refused"
    run = client.get_run(str(version.run_id))
    assert run.data.params["validation.window"] == "holdout"
    assert run.data.params["holdout.share"] == "0.3"
    listed = zhongtai("models", "list")
    assert listed.exit_code == 0 and "german_credit v1" in listed.text
    assert "german_credit v2" in listed.text and "AUC gap by personal_status_and_sex" in (
        listed.text
    )


def test_a_book_not_delivered_yet_is_not_trained_and_says_so(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    path = mart_path(settings, "partner_portfolio_records")
    path.parent.mkdir(parents=True)
    german_credit_rows().head(0).to_parquet(path)
    ran = zhongtai("models", "train", "german_credit")
    assert ran.exit_code == 1
    assert "german_credit: partner_portfolio_records holds no row with a label yet" in ran.text
    assert "not trained: german_credit" in ran.text


def test_a_spec_using_a_protected_column_is_not_trained(
    zhongtai: Callable[..., Ran],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _project(settings, tmp_path, monkeypatch)
    document = _spec(project, "german_credit")
    document["features"]["include"].append("personal_status_and_sex")
    (project.ml_dir / "german_credit.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    write_german_credit_mart(project)
    ran = zhongtai("models", "train", "german_credit")
    assert ran.exit_code == 1
    assert (
        "german_credit: not trained: german_credit: feature personal_status_and_sex carries "
        "the protected characteristic sex, marital_status" in ran.text
    )
    assert not list(use_mlflow(project).search_registered_models())
    ran = zhongtai("models", "cv", "german_credit", "--splits", "2", "--repeats", "1")
    assert ran.exit_code == 1
    assert "feature personal_status_and_sex carries the protected characteristic" in ran.text


def test_a_partner_family_without_a_champion_does_not_stop_the_decisions(
    zhongtai: Callable[..., Ran],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The demo asks ``print_promotions`` which families the decision API would miss: a
    partner book refused by its gate is reported, not among them."""
    from zhongtai.cli.models import print_promotions

    project = _project(settings, tmp_path, monkeypatch)
    document = _spec(project, "german_credit")
    document["promotion"]["min_auc"] = 0.99
    document["promotion"]["burden_of_proof"] = {"test": "model"}
    (project.ml_dir / "german_credit.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    write_german_credit_mart(project)
    ran = zhongtai("models", "train", "german_credit")
    assert ran.exit_code == 0, ran.output  # refused by its gate: trained all the same
    assert "german_credit version 1: not promoted" in ran.text
    capsys.readouterr()
    # credit_pd and fraud have no version in this data dir: the API would miss them
    assert print_promotions(project) == ["credit_pd", "fraud"]
    shown = " ".join(capsys.readouterr().out.split())
    assert "german_credit v1: refused by its gate" in shown
    assert "FAIL holdout AUC" in shown
    assert "german_credit has no champion (no decision of the API uses it)" in shown


def test_a_champion_without_a_signed_record_is_promoted_again_only_through_its_gate(
    zhongtai: Callable[..., Ran], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from zhongtai.cli.models import print_promotions
    from zhongtai.ml.register import RECORD_TAG

    write_german_credit_mart(settings)
    assert zhongtai("models", "train", "german_credit").exit_code == 0
    assert zhongtai("models", "train", "german_credit").exit_code == 0  # v2: no gain, refused
    client = use_mlflow(settings)
    assert RECORD_TAG in client.get_model_version("german_credit", "1").tags
    assert RECORD_TAG not in client.get_model_version("german_credit", "2").tags
    # the refused version stays refused when its gate is re-run
    refused = zhongtai("models", "promote", "german_credit", "2")
    assert refused.exit_code == 1, refused.output
    assert "german_credit version 2: not promoted" in refused.text
    assert str(client.get_model_version_by_alias("german_credit", CHAMPION).version) == "1"
    # a champion from before signed records: not served, and the console says what to run
    client.delete_model_version_tag("german_credit", "1", RECORD_TAG)
    print_promotions(settings)
    printed = " ".join(capsys.readouterr().out.split())
    assert "german_credit v1 holds the champion alias but is not served" in printed
    assert "run `zhongtai models promote german_credit 1`" in printed
    # its gate re-run, against nothing but itself
    again = zhongtai("models", "promote", "german_credit", "1")
    assert again.exit_code == 0, again.output
    assert "german_credit version 1: promoted to champion" in again.text
    assert RECORD_TAG in client.get_model_version("german_credit", "1").tags
    missing = zhongtai("models", "promote", "german_credit", "9")
    assert missing.exit_code == 1 and "german_credit version 9: no such registered" in (
        missing.text
    )


def test_the_mlflow_ui_reads_but_refuses_every_write(settings: Settings) -> None:
    """`zhongtai models ui` as a user runs it: a real MLflow behind its gateway."""
    import os
    import sys

    import httpx

    from tests.conftest import free_port, serving

    client = use_mlflow(settings)
    client.create_registered_model("credit_pd", description="the champion's family")
    port = free_port()
    command = [str(Path(sys.executable).parent / "zhongtai"), "models", "ui", "--port", str(port)]
    writes = [
        ("POST", "registered-models/alias", {"name": "credit_pd", "alias": "champion"}),
        ("POST", "registered-models/set-tag", {"name": "credit_pd", "key": "k", "value": "v"}),
        ("PATCH", "registered-models/update", {"name": "credit_pd", "description": "x"}),
        ("DELETE", "registered-models/delete", {"name": "credit_pd"}),
        ("POST", "experiments/create", {"name": "hand-made"}),
    ]
    with serving(command, dict(os.environ), port, "/health", ready=lambda s: s == 200) as base:
        api = f"{base}/api/2.0/mlflow"
        found = httpx.get(f"{api}/registered-models/get", params={"name": "credit_pd"})
        page = httpx.get(base + "/", timeout=30)
        searched = httpx.post(f"{api}/runs/search", json={"experiment_ids": ["0"]}, timeout=30)
        refused = {
            endpoint: httpx.request(method, f"{api}/{endpoint}", json=body, timeout=30)
            for method, endpoint, body in writes
        }
        mutation = 'mutation { testMutation(inputString: "x") { output } }'
        graphql = httpx.post(f"{base}/graphql", json={"query": mutation}, timeout=30)
    assert found.status_code == 200 and "the champion's family" in found.text
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert searched.status_code == 200, searched.text
    for endpoint, response in refused.items():
        assert response.status_code == 403, (endpoint, response.text)
        assert "read-only" in response.text and endpoint in response.text
    assert graphql.status_code == 403 and "GraphQL mutation" in graphql.text
    unchanged = client.get_registered_model("credit_pd")
    assert unchanged.description == "the champion's family" and not unchanged.tags
    assert client.get_experiment_by_name("hand-made") is None


def test_the_listing_names_the_versions_trained_before_an_erasure(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    write_german_credit_mart(settings)
    assert zhongtai("models", "train", "german_credit").exit_code == 0
    before = zhongtai("models", "list")
    assert before.exit_code == 0, before.output
    assert "trained before an erasure" not in before.text

    subject = "0" * 64  # a pseudonym: the registry is tagged whoever it is
    assert zhongtai("erase", subject, "--reason", "request").exit_code == 0
    listed = zhongtai("models", "list")

    assert listed.exit_code == 0, listed.output
    assert "trained before an erasure" in listed.text
    assert "german_credit v1 (1 erasure)" in listed.text
    assert subject not in listed.output
