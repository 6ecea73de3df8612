"""Portable models: each champion loads with MLflow's own client in a fresh virtual
environment holding only the model's logged requirements (nothing of this repository),
and scores real online vectors, nulls included, exactly as the decision API scores them.

The environment is installed offline from uv's cache, which ``make`` filled when it
installed the project's environment: the logged requirements, and what they depend on at
the versions installed here (the requirements are pinned to those), with no resolution
against an index. A requirement missing from the cache fails the test with uv's words.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from zhongtai.decision.champions import FAMILIES
from zhongtai.features.online import online_vector
from zhongtai.features.repo import open_store
from zhongtai.ml.register import CHAMPION, load_registered
from zhongtai.ml.scaling import pd_to_points
from zhongtai.ml.spec import load_spec
from zhongtai.ml.track import model_code, use_mlflow
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

UV = Path(sys.executable).with_name("uv")
APPLICATIONS = 25
TOLERANCE = 1e-9

# Run by the fresh environment's Python, from an empty folder: no zhongtai before the
# model loads; MLflow resolves the registered version and loads it with its own code.
SCORE = """
import importlib.util, json, sys
import mlflow, pandas as pd

job = json.loads(open(sys.argv[1]).read())
before = [m for m in ("zhongtai", "optbinning") if importlib.util.find_spec(m) is not None]
model = mlflow.pyfunc.load_model(job["uri"])
import zhongtai

def scored(frame):
    out = model.predict(frame)
    return {"probability": out["probability"].tolist(), "score": out["score"].tolist()}

vectors = job["vectors"]
result = {
    "importable_before_load": before,
    "zhongtai": zhongtai.__file__,
    "batch": scored(pd.DataFrame(vectors)),
    "one_by_one": [scored(pd.DataFrame([vector])) for vector in vectors],
}
open(sys.argv[2], "w").write(json.dumps(result))
"""


def installation(requirements: list[str]) -> list[str]:
    """The requirements and everything they depend on, pinned at the versions installed
    here (markers and extras evaluated for this Python): what a resolver would pick, read
    from the installed distributions' metadata instead of an index."""
    pinned: dict[str, str] = {}
    extras_of: dict[str, set[str]] = {}
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{requirement} is required but not installed in {sys.prefix}")
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
        wanted = set(requirement.extras)
        if name in pinned and wanted <= extras_of[name]:
            continue
        pinned[name] = version
        extras_of[name] = extras_of.get(name, set()) | wanted
        for line in metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            environments = [{"extra": extra} for extra in ({""} | extras_of[name])]
            if dependency.marker is None or any(
                dependency.marker.evaluate(env) for env in environments
            ):
                pending.append(dependency)
    return [f"{name}=={version}" for name, version in sorted(pinned.items())]


def fresh_environment(folder: Path, requirements: list[str]) -> Path:
    """A new virtual environment holding ``requirements`` and their dependencies only,
    installed from uv's cache without the network; returns its Python."""
    if not UV.is_file():
        pytest.fail(f"{UV}: uv is missing; `make venv` installs it")
    subprocess.run(
        [str(UV), "venv", "--quiet", "--no-config", "--python", sys.executable, str(folder)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    python = folder / "bin" / "python"
    lock = folder / "installation.txt"
    lock.write_text("\n".join(installation(requirements)) + "\n")
    done = subprocess.run(
        [str(UV), "pip", "sync", "--offline", "--no-config", "--python", str(python), str(lock)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(
            f"uv could not install the model's requirements offline from its cache "
            f"(run `make venv` to fill it):\n{done.stderr[-3000:]}"
        )
    return python


def application_keys(settings: Settings, count: int) -> list[dict[str, str]]:
    """The keys of the world's latest applications, and of an applicant never seen."""
    rows = duckdb.execute(
        "select applicant_id, device_id, ip_range from read_parquet(?) "
        "order by applied_at desc, application_id limit ?",
        [str(mart_path(settings, "application_features")), count],
    ).fetchall()
    stranger = ("0" * 64, "an unknown device", "203.0.113.0/24")
    keys = ("applicant_id", "device_id", "ip_range")
    return [dict(zip(keys, row, strict=True)) for row in [*rows, stranger]]


def online_vectors(settings: Settings, service: str, features: list[str]) -> list[dict[str, Any]]:
    """Real vectors of the online store (the model's features of each application), a
    stranger's (all missing), and a real vector with each feature missing in turn."""
    store = open_store(settings)
    vectors = []
    for entity in application_keys(settings, APPLICATIONS):
        vector = online_vector(store, service, entity)
        vectors.append({feature: vector[feature] for feature in features})
    real = next((v for v in vectors if all(value is not None for value in v.values())), None)
    assert real is not None, f"{service}: no application of the world has every feature online"
    vectors += [real | {feature: None} for feature in features]
    return vectors


@pytest.mark.parametrize("family", FAMILIES)
def test_a_champion_loads_in_a_fresh_environment_and_scores_as_the_api(
    served_world: Settings, family: str, tmp_path: Path
) -> None:
    import mlflow

    client = use_mlflow(served_world)
    champion = load_registered(client, family, alias=CHAMPION)  # what the API serves
    model = champion.model
    uri = client.get_model_version_download_uri(family, champion.version)
    logged = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    requirements = logged.joinpath("requirements.txt").read_text().split()
    # pinned to what is installed here, and nothing but what the model's code imports
    assert sorted(requirements) == sorted(model_code().requirements)
    for line in requirements:
        requirement = Requirement(line)
        assert str(requirement.specifier) == f"=={metadata.version(requirement.name)}", line
    assert not {"zhongtai", "optbinning", "scikit-learn", "feast"} & {
        canonicalize_name(Requirement(line).name) for line in requirements
    }

    spec = load_spec(family)
    assert spec.data.feature_service is not None
    vectors = online_vectors(served_world, spec.data.feature_service, model.features)
    assert any(value is None for vector in vectors for value in vector.values())
    python = fresh_environment(tmp_path / "venv", requirements)

    job, answer, work = tmp_path / "job.json", tmp_path / "answer.json", tmp_path / "work"
    work.mkdir()
    (work / "score.py").write_text(SCORE)
    job.write_text(json.dumps({"uri": f"models:/{family}/{champion.version}", "vectors": vectors}))
    environment = {
        "PATH": f"{python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(work),
        "MLFLOW_TRACKING_URI": served_world.tracking_uri,
    }
    done = subprocess.run(
        [str(python), "score.py", str(job), str(answer)],
        cwd=work,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    result = json.loads(answer.read_text())

    # nothing of this repository: the model brought its own scoring code
    assert result["importable_before_load"] == []
    shipped = Path(result["zhongtai"])
    assert shipped.parts[-3:] == ("code", "zhongtai", "__init__.py"), shipped
    assert not shipped.is_relative_to(Path(__file__).resolve().parents[2]), shipped
    # the decision API's scores of each vector: decide() reads predict_pd_one and points
    expected_pd = [model.predict_pd_one(vector) for vector in vectors]
    expected_points = [float(pd_to_points(p, model.scaling)) for p in expected_pd]
    batch = result["batch"]
    one_by_one = {
        "probability": [scored["probability"][0] for scored in result["one_by_one"]],
        "score": [scored["score"][0] for scored in result["one_by_one"]],
    }
    for scored in (batch, one_by_one):
        assert scored["probability"] == pytest.approx(expected_pd, abs=TOLERANCE, rel=0)
        assert scored["score"] == pytest.approx(expected_points, abs=TOLERANCE, rel=0)
