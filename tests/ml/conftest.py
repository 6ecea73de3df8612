"""Trained models shared by the model tests: each is fitted once per session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from tests.ml.frames import credit_rows, fraud_rows, german_credit_rows
from zhongtai.ml.data import split_out_of_time
from zhongtai.ml.spec import ModelSpec, load_spec
from zhongtai.ml.train import TrainingResult, train_models

CREDIT_ROWS = 4000
FRAUD_ROWS = 6000
SEED = 11


@dataclass(frozen=True)
class Trained:
    spec: ModelSpec
    development: pd.DataFrame
    out_of_time: pd.DataFrame
    result: TrainingResult


def _trained_out_of_time(spec: ModelSpec, rows: pd.DataFrame) -> Trained:
    """``spec`` trained on ``rows`` before its out-of-time window, which is held out."""
    assert spec.validation.out_of_time is not None and spec.data.date_column is not None
    development, out_of_time, _ = split_out_of_time(
        rows, spec.data.date_column, spec.validation.out_of_time.months
    )
    return Trained(spec, development, out_of_time, train_models(spec, development, out_of_time))


@pytest.fixture(scope="session")
def credit_pd() -> Trained:
    """The credit_pd spec as committed, trained on synthetic applications with a column of
    pure noise; out of time: the last three months."""
    rows = credit_rows(CREDIT_ROWS, seed=SEED)
    rows["noise"] = np.random.default_rng(SEED).random(len(rows))
    return _trained_out_of_time(load_spec("credit_pd"), rows)


@pytest.fixture(scope="session")
def fraud() -> Trained:
    """The fraud spec as committed, trained on synthetic applications with fraud rings;
    out of time: the last three months."""
    return _trained_out_of_time(load_spec("fraud"), fraud_rows(FRAUD_ROWS, seed=SEED))


@pytest.fixture(scope="session")
def german_credit() -> Trained:
    """The german_credit spec as committed, trained on 800 of the 1,000 real records."""
    spec = load_spec("german_credit")
    rows = german_credit_rows().sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    development, held_out = rows.iloc[:800], rows.iloc[800:]
    return Trained(spec, development, held_out, train_models(spec, development))
