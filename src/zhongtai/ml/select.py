"""Feature selection: which candidate features a model may use, and why the others may not.

Every candidate is measured once (``measure_features``: optbinning's bins on development,
as the scorecard bins them), then filtered (``decide``) by the filters an algorithm asks
for, in this order:

1. ``constant``: one value (or only missing values) in development;
2. ``low_iv``: information value of the feature's optimal bins below ``min_iv``;
3. ``unstable``: PSI of the feature's bins, development vs out of time, above ``max_psi``
   (not measured without out-of-time rows, as in cross-validation);
4. ``correlated``: of two features whose WoE values correlate beyond ``max_correlation``
   (Pearson, absolute), the one of lower IV goes, unless the other is in ``prefer``;
   features are visited preferred first, then by IV, strongest first, so a feature is only
   ever dropped for one that stays.

The IV and correlation filters keep a logistic regression on WoE sound; trees need only
the first and third (the specs say which filters each algorithm uses). The result is plain
data (a row per feature: kept or not, the reason, IV, PSI), the artifact a modeller and a
validator read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from optbinning import BinningProcess

from zhongtai.ml.spec import FILTERS, BinningSpec, Direction, Filter, SelectionSpec

# optbinning's event-rate trend for a declared direction of risk.
TRENDS: dict[Direction, str] = {"increasing": "ascending", "decreasing": "descending"}
# Floor of a bin's share in PSI: an empty bin on one side must not give an infinite PSI.
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class FeatureDecision:
    """One candidate feature: kept or dropped, and the evidence."""

    feature: str
    kept: bool
    reason: str  # "kept" or the filter that dropped it
    detail: str
    iv: float | None = None
    psi: float | None = None
    correlated_with: str | None = None
    correlation: float | None = None


@dataclass(frozen=True)
class SelectionReport:
    """What the selection decided, feature by feature, and the thresholds it used."""

    decisions: list[FeatureDecision]
    filters: list[Filter]
    thresholds: dict[str, float]
    rows_development: int
    rows_out_of_time: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def kept(self) -> list[str]:
        return [d.feature for d in self.decisions if d.kept]

    @property
    def dropped(self) -> dict[str, str]:
        """Dropped feature → why, in words."""
        return {d.feature: d.detail for d in self.decisions if not d.kept}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "dropped": self.dropped,
            "filters": self.filters,
            "thresholds": self.thresholds,
            "rows_development": self.rows_development,
            "rows_out_of_time": self.rows_out_of_time,
            "notes": self.notes,
            "features": [asdict(d) for d in self.decisions],
        }


def categorical_features(frame: pd.DataFrame, features: list[str]) -> list[str]:
    """Features held as strings or categories (the others are numbers or booleans)."""
    return [
        f
        for f in features
        if not (
            pd.api.types.is_numeric_dtype(frame[f].dtype)
            or pd.api.types.is_bool_dtype(frame[f].dtype)
        )
    ]


def model_inputs(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The features as the binning and the models take them: booleans as 0/1 numbers,
    strings as they are, nullable integers as floats."""
    inputs = frame[features].copy()
    for column in features:
        kind = inputs[column].dtype
        if pd.api.types.is_bool_dtype(kind) or (
            pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_float_dtype(kind)
        ):
            inputs[column] = inputs[column].astype("float64")
        elif isinstance(kind, pd.CategoricalDtype):
            inputs[column] = inputs[column].astype("object")
        elif kind == np.dtype(object) and _holds_booleans(inputs[column]):
            inputs[column] = inputs[column].astype("float64")
    return inputs


def _holds_booleans(values: pd.Series) -> bool:
    present = values.dropna()
    return len(present) > 0 and all(isinstance(v, bool | np.bool_) for v in present.head(1000))


def binning_process(
    frame: pd.DataFrame,
    features: list[str],
    binning: BinningSpec,
    monotone: dict[str, Direction],
) -> BinningProcess:
    """An unfitted optbinning BinningProcess: declared directions as the event-rate trend of
    their features, ``binning.monotonic_trend`` for other numeric features; categories are
    ordered by event rate by optbinning itself."""
    categorical = categorical_features(frame, features)
    fit_params: dict[str, dict[str, Any]] = {}
    for feature in features:
        if feature in categorical:
            continue
        trend = TRENDS[monotone[feature]] if feature in monotone else binning.monotonic_trend
        fit_params[feature] = {"monotonic_trend": trend}
    return BinningProcess(
        variable_names=list(features),
        categorical_variables=categorical or None,
        max_n_prebins=binning.max_n_prebins,
        min_prebin_size=binning.min_prebin_size,
        max_n_bins=binning.max_n_bins,
        min_bin_size=binning.min_bin_size,
        binning_fit_params=fit_params or None,
    )


def population_stability(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two distributions over the same bins (counts or shares):
    ``sum((a - e) * ln(a / e))``, shares floored at ``PSI_FLOOR``."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e = np.clip(e / e.sum(), PSI_FLOOR, None)
    a = np.clip(a / a.sum(), PSI_FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class FeatureEvidence:
    """What the filters decide on, measured once for every candidate."""

    candidates: list[str]
    constant: list[str]
    iv: dict[str, float]
    psi: dict[str, float]  # empty without out-of-time rows
    woe_correlation: pd.DataFrame  # the non-constant candidates, WoE on development
    rows_development: int
    rows_out_of_time: int | None


def measure_features(
    development: pd.DataFrame,
    label: str,
    candidates: list[str],
    binning: BinningSpec,
    monotone: dict[str, Direction] | None = None,
    out_of_time: pd.DataFrame | None = None,
) -> FeatureEvidence:
    """Bin the candidates on ``development`` (optbinning, as the scorecard does) and
    measure each: constant or not, IV, PSI against ``out_of_time`` (its labels are not
    read), and the WoE correlation between them."""
    y = development[label].astype(int).to_numpy()
    dev = model_inputs(development, candidates)
    constant = [f for f in candidates if dev[f].nunique(dropna=True) <= 1]
    varying = [f for f in candidates if f not in constant]
    iv: dict[str, float] = {}
    psi: dict[str, float] = {}
    correlation = pd.DataFrame()
    if varying:
        process = binning_process(dev, varying, binning, monotone or {})
        process.fit(dev[varying], y)
        summary = process.summary().set_index("name")
        iv = {f: float(summary.loc[f, "iv"]) for f in varying}
        if out_of_time is not None:
            oot = model_inputs(out_of_time, varying)
            dev_bins = process.transform(dev[varying], metric="indices")
            oot_bins = process.transform(oot[varying], metric="indices")
            for f in varying:
                d, o = dev_bins[f].to_numpy(), oot_bins[f].to_numpy()
                # a category development never saw has index -1: it gets a bin of its own
                unseen = int(max(d.max(), o.max())) + 1
                d, o = np.where(d < 0, unseen, d), np.where(o < 0, unseen, o)
                psi[f] = population_stability(
                    np.bincount(d, minlength=unseen + 1), np.bincount(o, minlength=unseen + 1)
                )
        woe = process.transform(dev[varying], metric="woe")[varying].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):  # one bin: constant WoE
            matrix = np.atleast_2d(np.nan_to_num(np.corrcoef(woe, rowvar=False)))
        correlation = pd.DataFrame(matrix, index=varying, columns=varying)
    return FeatureEvidence(
        candidates=list(candidates),
        constant=constant,
        iv=iv,
        psi=psi,
        woe_correlation=correlation,
        rows_development=len(development),
        rows_out_of_time=None if out_of_time is None else len(out_of_time),
    )


def _first_failed_filter(
    feature: str,
    evidence: FeatureEvidence,
    selection: SelectionSpec,
    filters: Collection[Filter],
) -> tuple[Filter, str] | None:
    """The first of the per-feature filters that drops ``feature``, and why; none if kept."""
    iv, psi = evidence.iv, evidence.psi
    if "constant" in filters and feature in evidence.constant:
        return "constant", "one value in development"
    if "low_iv" in filters and feature in iv and iv[feature] < selection.min_iv:
        return "low_iv", f"IV {iv[feature]:.4f} < {selection.min_iv}"
    if "unstable" in filters and feature in psi and psi[feature] > selection.max_psi:
        return "unstable", (
            f"PSI {psi[feature]:.4f} > {selection.max_psi} (development vs out of time)"
        )
    return None


def decide(
    evidence: FeatureEvidence, selection: SelectionSpec, filters: Collection[Filter] = FILTERS
) -> SelectionReport:
    """Apply ``filters`` (in the module docstring's order) to the measured candidates."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ValueError(f"unknown filters {unknown}; the filters are {list(FILTERS)}")
    iv, psi = evidence.iv, evidence.psi
    decisions: dict[str, FeatureDecision] = {}
    remaining = []
    for feature in evidence.candidates:
        dropped = _first_failed_filter(feature, evidence, selection, filters)
        if dropped is None:
            remaining.append(feature)
        else:
            reason, detail = dropped
            decisions[feature] = FeatureDecision(
                feature, False, reason, detail, iv=iv.get(feature), psi=psi.get(feature)
            )

    kept: list[str] = []
    by_strength = sorted(
        remaining,
        key=lambda f: (f not in selection.prefer, -iv.get(f, 0.0), evidence.candidates.index(f)),
    )
    correlation = evidence.woe_correlation
    for feature in by_strength:
        stronger = []
        if "correlated" in filters and feature in correlation.index:
            stronger = [
                k
                for k in kept
                if k in correlation.index
                and abs(correlation.loc[feature, k]) > selection.max_correlation
            ]
        if stronger:
            other = max(stronger, key=lambda k: abs(correlation.loc[feature, k]))
            value = float(correlation.loc[feature, other])
            decisions[feature] = FeatureDecision(
                feature,
                False,
                "correlated",
                f"WoE correlation {value:+.3f} with {other} (IV {iv[other]:.4f}"
                f"{', preferred' if other in selection.prefer else ''} vs {iv[feature]:.4f}), "
                f"beyond {selection.max_correlation}",
                correlated_with=other,
                correlation=value,
                iv=iv.get(feature),
                psi=psi.get(feature),
            )
        else:
            kept.append(feature)
            decisions[feature] = FeatureDecision(
                feature, True, "kept", "kept", iv=iv.get(feature), psi=psi.get(feature)
            )

    notes = []
    if evidence.rows_out_of_time is None:
        notes.append("stability not measured: no out-of-time rows")
    return SelectionReport(
        decisions=[decisions[f] for f in evidence.candidates],
        filters=[f for f in FILTERS if f in filters],
        thresholds={
            "min_iv": selection.min_iv,
            "max_correlation": selection.max_correlation,
            "max_psi": selection.max_psi,
        },
        rows_development=evidence.rows_development,
        rows_out_of_time=evidence.rows_out_of_time,
        notes=notes,
    )


def select_features(
    development: pd.DataFrame,
    label: str,
    candidates: list[str],
    selection: SelectionSpec,
    binning: BinningSpec,
    monotone: dict[str, Direction] | None = None,
    out_of_time: pd.DataFrame | None = None,
    filters: Collection[Filter] = FILTERS,
) -> SelectionReport:
    """Measure the candidates and apply ``filters``: which features a model may use."""
    evidence = measure_features(development, label, candidates, binning, monotone, out_of_time)
    return decide(evidence, selection, filters)
