"""Score scaling: 600 points at good:bad odds of 50:1, 20 more points double the odds."""

from __future__ import annotations

import numpy as np
import pytest

from zhongtai.ml.scaling import odds_to_points, pd_to_points, points_to_odds
from zhongtai.ml.spec import ScalingSpec, load_spec

SCALING = ScalingSpec(points=600, odds=50, pdo=20)


def test_600_points_at_odds_of_50_to_1_and_20_more_double_them() -> None:
    # good:bad odds 50:1 is a PD of 1/51; 100:1 is 1/101; 25:1 is 1/26
    points = pd_to_points(np.array([1 / 51, 1 / 101, 1 / 26, 1 / 201]), SCALING)
    assert points == pytest.approx([600, 620, 580, 640])


def test_pdo_scaling_round_trips() -> None:
    scaling = load_spec("credit_pd").scaling
    assert odds_to_points(50, scaling) == pytest.approx(600)
    assert odds_to_points(100, scaling) == pytest.approx(620)
    assert odds_to_points(25, scaling) == pytest.approx(580)
    assert points_to_odds(640, scaling) == pytest.approx(200)
