"""Score scaling: probabilities of default to points and odds, and back (numpy only).

A score is ``points + pdo * log2(good:bad odds / odds)`` with the spec's ``scaling``:
the trainer, the exporter, the exported models and the decision all scale through here,
so serving needs no training code to turn a probability into points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zhongtai.ml.spec import ScalingSpec

PD_FLOOR = 1e-9


def pd_to_points(probability_of_default: np.ndarray | float, scaling: ScalingSpec) -> np.ndarray:
    """Points for probabilities of default: ``points + pdo * log2(good:bad odds / odds)``."""
    p = np.clip(np.asarray(probability_of_default, dtype=float), PD_FLOOR, 1 - PD_FLOOR)
    return scaling.points + scaling.pdo * np.log2((1 - p) / p / scaling.odds)


def points_to_odds(points: np.ndarray | float, scaling: ScalingSpec) -> Any:
    """The good:bad odds a score stands for (the inverse of the PDO scaling), for a number
    or an array of them."""
    return scaling.odds * np.exp2((points - scaling.points) / scaling.pdo)


def odds_to_points(odds: float, scaling: ScalingSpec) -> float:
    """Points for good:bad odds: ``points + pdo * log2(odds / odds_at_points)``."""
    return scaling.points + scaling.pdo * math.log2(odds / scaling.odds)


def points_per_log_odds(scaling: ScalingSpec) -> float:
    """Points that one unit of log-odds is worth: ``pdo / ln 2``."""
    return scaling.pdo / math.log(2)


def log_odds_to_points(log_odds_of_default: float, scaling: ScalingSpec) -> float:
    """Points for the log-odds of default (bad:good): the PDO scaling in log-odds."""
    factor = points_per_log_odds(scaling)
    return scaling.points - factor * (math.log(scaling.odds) + log_odds_of_default)
