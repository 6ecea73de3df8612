"""Score scaling: probabilities of default to points and odds, and back (numpy only).

A score is ``points + pdo * log2(good:bad odds / odds)`` with the spec's ``scaling``:
the trainer, the exported models and the decision all scale through here, so serving
needs no training code to turn a probability into points.
"""

from __future__ import annotations

import math

import numpy as np

from zhongtai.ml.spec import ScalingSpec

PD_FLOOR = 1e-9


def pd_to_points(probability_of_default: np.ndarray | float, scaling: ScalingSpec) -> np.ndarray:
    """Points for probabilities of default: ``points + pdo * log2(good:bad odds / odds)``."""
    p = np.clip(np.asarray(probability_of_default, dtype=float), PD_FLOOR, 1 - PD_FLOOR)
    return scaling.points + scaling.pdo * np.log2((1 - p) / p / scaling.odds)


def points_to_odds(points: float, scaling: ScalingSpec) -> float:
    """The good:bad odds a score stands for (the inverse of the PDO scaling)."""
    return scaling.odds * 2 ** ((points - scaling.points) / scaling.pdo)


def odds_to_points(odds: float, scaling: ScalingSpec) -> float:
    """Points for good:bad odds: ``points + pdo * log2(odds / odds_at_points)``."""
    return scaling.points + scaling.pdo * math.log2(odds / scaling.odds)
