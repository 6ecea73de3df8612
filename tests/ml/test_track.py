"""What a logged model takes along (its code, requirements, signature) and how the
family's experiment is marked, without training a world."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature, validate_schema

from tests.ml.conftest import Trained
from zhongtai.ml.export import export_model
from zhongtai.ml.scoring import ScoringModel, load_exported
from zhongtai.ml.spec import Algorithm
from zhongtai.ml.track import (
    EXPERIMENT_KIND_TAG,
    MODEL_TRAINING,
    family_experiment,
    model_code,
    model_signature,
    use_mlflow,
)
from zhongtai.settings import Settings

SHIPPABLE = {
    "zhongtai",
    "zhongtai.ml",
    "zhongtai.ml.scaling",
    "zhongtai.ml.scoring",
    "zhongtai.ml.spec",
    "zhongtai.settings",
    "zhongtai.yaml_models",
}
# what scoring may need, and never more: serving's own runtime and MLflow's loader
LIGHT = {
    "lightgbm",
    "mlflow",
    "numpy",
    "pandas",
    "pydantic",
    "pydantic-settings",
    "pyyaml",
    "scipy",
}


def _names(requirements: list[str]) -> dict[str, str]:
    found = {}
    for line in requirements:
        name, _, version = line.partition("==")
        found[name.lower()] = version
    return found


def test_the_model_code_is_the_scoring_subset_with_pinned_requirements() -> None:
    code = model_code()
    assert {"zhongtai", "zhongtai.ml.scoring", "zhongtai.ml.scaling"} <= set(code.modules)
    assert set(code.modules) <= SHIPPABLE  # no training, warehouse or serving code
    for module, path in code.modules.items():
        assert path.is_file() and path.suffix == ".py", module
    names = _names(code.requirements)
    assert {"lightgbm", "mlflow", "numpy", "pandas"} <= set(names) <= LIGHT
    for name, version in names.items():
        assert version == metadata.version(name), name


def test_the_model_code_is_written_as_a_package_tree(tmp_path: Path) -> None:
    code = model_code()
    package = code.write(tmp_path)
    assert package == tmp_path / "zhongtai"
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")}
    assert written == {
        "/".join(m.split(".")) + ("/__init__.py" if p.name == "__init__.py" else ".py")
        for m, p in code.modules.items()
    }
    scoring = code.modules["zhongtai.ml.scoring"]
    assert (package / "ml" / "scoring.py").read_bytes() == scoring.read_bytes()


def test_imports_for_type_checking_are_left_out_and_lazy_ones_counted(tmp_path: Path) -> None:
    entry = tmp_path / "entry.py"
    entry.write_text(
        "from typing import TYPE_CHECKING\n"
        "import json\n"
        "from zhongtai.ml import scaling\n"
        "if TYPE_CHECKING:\n"
        "    from zhongtai.ml.train import FittedModel\n"
        "    import sklearn\n"
        "def fit():\n"
        "    import lightgbm\n"
    )
    code = model_code(entry)
    assert "zhongtai.ml.scaling" in code.modules and "zhongtai.ml.train" not in code.modules
    names = _names(code.requirements)
    assert "lightgbm" in names and "numpy" in names  # scaling's own import
    assert "scikit-learn" not in names


def test_an_import_nothing_installed_provides_is_refused(tmp_path: Path) -> None:
    entry = tmp_path / "entry.py"
    entry.write_text("import surely_no_such_module_here\n")
    with pytest.raises(LookupError, match=r"entry\.py imports 'surely_no_such_module_here'"):
        model_code(entry)


@pytest.fixture(scope="module")
def fraud_model(fraud: Trained, tmp_path_factory: pytest.TempPathFactory) -> ScoringModel:
    folder = tmp_path_factory.mktemp("fraud") / "model"
    return load_exported(export_model(fraud.result.models["lightgbm"], folder))


def test_the_signature_takes_the_nulls_the_online_store_gives(
    fraud: Trained, fraud_model: ScoringModel
) -> None:
    rows = fraud.development[fraud_model.features]
    inputs = model_signature(fraud_model, rows).inputs
    kinds = {spec.name: repr(spec.type) for spec in inputs.inputs}
    assert kinds["device_applications_1h"] == "Any"  # a count: whole numbers
    assert kinds["ring_score"] == "double" and kinds["channel"] == "string"
    assert kinds["is_blacklisted"] == "boolean"
    assert all(spec.required for spec in inputs.inputs)  # nulls, not absent columns
    vector = fraud.out_of_time[fraud_model.features].iloc[0].to_dict()
    vector = {k: v.item() if isinstance(v, np.generic) else v for k, v in vector.items()}
    # one vector as the online store gives it: plain ints, and each feature in turn None
    validate_schema(pd.DataFrame([vector]), inputs)
    for feature in fraud_model.features:
        validate_schema(pd.DataFrame([vector | {feature: None}]), inputs)
    validate_schema(pd.DataFrame([vector, vector | dict.fromkeys(vector)]), inputs)
    # what MLflow infers from the development rows refuses a missing count
    inferred = infer_signature(rows).inputs
    with pytest.raises(MlflowException, match="device_applications_1h"):
        validate_schema(pd.DataFrame([vector | {"device_applications_1h": None}]), inferred)
    # a type the model cannot read is still refused
    with pytest.raises(MlflowException, match="channel"):
        validate_schema(pd.DataFrame([vector | {"channel": 3}]), inputs)


@pytest.mark.parametrize("algorithm", ["scorecard", "lightgbm"])
def test_rows_with_holes_pass_the_signature(
    loaded: dict[Algorithm, ScoringModel], awkward_rows: pd.DataFrame, algorithm: Algorithm
) -> None:
    model = loaded[algorithm]
    inputs = model_signature(model, awkward_rows[model.features]).inputs
    validate_schema(awkward_rows[model.features], inputs)
    for i in range(0, len(awkward_rows), 97):
        validate_schema(awkward_rows[model.features].iloc[[i]], inputs)


def test_the_family_experiment_is_a_model_training_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", env="test")
    client = use_mlflow(settings)
    experiment = family_experiment(client, settings, "credit_pd")
    assert client.get_experiment(experiment).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING
    assert family_experiment(client, settings, "credit_pd") == experiment
    # one created before the mark gets it, and a kind someone chose is kept
    bare = client.create_experiment("fraud")
    assert EXPERIMENT_KIND_TAG not in client.get_experiment(bare).tags
    assert family_experiment(client, settings, "fraud") == bare
    assert client.get_experiment(bare).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING
    chosen = client.create_experiment("other", tags={EXPERIMENT_KIND_TAG: "forecasting"})
    family_experiment(client, settings, "other")
    assert client.get_experiment(chosen).tags[EXPERIMENT_KIND_TAG] == "forecasting"
