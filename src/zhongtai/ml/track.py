"""MLflow at the edge: where runs are tracked, and what a training run records.

One experiment per model family (the spec's name). A run records what a modeller needs
to judge a model and to reproduce it: the spec, the data (feature service, rows, date
cut, a fingerprint of the training set, MLflow dataset digests), each algorithm's
selection report, parameters, development and out-of-time metrics, plots, fairness
report, and its model: the exported files (no pickle) with a signature and an input
example. The promotion decision is added to the same run once taken.
"""

from __future__ import annotations

import json
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zhongtai.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from zhongtai.ml.scoring import ScoringModel

MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
# What the logged model needs to score (the package itself is zhongtai).
MODEL_REQUIREMENTS = ("lightgbm", "numpy", "pandas", "mlflow")


def use_mlflow(settings: Settings) -> MlflowClient:
    """Point MLflow (tracking and registry) at the platform's store; return a client."""
    import mlflow
    from mlflow import MlflowClient

    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(settings.tracking_uri, settings.tracking_uri)


def family_experiment(client: MlflowClient, settings: Settings, family: str) -> str:
    """The experiment of a model family (created once, artifacts under the data dir)."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(family)
    if found is not None:
        return str(found.experiment_id)
    location = (settings.mlflow_dir / "artifacts" / family).resolve().as_uri()
    try:
        return str(client.create_experiment(family, artifact_location=location))
    except MlflowException:  # created meanwhile by another run
        again = client.get_experiment_by_name(family)
        if again is None:
            raise
        return str(again.experiment_id)


def flat_metrics(prefix: str, metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric leaves of an evaluation as MLflow metrics (``prefix.name``); tables such
    as calibration and fairness bands go to artifacts instead."""
    flat: dict[str, float] = {}
    for name, value in metrics.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict):
            flat.update(flat_metrics(key, value))
        elif isinstance(value, bool | int | float | np.number) and value is not None:
            flat[key] = float(value)
    return flat


def log_json(name: str, document: Any) -> None:
    """A JSON artifact of the active run."""
    import mlflow

    mlflow.log_text(json.dumps(document, indent=2, default=str), name)


def log_figures(figures: dict[str, Any], artifact_dir: str) -> None:
    """Matplotlib figures as PNG images of the active run."""
    import mlflow

    from zhongtai.ml.plots import save_figures

    with tempfile.TemporaryDirectory() as folder:
        save_figures(figures, Path(folder))
        mlflow.log_artifacts(folder, artifact_dir)


def log_dataset(frame: pd.DataFrame, name: str, label: str, context: str) -> None:
    """The rows a model saw, as an MLflow dataset (schema, profile and digest; no rows)."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    mlflow.log_input(from_pandas(frame, name=name, targets=label), context=context)


def typical_applicant(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """A made-up input example: the median of each numeric feature and the most frequent
    value of the others. No real applicant's row leaves the platform in a model."""
    row: dict[str, Any] = {}
    for feature in features:
        values = frame[feature].dropna()
        if values.empty:
            row[feature] = None
        elif pd.api.types.is_bool_dtype(values):
            row[feature] = bool(values.mode().iloc[0])
        elif pd.api.types.is_numeric_dtype(values):
            median = values.median()
            integer = pd.api.types.is_integer_dtype(values)
            row[feature] = round(float(median)) if integer else float(median)
        else:
            row[feature] = values.mode().iloc[0]
    return pd.DataFrame([row], columns=features).astype(frame[features].dtypes.to_dict())


def log_model(name: str, model: ScoringModel, exported: Path, development: pd.DataFrame) -> str:
    """Log the exported model of the active run as code plus its files; returns its URI."""
    import mlflow
    from mlflow.models import infer_signature

    rows = development[model.features].head(1000)
    example = typical_applicant(rows, model.features)
    outputs = pd.DataFrame(
        {"probability": model.predict_pd(example), "score": model.score(example)}
    )
    info = mlflow.pyfunc.log_model(
        name=name,
        python_model=str(MODEL_CODE),
        artifacts={"model": str(exported)},
        signature=infer_signature(rows, outputs),
        input_example=example,
        pip_requirements=[f"{p}=={metadata.version(p)}" for p in MODEL_REQUIREMENTS],
    )
    return str(info.model_uri)
