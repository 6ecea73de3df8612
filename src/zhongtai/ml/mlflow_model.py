"""The MLflow model of a zhongtai model version, logged as code, so nothing is pickled.

MLflow copies this file beside the exported model files and runs it on load;
``mlflow.pyfunc.load_model("models:/credit_pd@champion")`` then scores a DataFrame of the
model's features into its probability and its score in points, as the decision API scores
them (``zhongtai.ml.scoring`` and ``zhongtai.ml.scaling``, no training code).

The model takes its code along: ``zhongtai.ml.track`` logs the scoring modules and the few
they import (``code_paths``, under ``code/zhongtai/``) with pinned requirements, so a fresh
environment holding only those requirements loads and scores it, without this
repository. In a process where zhongtai is already imported, that package is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from zhongtai.ml.scaling import pd_to_points
from zhongtai.ml.scoring import ScoringModel, load_exported


class ExportedModel(PythonModel):
    """Scores with the exported files (LightGBM's native model file, scorecard tables)."""

    model: ScoringModel

    def load_context(self, context: PythonModelContext) -> None:
        self.model = load_exported(Path(context.artifacts["model"]))

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        probability = self.model.predict_pd(model_input)
        return pd.DataFrame(
            {"probability": probability, "score": pd_to_points(probability, self.model.scaling)},
            index=model_input.index,
        )


mlflow.models.set_model(ExportedModel())
