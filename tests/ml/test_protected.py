"""Protected characteristics on the model side: a protected column (as the contracts mark
it) is a feature only with a written justification, never a reason code, and every one a
gated family's rows hold is covered by its fairness checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.ml.conftest import Trained
from tests.ml.frames import credit_rows, german_credit_rows, write_german_credit_mart
from zhongtai.contracts import protected_fields
from zhongtai.ml.data import load_frame
from zhongtai.ml.evaluate import evaluate_model
from zhongtai.ml.export import export_model
from zhongtai.ml.promote import decide_promotion
from zhongtai.ml.scoring import load_exported
from zhongtai.ml.spec import (
    SpecError,
    check_fairness_coverage,
    check_protected_features,
    load_spec,
)
from zhongtai.ml.train import train_models
from zhongtai.settings import Settings

JUSTIFIED = (
    "Sex and marital status are kept here for a test of the justified path only, never "
    "in a committed spec."
)


def _project(settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the project's contracts and specs, to edit, with the German Credit mart."""
    project = tmp_path / "project"
    for room in ("contracts", "ml", "dbt_project"):
        shutil.copytree(settings.project_dir / room, project / room)
    moved = settings.model_copy(update={"project_dir": project})
    write_german_credit_mart(moved)
    return moved


def _edit_spec(settings: Settings, family: str, edit) -> None:
    path = settings.ml_dir / f"{family}.yml"
    document = yaml.safe_load(path.read_text())
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_the_committed_specs_use_no_protected_column_without_justification(
    settings: Settings,
) -> None:
    protected = protected_fields(settings)
    assert protected["city_code"] == ("region",)
    assert protected["personal_status_and_sex"] == ("sex", "marital_status")
    # credit_pd: every column of its rows (credit_scoring_v1 serves age and the city code)
    credit = load_spec("credit_pd")
    rows = credit_rows(50, seed=1)
    candidates = credit.candidate_features(list(rows.columns))
    assert "city_code" not in candidates  # a region proxy: left out
    assert "age_years" in candidates and "age_years" in credit.features.protected
    check_protected_features(credit, candidates, protected)
    check_fairness_coverage(credit, list(rows.columns), protected)
    # the partner book: none of its protected columns is a feature, all are watched
    write_german_credit_mart(settings)
    german = load_spec("german_credit")
    frame = load_frame(german, settings)
    book = {"personal_status_and_sex", "age_in_years", "foreign_worker"}
    assert book.isdisjoint(german.candidate_features(list(frame.columns)))
    assert german.fairness is not None and book <= set(german.fairness.attributes)


def test_a_protected_feature_without_justification_is_refused_naming_it(
    settings: Settings, tmp_path: Path
) -> None:
    project = _project(settings, tmp_path)
    _edit_spec(
        project,
        "german_credit",
        lambda d: d["features"]["include"].extend(["personal_status_and_sex", "foreign_worker"]),
    )
    with pytest.raises(SpecError) as refused:
        load_frame(load_spec("german_credit", project), project)
    assert str(refused.value).splitlines() == [
        "german_credit: feature personal_status_and_sex carries the protected characteristic "
        "sex, marital_status: exclude it (features.exclude) or name it under "
        "features.protected with a written justification",
        "german_credit: feature foreign_worker carries the protected characteristic "
        "ethnicity: exclude it (features.exclude) or name it under features.protected with "
        "a written justification",
    ]
    # credit_pd that no longer leaves the city code out: a region proxy, refused
    credit = load_spec("credit_pd")
    unexcluded = credit.model_copy(
        update={
            "features": credit.features.model_copy(
                update={"exclude": [c for c in credit.features.exclude if c != "city_code"]}
            )
        }
    )
    rows = credit_rows(50, seed=1)
    with pytest.raises(
        SpecError, match="feature city_code carries the protected characteristic region"
    ):
        check_protected_features(
            unexcluded,
            unexcluded.candidate_features(list(rows.columns)),
            protected_fields(project),
        )


def test_a_justified_protected_feature_trains_but_is_never_a_reason(
    settings: Settings, tmp_path: Path
) -> None:
    project = _project(settings, tmp_path)

    def justify(document: dict) -> None:
        document["features"]["include"].append("personal_status_and_sex")
        document["features"]["protected"] = {"personal_status_and_sex": JUSTIFIED}

    _edit_spec(project, "german_credit", justify)
    spec = load_spec("german_credit", project)
    frame = load_frame(spec, project)  # justified: accepted
    models = train_models(spec, frame).models
    lightgbm = models["lightgbm"]
    assert "personal_status_and_sex" in lightgbm.features
    assert lightgbm.protected == ["personal_status_and_sex"]
    model = load_exported(export_model(lightgbm, tmp_path / "model"))
    assert model.protected == {"personal_status_and_sex"}
    # the rows where it costs points: its contribution takes points off their score
    lost = -model.points_by_feature(frame)
    costly = frame[lost["personal_status_and_sex"] > 0]
    assert len(costly) > 50
    reasons = model.reasons(costly)
    others = lost.loc[costly.index].drop(columns="personal_status_and_sex")
    for (_, row_lost), found, row in zip(
        others.iterrows(), reasons, costly.to_dict("records"), strict=True
    ):
        # never named; the next costliest features take its place
        expected = row_lost[row_lost > 0].sort_values(ascending=False, kind="stable")
        assert [reason["feature"] for reason in found] == list(expected.index[:4])
        assert model.reasons_one(row) == found


def test_a_stale_justification_is_refused(settings: Settings, tmp_path: Path) -> None:
    project = _project(settings, tmp_path)
    _edit_spec(
        project,
        "german_credit",
        lambda d: d["features"].update(protected={"telephone": JUSTIFIED}),
    )
    with pytest.raises(
        SpecError,
        match=r"features\.protected justifies telephone, which no contract marks protected",
    ):
        load_frame(load_spec("german_credit", project), project)


def test_a_gated_family_must_watch_every_protected_column_of_its_rows(
    settings: Settings, tmp_path: Path
) -> None:
    project = _project(settings, tmp_path)
    _edit_spec(
        project, "german_credit", lambda d: d["fairness"]["attributes"].pop("foreign_worker")
    )
    with pytest.raises(SpecError) as refused:
        load_frame(load_spec("german_credit", project), project)
    assert str(refused.value) == (
        "german_credit: the data holds protected columns its fairness section does not cover: "
        "foreign_worker (ethnicity); add each under fairness.attributes (bands for a number, "
        "its values, groups or a prefix for text)"
    )
    # a spec that registers nothing (no promotion) has no gate to cover them for
    _edit_spec(project, "german_credit", lambda d: d.pop("promotion"))
    assert len(load_frame(load_spec("german_credit", project), project)) == 1000


def test_the_gate_checks_the_gap_of_every_protected_attribute(german_credit: Trained) -> None:
    """One fairness check per attribute of the spec, each with its groups' evidence."""
    spec = german_credit.spec
    assert spec.fairness is not None and spec.promotion is not None
    model = german_credit.result.models["lightgbm"]
    rows = german_credit_rows()
    metrics = evaluate_model(
        model,
        rows,
        spec.label,
        reference_scores=model.score(german_credit.development),
        fairness=spec.fairness,
        seed=spec.seed,
    )
    assert list(metrics["fairness"]) == [
        "age_in_years",
        "personal_status_and_sex",
        "foreign_worker",
    ]
    sex = metrics["fairness"]["personal_status_and_sex"]
    assert [g["group"] for g in sex["groups"]] == sorted(rows["personal_status_and_sex"].unique())
    assert sum(g["rows"] for g in sex["groups"]) == len(rows)
    decision = decide_promotion(metrics, None, spec.promotion, "prod", "holdout")
    fairness = [c for c in decision.checks if c.name.startswith("max_fairness_gap.")]
    assert [c.name for c in fairness] == [
        "max_fairness_gap.age_in_years",
        "max_fairness_gap.personal_status_and_sex",
        "max_fairness_gap.foreign_worker",
    ]
    by_name = {c.name: c for c in fairness}
    # 37 foreign workers... 'no' holds too few defaulters to compare: not measurable, and
    # production's burden refuses what cannot be shown
    origin = by_name["max_fairness_gap.foreign_worker"]
    assert not origin.measurable and not origin.passed
    assert origin.reason.startswith("AUC gap between foreign_worker groups not measurable")
    assert by_name["max_fairness_gap.personal_status_and_sex"].measurable
    assert np.isclose(by_name["max_fairness_gap.personal_status_and_sex"].value, sex["auc_gap"])
    assert decision.checks[0].reason.startswith("holdout AUC")
