"""Model behaviour a borrower or a regulator would notice: the score falls as debt rises,
all else equal, and fields that must not matter do not move it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from tests.ml.conftest import Trained
from zhongtai.ml.train import FittedModel

DTI_GRID = np.round(np.linspace(0.0, 1.2, 13), 2).tolist()


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
