"""Validation plots of a credit or fraud model, as PNG-ready figures for the run's record.

ROC, KS, calibration, precision-recall and score distributions: the pictures a validator
reads beside ``evaluate``'s numbers, and whose numbers (AUC, KS) come from ``evaluate`` so
the figure and the metric never disagree.

Each figure is a ``matplotlib.figure.Figure`` drawn on its own Agg canvas, never through
``pyplot``: no global figure registry (safe in threads, nothing to close, nothing that
leaks), and no window opens whatever backend the environment selects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

from zhongtai.ml.evaluate import auc, ks

FIGURE_SIZE = (6.0, 5.0)
DPI = 100
SCORE_BINS = 40
CALIBRATION_KEYS = ("predicted_pd", "observed_default_rate")
# A name becomes ``<name>.png`` in a directory and an artifact path: no separators, no
# leading dot, nothing a shell or a URL would need to quote.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _new_axes(title: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: savefig renders with Agg, no pyplot involved
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.grid(alpha=0.3)
    return figure, axes


def _labels_and_probabilities(
    y: np.ndarray, probability: np.ndarray, curve: str
) -> tuple[np.ndarray, np.ndarray]:
    """The label as 0/1 and the probability as floats, refused when their lengths differ
    or the label holds one class (the curve compares the two)."""
    labels = np.asarray(y, dtype=int)
    scores = np.asarray(probability, dtype=float)
    if labels.shape != scores.shape:
        raise ValueError(
            f"{curve}: y has {labels.size} rows but probability has {scores.size}; "
            "expected one probability per label"
        )
    classes = np.unique(labels)
    if classes.size < 2:
        only = f"only {classes[0]}" if classes.size else "no rows"
        raise ValueError(f"{curve}: the label holds {only}; expected both 0 and 1")
    return labels, scores


def _cumulative_shares(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Share of ``scores`` at or below each threshold (ties move together, as in ``ks``)."""
    return np.searchsorted(np.sort(scores), thresholds, side="right") / scores.size


def roc_figure(y: np.ndarray, probability: np.ndarray, title: str) -> Figure:
    """ROC curve with its AUC in the legend, against the diagonal of a random ranking."""
    labels, scores = _labels_and_probabilities(y, probability, "ROC curve")
    false_positive_rate, true_positive_rate, _ = roc_curve(labels, scores)
    figure, axes = _new_axes(title)
    axes.plot(false_positive_rate, true_positive_rate, label=f"AUC = {auc(labels, scores):.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random ranking")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1))
    axes.legend(loc="lower right")
    return figure


def ks_figure(y: np.ndarray, probability: np.ndarray, title: str) -> Figure:
    """Cumulative distributions of the probability among positives and among negatives,
    with the KS gap drawn where it is largest; the value is ``evaluate.ks``'s."""
    labels, scores = _labels_and_probabilities(y, probability, "KS plot")
    thresholds = np.unique(scores)
    positives = _cumulative_shares(scores[labels == 1], thresholds)
    negatives = _cumulative_shares(scores[labels == 0], thresholds)
    widest = int(np.argmax(np.abs(negatives - positives)))
    figure, axes = _new_axes(title)
    axes.step(thresholds, positives, where="post", label=f"positives, y = 1 (n = {labels.sum()})")
    axes.step(
        thresholds,
        negatives,
        where="post",
        label=f"negatives, y = 0 (n = {labels.size - labels.sum()})",
    )
    axes.vlines(
        thresholds[widest],
        positives[widest],
        negatives[widest],
        colors="black",
        linestyles="--",
        label=f"KS = {ks(labels, scores):.3f} at {thresholds[widest]:.3g}",
    )
    axes.set(xlabel="predicted probability", ylabel="cumulative share", ylim=(0, 1))
    axes.legend(loc="lower right")
    return figure


def calibration_figure(calibration: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Observed against predicted rate in each band of ``evaluate.calibration_table``,
    beside the identity line a calibrated model follows."""
    if not calibration:
        raise ValueError("calibration figure: the calibration table has no bands")
    for key in CALIBRATION_KEYS:
        if any(key not in band for band in calibration):
            raise ValueError(
                f"calibration figure: a band lacks {key!r}; expected rows of "
                "evaluate.calibration_table"
            )
    predicted = [float(band["predicted_pd"]) for band in calibration]
    observed = [float(band["observed_default_rate"]) for band in calibration]
    upper = max(max(predicted), max(observed)) * 1.05 or 1.0  # room above the top band
    figure, axes = _new_axes(title)
    axes.plot([0, upper], [0, upper], linestyle="--", color="grey", label="perfect calibration")
    axes.plot(predicted, observed, marker="o", label=f"observed, {len(calibration)} bands")
    axes.set(
        xlabel="mean predicted probability",
        ylabel="observed rate",
        xlim=(0, upper),
        ylim=(0, upper),
    )
    axes.legend(loc="upper left")
    return figure


def score_distribution_figure(
    scores_by_sample: Mapping[str, np.ndarray], title: str, xlabel: str = "score (points)"
) -> Figure:
    """Density histograms of the scores of each sample (development, out of time…) on the
    same bins, so a shift between samples shows as a shift between outlines."""
    if not scores_by_sample:
        raise ValueError("score distribution: no samples given")
    samples = {name: np.asarray(values, dtype=float) for name, values in scores_by_sample.items()}
    for name, values in samples.items():
        if values.size == 0:
            raise ValueError(f"score distribution: sample {name!r} has no scores")
        if not np.isfinite(values).all():
            missing = int((~np.isfinite(values)).sum())
            raise ValueError(f"score distribution: sample {name!r} holds {missing} non-finite")
    edges = np.histogram_bin_edges(np.concatenate(list(samples.values())), bins=SCORE_BINS)
    figure, axes = _new_axes(title)
    for name, values in samples.items():
        axes.hist(
            values,
            bins=edges.tolist(),
            density=True,
            histtype="step",
            label=f"{name} (n = {values.size})",
        )
    axes.set(xlabel=xlabel, ylabel="density")
    axes.legend()
    return figure


def precision_recall_figure(
    y: np.ndarray, probability: np.ndarray, title: str, threshold: float | None = None
) -> Figure:
    """Precision-recall curve with its AUPRC (average precision) in the legend, against
    the base rate a random ranking achieves; with ``threshold``, the operating point of
    flagging every probability at or above it (precision 1 when none is flagged, the
    curve's own convention)."""
    labels, scores = _labels_and_probabilities(y, probability, "precision-recall curve")
    precision, recall, _ = precision_recall_curve(labels, scores)
    average_precision = float(average_precision_score(labels, scores))
    base_rate = float(labels.mean())
    figure, axes = _new_axes(title)
    axes.plot(recall, precision, drawstyle="steps-post", label=f"AUPRC = {average_precision:.3f}")
    axes.axhline(base_rate, linestyle="--", color="grey", label=f"base rate = {base_rate:.3f}")
    if threshold is not None:
        flagged = scores >= threshold
        true_positives = int((flagged & (labels == 1)).sum())
        point_precision = true_positives / flagged.sum() if flagged.any() else 1.0
        point_recall = true_positives / labels.sum()
        axes.plot(
            point_recall,
            point_precision,
            marker="o",
            color="black",
            linestyle="none",
            label=(
                f"threshold {threshold:g}: precision {point_precision:.3f}, "
                f"recall {point_recall:.3f}"
            ),
        )
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower left")
    return figure


def save_figures(figures: Mapping[str, Figure], directory: Path) -> list[Path]:
    """Write each figure to ``directory/<name>.png`` (created if missing) and return the
    paths in the order given. Every name is checked before anything is written, so a bad
    one leaves no partial set behind."""
    for name in figures:
        if not SAFE_NAME.fullmatch(name):
            raise ValueError(
                f"figure name {name!r} is not a safe file name; expected letters, digits, "
                "'_', '-' or '.', starting with a letter or digit"
            )
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in figures.items():
        path = directory / f"{name}.png"
        figure.savefig(path, format="png", dpi=DPI, bbox_inches="tight")
        paths.append(path)
    return paths
