"""MLflow at the edge: where runs are tracked, and what a training run records.

One experiment per model family (the spec's name), marked as a model-training
experiment, so MLflow's UI opens it on runs and models, not on GenAI traces. A training
is a parent run with one child run per candidate algorithm (``retrain``): the children
record each algorithm's parameters, selection report, metrics under the same names
(``out_of_time.auc``, ...), plots and model, so the UI compares them side by side; the
parent records the spec, the data (feature service, rows, date cut, a fingerprint of the
training set, MLflow dataset digests), the chosen model with its metrics, and the
promotion decision once taken.

A logged model is the exported files (no pickle), the model code (``mlflow_model.py``)
and the zhongtai modules it imports (``model_code``: the scoring subset, found by reading
their imports), with requirements pinned to the installed versions of what those modules
import, and a signature that takes nulls wherever a feature can be missing.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zhongtai.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.models import ModelSignature
    from mlflow.models.model import ModelInfo

    from zhongtai.ml.scoring import ScoringModel

MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the zhongtai package
# MLflow's experiment kind (its UI reads the tag): classic model training, not GenAI.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"


def use_mlflow(settings: Settings) -> MlflowClient:
    """Point MLflow (tracking and registry) at the platform's store; return a client."""
    import mlflow
    from mlflow import MlflowClient

    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(settings.tracking_uri, settings.tracking_uri)


def family_experiment(client: MlflowClient, settings: Settings, family: str) -> str:
    """The experiment of a model family (created once, artifacts under the data dir),
    marked as model training (an experiment from before the mark gets it here)."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(family)
    if found is None:
        location = (settings.mlflow_dir / "artifacts" / family).resolve().as_uri()
        kind = {EXPERIMENT_KIND_TAG: MODEL_TRAINING}
        try:
            return str(client.create_experiment(family, artifact_location=location, tags=kind))
        except MlflowException:  # created meanwhile by another run
            found = client.get_experiment_by_name(family)
            if found is None:
                raise
    if EXPERIMENT_KIND_TAG not in found.tags:
        client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)
    return str(found.experiment_id)


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

    with warnings.catch_warnings():
        # MLflow's hint that integer columns cannot hold nulls is about model signatures:
        # a dataset's schema describes its rows (the model's signature takes nulls)
        warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer", UserWarning)
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


def log_model(
    name: str, model: ScoringModel, exported: Path, development: pd.DataFrame
) -> ModelInfo:
    """Log the exported model in the active run as code plus its files, its code's
    zhongtai modules and its pinned requirements; returns MLflow's record of it
    (``model_uri``, ``model_id``)."""
    import mlflow

    rows = development[model.features].head(1000)
    example = typical_applicant(rows, model.features)
    code = model_code()
    with tempfile.TemporaryDirectory() as folder:
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODEL_CODE),
            artifacts={"model": str(exported)},
            code_paths=[str(code.write(Path(folder)))],
            signature=model_signature(model, rows),
            input_example=example,
            pip_requirements=code.requirements,
        )


def model_signature(model: ScoringModel, rows: pd.DataFrame) -> ModelSignature:
    """The columns a logged model takes, each nullable, and the two it gives back.

    The online store answers None for whatever it does not hold (an applicant it never
    saw, a device without an application in the last hour), and the model scores a missing
    value as it learnt to. MLflow's column types take nulls, except ``long``: it refuses a
    null, and ``double`` refuses a column of integers, so a feature whose development
    values are whole numbers is declared ``Any`` (the model itself refuses what is not a
    number, naming the feature). Text is ``string``, yes/no ``boolean``, fractions
    ``double``.
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs: list[Any] = []
    for feature in model.features:
        kind = _column_kind(rows[feature])
        inputs.append(ColSpec(AnyType() if kind is None else kind, feature))
    outputs = Schema([ColSpec("double", "probability"), ColSpec("double", "score")])
    return ModelSignature(inputs=Schema(inputs), outputs=outputs)


def _column_kind(values: pd.Series) -> str | None:
    """The MLflow column type of a feature that takes its nulls, or None (``Any``)."""
    present = values.dropna()
    if present.empty:
        return None
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind == "boolean":
        return "boolean"
    if pd.api.types.is_numeric_dtype(present):
        numbers = present.to_numpy(dtype=float)
        return None if np.array_equal(numbers, np.round(numbers)) else "double"
    return "string" if kind in ("string", "categorical") else None


# -- the code a logged model takes along -------------------------------------------------


@dataclass(frozen=True)
class ModelCode:
    """The zhongtai modules a logged model runs (by name, with their files) and the
    pinned distributions they import."""

    modules: dict[str, Path]
    requirements: list[str]

    def write(self, folder: Path) -> Path:
        """The modules as a package tree under ``folder``; returns its ``zhongtai``
        folder, the code path MLflow copies into the model."""
        for path in self.modules.values():
            target = folder / path.relative_to(PACKAGE_DIR.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return folder / PACKAGE_DIR.name


def model_code(entry: Path = MODEL_CODE) -> ModelCode:
    """What the model code ``entry`` needs besides the Python standard library: the
    zhongtai modules it imports, directly or not (with their packages), and the installed
    distributions those import, pinned (``numpy==2.4.6``).

    Imports are read from the source, not run: every import of a module counts (those
    inside functions too: they run when the function does), except the ones under ``if
    TYPE_CHECKING:``. Raises LookupError naming a module whose import no installed
    distribution provides.
    """
    package = PACKAGE_DIR.name
    entry_name = _module_name(entry) if entry.resolve().is_relative_to(PACKAGE_DIR) else ""
    modules: dict[str, Path] = {}
    third_party: dict[str, str] = {}  # top-level name -> a module importing it
    pending = [(entry, entry_name)]
    while pending:
        path, name = pending.pop()
        for imported in _runtime_imports(path, name):
            top = imported.split(".")[0]
            if top == package:
                for module in _package_modules(imported):
                    if module not in modules and module != entry_name:
                        modules[module] = _module_file(module)
                        pending.append((modules[module], module))
            elif top not in sys.stdlib_module_names:
                third_party.setdefault(top, name or str(path))
    providers = metadata.packages_distributions()
    distributions = {
        _distribution(top, providers.get(top, []), importer)
        for top, importer in third_party.items()
    }
    return ModelCode(
        dict(sorted(modules.items())),
        [f"{d}=={metadata.version(d)}" for d in sorted(distributions, key=str.lower)],
    )


def _module_name(path: Path) -> str:
    parts = path.resolve().relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_file(module: str) -> Path:
    base = PACKAGE_DIR.parent.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _package_modules(imported: str) -> list[str]:
    """The zhongtai modules that importing ``imported`` runs: its packages, then itself
    (``from zhongtai.ml.scoring import load_exported`` names one that is no module)."""
    parts = imported.split(".")
    found = []
    for end in range(1, len(parts) + 1):
        name = ".".join(parts[:end])
        base = PACKAGE_DIR.parent.joinpath(*parts[:end])
        if (base / "__init__.py").is_file() or base.with_suffix(".py").is_file():
            found.append(name)
    return found


def _runtime_imports(path: Path, module: str) -> list[str]:
    """The modules ``path`` imports when run, by absolute name (``from a import b`` gives
    ``a`` and ``a.b``, which may be a module); ``if TYPE_CHECKING:`` blocks are left out."""
    is_package = path.name == "__init__.py"
    found: list[str] = []
    stack: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            if base != "__future__":
                found += [base, *(f"{base}.{alias.name}" for alias in node.names)]
        stack.extend(ast.iter_child_nodes(node))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _distribution(top: str, providers: list[str], importer: str) -> str:
    """The installed distribution that provides the top-level module ``top``: the only
    one, or among several (``mlflow``, ``mlflow-skinny``...) the one named like it."""
    if len(providers) == 1:
        return providers[0]
    named = [p for p in providers if p.lower().replace("_", "-") == top.replace("_", "-")]
    if len(named) == 1:
        return named[0]
    found = "no installed distribution provides it"
    if providers:
        found = f"several distributions provide it ({', '.join(providers)})"
    raise LookupError(f"{importer} imports {top!r}: {found}; a logged model cannot require it")
