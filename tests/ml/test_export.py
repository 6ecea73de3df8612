"""Exported models: files that load without pickle, written whole or not at all."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import lightgbm as lgb
import pandas as pd
import pytest

from tests.ml.conftest import ALGORITHMS
from zhongtai.ml.export import export_model
from zhongtai.ml.scoring import load_exported
from zhongtai.ml.spec import Algorithm
from zhongtai.ml.train import FittedModel


def test_the_exported_files_hold_no_pickle_and_load_without_it(
    exported: Path, awkward_rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = sorted(p.relative_to(exported).as_posix() for p in exported.rglob("*"))
    assert files == [
        "lightgbm",
        "lightgbm/model.json",
        "lightgbm/model.lgb",
        "scorecard",
        "scorecard/model.json",
        "scorecard/scorecard.json",
    ]
    for path in exported.rglob("*.*"):
        assert not path.read_bytes().startswith(b"\x80"), path  # pickle's protocol marker

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an exported model must load without pickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    for algorithm in ALGORITHMS:
        assert load_exported(exported / algorithm).predict_pd(awkward_rows).shape == (
            len(awkward_rows),
        )


def test_exporting_into_a_directory_that_is_not_empty_is_refused_and_leaves_it_alone(
    fitted: dict[Algorithm, FittedModel], tmp_path: Path
) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "notes.txt").write_text("someone else's")
    with pytest.raises(FileExistsError, match="exists and is not an empty directory"):
        export_model(fitted["scorecard"], target)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "someone else's"


def test_a_rounded_scorecard_is_refused_its_points_would_not_give_its_probability_back(
    fitted: dict[Algorithm, FittedModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorecard = fitted["scorecard"].estimator
    rounded = scorecard.table(style="detailed").assign(Points=lambda t: t["Points"].round())
    monkeypatch.setattr(scorecard, "table", lambda style: rounded)
    with pytest.raises(ValueError, match="points are not its log-odds in PDO scaling"):
        export_model(fitted["scorecard"], tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_directory_takes_the_export(
    fitted: dict[Algorithm, FittedModel], tmp_path: Path
) -> None:
    (tmp_path / "model").mkdir()
    written = export_model(fitted["scorecard"], tmp_path / "model")
    assert sorted(p.name for p in written.iterdir()) == ["model.json", "scorecard.json"]


def test_a_failed_export_leaves_nothing_behind(
    fitted: dict[Algorithm, FittedModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(lgb.Booster, "save_model", full_disk)
    with pytest.raises(OSError, match="No space left"):
        export_model(fitted["lightgbm"], tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "metadata", [{"threshold": float("nan")}, {"bands": (1, 2)}, {1: "x"}, {"at": object()}]
)
def test_metadata_that_is_not_plain_json_is_refused(
    fitted: dict[Algorithm, FittedModel], tmp_path: Path, metadata: dict[Any, Any]
) -> None:
    with pytest.raises(ValueError, match="metadata must be plain JSON"):
        export_model(fitted["scorecard"], tmp_path / "model", metadata)
    assert list(tmp_path.iterdir()) == []
