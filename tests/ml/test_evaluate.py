"""Validation metrics on examples worked by hand, and the report a validator reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from tests.ml.conftest import Trained
from zhongtai.ml.evaluate import (
    auc,
    auprc,
    brier,
    calibration_table,
    champion_comparison,
    cross_validate,
    evaluate_model,
    fairness_groups,
    fairness_report,
    fairness_reports,
    gini,
    ks,
    review_metrics,
    review_threshold,
    score_psi,
)
from zhongtai.ml.spec import CrossValidationSpec, FairnessAttribute, FairnessSpec

Y = np.array([0, 0, 1, 1])
PD = np.array([0.1, 0.4, 0.35, 0.8])


def test_discrimination_on_a_small_example() -> None:
    # of the four (default, non-default) pairs, three are ordered right
    assert auc(Y, PD) == pytest.approx(0.75)
    assert gini(Y, PD) == pytest.approx(0.5)
    # cumulative shares at 0.1: goods 1/2, bads 0; at 0.4: goods 1, bads 1/2
    assert ks(Y, PD) == pytest.approx(0.5)
    assert brier(Y, PD) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_auprc_on_small_examples() -> None:
    # ranked 0.8 (default), 0.4, 0.35 (default), 0.1: precision 1 at the first default
    # and 2/3 at the second, averaged over the two
    assert auprc(Y, PD) == pytest.approx((1 + 2 / 3) / 2)
    # tied rows count together: at 0.5, precision 1/2 for half the recall; at 0.2, 2/3
    assert auprc(np.array([1, 0, 1]), np.array([0.5, 0.5, 0.2])) == pytest.approx(
        0.5 * 0.5 + 0.5 * 2 / 3
    )
    # a score that knows nothing gets the positive rate, where its AUC is 0.5 at any rate
    rng = np.random.default_rng(2)
    y = rng.random(20_000) < 0.05
    noise = rng.random(20_000)
    assert auprc(y, noise) == pytest.approx(y.mean(), abs=0.01)
    assert auc(y, noise) == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError, match="at least one positive"):
        auprc(np.array([0, 0]), np.array([0.1, 0.2]))


def test_the_review_threshold_fills_the_budget_and_no_more() -> None:
    scores = np.random.default_rng(3).random(10_000)
    for rate in (0.05, 0.123, 0.5):
        threshold = review_threshold(scores, rate)
        assert (scores >= threshold).sum() == round(rate * scores.size)
    # 30 rows share the score at the edge of a 5% budget of 100 rows: sending them all
    # would exceed it, so none of them go and the budget is not filled
    tied = np.concatenate([np.linspace(0.9, 0.99, 80), np.full(30, 0.5), np.zeros(1890)])
    threshold = review_threshold(tied, 0.05)
    assert threshold == pytest.approx(0.9) and (tied >= threshold).sum() == 80
    with pytest.raises(ValueError, match="highest score is held by 300 of 2000 rows"):
        review_threshold(np.concatenate([np.ones(300), np.zeros(1700)]), 0.05)
    with pytest.raises(ValueError, match=r"review rate must be in \(0, 1\), got 1.5"):
        review_threshold(scores, 1.5)


def test_review_metrics_count_what_the_threshold_sends() -> None:
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    probability = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    # at 0.6: four rows reviewed, holding two of the three positives
    assert review_metrics(y, probability, 0.6) == {
        "threshold": 0.6,
        "rows_reviewed": 4,
        "review_rate": 0.4,
        "positives_reviewed": 2,
        "recall": pytest.approx(2 / 3, abs=1e-6),
        "precision": 0.5,
    }
    nobody = review_metrics(y, probability, 0.95)
    assert nobody["rows_reviewed"] == 0 and nobody["precision"] is None
    assert nobody["recall"] == 0.0


def test_ks_and_gini_agree_with_their_definitions_on_random_scores() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    pd_ = np.clip(0.3 + 0.2 * y + rng.normal(0, 0.2, 500), 0, 1).round(2)  # with ties
    assert ks(y, pd_) == pytest.approx(ks_2samp(pd_[y], pd_[~y]).statistic)
    assert gini(y, pd_) == pytest.approx(2 * auc(y, pd_) - 1)
    assert ks(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    with pytest.raises(ValueError, match="defaulters and non-defaulters"):
        ks(np.array([1, 1]), np.array([0.1, 0.2]))


def test_calibration_and_psi() -> None:
    rng = np.random.default_rng(1)
    probability = rng.random(1000) * 0.4
    y = rng.random(1000) < probability
    table = calibration_table(y, probability)
    assert [row["rows"] for row in table] == [100] * 10
    predicted = [row["predicted_pd"] for row in table]
    assert predicted == sorted(predicted)
    for row in table:  # calibrated by construction: observed within noise of predicted
        assert abs(row["observed_default_rate"] - row["predicted_pd"]) < 0.15
    scores = rng.normal(600, 40, 5000)
    assert score_psi(scores, scores) == 0.0
    assert score_psi(scores, rng.normal(600, 40, 5000)) < 0.01
    assert score_psi(scores, scores - 40) > 0.25  # a shift of one standard deviation


def test_fairness_by_age_band() -> None:
    fairness = FairnessSpec(
        attributes={"age": FairnessAttribute(bands=[18, 30, 50, 120])}, min_rows=2
    )
    grouping = fairness.attributes["age"]
    age = pd.Series([20, 22, 25, 28, 35, 40, 45, 48, 60, 70, 15], name="age")
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1])
    # young: ordered right (AUC 1); middle: all alike (0.5); old: ordered wrong (0)
    probability = np.array([0.1, 0.9, 0.2, 0.8, 0.5, 0.5, 0.5, 0.5, 0.6, 0.3, 0.5])
    report = fairness_report(y, probability, age, grouping, fairness)
    assert (report["attribute"], report["kind"]) == ("age", "bands")
    assert [band["group"] for band in report["groups"]] == ["[18, 30)", "[30, 50)", "[50, 120)"]
    assert [band["rows"] for band in report["groups"]] == [4, 4, 2]
    assert [band["auc"] for band in report["groups"]] == [1.0, 0.5, 0.0]
    assert [band["observed_default_rate"] for band in report["groups"]] == [0.5, 0.5, 0.5]
    assert report["groups"][0]["predicted_pd"] == 0.5
    assert report["rows_outside_groups"] == 1
    assert report["auc_gap"] == 1.0
    assert [(band["defaulters"], band["non_defaulters"]) for band in report["groups"]] == [
        (2, 2),
        (2, 2),
        (1, 1),
    ]
    assert [band["compared"] for band in report["groups"]] == [True, True, True]
    low, high = report["auc_gap_interval"]
    assert 0 <= low <= high <= 1
    assert fairness_report(y, probability, age, grouping, fairness)["auc_gap_interval"] == [
        low,
        high,
    ]
    # a band smaller than min_rows is reported, not compared
    fewer = fairness_report(
        y, probability, age, grouping, fairness.model_copy(update={"min_rows": 3})
    )
    assert fewer["groups"][2]["auc"] == 0.0 and fewer["auc_gap"] == 0.5
    # so is a band with fewer defaulters (or non-defaulters) than min_events
    thin = fairness_report(
        y, probability, age, grouping, fairness.model_copy(update={"min_events": 2})
    )
    assert thin["groups"][2]["auc"] == 0.0 and thin["auc_gap"] == 0.5


def test_text_is_grouped_by_value_by_named_groups_or_by_prefix() -> None:
    codes = pd.Series(
        ["110101", "110105", "310104", "310106", "440103", None, "110102"], name="city_code"
    )
    by_value, groups = fairness_groups(codes, FairnessAttribute())
    assert by_value == ["110101", "110102", "110105", "310104", "310106", "440103"]
    assert groups.tolist() == ["110101", "110105", "310104", "310106", "440103", None, "110102"]
    by_city, groups = fairness_groups(codes, FairnessAttribute(prefix=4))
    assert by_city == ["1101", "3101", "4401"]
    assert groups.tolist() == ["1101", "1101", "3101", "3101", "4401", None, "1101"]
    named = FairnessAttribute(groups={"north": ["110101", "110105"], "east": ["310104"]})
    in_order, groups = fairness_groups(codes, named)
    assert in_order == ["north", "east"]  # the spec's order; unlisted values are outside
    assert groups.tolist() == ["north", "north", "east", None, None, None, None]
    status = pd.Series(["male : single", "female : divorced/separated/married"], name="sex")
    assert fairness_groups(status, FairnessAttribute())[0] == [
        "female : divorced/separated/married",
        "male : single",
    ]
    # a number in bands, text by value: the other way round is refused, naming the column
    with pytest.raises(ValueError, match="fairness attribute city_code: bands need numbers"):
        fairness_groups(codes, FairnessAttribute(bands=[0, 1]))
    with pytest.raises(ValueError, match=r"fairness attribute age: a number is grouped in bands"):
        fairness_groups(pd.Series([20, 30], name="age"), FairnessAttribute())


def test_every_attribute_gets_its_report(credit_pd: Trained) -> None:
    model = credit_pd.result.models["scorecard"]
    assert credit_pd.spec.fairness is not None
    rows = credit_pd.out_of_time
    y = rows[credit_pd.spec.label].to_numpy()
    reports = fairness_reports(y, model.predict_pd(rows), rows, credit_pd.spec.fairness)
    assert list(reports) == ["age_years", "city_code"]
    cities = reports["city_code"]
    assert cities["kind"] == "groups" and [c["group"] for c in cities["groups"]] == [
        "1100",
        "3100",
        "4401",
        "5001",
    ]
    assert sum(c["rows"] for c in cities["groups"]) == len(rows)
    with pytest.raises(KeyError, match="no column city_code for the fairness report"):
        fairness_reports(
            y, model.predict_pd(rows), rows.drop(columns="city_code"), credit_pd.spec.fairness
        )


def test_an_out_of_time_evaluation_reports_everything(credit_pd: Trained) -> None:
    model = credit_pd.result.models["scorecard"]
    metrics = evaluate_model(
        model,
        credit_pd.out_of_time,
        credit_pd.spec.label,
        reference_scores=model.score(credit_pd.development),
        fairness=credit_pd.spec.fairness,
    )
    assert metrics["rows"] == len(credit_pd.out_of_time)
    assert 0.6 < metrics["auc"] < 0.9  # the synthetic signal is real but noisy
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1, abs=1e-5)
    assert 0 < metrics["ks"] < 1 and 0 < metrics["brier"] < 0.25
    assert metrics["score_psi"] < 0.1  # the same population, a few months on
    assert sum(row["rows"] for row in metrics["calibration"]) == metrics["rows"]
    assert list(metrics["fairness"]) == ["age_years", "city_code"]
    # the evidence a gate reads: the sample, and an interval around each measure
    assert metrics["defaulters"] + metrics["non_defaulters"] == metrics["rows"]
    assert metrics["defaulters"] == int(credit_pd.out_of_time[credit_pd.spec.label].sum())
    low, high = metrics["auc_interval"]
    assert low < metrics["auc"] < high and high - low < 0.2
    low, high = metrics["score_psi_interval"]
    assert 0 <= low <= high and metrics["rows_reference"] == len(credit_pd.development)
    compared = [
        group
        for report in metrics["fairness"].values()
        for group in report["groups"]
        if group["compared"]
    ]
    assert all(min(b["defaulters"], b["non_defaulters"]) >= 30 for b in compared)
    # seeded: the same seed gives the same intervals, another seed other bootstraps
    again = evaluate_model(
        model,
        credit_pd.out_of_time,
        credit_pd.spec.label,
        reference_scores=model.score(credit_pd.development),
        fairness=credit_pd.spec.fairness,
    )
    assert again == metrics
    reseeded = evaluate_model(
        model,
        credit_pd.out_of_time,
        credit_pd.spec.label,
        reference_scores=model.score(credit_pd.development),
        seed=99,
    )
    assert reseeded["auc_interval"] == metrics["auc_interval"]  # DeLong: no resampling
    assert reseeded["score_psi_interval"] != metrics["score_psi_interval"]


def test_a_sample_without_both_outcomes_has_no_auc(credit_pd: Trained) -> None:
    model = credit_pd.result.models["scorecard"]
    label = credit_pd.spec.label
    goods = credit_pd.out_of_time[credit_pd.out_of_time[label] == 0]
    metrics = evaluate_model(model, goods, label)
    assert metrics["defaulters"] == 0 and metrics["non_defaulters"] == len(goods)
    assert metrics["auc"] is None and metrics["auc_interval"] is None
    assert metrics["ks"] is None and metrics["brier"] is not None
    one = pd.concat([goods, credit_pd.out_of_time[credit_pd.out_of_time[label] == 1].head(1)])
    single = evaluate_model(model, one, label)
    assert single["auc"] is not None and single["auc_interval"] is None  # DeLong needs two


def test_the_champion_is_compared_on_the_same_rows(credit_pd: Trained) -> None:
    scorecard = credit_pd.result.models["scorecard"]
    lightgbm = credit_pd.result.models["lightgbm"]
    frame, label = credit_pd.out_of_time, credit_pd.spec.label
    same = champion_comparison(scorecard, scorecard, frame, label)
    assert (same["auc_gain"], same["auc_gain_interval"]) == (0.0, [0.0, 0.0])
    assert same["identical"]
    versus = champion_comparison(lightgbm, scorecard, frame, label)
    assert versus["rows"] == len(frame) and versus["auc"] == pytest.approx(
        auc(frame[label], scorecard.predict_pd(frame)), abs=1e-6
    )
    assert versus["auc_gain"] == pytest.approx(
        auc(frame[label], lightgbm.predict_pd(frame)) - versus["auc"], abs=1e-5
    )
    assert not versus["identical"]
    low, high = versus["auc_gain_interval"]
    assert low < versus["auc_gain"] < high


def test_a_fraud_evaluation_reports_recall_at_the_review_budget(fraud: Trained) -> None:
    model = fraud.result.models["lightgbm"]
    assert fraud.spec.review is not None
    rate = fraud.spec.review.rate
    threshold = review_threshold(model.predict_pd(fraud.development), rate)
    metrics = evaluate_model(
        model,
        fraud.out_of_time,
        fraud.spec.label,
        reference_scores=model.score(fraud.development),
        fairness=fraud.spec.fairness,
        review_threshold=threshold,
    )
    review = metrics["review"]
    assert review["threshold"] == threshold
    assert abs(review["review_rate"] - rate) < 0.02  # the budget, a few months on
    # reviewing 5% finds far more than 5% of the positives: the rings
    assert review["recall"] > 5 * rate and review["precision"] > 5 * metrics["default_rate"]
    assert metrics["auprc"] > 3 * metrics["default_rate"]
    assert list(metrics["fairness"]) == ["age_years", "city_code"]
    assert "review" not in evaluate_model(model, fraud.out_of_time, fraud.spec.label)


def test_cross_validation_runs_the_training_path(german_credit: Trained) -> None:
    rows = pd.concat([german_credit.development, german_credit.out_of_time])
    result = cross_validate(german_credit.spec, rows, CrossValidationSpec(n_splits=2, n_repeats=1))
    assert (result["n_splits"], result["n_repeats"]) == (2, 1)
    for algorithm in ("scorecard", "lightgbm"):
        figures = result["algorithms"][algorithm]
        assert len(figures["folds"]) == 2
        assert figures["auc_mean"] == pytest.approx(np.mean(figures["folds"]), abs=1e-4)
        assert figures["auc_mean"] > 0.7  # published results on this book: 0.75 to 0.80
    assert result["dropped_in_folds"]["scorecard"]["telephone"] == {"low_iv": 2}
