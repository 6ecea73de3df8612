"""Confidence intervals of the evidence a promotion gate reads: how far a measure could
move on another sample of the same size.

- AUC: DeLong's variance (DeLong, DeLong & Clarke-Pearson, 1988), computed from midranks
  in O(n log n) (Sun & Xu, 2014). Its paired form gives the AUC difference of two models
  scored on the same rows: their errors are correlated, so the difference is known far
  better than two separate intervals suggest.
- a measure without a closed-form variance (the largest AUC gap between age bands, the
  score PSI): a seeded bootstrap. Resampling n rows with replacement and counting them by
  value (or bin) is one multinomial draw over the values, so each resample costs one pass
  over the distinct values, not a sort of its rows. Strata (a band's defaulters and
  non-defaulters, the development and out-of-time samples) are resampled separately, so
  every resample holds the same counts as the sample. Both measures grow with noise (a
  largest gap of noisy AUCs, a PSI of a small sample, are above the truth on average),
  and the bootstrap shows by how much: its resamples sit above the estimate by about the
  estimate's own bias. So the interval is normal, with the bootstrap's standard error,
  around the bias-corrected estimate (``2·estimate − mean of the resamples``), clipped at
  0; a percentile interval would read the bias as evidence of harm. On a small sample it
  may lie below the raw estimate: the noise is taken out, not counted as drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

from zhongtai.ml.select import population_stability

RESAMPLES = 1000
_CHUNK = 250  # resamples drawn at a time: bounds memory at _CHUNK x distinct scores


@dataclass(frozen=True)
class Interval:
    """An estimate and its two-sided confidence interval."""

    estimate: float
    low: float
    high: float

    def bounds(self) -> list[float]:
        return [round(self.low, 6), round(self.high, 6)]


def z_value(confidence: float) -> float:
    """The standard normal quantile of a two-sided ``confidence`` (0.95: 1.96)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(norm.ppf(0.5 + confidence / 2))


def _delong(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of each row of ``scores`` (models x rows) and their DeLong covariance."""
    labels = np.asarray(y, dtype=int)
    positives = scores[:, labels == 1]
    negatives = scores[:, labels == 0]
    m, n = positives.shape[1], negatives.shape[1]
    if min(m, n) < 2:
        raise ValueError(f"DeLong needs two defaulters and two non-defaulters, got {m} and {n}")
    within_positives = rankdata(positives, axis=1)
    within_negatives = rankdata(negatives, axis=1)
    combined = rankdata(np.hstack([positives, negatives]), axis=1)
    aucs = (combined[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    # each defaulter's share of non-defaulters scored below it (ties count half), and each
    # non-defaulter's share of defaulters scored above it: the AUC is the mean of either
    placement_positives = (combined[:, :m] - within_positives) / n
    placement_negatives = 1 - (combined[:, m:] - within_negatives) / m
    covariance = (
        np.atleast_2d(np.cov(placement_positives)) / m
        + np.atleast_2d(np.cov(placement_negatives)) / n
    )
    return aucs, covariance


def auc_variance(y: np.ndarray, scores: np.ndarray) -> float:
    """DeLong's variance of the AUC of ``scores`` against the labels ``y``."""
    _, covariance = _delong(y, np.atleast_2d(np.asarray(scores, dtype=float)))
    return float(covariance[0, 0])


def auc_interval(y: np.ndarray, scores: np.ndarray, confidence: float) -> Interval:
    """The AUC with its DeLong interval (normal, clipped to [0, 1]).

    Raises ValueError with fewer than two rows of either outcome.
    """
    aucs, covariance = _delong(y, np.atleast_2d(np.asarray(scores, dtype=float)))
    half = z_value(confidence) * float(np.sqrt(max(covariance[0, 0], 0.0)))
    estimate = float(aucs[0])
    return Interval(estimate, max(0.0, estimate - half), min(1.0, estimate + half))


def auc_difference_interval(
    y: np.ndarray, scores: np.ndarray, baseline: np.ndarray, confidence: float
) -> Interval:
    """AUC of ``scores`` minus AUC of ``baseline`` on the same rows, with the paired DeLong
    interval (the two AUCs' covariance taken out).

    Raises ValueError with fewer than two rows of either outcome.
    """
    both = np.vstack([np.asarray(scores, dtype=float), np.asarray(baseline, dtype=float)])
    aucs, covariance = _delong(y, both)
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    half = z_value(confidence) * float(np.sqrt(max(variance, 0.0)))
    estimate = float(aucs[0] - aucs[1])
    return Interval(estimate, max(-1.0, estimate - half), min(1.0, estimate + half))


def _outcome_counts(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Defaulters and non-defaulters at each distinct score, lowest score first.

    Raises ValueError without both outcomes.
    """
    labels = np.asarray(y, dtype=int)
    values, inverse = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
    positive_counts = np.bincount(inverse[labels == 1], minlength=values.size)
    negative_counts = np.bincount(inverse[labels == 0], minlength=values.size)
    m, n = int(positive_counts.sum()), int(negative_counts.sum())
    if m == 0 or n == 0:
        raise ValueError(f"an AUC needs defaulters and non-defaulters, got {m} and {n}")
    return positive_counts, negative_counts


def _counted_auc(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """The AUC from outcome counts per distinct score (one sample a row): the share of
    defaulter / non-defaulter pairs the defaulter scores above, ties counting half."""
    below = np.cumsum(negatives, axis=-1) - negatives
    pairs_won = (positives * (below + 0.5 * negatives)).sum(axis=-1)
    return pairs_won / (positives.sum(axis=-1) * negatives.sum(axis=-1))


def bootstrap_aucs(
    y: np.ndarray, scores: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """The AUC on each of ``resamples`` resamples that draw the defaulters and the
    non-defaulters separately, each with replacement (so each keeps its count).

    Raises ValueError without both outcomes.
    """
    positive_counts, negative_counts = _outcome_counts(y, scores)
    m, n = int(positive_counts.sum()), int(negative_counts.sum())
    aucs = []
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        drawn_positives = rng.multinomial(m, positive_counts / m, size=size)
        drawn_negatives = rng.multinomial(n, negative_counts / n, size=size)
        aucs.append(_counted_auc(drawn_positives, drawn_negatives))
    return np.concatenate(aucs)


def bootstrap_interval(estimate: float, resampled: np.ndarray, confidence: float) -> Interval:
    """A normal interval from the bootstrap ``resampled`` values of ``estimate``: centred
    on the bias-corrected estimate (``2·estimate − mean``), ± z · their standard
    deviation. ``estimate`` itself is kept as measured."""
    centre = 2 * estimate - float(np.mean(resampled))
    half = z_value(confidence) * float(np.std(resampled, ddof=1))
    return Interval(estimate, centre - half, centre + half)


def auc_gap_interval(
    groups: list[tuple[np.ndarray, np.ndarray]], confidence: float, resamples: int, seed: int
) -> Interval:
    """The largest AUC difference among ``groups`` (each: labels, scores), with a
    bootstrap interval stratified by group and outcome, clipped at 0; seeded by ``seed``.

    Raises ValueError with fewer than two groups.
    """
    if len(groups) < 2:
        raise ValueError(f"a gap needs two groups, got {len(groups)}")
    rng = np.random.default_rng(seed)
    estimates = [float(_counted_auc(*_outcome_counts(labels, scores))) for labels, scores in groups]
    table = np.vstack([bootstrap_aucs(labels, scores, resamples, rng) for labels, scores in groups])
    gaps = table.max(axis=0) - table.min(axis=0)
    found = bootstrap_interval(max(estimates) - min(estimates), gaps, confidence)
    return Interval(found.estimate, max(0.0, found.low), min(1.0, found.high))


def psi_interval(
    expected_counts: np.ndarray,
    actual_counts: np.ndarray,
    confidence: float,
    resamples: int,
    seed: int,
) -> Interval:
    """The PSI of two samples' counts over the same bins, with a bootstrap interval that
    resamples both samples (clipped at 0); seeded by ``seed``."""
    expected_counts = np.asarray(expected_counts, dtype=int)
    actual_counts = np.asarray(actual_counts, dtype=int)
    rng = np.random.default_rng(seed)
    n_expected, n_actual = int(expected_counts.sum()), int(actual_counts.sum())
    drawn_expected = rng.multinomial(n_expected, expected_counts / n_expected, size=resamples)
    drawn_actual = rng.multinomial(n_actual, actual_counts / n_actual, size=resamples)
    values = np.array(
        [population_stability(e, a) for e, a in zip(drawn_expected, drawn_actual, strict=True)]
    )
    found = bootstrap_interval(
        population_stability(expected_counts, actual_counts), values, confidence
    )
    return Interval(found.estimate, max(0.0, found.low), found.high)
