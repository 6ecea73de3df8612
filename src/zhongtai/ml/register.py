"""The model registry: versions of ``credit_pd`` and ``fraud``, their aliases, and loading.

A training run registers its model as a new version with the alias ``challenger``; the
promotion gate alone moves ``champion`` to it. Each version carries the digest of its
exported files, and ``load_registered`` only loads a registered version whose files
still match it: a run's model that was never registered, or files changed after
registration, are refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.ml.scoring import ScoringModel, load_exported

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

CHALLENGER = "challenger"
CHAMPION = "champion"
DIGEST_TAG = "model_digest"
EXPORT_ARTIFACT = "model"  # the key of the exported files among the logged model's artifacts


class ModelNotRegistered(LookupError):
    """No such registered version, or one whose files do not match what was registered."""


@dataclass(frozen=True)
class RegisteredModel:
    """A registered version loaded for scoring."""

    name: str
    version: str
    run_id: str
    model: ScoringModel

    @property
    def label(self) -> str:
        """``name/version``, as decisions record it."""
        return f"{self.name}/{self.version}"


def files_digest(directory: Path) -> str:
    """SHA-256 over the exported files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def register_challenger(
    client: MlflowClient,
    name: str,
    model_uri: str,
    run_id: str,
    *,
    digest: str,
    description: str,
    tags: dict[str, str],
) -> ModelVersion:
    """A new version of ``name`` from a logged model, aliased ``challenger``."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, description=description)
    version = client.create_model_version(
        name, source=model_uri, run_id=run_id, tags={**tags, DIGEST_TAG: digest}
    )
    client.set_registered_model_alias(name, CHALLENGER, version.version)
    return version


def promote(client: MlflowClient, name: str, version: str) -> None:
    """Make ``version`` the champion (the decision API picks it up by alias)."""
    client.set_registered_model_alias(name, CHAMPION, version)


def load_registered(
    client: MlflowClient, name: str, *, alias: str | None = None, version: str | None = None
) -> RegisteredModel:
    """A registered version of ``name``, by alias or number, checked against its digest.

    Raises ModelNotRegistered naming the model and what is missing or altered.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    if (alias is None) == (version is None):
        raise ValueError("give exactly one of alias or version")
    try:
        if alias is not None:
            found = client.get_model_version_by_alias(name, alias)
        else:
            found = client.get_model_version(name, str(version))
    except MlflowException as error:
        wanted = f"@{alias}" if alias is not None else f" version {version}"
        raise ModelNotRegistered(f"{name}{wanted}: no such registered model version") from error
    expected = found.tags.get(DIGEST_TAG)
    if found.status != "READY" or not expected:
        raise ModelNotRegistered(
            f"{name}/{found.version}: not a complete zhongtai registration "
            f"(status {found.status}, digest {'present' if expected else 'missing'})"
        )
    uri = client.get_model_version_download_uri(name, found.version)
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    exported = local / "artifacts" / EXPORT_ARTIFACT
    if not exported.is_dir() or files_digest(exported) != expected:
        raise ModelNotRegistered(
            f"{name}/{found.version}: its files at {exported} do not match the digest "
            "recorded at registration; refusing to load them"
        )
    return RegisteredModel(name, str(found.version), str(found.run_id), load_exported(exported))
