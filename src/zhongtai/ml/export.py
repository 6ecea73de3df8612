"""Export: a fitted model written as files that load without pickle.

``zhongtai.ml.scoring`` reads and scores them (its docstring describes the format). A
scorecard's bins and points are read from optbinning and written as tables; LightGBM's
booster writes its own text model file. optbinning's ``pdo_odds`` points of a bin are the
logistic regression's log-odds, scaled, with the intercept spread evenly over the
features: a row's points add up to its score, so the probability of default follows from
their sum. The exporter checks that before writing, so what is written scores as the
fitted model does.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zhongtai.ml.scaling import log_odds_to_points, points_per_log_odds
from zhongtai.ml.scoring import (
    FORMAT_VERSION,
    LIGHTGBM_MODEL,
    MANIFEST,
    SCORECARD_TABLES,
    Manifest,
)

if TYPE_CHECKING:
    from zhongtai.ml.train import FittedModel

# How far the exported scorecard's points may stray from the log-odds they stand for.
POINTS_TOLERANCE = 1e-9


def export_model(
    model: FittedModel, directory: Path, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` into ``directory`` (created) as files that load without pickle, with
    the caller's ``metadata`` (plain JSON) in ``model.json``; returns the directory.

    The files are written to a sibling first and moved into place whole, so a failure
    leaves no half-written model. Raises FileExistsError for a directory that is not empty.
    """
    metadata = dict(metadata or {})
    try:
        plain = json.loads(json.dumps(metadata, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"metadata must be plain JSON: {error}") from error
    if plain != metadata:
        raise ValueError("metadata must be plain JSON: string keys, lists, no tuples")
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        algorithm=model.algorithm,
        features=list(model.features),
        scaling=model.scaling,
        categories=model.categories,
        log_odds_offset=model.log_odds_offset,
        protected=[f for f in model.features if f in model.protected],
        metadata=metadata,
    )
    directory = Path(directory)
    _refuse_occupied(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.{uuid.uuid4().hex}.partial")
    staging.mkdir()
    try:
        _write_json(staging / MANIFEST, manifest.model_dump(mode="json"))
        if model.algorithm == "scorecard":
            _write_json(staging / SCORECARD_TABLES, _scorecard_tables(model))
        else:
            model.estimator.booster_.save_model(str(staging / LIGHTGBM_MODEL))
        staging.replace(directory)  # atomic; takes the place of an empty directory
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def _refuse_occupied(directory: Path) -> None:
    if directory.exists() and not (directory.is_dir() and not any(directory.iterdir())):
        raise FileExistsError(f"{directory}: exists and is not an empty directory")


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")


def _scorecard_tables(model: FittedModel) -> dict[str, Any]:
    """A fitted scorecard's bins and points as ``scorecard.json`` holds them.

    Raises ValueError for a scorecard whose points are not its log-odds in the model's
    PDO scaling (rounded, intercept-based or reversed): their sum would not give the
    probability of default back.
    """
    scorecard, scaling = model.estimator, model.scaling
    table = scorecard.table(style="detailed")
    factor = points_per_log_odds(scaling)
    intercept = float(scorecard.estimator_.intercept_[0])
    # a bin's points: each feature's share of the scaled intercept, less its scaled WoE term
    neutral = log_odds_to_points(intercept, scaling) / len(model.features)
    tables = []
    for feature in model.features:
        binned = scorecard.binning_process_.get_binned_variable(feature)
        if binned.special_codes is not None:
            raise ValueError(f"{feature}: special codes are not exported")
        rows = table[table["Variable"] == feature]
        points = rows["Points"].to_numpy(dtype=float)
        bins = len(rows) - 2  # then Special, Missing
        expected = neutral - factor * (rows["Coefficient"] * rows["WoE"]).to_numpy(dtype=float)
        if np.abs(points[:bins] - expected[:bins]).max() > POINTS_TOLERANCE:
            raise ValueError(
                f"{feature}: the scorecard's points are not its log-odds in PDO scaling "
                f"{scaling.model_dump()}; export only scorecards fitted by fit_scorecard"
            )
        entry: dict[str, Any] = {"feature": feature, "kind": binned.dtype}
        if binned.dtype == "numerical":
            entry["splits"] = [float(s) for s in binned.splits]
        else:
            entry["bins"] = [list(categories) for categories in binned.splits]
            if not all(isinstance(c, str) for categories in entry["bins"] for c in categories):
                raise ValueError(f"{feature}: only text categories are exported")
        entry |= {
            "points": points[:bins].tolist(),
            "special": float(points[bins]),
            "missing": float(points[bins + 1]),
        }
        if binned.dtype == "categorical":
            entry["unseen"] = neutral
        tables.append(entry)
    return {"features": tables}
