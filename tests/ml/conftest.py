"""Trained models shared by the model tests: each is fitted once per session; and the
partner book's models exported, loaded, and the awkward rows they are scored on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.ml.frames import credit_rows, fraud_rows, german_credit_rows
from zhongtai.ml.data import split_out_of_time
from zhongtai.ml.export import export_model
from zhongtai.ml.scoring import ScoringModel, load_exported
from zhongtai.ml.spec import Algorithm, ModelSpec, load_spec
from zhongtai.ml.train import FittedModel, TrainingResult, train_models

CREDIT_ROWS = 4000
FRAUD_ROWS = 6000
SEED = 11
ALGORITHMS: list[Algorithm] = ["scorecard", "lightgbm"]
# Features left empty in a tenth of the development rows, so that Missing bins hold rows.
HOLED = ["purpose", "savings_account_and_bonds", "duration_in_month", "credit_amount"]
METADATA = {"family": "german_credit", "review_threshold": 0.125, "bands": [1, 2]}
UNSEEN = "a value development never saw"


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


def _with_holes(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return rows.assign(**{f: rows[f].mask(rng.random(len(rows)) < 0.1) for f in HOLED})


@pytest.fixture(scope="session")
def fitted(german_credit: Trained) -> dict[Algorithm, FittedModel]:
    """The partner book's spec, both algorithms, trained on development rows with holes."""
    development = _with_holes(german_credit.development, seed=1)
    return train_models(german_credit.spec, development).models


@pytest.fixture(scope="session")
def exported(
    fitted: dict[Algorithm, FittedModel], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Both models exported, each in the folder named for its algorithm."""
    root = tmp_path_factory.mktemp("exported")
    for algorithm, model in fitted.items():
        export_model(model, root / algorithm, METADATA)
    return root


@pytest.fixture(scope="session")
def loaded(exported: Path) -> dict[Algorithm, ScoringModel]:
    return {algorithm: load_exported(exported / algorithm) for algorithm in ALGORITHMS}


@pytest.fixture(scope="session")
def awkward_rows(german_credit: Trained, fitted: dict[Algorithm, FittedModel]) -> pd.DataFrame:
    """Held-out rows, with copies of some in which each feature is missing, each text
    feature holds a category never seen, and each scorecard split point (and the number
    just below it) is a value."""
    rows = german_credit.out_of_time
    some = rows.head(20)
    numerical = rows.select_dtypes("number").columns
    variants = [rows]
    read = dict.fromkeys(fitted["scorecard"].features + fitted["lightgbm"].features)
    for feature in read:
        variants.append(some.assign(**{feature: np.nan if feature in numerical else None}))
        if feature not in numerical:
            variants.append(some.assign(**{feature: UNSEEN}))
    process = fitted["scorecard"].estimator.binning_process_
    for feature in [f for f in fitted["scorecard"].features if f in numerical]:
        splits = process.get_binned_variable(feature).splits
        for value in [*splits, *np.nextafter(splits, -np.inf)]:
            variants.append(some.head(3).assign(**{feature: value}))
    return pd.concat(variants, ignore_index=True)
