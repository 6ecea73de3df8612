"""Intervals of the gate's evidence: DeLong against its definition and a bootstrap, the
paired difference, and bootstraps that a seed makes reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from zhongtai.ml.intervals import (
    auc_difference_interval,
    auc_gap_interval,
    auc_interval,
    auc_variance,
    bootstrap_aucs,
    psi_interval,
    z_value,
)


def _sample(rows: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (10% defaulters), a score, and a second score correlated with it."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.1).astype(int)
    score = (rng.normal(size=rows) + 0.9 * y).round(2)  # rounded: with ties
    other = (score + rng.normal(scale=0.6, size=rows)).round(2)
    return y, score, other


def _placements(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components by their definition, over every pair."""
    positives, negatives = score[y == 1], score[y == 0]
    wins = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    return wins.mean(axis=1), wins.mean(axis=0)


def test_delong_on_a_small_example_worked_by_hand() -> None:
    # defaulters 0.35 and 0.8 beat 1/2 and 2/2 non-defaulters; non-defaulters 0.1 and
    # 0.4 are beaten by 2/2 and 1/2 defaulters: variance 0.125/2 + 0.125/2
    y = np.array([0, 0, 1, 1])
    score = np.array([0.1, 0.4, 0.35, 0.8])
    assert auc_variance(y, score) == pytest.approx(0.125)
    assert roc_auc_score(y, score) == pytest.approx(0.75)


def test_delong_matches_its_definition_and_a_bootstrap() -> None:
    y, score, _ = _sample()
    of_positives, of_negatives = _placements(y, score)
    by_definition = (
        of_positives.var(ddof=1) / of_positives.size + of_negatives.var(ddof=1) / of_negatives.size
    )
    assert auc_variance(y, score) == pytest.approx(by_definition, rel=1e-9)
    resampled = bootstrap_aucs(y, score, 4000, np.random.default_rng(5))
    assert resampled.std(ddof=1) == pytest.approx(np.sqrt(by_definition), rel=0.1)
    interval = auc_interval(y, score, 0.95)
    assert interval.estimate == pytest.approx(roc_auc_score(y, score))
    half = 1.959964 * np.sqrt(by_definition)
    assert (interval.low, interval.high) == pytest.approx(
        (interval.estimate - half, interval.estimate + half)
    )
    assert z_value(0.9) == pytest.approx(1.644854)
    with pytest.raises(ValueError, match="two defaulters and two non-defaulters, got 1"):
        auc_interval(np.array([0, 0, 1]), np.array([0.1, 0.2, 0.3]), 0.95)


def test_the_paired_difference_takes_the_correlation_out() -> None:
    y, score, other = _sample()
    difference = auc_difference_interval(y, score, other, 0.95)
    assert difference.estimate == pytest.approx(roc_auc_score(y, score) - roc_auc_score(y, other))
    a_pos, a_neg = _placements(y, score)
    b_pos, b_neg = _placements(y, other)
    by_definition = (a_pos - b_pos).var(ddof=1) / a_pos.size + (a_neg - b_neg).var(
        ddof=1
    ) / a_neg.size
    assert (difference.high - difference.low) / 2 == pytest.approx(
        1.959964 * np.sqrt(by_definition), rel=1e-6
    )
    # far narrower than the two AUCs' separate uncertainties would suggest
    separate = np.sqrt(auc_variance(y, score) + auc_variance(y, other))
    assert np.sqrt(by_definition) < 0.8 * separate
    same = auc_difference_interval(y, score, score, 0.95)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)


def test_the_gap_bootstrap_is_stratified_and_seeded() -> None:
    groups = [_sample(600, seed)[:2] for seed in (1, 2, 3)]
    first = auc_gap_interval(groups, 0.95, 500, seed=7)
    assert first == auc_gap_interval(groups, 0.95, 500, seed=7)
    other = auc_gap_interval(groups, 0.95, 500, seed=8)
    assert other.estimate == first.estimate and other.high != first.high
    aucs = [roc_auc_score(y, score) for y, score in groups]
    assert first.estimate == pytest.approx(max(aucs) - min(aucs))
    assert 0 <= first.low < first.estimate < first.high
    with pytest.raises(ValueError, match="a gap needs two groups, got 1"):
        auc_gap_interval(groups[:1], 0.95, 500, seed=7)


def test_the_psi_interval_takes_small_sample_noise_out() -> None:
    rng = np.random.default_rng(3)
    development = np.bincount(rng.integers(0, 10, 20_000), minlength=10)
    same = np.bincount(rng.integers(0, 10, 117), minlength=10)
    # 117 rows from the same distribution: the PSI reads noise, not drift
    thin = psi_interval(development, same, 0.95, 1000, seed=7)
    assert thin.estimate > 0.03 and thin.low == 0.0 and thin.high < 0.25
    assert thin == psi_interval(development, same, 0.95, 1000, seed=7)
    # a real shift on a large sample: the whole interval lies beyond 0.10
    shifted = rng.multinomial(5000, np.linspace(0.04, 0.16, 10) / np.linspace(0.04, 0.16, 10).sum())
    drift = psi_interval(development, shifted, 0.95, 1000, seed=7)
    assert 0.10 < drift.low < drift.estimate < drift.high
