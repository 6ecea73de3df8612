"""Training: a spec and rows in, fitted models and their selection report out (no I/O).

Two algorithms read the same selected features:

- **scorecard**: optbinning's BinningProcess (optimal, monotone bins; WoE) and a logistic
  regression, scaled to points by PDO (``points`` at good:bad odds ``odds``:1, ``pdo``
  more points double the odds). A feature whose coefficient comes out with the wrong sign
  (more risk scoring more points: collinearity) is dropped and the scorecard refitted;
- **lightgbm**: gradient-boosted trees, the spec's monotone directions as constraints.

Every model's probability of default maps to points by the same scaling, so "the credit
score" means the same thing whichever algorithm is champion. Seeds come from the spec;
LightGBM runs deterministic, so the same rows give the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from optbinning import Scorecard
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from zhongtai.ml.scaling import pd_to_points
from zhongtai.ml.select import (
    SelectionReport,
    binning_process,
    categorical_features,
    decide,
    measure_features,
    model_inputs,
)
from zhongtai.ml.spec import (
    Algorithm,
    Direction,
    LightGBMSpec,
    ModelSpec,
    ScalingSpec,
    ScorecardSpec,
)

# What LightGBM runs with unless the spec says otherwise; the seed always comes from the spec.
LIGHTGBM_DEFAULTS: dict[str, Any] = {
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 1,
    "verbose": -1,
}


# Probabilities are kept off 0 and 1 so that every row has finite points.
@dataclass
class FittedModel:
    """A fitted model and what it needs to score new rows, with its plain-data details."""

    algorithm: Algorithm
    features: list[str]
    estimator: Any  # optbinning Scorecard or lightgbm LGBMClassifier
    scaling: ScalingSpec
    categories: dict[str, list[Any]] = field(default_factory=dict)  # LightGBM's levels
    details: dict[str, Any] = field(default_factory=dict)
    # Added to LightGBM's log-odds: undoes the weight given to positives in training.
    log_odds_offset: float = 0.0
    # Features that carry a protected characteristic (justified by the spec): they score,
    # but are never given as a reason code.
    protected: list[str] = field(default_factory=list)

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of default of each row."""
        if self.algorithm == "scorecard":
            inputs = model_inputs(frame, self.features)
            return np.asarray(self.estimator.predict_proba(inputs))[:, 1]
        inputs = _lightgbm_inputs(frame, self.features, self.categories)
        log_odds = np.asarray(self.estimator.predict(inputs, raw_score=True))
        return expit(log_odds + self.log_odds_offset)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The credit score (points) of each row: higher is safer."""
        return pd_to_points(self.predict_pd(frame), self.scaling)

    def points_by_feature(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The scorecard's points of each row, feature by feature (they add up to the
        score): the ground of reason codes. Scorecards only."""
        if self.algorithm != "scorecard":
            raise TypeError(f"a {self.algorithm} model has no points table")
        points = self.estimator.transform(model_inputs(frame, self.features))
        return points.set_axis(frame.index)[self.features]


@dataclass
class TrainingResult:
    """One training run: per algorithm, the selection it made and the fitted model."""

    spec_name: str
    selections: dict[Algorithm, SelectionReport]
    models: dict[Algorithm, FittedModel]
    rows_development: int
    default_rate_development: float


def fit_scorecard(
    development: pd.DataFrame,
    label: str,
    features: list[str],
    spec: ScorecardSpec,
    scaling: ScalingSpec,
    monotone: dict[str, Direction] | None = None,
) -> FittedModel:
    """A PDO-scaled scorecard on ``features``; wrong-signed features dropped, then refitted.

    ``details`` holds the points table (variable, bin, points, WoE, IV, coefficient) and the
    features dropped for their sign, with their coefficient.
    """
    monotone = monotone or {}
    inputs = model_inputs(development, features)
    y = development[label].astype(int).to_numpy()
    used = list(features)
    dropped_for_sign: dict[str, float] = {}
    while True:
        scorecard = Scorecard(
            binning_process=binning_process(inputs, used, spec.binning, monotone),
            estimator=LogisticRegression(
                C=spec.logistic_regression.C, max_iter=spec.logistic_regression.max_iter
            ),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": scaling.pdo,
                "odds": scaling.odds,
                "scorecard_points": scaling.points,
            },
        )
        scorecard.fit(inputs[used], y, metric_missing="empirical")
        # optbinning's WoE is ln(share of goods / share of bads): a higher WoE is safer, so a
        # sound coefficient (on the default) is negative; a positive one rewards risk.
        coefficients = dict(zip(used, scorecard.estimator_.coef_.ravel(), strict=True))
        wrong = {f: float(c) for f, c in coefficients.items() if c > 0}
        if not wrong or len(used) == 1:
            break
        worst = max(wrong, key=lambda f: wrong[f])
        dropped_for_sign[worst] = wrong[worst]
        used.remove(worst)
    table = scorecard.table(style="detailed")
    columns = ["Variable", "Bin", "Count", "Event rate", "WoE", "IV", "Coefficient", "Points"]
    points = [
        {name.lower().replace(" ", "_"): _plain(value) for name, value in row.items()}
        for row in table[columns].to_dict(orient="records")
    ]
    return FittedModel(
        algorithm="scorecard",
        features=used,
        estimator=scorecard,
        scaling=scaling,
        details={
            "points_table": points,
            "intercept": float(scorecard.estimator_.intercept_[0]),
            "dropped_for_sign": dropped_for_sign,
        },
    )


def fit_lightgbm(
    development: pd.DataFrame,
    label: str,
    features: list[str],
    spec: LightGBMSpec,
    scaling: ScalingSpec,
    seed: int,
    monotone: dict[str, Direction] | None = None,
) -> FittedModel:
    """A LightGBM classifier on ``features``: categories learnt from development, the
    declared directions as monotone constraints (raw score = log-odds of default)."""
    monotone = monotone or {}
    categorical = categorical_features(development, features)
    constrained_categories = sorted(set(categorical) & set(monotone))
    if constrained_categories:
        raise ValueError(
            f"monotone directions apply to numeric features only: {constrained_categories}"
        )
    categories = {
        f: sorted(development[f].dropna().astype(str).unique().tolist()) for f in categorical
    }
    inputs = _lightgbm_inputs(development, features, categories)
    constraints = [
        {"increasing": 1, "decreasing": -1}[monotone[f]] if f in monotone else 0 for f in features
    ]
    params = {**LIGHTGBM_DEFAULTS, **spec.params, "random_state": seed}
    if any(constraints):
        params["monotone_constraints"] = constraints
    y = development[label].astype(int).to_numpy()
    model = lgb.LGBMClassifier(**params)
    model.fit(inputs, y)
    importance = model.booster_.feature_importance(importance_type="gain")
    return FittedModel(
        algorithm="lightgbm",
        features=list(features),
        estimator=model,
        scaling=scaling,
        categories=categories,
        log_odds_offset=-math.log(positive_weight(params, y)),
        details={
            "params": {k: _plain(v) for k, v in params.items()},
            "positive_weight": positive_weight(params, y),
            "gain_importance": {
                f: round(float(g), 4)
                for f, g in sorted(zip(features, importance, strict=True), key=lambda x: -x[1])
            },
        },
    )


def positive_weight(params: dict[str, Any], y: np.ndarray) -> float:
    """The weight LightGBM gives a positive row against a negative one (class imbalance).

    Weighting positives by ``w`` moves the trees' log-odds up by ``ln w``; subtracting it
    again keeps the probabilities calibrated (a prior correction), and the ranking (AUC,
    AUPRC, the review threshold) is unchanged.
    """
    if params.get("is_unbalance"):
        positives = int(y.sum())
        return (len(y) - positives) / positives if positives else 1.0
    return float(params.get("scale_pos_weight", 1.0))


def train_models(
    spec: ModelSpec,
    development: pd.DataFrame,
    out_of_time: pd.DataFrame | None = None,
) -> TrainingResult:
    """Measure the candidate features on ``development`` (stability against
    ``out_of_time`` when given; its labels are not read), then, for every algorithm the
    spec configures, select its features with its filters and fit it."""
    candidates = spec.candidate_features(list(development.columns))
    for field_name, named in (
        ("features.monotone", spec.features.monotone),
        ("selection.prefer", spec.selection.prefer),
    ):
        unknown = sorted(set(named) - set(candidates))
        if unknown:
            raise KeyError(f"{spec.name}: {field_name} names no candidate: {', '.join(unknown)}")
    monotone = dict(spec.features.monotone)
    scorecard, lightgbm = spec.algorithms.scorecard, spec.algorithms.lightgbm
    evidence = measure_features(
        development,
        spec.label,
        candidates,
        (scorecard or ScorecardSpec()).binning,
        monotone=monotone,
        out_of_time=out_of_time,
    )
    selections: dict[Algorithm, SelectionReport] = {}
    models: dict[Algorithm, FittedModel] = {}
    for algorithm, filters in (
        ("scorecard", scorecard.filters if scorecard else None),
        ("lightgbm", lightgbm.filters if lightgbm else None),
    ):
        if filters is None:
            continue
        selection = decide(evidence, spec.selection, filters)
        if not selection.kept:
            raise ValueError(f"{spec.name} {algorithm}: no feature kept: {selection.dropped}")
        selections[algorithm] = selection  # type: ignore[index]
    if scorecard is not None:
        models["scorecard"] = fit_scorecard(
            development,
            spec.label,
            selections["scorecard"].kept,
            scorecard,
            spec.scaling,
            monotone=monotone,
        )
    if lightgbm is not None:
        models["lightgbm"] = fit_lightgbm(
            development,
            spec.label,
            selections["lightgbm"].kept,
            lightgbm,
            spec.scaling,
            spec.seed,
            monotone=monotone,
        )
    for model in models.values():
        model.protected = [f for f in model.features if f in spec.features.protected]
    return TrainingResult(
        spec_name=spec.name,
        selections=selections,
        models=models,
        rows_development=len(development),
        default_rate_development=float(development[spec.label].astype(int).mean()),
    )


def _lightgbm_inputs(
    frame: pd.DataFrame, features: list[str], categories: dict[str, list[Any]]
) -> pd.DataFrame:
    """Numbers as floats; strings as categories with development's levels (an unseen
    value becomes missing)."""
    inputs = model_inputs(frame, features)
    for feature, levels in categories.items():
        values = inputs[feature].where(inputs[feature].isna(), inputs[feature].astype(str))
        inputs[feature] = values.astype(pd.CategoricalDtype(levels))
    return inputs


def _plain(value: Any) -> Any:
    """A value as JSON takes it (numpy scalars and NaN made plain)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value
