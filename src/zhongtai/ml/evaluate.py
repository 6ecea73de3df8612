"""Validation metrics of a probability-of-default model, as plain numbers and tables.

- discrimination: AUC, Gini (``2·AUC − 1``) and KS (the largest gap between the cumulative
  score distributions of defaulters and non-defaulters); AUPRC (average precision), which,
  unlike AUC, reflects how rare the positives are: the measure of a fraud model, where a
  few percent of applications are positive;
- review at a budget (fraud): the threshold that sends a configured share of development
  applications to manual review, and at it the review rate reached, recall and precision;
- accuracy of the probabilities: Brier score and a calibration table (predicted vs
  observed default rate by band of predicted PD);
- stability: PSI of the scores, development vs out of time;
- fairness: the same measures in each band of an attribute (age), and the largest AUC
  gap between bands with enough rows of both outcomes.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from zhongtai.ml.data import cross_validation_splits
from zhongtai.ml.features import population_stability
from zhongtai.ml.spec import Algorithm, CrossValidationSpec, FairnessSpec, ModelSpec
from zhongtai.ml.train import train_models

CALIBRATION_BINS = 10
PSI_BINS = 10


class Scorer(Protocol):
    """What an evaluation reads of a model: a ``FittedModel`` just trained, or a model
    loaded from its exported files, is measured the same way."""

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray: ...

    def score(self, frame: pd.DataFrame) -> np.ndarray: ...


def auc(y: np.ndarray, probability_of_default: np.ndarray) -> float:
    """Area under the ROC curve of the PD against the default (1) / non-default (0) label."""
    return float(roc_auc_score(np.asarray(y, dtype=int), probability_of_default))


def gini(y: np.ndarray, probability_of_default: np.ndarray) -> float:
    """Accuracy ratio: ``2·AUC − 1``."""
    return 2 * auc(y, probability_of_default) - 1


def ks(y: np.ndarray, probability_of_default: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the cumulative distributions of the PD
    among defaulters and among non-defaulters (ties move together)."""
    labels = np.asarray(y, dtype=int)
    scores = np.asarray(probability_of_default, dtype=float)
    if labels.min() == labels.max():
        raise ValueError("KS needs defaulters and non-defaulters")
    thresholds = np.unique(scores)
    bads = np.sort(scores[labels == 1])
    goods = np.sort(scores[labels == 0])
    cdf_bad = np.searchsorted(bads, thresholds, side="right") / bads.size
    cdf_good = np.searchsorted(goods, thresholds, side="right") / goods.size
    return float(np.max(np.abs(cdf_good - cdf_bad)))


def auprc(y: np.ndarray, probability: np.ndarray) -> float:
    """Area under the precision-recall curve, as average precision: the mean, over the
    positives, of the precision among the rows scored at least as high as each one. A
    random score gets the positive rate; AUC would give it 0.5 however rare positives are."""
    labels = np.asarray(y, dtype=int)
    if not labels.any():
        raise ValueError("AUPRC needs at least one positive")
    return float(average_precision_score(labels, probability))


def review_threshold(probability_development: np.ndarray, rate: float) -> float:
    """The lowest score whose rows (those at or above it) are at most ``rate`` of the
    development rows: the threshold that fills the review budget without exceeding it.

    Rows tied at a score go to review together, so with ties the share sent can fall
    short of ``rate``. Raises ValueError when even the highest score alone is held by more
    than ``rate`` of the rows.
    """
    if not 0 < rate < 1:
        raise ValueError(f"review rate must be in (0, 1), got {rate}")
    scores = np.sort(np.asarray(probability_development, dtype=float))
    if scores.size == 0:
        raise ValueError("no development scores to set a review threshold on")
    capacity = math.floor(rate * scores.size + 1e-9)  # rows the budget can take
    candidates = np.unique(scores)
    sent = scores.size - np.searchsorted(scores, candidates, side="left")  # rows >= each
    within = candidates[sent <= capacity]
    if within.size == 0:
        raise ValueError(
            f"the highest score is held by {int(sent[-1])} of {scores.size} rows, more than "
            f"the review budget of {rate:g}: no threshold stays within it"
        )
    return float(within[0])


def review_metrics(y: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, Any]:
    """What sending rows scored at or above ``threshold`` to review gives: rows and share
    sent (the review rate reached), recall (share of positives sent) and precision (share
    of sent rows positive); a ratio with nothing to divide is none."""
    labels = np.asarray(y, dtype=int)
    sent = np.asarray(probability, dtype=float) >= threshold
    caught = int(labels[sent].sum())
    positives = int(labels.sum())
    reviewed = int(sent.sum())
    return {
        "threshold": float(threshold),
        "rows_reviewed": reviewed,
        "review_rate": round(reviewed / labels.size, 6) if labels.size else None,
        "positives_reviewed": caught,
        "recall": round(caught / positives, 6) if positives else None,
        "precision": round(caught / reviewed, 6) if reviewed else None,
    }


def brier(y: np.ndarray, probability_of_default: np.ndarray) -> float:
    """Mean squared error of the PD against the label."""
    return float(brier_score_loss(np.asarray(y, dtype=int), probability_of_default))


def calibration_table(
    y: np.ndarray, probability_of_default: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[dict[str, float | int]]:
    """Rows in bands of equal size by predicted PD (lowest first): rows, mean predicted
    PD, observed default rate."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=int), "pd": probability_of_default})
    frame["band"] = pd.qcut(frame["pd"].rank(method="first"), q=min(bins, len(frame)), labels=False)
    grouped = frame.groupby("band").agg(
        rows=("y", "size"), predicted=("pd", "mean"), observed=("y", "mean")
    )
    return [
        {
            "band": int(band),
            "rows": int(row.rows),
            "predicted_pd": round(float(row.predicted), 6),
            "observed_default_rate": round(float(row.observed), 6),
        }
        for band, row in grouped.iterrows()
    ]


def score_psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS) -> float:
    """PSI of ``actual`` scores against ``expected`` ones, in ``expected``'s deciles."""
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1])
    expected_counts = np.bincount(
        np.searchsorted(edges, expected, side="right"), minlength=edges.size + 1
    )
    actual_counts = np.bincount(
        np.searchsorted(edges, actual, side="right"), minlength=edges.size + 1
    )
    return population_stability(expected_counts, actual_counts)


def fairness_report(
    y: np.ndarray,
    probability_of_default: np.ndarray,
    attribute: pd.Series,
    fairness: FairnessSpec,
) -> dict[str, Any]:
    """Rows, observed and predicted default rate and AUC in each band of the attribute;
    ``auc_gap``: the largest AUC difference between bands of at least ``min_rows`` rows
    holding at least ``min_events`` of each outcome (none when fewer than two such
    bands)."""
    labels = np.asarray(y, dtype=int)
    scores = np.asarray(probability_of_default, dtype=float)
    values = pd.to_numeric(attribute, errors="coerce").to_numpy(dtype=float)
    edges = fairness.bands
    bands = []
    comparable: list[float] = []
    for low, high in pairwise(edges):
        inside = (values >= low) & (values < high)
        rows = int(inside.sum())
        band: dict[str, Any] = {"band": f"[{low:g}, {high:g})", "rows": rows}
        if rows:
            band["observed_default_rate"] = round(float(labels[inside].mean()), 6)
            band["predicted_pd"] = round(float(scores[inside].mean()), 6)
        positives = int(labels[inside].sum())
        both = rows and 0 < positives < rows
        band["auc"] = round(auc(labels[inside], scores[inside]), 6) if both else None
        enough = min(positives, rows - positives) >= fairness.min_events
        if both and rows >= fairness.min_rows and enough:
            comparable.append(band["auc"])
        bands.append(band)
    outside = int((~((values >= edges[0]) & (values < edges[-1]))).sum())
    return {
        "attribute": attribute.name,
        "bands": bands,
        "rows_outside_bands": outside,
        "auc_gap": round(max(comparable) - min(comparable), 6) if len(comparable) > 1 else None,
    }


def evaluate_model(
    model: Scorer,
    frame: pd.DataFrame,
    label: str,
    *,
    reference_scores: np.ndarray | None = None,
    fairness: FairnessSpec | None = None,
    review_threshold: float | None = None,
) -> dict[str, Any]:
    """Every metric of ``model`` on ``frame`` (with its label): AUC, AUPRC, Gini, KS,
    Brier, calibration, default rates; when asked, the score PSI against
    ``reference_scores`` (the development scores), the fairness report, and the review
    metrics at ``review_threshold`` (a probability, from ``review_threshold()`` on the
    development probabilities)."""
    y = frame[label].astype(int).to_numpy()
    probability = model.predict_pd(frame)
    metrics: dict[str, Any] = {
        "rows": len(frame),
        "default_rate": round(float(y.mean()), 6),
        "mean_pd": round(float(probability.mean()), 6),
        "auc": round(auc(y, probability), 6),
        "auprc": round(auprc(y, probability), 6),
        "gini": round(gini(y, probability), 6),
        "ks": round(ks(y, probability), 6),
        "brier": round(brier(y, probability), 6),
        "calibration": calibration_table(y, probability),
    }
    if reference_scores is not None:
        metrics["score_psi"] = round(score_psi(reference_scores, model.score(frame)), 6)
    if fairness is not None:
        metrics["fairness"] = fairness_report(y, probability, frame[fairness.attribute], fairness)
    if review_threshold is not None:
        metrics["review"] = review_metrics(y, probability, review_threshold)
    return metrics


def cross_validate(
    spec: ModelSpec, frame: pd.DataFrame, cross_validation: CrossValidationSpec | None = None
) -> dict[str, Any]:
    """Repeated stratified k-fold through ``train_models``: selection and fitting on each
    training part, metrics on its test part, for every algorithm of the spec.

    Returns, per algorithm, the AUC of each fold and the mean and (population) standard
    deviation of AUC, AUPRC, Gini, KS and Brier; and per algorithm how many folds dropped
    each feature, by reason (a selection filter, or ``sign`` for the scorecard's refit).
    ``cross_validation`` defaults to the spec's.
    """
    folds_spec = cross_validation or spec.validation.cross_validation
    if folds_spec is None:
        raise ValueError(f"{spec.name}: the spec has no validation.cross_validation")
    per_fold: dict[Algorithm, list[dict[str, float]]] = {a: [] for a in spec.algorithms.enabled()}
    dropped: dict[str, dict[str, dict[str, int]]] = {a: {} for a in per_fold}
    for train_rows, test_rows in cross_validation_splits(frame, spec.label, folds_spec, spec.seed):
        result = train_models(spec, frame.iloc[train_rows])
        test = frame.iloc[test_rows]
        y = test[spec.label].astype(int).to_numpy()
        for algorithm, model in result.models.items():
            reasons = [
                (d.feature, d.reason) for d in result.selections[algorithm].decisions if not d.kept
            ]
            reasons += [(f, "sign") for f in model.details.get("dropped_for_sign", {})]
            for feature, reason in reasons:
                counts = dropped.setdefault(algorithm, {}).setdefault(feature, {})
                counts[reason] = counts.get(reason, 0) + 1
            probability = model.predict_pd(test)
            per_fold[algorithm].append(
                {
                    "auc": auc(y, probability),
                    "auprc": auprc(y, probability),
                    "gini": gini(y, probability),
                    "ks": ks(y, probability),
                    "brier": brier(y, probability),
                }
            )
    summary: dict[str, Any] = {}
    for algorithm, folds in per_fold.items():
        entry: dict[str, Any] = {}
        for metric in ("auc", "auprc", "gini", "ks", "brier"):
            values = np.array([fold[metric] for fold in folds])
            entry[f"{metric}_mean"] = round(float(values.mean()), 4)
            entry[f"{metric}_std"] = round(float(values.std()), 4)
        entry["folds"] = [round(fold["auc"], 4) for fold in folds]
        summary[algorithm] = entry
    return {
        "n_splits": folds_spec.n_splits,
        "n_repeats": folds_spec.n_repeats,
        "seed": spec.seed,
        "algorithms": summary,
        "dropped_in_folds": {
            algorithm: {f: counts[f] for f in sorted(counts)}
            for algorithm, counts in dropped.items()
        },
    }
