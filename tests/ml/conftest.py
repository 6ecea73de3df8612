"""Trained models shared by the model tests: each is fitted once per session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from tests.ml.frames import credit_rows, german_credit_rows
from zhongtai.ml.data import split_out_of_time
from zhongtai.ml.spec import ModelSpec, load_spec
from zhongtai.ml.train import TrainingResult, train_models

CREDIT_ROWS = 4000
SEED = 11


@dataclass(frozen=True)
class Trained:
    spec: ModelSpec
    development: pd.DataFrame
    out_of_time: pd.DataFrame
    result: TrainingResult


@pytest.fixture(scope="session")
def credit_pd() -> Trained:
    """The credit_pd spec as committed, trained on synthetic applications with a column of
    pure noise; out of time: the last three months."""
    spec = load_spec("credit_pd")
    rows = credit_rows(CREDIT_ROWS, seed=SEED)
    rows["noise"] = np.random.default_rng(SEED).random(len(rows))
    assert spec.validation.out_of_time is not None
    development, out_of_time, _ = split_out_of_time(
        rows, "applied_at", spec.validation.out_of_time.months
    )
    return Trained(spec, development, out_of_time, train_models(spec, development, out_of_time))


@pytest.fixture(scope="session")
def german_credit() -> Trained:
    """The german_credit spec as committed, trained on 800 of the 1,000 real records."""
    spec = load_spec("german_credit")
    rows = german_credit_rows().sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    development, held_out = rows.iloc[:800], rows.iloc[800:]
    return Trained(spec, development, held_out, train_models(spec, development))
