"""Feature selection drops what a model must not rely on, and says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zhongtai.ml.select import population_stability, select_features
from zhongtai.ml.spec import BinningSpec, SelectionSpec

SELECTION = SelectionSpec(min_iv=0.02, max_correlation=0.8, max_psi=0.25)
BINNING = BinningSpec()


def _rows(n: int, seed: int, shifted: bool) -> pd.DataFrame:
    """A strong signal, its duplicate, a constant, noise, a category, and a feature whose
    values move to another range out of time."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    region = rng.choice(["north", "south", "east"], n)
    drifting = rng.normal(size=n)
    logit = -1 + 1.2 * signal + 0.8 * (region == "north") + 0.8 * drifting
    rows = pd.DataFrame(
        {
            "signal": signal,
            "signal_in_other_units": signal * 100 + 7,
            "constant": np.ones(n),
            "noise": rng.normal(size=n),
            "region": region,
            "drifting": drifting + (4.0 if shifted else 0.0),
            "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    return rows


CANDIDATES = ["signal", "signal_in_other_units", "constant", "noise", "region", "drifting"]


@pytest.fixture(scope="module")
def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _rows(3000, seed=1, shifted=False), _rows(1000, seed=2, shifted=True)


def test_each_unfit_feature_is_dropped_with_its_reason(
    windows: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    development, out_of_time = windows
    report = select_features(
        development, "label", CANDIDATES, SELECTION, BINNING, out_of_time=out_of_time
    )
    reasons = {d.feature: d.reason for d in report.decisions}
    assert reasons == {
        "signal": "kept",
        "signal_in_other_units": "correlated",
        "constant": "constant",
        "noise": "low_iv",
        "region": "kept",
        "drifting": "unstable",
    }
    assert report.kept == ["signal", "region"]
    by_feature = {d.feature: d for d in report.decisions}
    duplicate = by_feature["signal_in_other_units"]
    assert duplicate.correlated_with == "signal" and duplicate.correlation == pytest.approx(1.0)
    assert by_feature["drifting"].psi is not None and by_feature["drifting"].psi > 1.0
    assert by_feature["signal"].psi is not None and by_feature["signal"].psi < 0.1
    assert report.dropped["noise"].startswith("IV 0.0") and "< 0.02" in report.dropped["noise"]
    assert report.dropped["constant"] == "one value in development"
    # the artifact is plain data, in the candidates' order
    artifact = report.to_dict()
    assert [row["feature"] for row in artifact["features"]] == CANDIDATES
    assert artifact["thresholds"] == {"min_iv": 0.02, "max_correlation": 0.8, "max_psi": 0.25}


def test_filters_and_preferences_are_the_specs_to_choose(
    windows: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    development, out_of_time = windows
    trees = select_features(
        development,
        "label",
        CANDIDATES,
        SELECTION,
        BINNING,
        out_of_time=out_of_time,
        filters=["constant", "unstable"],
    )
    assert trees.kept == ["signal", "signal_in_other_units", "noise", "region"]
    preferring = select_features(
        development,
        "label",
        CANDIDATES,
        SELECTION.model_copy(update={"prefer": ["signal_in_other_units"]}),
        BINNING,
    )
    assert preferring.kept == ["signal_in_other_units", "region", "drifting"]
    assert preferring.notes == ["stability not measured: no out-of-time rows"]


def test_population_stability() -> None:
    assert population_stability(np.array([50, 50]), np.array([5, 5])) == 0.0
    assert population_stability(np.array([0.5, 0.5]), np.array([0.4, 0.6])) == pytest.approx(
        0.1 * np.log(1.5)
    )
    # an empty bin on one side gives a large, finite PSI
    assert 1 < population_stability(np.array([100, 0]), np.array([50, 50])) < np.inf


def test_a_category_unseen_in_development_counts_as_a_shift(
    windows: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    development, out_of_time = windows
    later = out_of_time.assign(
        region=np.where(np.arange(len(out_of_time)) % 4 == 0, "west", "north")
    )
    report = select_features(
        development, "label", ["signal", "region"], SELECTION, BINNING, out_of_time=later
    )
    region = report.decisions[1]
    assert region.reason == "unstable" and region.psi is not None and 0.25 < region.psi < 10
