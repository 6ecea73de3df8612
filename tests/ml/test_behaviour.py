"""Model behaviour a borrower or a regulator would notice: the score falls as debt rises,
all else equal, the fraud score rises with ring membership, and fields that must not
matter do not move either."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from tests.ml.conftest import Trained
from zhongtai.ml.train import FittedModel

DTI_GRID = np.round(np.linspace(0.0, 1.2, 13), 2).tolist()


def ring_of(size: int) -> dict[str, float]:
    """The graph features of an application whose component holds ``size`` applicants
    sharing its device, phone, /24 network and address (``size`` 1: alone)."""
    others = size - 1
    return {
        "component_size": size,
        "neighbour_count": others,
        "device_sharers_7d": others,
        "device_sharers_30d": others,
        "phone_sharers_7d": others,
        "phone_sharers_30d": others,
        "ip_range_sharers_7d": others,
        "ip_range_sharers_30d": others,
        "ring_score": 1 - 1 / size,  # all four identifier types shared
    }


RING_SIZES = [1, 2, 3, 5, 8, 12]


def _scores_along(
    model: FittedModel, rows: pd.DataFrame, column: str, values: Sequence[float]
) -> np.ndarray:
    """Each row's score with ``column`` set to each value in turn: shape (values, rows)."""
    return np.array([model.score(rows.assign(**{column: value})) for value in values])


@pytest.mark.parametrize("algorithm", ["scorecard", "lightgbm"])
def test_the_credit_score_falls_as_debt_to_income_rises(credit_pd: Trained, algorithm: str) -> None:
    model = credit_pd.result.models[algorithm]
    assert "debt_to_income_ratio" in model.features
    rows = credit_pd.out_of_time.head(300)
    scores = _scores_along(model, rows, "debt_to_income_ratio", DTI_GRID)
    assert (np.diff(scores, axis=0) <= 1e-9).all()  # never rises, for any applicant
    assert (scores[-1] < scores[0]).all()  # and falls for every one of them


@pytest.mark.parametrize("algorithm", ["scorecard", "lightgbm"])
def test_the_partner_book_score_falls_as_the_instalment_share_of_income_rises(
    german_credit: Trained, algorithm: str
) -> None:
    model = german_credit.result.models[algorithm]
    column = "installment_rate_in_percentage_of_disposable_income"  # this book's DTI, 1 to 4
    assert column in model.features
    rows = german_credit.out_of_time
    scores = _scores_along(model, rows, column, [1, 2, 3, 4])
    assert (np.diff(scores, axis=0) <= 1e-9).all()
    assert scores[-1].mean() < scores[0].mean()


@pytest.mark.parametrize("algorithm", ["scorecard", "lightgbm"])
def test_excluded_fields_and_the_key_do_not_move_the_score(
    credit_pd: Trained, algorithm: str
) -> None:
    model = credit_pd.result.models[algorithm]
    rows = credit_pd.out_of_time.head(300)
    baseline = model.score(rows)
    rng = np.random.default_rng(3)
    changed = rows.assign(
        has_consented_credit_scoring=~rows["has_consented_credit_scoring"],
        has_consented_fraud_prevention=~rows["has_consented_fraud_prevention"],
        partner_id=rng.choice(["P777", None], len(rows)),
        city_code=rng.choice(["110105", "650102", None], len(rows)),  # a region proxy
        application_id=rng.permutation(rows["application_id"].to_numpy()),
        applied_at=rows["applied_at"] + pd.Timedelta(days=400),
    )
    assert np.array_equal(model.score(changed), baseline)
    assert set(credit_pd.spec.features.exclude).isdisjoint(model.features)


def test_the_scorecard_ignores_a_column_of_noise(credit_pd: Trained) -> None:
    model = credit_pd.result.models["scorecard"]
    assert credit_pd.result.selections["scorecard"].dropped["noise"].startswith("IV ")
    rows = credit_pd.out_of_time.head(300)
    shuffled = rows.assign(noise=np.random.default_rng(4).random(len(rows)) * 1000)
    assert np.array_equal(model.score(shuffled), model.score(rows))


def test_the_fraud_score_rises_with_ring_membership(fraud: Trained) -> None:
    model = fraud.result.models["lightgbm"]
    assert {"ring_score", "component_size"} <= set(model.features)
    rows = fraud.out_of_time.head(300)
    probability = np.array([model.predict_pd(rows.assign(**ring_of(s))) for s in RING_SIZES])
    assert (np.diff(probability, axis=0) >= -1e-12).all()  # never falls, for any applicant
    assert (probability[-1] > probability[0]).all()  # and rises for every one of them,
    assert probability[-1].mean() - probability[0].mean() > 0.5  # by far on average
    # the ring score alone, all else as in the row, moves it the same way
    alone = np.array([model.predict_pd(rows.assign(ring_score=v)) for v in (0.0, 0.5, 0.9)])
    assert (np.diff(alone, axis=0) >= -1e-12).all()


def test_age_and_the_key_do_not_move_the_fraud_score(fraud: Trained) -> None:
    """Age is read for the fairness report only: fraud_detection_v1 does not serve it."""
    model = fraud.result.models["lightgbm"]
    assert "age_years" not in model.features
    rows = fraud.out_of_time.head(300)
    rng = np.random.default_rng(5)
    changed = rows.assign(
        age_years=rng.integers(18, 90, len(rows)),
        application_id=rng.permutation(rows["application_id"].to_numpy()),
        applied_at=rows["applied_at"] + pd.Timedelta(days=400),
    )
    assert np.array_equal(model.predict_pd(changed), model.predict_pd(rows))
