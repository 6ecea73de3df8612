"""Serving apart from training: the decision API loads and scores exported models without
the trainer, optbinning or scikit-learn, so it neither pays for nor depends on them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TRAINING_ONLY = (
    "optbinning",
    "sklearn",
    "zhongtai.ml.train",
    "zhongtai.ml.select",
    "zhongtai.ml.evaluate",
)


def _imported_after(module: str) -> list[str]:
    """Which training-only modules a fresh interpreter holds once it imports ``module``."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([m for m in {list(TRAINING_ONLY)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "zhongtai.api.main",  # the decision API
        "zhongtai.ml.register",  # the registry's loader of champions
        "zhongtai.ml.mlflow_model",  # what MLflow runs to serve a logged model
    ],
)
def test_serving_imports_no_training_code(module: str) -> None:
    assert _imported_after(module) == []
