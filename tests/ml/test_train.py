"""Training: points scaled as the spec says, the points table adds up, runs repeat exactly."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.ml.conftest import Trained
from tests.ml.frames import german_credit_rows
from zhongtai.ml.spec import ScalingSpec, load_spec
from zhongtai.ml.train import fit_lightgbm, train_models

SCALING = ScalingSpec(points=600, odds=50, pdo=20)


def test_the_scorecards_points_are_its_probability_scaled(german_credit: Trained) -> None:
    scorecard = german_credit.result.models["scorecard"]
    rows = german_credit.out_of_time
    probability = scorecard.predict_pd(rows)
    score = scorecard.score(rows)
    odds = (1 - probability) / probability
    assert score == pytest.approx(600 + 20 * np.log2(odds / 50))
    # the points table, feature by feature, adds up to the same score
    by_feature = scorecard.points_by_feature(rows)
    assert list(by_feature.columns) == scorecard.features
    assert by_feature.sum(axis=1).to_numpy() == pytest.approx(score)
    table = pd.DataFrame(scorecard.details["points_table"])
    assert set(table["variable"]) == set(scorecard.features)


def test_the_scorecard_rewards_no_risk(german_credit: Trained) -> None:
    """Every coefficient on WoE is negative: no feature scores more points for more risk."""
    scorecard = german_credit.result.models["scorecard"]
    coefficients = scorecard.estimator.estimator_.coef_.ravel()
    assert (coefficients <= 0).all()


def test_training_twice_gives_the_same_models(german_credit: Trained) -> None:
    again = train_models(german_credit.spec, german_credit.development)
    rows = german_credit.out_of_time
    for algorithm, model in german_credit.result.models.items():
        assert np.array_equal(model.predict_pd(rows), again.models[algorithm].predict_pd(rows))
        assert model.features == again.models[algorithm].features


def test_lightgbm_scores_an_unseen_category_as_missing(german_credit: Trained) -> None:
    model = german_credit.result.models["lightgbm"]
    rows = german_credit.out_of_time.head(5).copy()
    unseen = rows.assign(purpose="a purpose never seen")
    missing = rows.assign(purpose=None)
    assert np.array_equal(model.predict_pd(unseen), model.predict_pd(missing))


def test_monotone_constraints_need_numbers() -> None:
    rows = german_credit_rows()
    spec = load_spec("german_credit")
    assert spec.algorithms.lightgbm is not None
    with pytest.raises(ValueError, match="numeric features only: \\['housing'\\]"):
        fit_lightgbm(
            rows,
            "is_bad",
            ["housing"],
            spec.algorithms.lightgbm,
            SCALING,
            1,
            {"housing": "increasing"},
        )


def test_what_a_run_records_is_plain_data(credit_pd: Trained) -> None:
    """Selection reports and model details go to the tracking server as JSON artifacts."""
    result = credit_pd.result
    for algorithm, model in result.models.items():
        json.dumps(model.details, allow_nan=False)
        json.dumps(result.selections[algorithm].to_dict(), allow_nan=False)
    assert result.rows_development == len(credit_pd.development)
    assert 0 < result.default_rate_development < 1


def test_weighting_the_rare_class_keeps_probabilities_calibrated(fraud: Trained) -> None:
    model = fraud.result.models["lightgbm"]
    y = fraud.development[fraud.spec.label]
    weight = model.details["positive_weight"]
    assert weight == pytest.approx((y == 0).sum() / (y == 1).sum())  # is_unbalance
    assert model.log_odds_offset == pytest.approx(-math.log(weight))
    probability = model.predict_pd(fraud.development)
    # corrected, the mean probability is near the observed rate (trees with regularised
    # leaves make the correction approximate), far from the weighted one
    assert probability.mean() == pytest.approx(y.mean(), rel=0.4)
    weighted = replace(model, log_odds_offset=0.0).predict_pd(fraud.development)
    assert weighted.mean() > 2 * y.mean()
    # and the ranking is the weighted model's
    assert (np.argsort(probability, kind="stable") == np.argsort(weighted, kind="stable")).all()
