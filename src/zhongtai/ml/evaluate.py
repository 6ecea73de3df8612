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
- fairness: the same measures in each group of every fairness attribute (bands of age,
  a region's cities, a partner book's sex and marital status), and per attribute the
  largest AUC gap between groups with enough rows of both outcomes;
- the evidence a promotion gate reads: the sample (rows, defaulters, non-defaulters) and
  a confidence interval of the AUC (DeLong), of the AUC gap and of the score PSI
  (bootstrap, seeded), and of a challenger's AUC gain over the champion on the same rows
  (paired DeLong): see ``zhongtai.ml.intervals``.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from zhongtai.ml.data import cross_validation_splits
from zhongtai.ml.intervals import (
    RESAMPLES,
    auc_difference_interval,
    auc_gap_interval,
    auc_interval,
    psi_interval,
)
from zhongtai.ml.select import population_stability
from zhongtai.ml.spec import (
    Algorithm,
    CrossValidationSpec,
    FairnessAttribute,
    FairnessSpec,
    ModelSpec,
)
from zhongtai.ml.train import train_models

CALIBRATION_BINS = 10
PSI_BINS = 10
CONFIDENCE = 0.95


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


def score_bins(
    expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``expected`` and ``actual`` scores in ``expected``'s quantile bins."""
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1])
    expected_counts = np.bincount(
        np.searchsorted(edges, expected, side="right"), minlength=edges.size + 1
    )
    actual_counts = np.bincount(
        np.searchsorted(edges, actual, side="right"), minlength=edges.size + 1
    )
    return expected_counts, actual_counts


def score_psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS) -> float:
    """PSI of ``actual`` scores against ``expected`` ones, in ``expected``'s deciles."""
    return population_stability(*score_bins(expected, actual, bins))


def fairness_groups(
    values: pd.Series, attribute: FairnessAttribute
) -> tuple[list[str], np.ndarray]:
    """The group labels of an attribute, in report order, and each row's group (None:
    outside every group, or missing).

    ``bands`` group numbers as ``[a, b)``; text falls in the group that lists it
    (``groups``), in the group of its first ``prefix`` characters, or in its own group.
    Raises ValueError for bands over text, or a number without bands.
    """
    name = values.name
    present = values.notna().to_numpy()
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )
    if attribute.bands is not None:
        if not numeric:
            raise ValueError(f"fairness attribute {name}: bands need numbers, it holds text")
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        labels = [f"[{low:g}, {high:g})" for low, high in pairwise(attribute.bands)]
        band = np.searchsorted(np.asarray(attribute.bands), numbers, side="right") - 1
        inside = present & (band >= 0) & (band < len(labels))
        groups = np.array(
            [labels[b] if ok else None for b, ok in zip(band, inside, strict=True)], dtype=object
        )
        return labels, groups
    if numeric:
        raise ValueError(
            f"fairness attribute {name}: a number is grouped in bands (fairness.attributes."
            f"{name}.bands)"
        )
    texts = np.array(
        [str(v) if ok else None for v, ok in zip(values, present, strict=True)], dtype=object
    )
    if attribute.groups is not None:
        group_of = {
            value: group for group, members in attribute.groups.items() for value in members
        }
        return list(attribute.groups), np.array(
            [None if t is None else group_of.get(t) for t in texts], dtype=object
        )
    if attribute.prefix is not None:
        cut = attribute.prefix
        texts = np.array([None if t is None else t[:cut] for t in texts], dtype=object)
    return sorted({t for t in texts if t is not None}), texts


def fairness_report(
    y: np.ndarray,
    probability_of_default: np.ndarray,
    attribute: pd.Series,
    grouping: FairnessAttribute,
    fairness: FairnessSpec,
    *,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> dict[str, Any]:
    """Rows, defaulters, non-defaulters, observed and predicted default rate and AUC in
    each group of the attribute (``fairness_groups``); ``auc_gap``: the largest AUC
    difference between groups of at least ``min_rows`` rows holding at least
    ``min_events`` of each outcome (each such group is ``compared``), with
    ``auc_gap_interval``, a bootstrap interval stratified by group and outcome, seeded by
    ``seed`` (both none when fewer than two such groups)."""
    labels = np.asarray(y, dtype=int)
    scores = np.asarray(probability_of_default, dtype=float)
    names, membership = fairness_groups(attribute, grouping)
    groups = []
    compared: list[tuple[np.ndarray, np.ndarray]] = []
    for name in names:
        inside = membership == name
        rows = int(inside.sum())
        positives = int(labels[inside].sum())
        group: dict[str, Any] = {
            "group": name,
            "rows": rows,
            "defaulters": positives,
            "non_defaulters": rows - positives,
        }
        if rows:
            group["observed_default_rate"] = round(float(labels[inside].mean()), 6)
            group["predicted_pd"] = round(float(scores[inside].mean()), 6)
        both = rows and 0 < positives < rows
        group["auc"] = round(auc(labels[inside], scores[inside]), 6) if both else None
        enough = min(positives, rows - positives) >= fairness.min_events
        group["compared"] = bool(both and rows >= fairness.min_rows and enough)
        if group["compared"]:
            compared.append((labels[inside], scores[inside]))
        groups.append(group)
    gap, gap_interval = None, None
    if len(compared) > 1:
        compared_aucs = [group["auc"] for group in groups if group["compared"]]
        gap = round(max(compared_aucs) - min(compared_aucs), 6)
        gap_interval = auc_gap_interval(compared, confidence, resamples, seed).bounds()
    return {
        "attribute": attribute.name,
        "kind": "bands" if grouping.bands is not None else "groups",
        "groups": groups,
        "rows_outside_groups": int(sum(group is None for group in membership)),
        "min_rows": fairness.min_rows,
        "min_events": fairness.min_events,
        "auc_gap": gap,
        "auc_gap_interval": gap_interval,
    }


def fairness_reports(
    y: np.ndarray,
    probability_of_default: np.ndarray,
    frame: pd.DataFrame,
    fairness: FairnessSpec,
    *,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> dict[str, dict[str, Any]]:
    """``fairness_report`` of every attribute of ``fairness``, by column name.

    Raises KeyError naming the attributes ``frame`` lacks."""
    absent = [name for name in fairness.attributes if name not in frame.columns]
    if absent:
        raise KeyError(f"no column {', '.join(absent)} for the fairness report")
    return {
        name: fairness_report(
            y,
            probability_of_default,
            frame[name],
            grouping,
            fairness,
            confidence=confidence,
            seed=seed,
            resamples=resamples,
        )
        for name, grouping in fairness.attributes.items()
    }


def evaluate_model(
    model: Scorer,
    frame: pd.DataFrame,
    label: str,
    *,
    reference_scores: np.ndarray | None = None,
    fairness: FairnessSpec | None = None,
    review_threshold: float | None = None,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> dict[str, Any]:
    """Every metric of ``model`` on ``frame`` (with its label): rows, defaulters and
    non-defaulters, AUC with its DeLong ``auc_interval`` at ``confidence``, AUPRC, Gini,
    KS, Brier, calibration, default rates; when asked, the score PSI against
    ``reference_scores`` (the development scores) with its bootstrap
    ``score_psi_interval``, the fairness report (with its gap's interval), and the review
    metrics at ``review_threshold`` (a probability, from ``review_threshold()`` on the
    development probabilities). Bootstraps draw ``resamples`` times from ``seed``: same
    inputs, same numbers.

    A sample without both outcomes has no AUC, AUPRC, Gini or KS (none), and an AUC
    interval needs two of each outcome."""
    y = frame[label].astype(int).to_numpy()
    probability = model.predict_pd(frame)
    defaulters = int(y.sum())
    both = 0 < defaulters < len(y)
    metrics: dict[str, Any] = {
        "rows": len(frame),
        "defaulters": defaulters,
        "non_defaulters": len(y) - defaulters,
        "confidence": confidence,
        "default_rate": round(float(y.mean()), 6) if len(y) else None,
        "mean_pd": round(float(probability.mean()), 6) if len(y) else None,
        "auc": round(auc(y, probability), 6) if both else None,
        "auc_interval": _auc_bounds(y, probability, confidence),
        "auprc": round(auprc(y, probability), 6) if both else None,
        "gini": round(gini(y, probability), 6) if both else None,
        "ks": round(ks(y, probability), 6) if both else None,
        "brier": round(brier(y, probability), 6) if len(y) else None,
        "calibration": calibration_table(y, probability) if len(y) else [],
    }
    if reference_scores is not None:
        expected, actual = score_bins(reference_scores, model.score(frame))
        interval = psi_interval(expected, actual, confidence, resamples, seed)
        metrics["rows_reference"] = int(expected.sum())
        metrics["score_psi"] = round(interval.estimate, 6)
        metrics["score_psi_interval"] = interval.bounds()
    if fairness is not None:
        metrics["fairness"] = fairness_reports(
            y, probability, frame, fairness, confidence=confidence, seed=seed, resamples=resamples
        )
    if review_threshold is not None:
        metrics["review"] = review_metrics(y, probability, review_threshold)
    return metrics


def _auc_bounds(y: np.ndarray, probability: np.ndarray, confidence: float) -> list[float] | None:
    defaulters = int(y.sum())
    if min(defaulters, len(y) - defaulters) < 2:
        return None
    return auc_interval(y, probability, confidence).bounds()


def champion_comparison(
    challenger: Scorer,
    champion: Scorer,
    frame: pd.DataFrame,
    label: str,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """The champion on the challenger's out-of-time rows: its AUC, and the challenger's
    AUC gain over it with the paired DeLong interval (none with fewer than two of either
    outcome), the sample both were scored on, and whether the two score every row alike
    (``identical``: a retrain that reproduced the champion, whose gain is exactly 0 on
    any sample)."""
    y = frame[label].astype(int).to_numpy()
    ours, theirs = challenger.predict_pd(frame), champion.predict_pd(frame)
    defaulters = int(y.sum())
    comparison: dict[str, Any] = {
        "rows": len(frame),
        "defaulters": defaulters,
        "non_defaulters": len(y) - defaulters,
        "confidence": confidence,
        "auc": None,
        "auc_gain": None,
        "auc_gain_interval": None,
        "identical": bool(np.allclose(ours, theirs, rtol=0, atol=1e-12)),
    }
    if min(defaulters, len(y) - defaulters) >= 2:
        gain = auc_difference_interval(y, ours, theirs, confidence)
        comparison["auc"] = round(auc(y, theirs), 6)
        comparison["auc_gain"] = round(gain.estimate, 6)
        comparison["auc_gain_interval"] = gain.bounds()
    return comparison


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
