"""Scoring exported models: from their files alone, exactly as the fitted models score,
with reasons, one row as a batch; a file that cannot be used is refused, naming it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.ml.conftest import ALGORITHMS, METADATA, UNSEEN, Trained
from tests.ml.frames import german_credit_rows
from zhongtai.ml.scoring import ModelFileError, ScoringModel, load_exported
from zhongtai.ml.spec import Algorithm
from zhongtai.ml.train import FittedModel


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_exported_model_scores_as_the_fitted_one(
    fitted: dict[Algorithm, FittedModel],
    loaded: dict[Algorithm, ScoringModel],
    awkward_rows: pd.DataFrame,
    algorithm: Algorithm,
) -> None:
    model, exported = fitted[algorithm], loaded[algorithm]
    assert (exported.algorithm, exported.features) == (algorithm, model.features)
    assert exported.scaling == model.scaling
    assert exported.metadata == METADATA
    np.testing.assert_allclose(
        exported.predict_pd(awkward_rows), model.predict_pd(awkward_rows), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        exported.score(awkward_rows), model.score(awkward_rows), rtol=0, atol=1e-9
    )


def test_the_scorecards_points_add_up_to_its_score(
    loaded: dict[Algorithm, ScoringModel], awkward_rows: pd.DataFrame
) -> None:
    scorecard = loaded["scorecard"]
    rows = awkward_rows.set_index(awkward_rows.index + 1000)
    points = scorecard.points_by_feature(rows)
    assert list(points.columns) == scorecard.features
    assert points.index.equals(rows.index)
    np.testing.assert_allclose(points.sum(axis=1), scorecard.score(rows), rtol=0, atol=1e-9)


def test_an_unseen_category_earns_the_points_of_no_evidence_not_the_missing_bins(
    fitted: dict[Algorithm, FittedModel],
    loaded: dict[Algorithm, ScoringModel],
    exported: Path,
    german_credit: Trained,
) -> None:
    """optbinning's probabilities give a category it never saw a WoE of 0; its ``score``
    gives it the Missing bin's points. The exported scorecard follows the probabilities."""
    tables = json.loads((exported / "scorecard" / "scorecard.json").read_text())["features"]
    purpose = next(table for table in tables if table["feature"] == "purpose")
    assert purpose["missing"] != pytest.approx(purpose["unseen"])  # the bin holds rows
    rows = german_credit.out_of_time.head(20).assign(purpose=UNSEEN)
    points = loaded["scorecard"].points_by_feature(rows)
    assert (points["purpose"] == purpose["unseen"]).all()
    np.testing.assert_allclose(
        loaded["scorecard"].predict_pd(rows),
        fitted["scorecard"].predict_pd(rows),
        rtol=0,
        atol=1e-9,
    )


def test_lightgbm_points_by_feature_account_for_every_difference_between_rows(
    loaded: dict[Algorithm, ScoringModel], awkward_rows: pd.DataFrame
) -> None:
    """SHAP contributions in points: what they leave out of the score (the base points) is
    the same for every row."""
    model = loaded["lightgbm"]
    points = model.points_by_feature(awkward_rows)
    assert list(points.columns) == model.features
    base = model.score(awkward_rows) - points.sum(axis=1).to_numpy()
    np.testing.assert_allclose(base, base[0], rtol=0, atol=1e-9)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_reasons_name_the_costliest_features_most_first(
    loaded: dict[Algorithm, ScoringModel],
    exported: Path,
    awkward_rows: pd.DataFrame,
    algorithm: Algorithm,
) -> None:
    model = loaded[algorithm]
    rows = awkward_rows.sample(200, random_state=3)
    points = model.points_by_feature(rows)
    if algorithm == "scorecard":
        tables = json.loads((exported / "scorecard" / "scorecard.json").read_text())["features"]
        lost = pd.Series({t["feature"]: max(t["points"]) for t in tables}) - points
    else:
        lost = -points
    reasons = model.reasons(rows, limit=3)
    assert len(reasons) == len(rows)
    for (index, row_lost), row_reasons in zip(lost.iterrows(), reasons, strict=True):
        costly = row_lost[row_lost > 0].sort_values(ascending=False, kind="stable")
        assert [r["feature"] for r in row_reasons] == list(costly.index[:3])
        assert [r["points_lost"] for r in row_reasons] == pytest.approx(costly.iloc[:3])
        for reason in row_reasons:
            value = rows.at[index, reason["feature"]]
            assert reason["value"] == (None if pd.isna(value) else value)
    assert any(len(r) == 3 for r in reasons)
    assert model.reasons(rows, limit=0) == [[] for _ in range(len(rows))]
    json.dumps(reasons, allow_nan=False)  # what a decision API returns


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_applicant_as_json_sends_it_scores_as_in_a_batch(
    loaded: dict[Algorithm, ScoringModel], german_credit: Trained, algorithm: Algorithm
) -> None:
    """A decision API builds a one-row frame from JSON: integers, text, null numbers."""
    model = loaded[algorithm]
    rows = german_credit.out_of_time.head(5).assign(duration_in_month=[np.nan, 6, 12, 24, 48])
    records = json.loads(rows[model.features].to_json(orient="records"))
    one_by_one = [model.score(pd.DataFrame([record]))[0] for record in records]
    np.testing.assert_allclose(one_by_one, model.score(rows), rtol=0, atol=1e-9)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_value_of_the_wrong_kind_is_refused_naming_the_feature(
    loaded: dict[Algorithm, ScoringModel], german_credit: Trained, algorithm: Algorithm
) -> None:
    rows = german_credit.out_of_time.head(2)
    with pytest.raises(ValueError, match="purpose: expected text"):
        loaded[algorithm].predict_pd(rows.assign(purpose=4))
    with pytest.raises(ValueError, match="duration_in_month: expected numbers"):
        loaded[algorithm].predict_pd(rows.assign(duration_in_month="long"))
    with pytest.raises(KeyError, match="no column purpose"):
        loaded[algorithm].predict_pd(rows.drop(columns="purpose"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected an object"),
        ('{"format_version": 2}', "format_version 2 is not one this code reads"),
        ('{"format_version": 1, "algorithm": "scorecard"}', "features: Field required"),
    ],
)
def test_a_malformed_model_json_is_refused_naming_the_file(
    exported: Path, tmp_path: Path, content: str, message: str
) -> None:
    copy = shutil.copytree(exported / "scorecard", tmp_path / "model")
    (copy / "model.json").write_text(content)
    with pytest.raises(ModelFileError, match=f"{re.escape(str(copy / 'model.json'))}: .*{message}"):
        load_exported(copy)


def test_a_manifest_with_a_bad_field_is_refused_naming_the_field(
    exported: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(exported / "lightgbm", tmp_path / "model")
    manifest = json.loads((copy / "model.json").read_text())
    manifest["scaling"]["pdo"] = -20
    (copy / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match=r"model\.json: scaling\.pdo: Input should be greater"):
        load_exported(copy)


def test_protected_features_are_read_from_the_manifest_and_must_be_features(
    exported: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(exported / "scorecard", tmp_path / "model")
    manifest = json.loads((copy / "model.json").read_text())
    assert manifest["protected"] == []  # the committed partner spec uses none
    older = {k: v for k, v in manifest.items() if k != "protected"}
    (copy / "model.json").write_text(json.dumps(older))
    assert load_exported(copy).protected == frozenset()  # a file written before: none
    first = manifest["features"][0]
    (copy / "model.json").write_text(json.dumps({**manifest, "protected": [first]}))
    model = load_exported(copy)
    assert model.protected == {first}
    rows = german_credit_rows().head(200)
    assert all(first not in [r["feature"] for r in found] for found in model.reasons(rows))
    (copy / "model.json").write_text(json.dumps({**manifest, "protected": ["sex"]}))
    with pytest.raises(
        ModelFileError, match=r"model\.json: \(top level\): protected: not features: sex"
    ):
        load_exported(copy)


@pytest.mark.parametrize(
    ("algorithm", "name", "content", "message"),
    [
        ("scorecard", "scorecard.json", None, "no such file"),
        ("scorecard", "scorecard.json", '{"features": [{"kind": "numerical"}]}', "features.0"),
        ("lightgbm", "model.lgb", None, "no such file"),
        ("lightgbm", "model.lgb", "tree\nnot a model\n", "not a LightGBM model file"),
    ],
)
def test_a_missing_or_malformed_model_file_is_refused_naming_it(
    exported: Path,
    tmp_path: Path,
    algorithm: Algorithm,
    name: str,
    content: str | None,
    message: str,
) -> None:
    copy = shutil.copytree(exported / algorithm, tmp_path / "model")
    if content is None:
        (copy / name).unlink()
    else:
        (copy / name).write_text(content)
    with pytest.raises(ModelFileError, match=f"{re.escape(str(copy / name))}: .*{message}"):
        load_exported(copy)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_row_from_a_mapping_scores_and_explains_as_the_batch(
    loaded: dict[Algorithm, ScoringModel], awkward_rows: pd.DataFrame, algorithm: Algorithm
) -> None:
    """The decision API's path: each row as a plain mapping, as JSON and the online store
    give it (None for a missing value), scores and gets the reasons of the frame's path."""
    model = loaded[algorithm]
    rows = awkward_rows.astype(object).where(awkward_rows.notna(), None)
    records = rows.to_dict(orient="records")
    np.testing.assert_allclose(
        [model.predict_pd_one(record) for record in records],
        model.predict_pd(awkward_rows),
        rtol=0,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        [model.score_one(record) for record in records],
        model.score(awkward_rows),
        rtol=0,
        atol=1e-9,
    )
    batch = model.reasons(awkward_rows, limit=3)
    for record, expected in zip(records, batch, strict=True):
        found = model.reasons_one({**record, "not a feature": object()}, limit=3)
        assert [r["feature"] for r in found] == [r["feature"] for r in expected]
        assert [r["value"] for r in found] == [r["value"] for r in expected]
        assert [r["points_lost"] for r in found] == pytest.approx(
            [r["points_lost"] for r in expected], abs=1e-9
        )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_row_with_a_value_of_the_wrong_kind_or_none_at_all_is_refused(
    loaded: dict[Algorithm, ScoringModel], german_credit: Trained, algorithm: Algorithm
) -> None:
    model = loaded[algorithm]
    row = german_credit.out_of_time.head(1).to_dict(orient="records")[0]
    with pytest.raises(ValueError, match="purpose: expected text, got a value of type int"):
        model.predict_pd_one({**row, "purpose": 4})
    with pytest.raises(ValueError, match="duration_in_month: expected numbers, got a value"):
        model.reasons_one({**row, "duration_in_month": "long"})
    with pytest.raises(KeyError, match="no value of purpose"):
        model.score_one({k: v for k, v in row.items() if k != "purpose"})
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        model.reasons_one(row, limit=-1)
