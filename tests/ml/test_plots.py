"""Validation plots: what each figure shows agrees with evaluate's numbers, and they save as
PNG files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from sklearn.metrics import average_precision_score, precision_score, recall_score

from zhongtai.ml.evaluate import auc, calibration_table, ks
from zhongtai.ml.plots import (
    calibration_figure,
    ks_figure,
    precision_recall_figure,
    roc_figure,
    save_figures,
    score_distribution_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray]:
    """400 labels at a 25% rate and probabilities that rank them well but not perfectly."""
    rng = np.random.default_rng(7)
    y = (rng.random(400) < 0.25).astype(int)
    probability = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.15, 400), 0, 1).round(3)  # ties
    return y, probability


def _axes(figure: Figure) -> Axes:
    assert isinstance(figure.canvas, FigureCanvasAgg)  # drawn on Agg, not a pyplot window
    (axes,) = figure.axes
    return axes


def _data(line: Line2D) -> tuple[list[float], list[float]]:
    return np.asarray(line.get_xdata()).tolist(), np.asarray(line.get_ydata()).tolist()


def _legend(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def test_roc_shows_the_auc_of_evaluate(sample: tuple[np.ndarray, np.ndarray]) -> None:
    y, probability = sample
    axes = _axes(roc_figure(y, probability, "credit_pd, out of time"))
    assert axes.get_title() == "credit_pd, out of time"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("false positive rate", "true positive rate")
    assert _legend(axes) == [f"AUC = {auc(y, probability):.3f}", "random ranking"]


def test_ks_marks_the_gap_of_evaluate_where_it_is_widest(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    y, probability = sample
    axes = _axes(ks_figure(y, probability, "KS"))
    value = ks(y, probability)
    positives, negatives, gap = _legend(axes)
    assert positives == f"positives, y = 1 (n = {y.sum()})"
    assert negatives == f"negatives, y = 0 (n = {(y == 0).sum()})"
    assert gap.startswith(f"KS = {value:.3f} at ")
    (marker,) = [c for c in axes.collections if isinstance(c, LineCollection)]
    (((x_low, y_low), (x_high, y_high)),) = marker.get_segments()
    assert x_low == x_high  # vertical, at the threshold of the widest gap
    assert abs(y_high - y_low) == pytest.approx(value)
    share_below = (probability[y == 0] <= x_low).mean() - (probability[y == 1] <= x_low).mean()
    assert share_below == pytest.approx(value)


def test_calibration_plots_each_band_against_the_identity() -> None:
    rng = np.random.default_rng(3)
    probability = rng.random(1000) * 0.4
    y = rng.random(1000) < probability
    table = calibration_table(y, probability)
    axes = _axes(calibration_figure(table, "calibration"))
    identity, bands = axes.get_lines()
    diagonal_x, diagonal_y = _data(identity)
    assert diagonal_x == diagonal_y
    assert _data(bands) == (
        [row["predicted_pd"] for row in table],
        [row["observed_default_rate"] for row in table],
    )
    assert _legend(axes) == ["perfect calibration", "observed, 10 bands"]
    with pytest.raises(ValueError, match="no bands"):
        calibration_figure([], "empty")
    with pytest.raises(ValueError, match="'observed_default_rate'"):
        calibration_figure([{"band": 0, "rows": 5, "predicted_pd": 0.1}], "incomplete")


def test_score_distributions_share_their_bins() -> None:
    rng = np.random.default_rng(5)
    samples = {"development": rng.normal(600, 40, 3000), "out of time": rng.normal(620, 40, 800)}
    axes = _axes(score_distribution_figure(samples, "scores"))
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("score (points)", "density")
    assert _legend(axes) == ["development (n = 3000)", "out of time (n = 800)"]
    outlines = [patch for patch in axes.patches if isinstance(patch, Polygon)]
    development, out_of_time = (np.unique(outline.get_xy()[:, 0]) for outline in outlines)
    np.testing.assert_allclose(development, out_of_time)
    lowest = min(v.min() for v in samples.values())
    highest = max(v.max() for v in samples.values())
    assert (development[0], development[-1]) == pytest.approx((lowest, highest))
    with pytest.raises(ValueError, match="'out of time' holds 1 non-finite"):
        score_distribution_figure({"out of time": np.array([600.0, np.nan])}, "scores")


def test_precision_recall_marks_the_operating_point(
    sample: tuple[np.ndarray, np.ndarray],
) -> None:
    y, probability = sample
    axes = _axes(precision_recall_figure(y, probability, "fraud", threshold=0.4))
    flagged = probability >= 0.4
    precision, recall = precision_score(y, flagged), recall_score(y, flagged)
    assert _legend(axes) == [
        f"AUPRC = {average_precision_score(y, probability):.3f}",
        f"base rate = {y.mean():.3f}",
        f"threshold 0.4: precision {precision:.3f}, recall {recall:.3f}",
    ]
    _curve, base_rate, point = axes.get_lines()
    assert _data(base_rate)[1] == [y.mean(), y.mean()]
    assert _data(point) == ([pytest.approx(recall)], [pytest.approx(precision)])
    unmarked = _axes(precision_recall_figure(y, probability, "fraud"))
    assert len(unmarked.get_lines()) == 2


@pytest.mark.parametrize("figure", [roc_figure, ks_figure, precision_recall_figure])
def test_a_curve_needs_both_classes_and_one_probability_per_label(
    figure: Callable[[np.ndarray, np.ndarray, str], Figure],
) -> None:
    with pytest.raises(ValueError, match="only 0; expected both 0 and 1"):
        figure(np.zeros(5), np.linspace(0, 1, 5), "one class")
    with pytest.raises(ValueError, match="y has 4 rows but probability has 3"):
        figure(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.3]), "short")


def test_save_figures_writes_png_files_and_refuses_unsafe_names(
    sample: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    y, probability = sample
    figures = {
        "roc_oot": roc_figure(y, probability, "ROC"),
        "ks-oot": ks_figure(y, probability, "KS"),
    }
    paths = save_figures(figures, tmp_path / "plots")
    assert paths == [tmp_path / "plots" / "roc_oot.png", tmp_path / "plots" / "ks-oot.png"]
    for path in paths:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    for bad in ("../roc", "plots/roc", ".hidden", ""):
        with pytest.raises(ValueError, match="not a safe file name"):
            save_figures({"fine": figures["roc_oot"], bad: figures["ks-oot"]}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # checked before anything is written
