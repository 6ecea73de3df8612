"""Scoring: an exported model loaded from its files alone, and scored (no training code).

The registry keeps an exported model's files and the decision API scores with them; this
module reads them with numpy and, for LightGBM, its own booster, never with optbinning,
scikit-learn or the trainer (``zhongtai.ml.export`` writes them). Pickle would tie a
model to the library versions that wrote it and run code when read, so an exported model
is plain data in a directory (format version 1):

- ``model.json``: ``format_version``, ``algorithm``, ``features`` (in order), ``scaling``
  (points, odds, pdo), ``categories`` (LightGBM's levels of each categorical feature),
  ``protected`` (the features that carry a protected characteristic or its proxy: they
  score, but are never given as a reason; absent in older files: none) and the caller's
  ``metadata``, verbatim;
- ``model.lgb`` (lightgbm): the booster's own text model file;
- ``scorecard.json`` (scorecard): per feature, in order, its ``kind``, its bins (numerical:
  the ``splits``; categorical: the categories of each bin), the ``points`` of each bin and
  the points of ``special``, ``missing`` and (categorical) ``unseen`` values.

The scorecard's tables assign a value to a bin as optbinning 1.0 does (``Scorecard`` and
``BinningProcess.transform``), so the exported model scores exactly as the fitted one:

- numerical bins are closed on the left, ``[s_i, s_{i+1})``: a value on a split point falls
  in the bin above it; ±inf falls in the end bins; NaN and None are missing;
- a category is in the bin listing it; None and NaN are missing;
- a category development never saw gets the points of a WoE of 0, as ``predict_proba``
  gives it (the WoE of the overall event rate). optbinning's ``score`` and ``transform``
  give it the Missing bin's points instead (an index of -1 read from the end of the points),
  so they disagree with its own probabilities wherever the Missing bin is not empty;
- ``special`` is kept for completeness: no special codes are configured, so no value
  lands there.

A scorecard's points add up to its score, so the probability of default follows from
their sum (the exporter checks that before writing).

Scoring reads each column with numpy (a bin search, a dictionary of categories, LightGBM's
booster on a matrix), not through pandas conversions. One row, the decision API's case,
has its own path from a plain ``{feature: value}`` mapping (``predict_pd_one``,
``score_one``, ``reasons_one``): the same lookups on scalars, with no frame to build, in
tens of microseconds for a scorecard. LightGBM is imported only when a LightGBM model is
loaded: importing it brings its scikit-learn wrapper along.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.special import expit  # training's sigmoid, bit for bit (LightGBM needs scipy)

from zhongtai.ml.scaling import pd_to_points, points_per_log_odds, points_to_odds
from zhongtai.ml.spec import Algorithm, ScalingSpec
from zhongtai.yaml_models import describe_errors

if TYPE_CHECKING:
    import lightgbm as lgb

FORMAT_VERSION = 1
MANIFEST = "model.json"
SCORECARD_TABLES = "scorecard.json"
LIGHTGBM_MODEL = "model.lgb"
# LightGBM predicts fewer rows on one thread: waking threads would cost a single row (the
# decision API's case) far more than the trees do.
THREADED_FROM_ROWS = 10_000


class ModelFileError(ValueError):
    """An exported model file that is missing or cannot be used: the message names it."""


# -- files ------------------------------------------------------------------------------


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_Schema = TypeVar("_Schema", bound=_File)


class Manifest(_File):
    """``model.json``: what every exported model holds, whatever its algorithm."""

    format_version: int
    algorithm: Algorithm
    features: list[str] = Field(min_length=1)
    scaling: ScalingSpec
    categories: dict[str, list[str]]
    log_odds_offset: float = 0.0  # LightGBM: the prior correction of a class weight
    protected: list[str] = Field(default_factory=list)  # never given as a reason
    metadata: dict[str, Any]

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if len(set(self.features)) != len(self.features):
            raise ValueError("features: a feature is listed twice")
        not_features = sorted(set(self.protected) - set(self.features))
        if not_features:
            raise ValueError(f"protected: not features: {', '.join(not_features)}")
        unknown = sorted(set(self.categories) - set(self.features))
        if unknown:
            raise ValueError(f"categories: not features: {', '.join(unknown)}")
        if self.algorithm == "scorecard" and self.categories:
            raise ValueError("categories: a scorecard keeps its categories in its bins")
        return self


class Bins(_File):
    """One feature of ``scorecard.json``: its points per bin, and for special and missing."""

    feature: str
    points: list[float] = Field(min_length=1, description="One per bin, in bin order.")
    special: float
    missing: float


class NumericalBins(Bins):
    kind: Literal["numerical"]
    splits: list[float]

    @model_validator(mode="after")
    def _consistent(self) -> NumericalBins:
        if len(self.points) != len(self.splits) + 1:
            raise ValueError(f"{len(self.splits)} splits make {len(self.splits) + 1} bins")
        if not all(math.isfinite(s) for s in self.splits) or any(
            b <= a for a, b in zip(self.splits, self.splits[1:], strict=False)
        ):
            raise ValueError("splits must be finite and strictly ascending")
        return self


class CategoricalBins(Bins):
    kind: Literal["categorical"]
    bins: list[list[str]]
    unseen: float

    @model_validator(mode="after")
    def _consistent(self) -> CategoricalBins:
        if len(self.points) != len(self.bins):
            raise ValueError(f"{len(self.bins)} bins need as many points")
        categories = [c for b in self.bins for c in b]
        if len(set(categories)) != len(categories):
            raise ValueError("a category is listed in two bins")
        return self


class ScorecardTables(_File):
    """``scorecard.json``: the bins and points of each feature, in the model's order."""

    features: list[Annotated[NumericalBins | CategoricalBins, Field(discriminator="kind")]]


# -- scoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringModel(ABC):
    """An exported model, loaded: probabilities, points and reasons, from its files alone.

    Each feature is read as its file says: numbers (booleans as 0 and 1, None and NaN
    missing) or text (None and NaN missing); other values are refused, naming the feature.
    """

    algorithm: ClassVar[Algorithm]
    features: list[str]
    scaling: ScalingSpec
    metadata: dict[str, Any]
    protected: frozenset[str]  # features never given as a reason

    @abstractmethod
    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of default (of the positive class) of each row."""

    @abstractmethod
    def _points(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's points, feature by feature: shape (rows, features)."""

    @abstractmethod
    def _points_lost(self, points: np.ndarray) -> np.ndarray:
        """What each feature cost each row, in points, from ``_points``."""

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """The credit score (points) of each row, higher is safer: the probability of
        default scaled as every algorithm's is (``scaling.pd_to_points``)."""
        return pd_to_points(self.predict_pd(frame), self.scaling)

    def points_by_feature(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each row's points, feature by feature, with the frame's index: a scorecard's
        bin points (they add up to the score), LightGBM's SHAP contributions in points
        (its base points, the same for every row, left out)."""
        return pd.DataFrame(self._points(frame), index=frame.index, columns=self.features)

    def reasons(self, frame: pd.DataFrame, limit: int = 4) -> list[list[dict[str, Any]]]:
        """Per row, up to ``limit`` features that cost it the most points, most first, as
        ``{"feature", "value", "points_lost"}`` (only features that cost points): the
        ground of adverse-action reason codes. A protected feature is never one: the next
        costliest features take its place.

        A scorecard feature costs its best bin's points less the row's; a LightGBM feature
        costs what its contribution takes off the score.
        """
        _check_limit(limit)
        lost = self._points_lost(self._points(frame))
        values = [frame[feature].to_numpy(dtype=object) for feature in self.features]
        return [
            self._ranked(lost[i], [column[i] for column in values], limit)
            for i in range(len(frame))
        ]

    # -- one row: the decision API's case, scored from plain values without pandas ----

    @abstractmethod
    def predict_pd_one(self, row: Mapping[str, Any]) -> float:
        """``predict_pd`` of one row given as ``{feature: value}`` (extra keys ignored)."""

    @abstractmethod
    def _points_lost_one(self, row: Mapping[str, Any]) -> Sequence[float]:
        """What each feature cost one row, in points, as ``_points_lost`` gives it."""

    def score_one(self, row: Mapping[str, Any]) -> float:
        """``score`` of one row given as ``{feature: value}``."""
        return float(pd_to_points(self.predict_pd_one(row), self.scaling))

    def reasons_one(self, row: Mapping[str, Any], limit: int = 4) -> list[dict[str, Any]]:
        """``reasons`` of one row given as ``{feature: value}``."""
        _check_limit(limit)
        values = _values(row, self.features)
        return self._ranked(self._points_lost_one(row), values, limit)

    def _ranked(
        self, lost: Sequence[float], values: Sequence[Any], limit: int
    ) -> list[dict[str, Any]]:
        """One row's costliest features, most first (ties in feature order), protected
        features left out."""
        allowed = [j for j, f in enumerate(self.features) if f not in self.protected]
        order = sorted(allowed, key=lambda j: -lost[j])[:limit]
        return [
            {
                "feature": self.features[j],
                "value": _json_value(values[j]),
                "points_lost": float(lost[j]),
            }
            for j in order
            if lost[j] > 0
        ]

    def _columns(self, frame: pd.DataFrame) -> list[pd.Series]:
        """The frame's columns of the features, in order."""
        absent = [f for f in self.features if f not in frame.columns]
        if absent:
            raise KeyError(f"the frame has no column {', '.join(absent)}")
        return [frame[feature] for feature in self.features]


@dataclass(frozen=True)
class _FeaturePoints(ABC):
    """One scorecard feature at scoring time: the points of every slot a value can land in
    (its bins, then Special, Missing and, for a categorical feature, unseen)."""

    feature: str
    points: np.ndarray
    best: float  # the most points a value can earn: its best bin's

    @abstractmethod
    def slots(self, values: pd.Series) -> np.ndarray:
        """The slot of each value: an index into ``points``."""

    @abstractmethod
    def slot(self, value: Any) -> int:
        """The slot of one value, as ``slots`` gives it."""


@dataclass(frozen=True)
class _NumericalPoints(_FeaturePoints):
    splits: np.ndarray

    def slots(self, values: pd.Series) -> np.ndarray:
        numbers = _numbers(values, self.feature)
        slots = np.searchsorted(self.splits, numbers, side="right")  # [s_i, s_i+1)
        slots[np.isnan(numbers)] = self.splits.size + 2  # after the bins and Special
        return slots

    def slot(self, value: Any) -> int:
        number = _number(value, self.feature)
        if math.isnan(number):
            return self.splits.size + 2
        return bisect_right(self._split_list, number)

    @cached_property
    def _split_list(self) -> list[float]:
        return self.splits.tolist()


@dataclass(frozen=True)
class _CategoricalPoints(_FeaturePoints):
    bin_of_category: dict[str, int]

    def slots(self, values: pd.Series) -> np.ndarray:
        texts = _texts(values, self.feature)
        unseen = self.points.size - 1
        slots = np.array([self.bin_of_category.get(t, unseen) for t in texts], dtype=np.intp)
        slots[pd.isna(texts)] = self.points.size - 2
        return slots

    def slot(self, value: Any) -> int:
        text = _text(value, self.feature)
        if text is None:
            return self.points.size - 2
        return self.bin_of_category.get(text, self.points.size - 1)


@dataclass(frozen=True)
class ExportedScorecard(ScoringModel):
    """A scorecard scored from its tables: bin lookups and a sum, no optbinning."""

    algorithm: ClassVar[Algorithm] = "scorecard"
    tables: tuple[_FeaturePoints, ...]

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        # the points add up to the score: the inverse of pd_to_points gives the probability
        return np.asarray(self._pd_of_points(self._points(frame).sum(axis=1)))

    def _points(self, frame: pd.DataFrame) -> np.ndarray:
        columns = self._columns(frame)
        return np.column_stack(
            [t.points[t.slots(c)] for t, c in zip(self.tables, columns, strict=True)]
        )

    def _points_lost(self, points: np.ndarray) -> np.ndarray:
        return np.array([t.best for t in self.tables]) - points

    def predict_pd_one(self, row: Mapping[str, Any]) -> float:
        return float(self._pd_of_points(sum(t.points[t.slot(v)] for t, v in self._pairs(row))))

    def _pd_of_points(self, total: Any) -> Any:
        """The probability of default of summed points (numbers or an array of them)."""
        return 1 / (1 + points_to_odds(total, self.scaling))

    def _points_lost_one(self, row: Mapping[str, Any]) -> list[float]:
        return [float(t.best - t.points[t.slot(value)]) for t, value in self._pairs(row)]

    def _pairs(self, row: Mapping[str, Any]) -> zip[tuple[_FeaturePoints, Any]]:
        return zip(self.tables, _values(row, self.features), strict=True)


@dataclass(frozen=True)
class ExportedLightGBM(ScoringModel):
    """A LightGBM model scored by its native booster from a matrix of numbers.

    The matrix holds what LightGBM makes of training's inputs (``train._lightgbm_inputs``:
    pandas categories with development's levels, unseen ones missing): a category as the
    position of its level, missing or unseen as NaN. Built with numpy, it spares a
    single row the milliseconds of pandas conversions.
    """

    algorithm: ClassVar[Algorithm] = "lightgbm"
    booster: lgb.Booster
    categories: dict[str, list[str]]
    log_odds_offset: float

    def predict_pd(self, frame: pd.DataFrame) -> np.ndarray:
        log_odds = self._predict(self._matrix(frame), raw_score=True)
        return np.asarray(expit(log_odds + self.log_odds_offset))

    def _points(self, frame: pd.DataFrame) -> np.ndarray:
        contributions = self._predict(self._matrix(frame), pred_contrib=True)
        # log-odds of the positive class, the base value last: more is riskier
        return -contributions[:, :-1] * points_per_log_odds(self.scaling)

    def _points_lost(self, points: np.ndarray) -> np.ndarray:
        return -points

    def predict_pd_one(self, row: Mapping[str, Any]) -> float:
        log_odds = self._predict(self._vector(row), raw_score=True)[0]
        return float(expit(log_odds + self.log_odds_offset))

    def _points_lost_one(self, row: Mapping[str, Any]) -> list[float]:
        contributions = self._predict(self._vector(row), pred_contrib=True)[0, :-1]
        return (contributions * points_per_log_odds(self.scaling)).tolist()

    def _vector(self, row: Mapping[str, Any]) -> np.ndarray:
        """One row as ``_matrix`` makes it: shape (1, features)."""
        numbers = []
        for feature, value in zip(self.features, _values(row, self.features), strict=True):
            codes = self._codes.get(feature)
            if codes is None:
                numbers.append(_number(value, feature))
            else:
                text = _text(value, feature)
                numbers.append(np.nan if text is None else codes.get(text, np.nan))
        return np.array([numbers], dtype=float)

    def _predict(
        self, matrix: np.ndarray, *, raw_score: bool = False, pred_contrib: bool = False
    ) -> np.ndarray:
        threads = 1 if len(matrix) < THREADED_FROM_ROWS else 0  # 0: OpenMP's default
        return np.asarray(
            self.booster.predict(
                matrix, raw_score=raw_score, pred_contrib=pred_contrib, num_threads=threads
            )
        )

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for feature, values in zip(self.features, self._columns(frame), strict=True):
            if feature in self._codes:
                codes = self._codes[feature]
                texts = _texts(values, feature)
                columns.append(np.array([codes.get(t, np.nan) for t in texts], dtype=float))
            else:
                columns.append(_numbers(values, feature))
        return np.column_stack(columns)

    @cached_property
    def _codes(self) -> dict[str, dict[str, float]]:
        return {
            f: {level: i for i, level in enumerate(levels)} for f, levels in self.categories.items()
        }


# Values an object column of a numerical feature may hold (pandas.api.types.infer_dtype).
_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}


def _numbers(values: pd.Series, feature: str) -> np.ndarray:
    """A numerical feature's values as floats, missing ones NaN (booleans 0 and 1)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy(dtype=float)
    array = values.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(array, skipna=True)
    if kind not in _NUMBER_KINDS:
        raise ValueError(f"{feature}: expected numbers, got {kind} values")
    return np.where(pd.isna(array), np.nan, array).astype(float)


def _number(value: Any, feature: str) -> float:
    """One numerical value as ``_numbers`` reads it: a float, missing as NaN."""
    if value is None or value is pd.NA:
        return math.nan
    if isinstance(value, int | float | np.integer | np.floating | np.bool_):  # bool is an int
        return float(value)
    raise ValueError(f"{feature}: expected numbers, got a value of type {type(value).__name__}")


def _text(value: Any, feature: str) -> str | None:
    """One categorical value as ``_texts`` reads it: text, or None when missing."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    raise ValueError(f"{feature}: expected text, got a value of type {type(value).__name__}")


def _values(row: Mapping[str, Any], features: list[str]) -> list[Any]:
    """A row's values of the features, in order."""
    absent = [f for f in features if f not in row]
    if absent:
        raise KeyError(f"the row has no value of {', '.join(absent)}")
    return [row[feature] for feature in features]


def _check_limit(limit: int) -> None:
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")


def _texts(values: pd.Series, feature: str) -> np.ndarray:
    """A categorical feature's values as objects: text, or a missing value."""
    array = values.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(array, skipna=True)
    if kind not in ("string", "empty"):
        raise ValueError(f"{feature}: expected text, got {kind} values")
    return array


# -- load -------------------------------------------------------------------------------


def load_exported(directory: Path) -> ScoringModel:
    """The model ``export_model`` wrote into ``directory``, ready to score.

    Raises ModelFileError naming the file that is missing, malformed, of an unknown format
    version or inconsistent with ``model.json``.
    """
    directory = Path(directory)
    path = directory / MANIFEST
    document = _read_json(path)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: format_version {version!r} is not one this code reads ({FORMAT_VERSION})"
        )
    manifest = _validate(Manifest, document, path)
    features, scaling, metadata = manifest.features, manifest.scaling, manifest.metadata
    protected = frozenset(manifest.protected)
    if manifest.algorithm == "scorecard":
        return ExportedScorecard(
            features, scaling, metadata, protected, _load_tables(directory, features)
        )
    booster = _load_booster(directory / LIGHTGBM_MODEL, features, manifest.categories)
    return ExportedLightGBM(
        features,
        scaling,
        metadata,
        protected,
        booster,
        manifest.categories,
        manifest.log_odds_offset,
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ModelFileError(f"{path}: no such file; is this an exported model?") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ModelFileError(f"{path}: expected an object, got {type(document).__name__}")
    return document


def _validate(schema: type[_Schema], document: dict[str, Any], path: Path) -> _Schema:
    try:
        return schema.model_validate(document)
    except ValidationError as error:
        raise ModelFileError(describe_errors(path, error)) from error


def _load_tables(directory: Path, features: list[str]) -> tuple[_FeaturePoints, ...]:
    path = directory / SCORECARD_TABLES
    tables = _validate(ScorecardTables, _read_json(path), path).features
    found = [t.feature for t in tables]
    if found != features:
        raise ModelFileError(f"{path}: features {found} differ from {MANIFEST}'s {features}")
    return tuple(_feature_points(t) for t in tables)


def _feature_points(table: NumericalBins | CategoricalBins) -> _FeaturePoints:
    best = max(table.points)
    if isinstance(table, NumericalBins):
        points = np.array([*table.points, table.special, table.missing])
        return _NumericalPoints(table.feature, points, best, np.array(table.splits))
    points = np.array([*table.points, table.special, table.missing, table.unseen])
    bin_of_category = {c: i for i, categories in enumerate(table.bins) for c in categories}
    return _CategoricalPoints(table.feature, points, best, bin_of_category)


def _load_booster(path: Path, features: list[str], categories: dict[str, list[str]]) -> lgb.Booster:
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file; is this an exported model?")
    import lightgbm as lgb

    try:
        booster = lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as error:
        raise ModelFileError(f"{path}: not a LightGBM model file: {error}") from error
    if booster.feature_name() != features:
        raise ModelFileError(
            f"{path}: features {booster.feature_name()} differ from {MANIFEST}'s {features}"
        )
    # the levels training's pandas categories had, in the order of their columns
    levels = [categories[f] for f in features if f in categories]
    if (booster.pandas_categorical or []) != levels:
        raise ModelFileError(f"{path}: its categories differ from {MANIFEST}'s")
    return booster


def _json_value(value: Any) -> Any:
    """A value as JSON takes it: numpy scalars made plain, any missing value None."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    return value.item() if isinstance(value, np.generic) else value
