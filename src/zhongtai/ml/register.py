"""The model registry: versions of ``credit_pd`` and ``fraud``, their aliases, and loading.

A training run registers its model as a new version with the alias ``challenger``; the
promotion gate alone moves ``champion`` to it, writing beside it a promotion record
signed with a platform key (``zhongtai.ml.signing``). Each version carries the digest of
its exported files, and ``load_registered`` only loads a registered version whose files
still match it: a run's model that was never registered, or files changed after
registration, are refused. ``load_promoted``, what the decision API serves through,
also verifies the promotion record against the files and the model code it loaded, so
neither an alias set by hand nor a tag rewritten in the registry is trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.ml.scoring import ScoringModel, load_exported
from zhongtai.ml.signing import PromotionRecord, RecordRefused, sign_record, verify_record

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

CHALLENGER = "challenger"
CHAMPION = "champion"
DIGEST_TAG = "model_digest"
RECORD_TAG = "promotion_record"  # the gate's signed record (verified, never trusted)
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


def files_digest(directory: Path, *, leave_out: Callable[[Path], bool] = lambda _: False) -> str:
    """SHA-256 over the files' names and bytes, in name order (but those whose path
    relative to ``directory`` is to ``leave_out``)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if leave_out(relative):
            continue
        digest.update(relative.as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_digest(model_dir: Path) -> str:
    """SHA-256 over what a logged model ships besides its exported files (``artifacts/``):
    its code (``mlflow_model.py``, the zhongtai modules of ``code_paths``), ``MLmodel`` and
    its requirements. What loading the model from a local store writes beside its code
    is left out: Python's bytecode caches (``__pycache__``) and MLflow's note of the
    registered name and version (``registered_model_meta``)."""
    return files_digest(
        model_dir,
        leave_out=lambda path: (
            path.parts[0] in ("artifacts", "registered_model_meta") or "__pycache__" in path.parts
        ),
    )


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


def version_digests(client: MlflowClient, name: str, version: str) -> tuple[str, str]:
    """The digests of a registered version's files and code, as the registry holds them
    now (read from a download, as the API will load them)."""
    _, local = _download(client, name, version=version)
    return files_digest(local / "artifacts" / EXPORT_ARTIFACT), code_digest(local)


def promote(client: MlflowClient, record: PromotionRecord, key: bytes) -> None:
    """Make the version of ``record`` the champion (the decision API picks it up by
    alias), its record signed with ``key`` stored with it first."""
    if not record.promote:
        raise ValueError(f"{record.label}: the gate refused it; it cannot be promoted")
    client.set_model_version_tag(record.model, record.version, RECORD_TAG, sign_record(record, key))
    client.set_registered_model_alias(record.model, CHAMPION, record.version)


def load_promoted(client: MlflowClient, name: str, version: str, key: bytes) -> RegisteredModel:
    """A version whose promotion record, signed with ``key``, verifies against the files
    and code loaded: what the decision API serves.

    Raises ModelNotRegistered naming the version and the check that refused it.
    """
    found, local = _download(client, name, version=version)
    exported = local / "artifacts" / EXPORT_ARTIFACT
    try:
        verify_record(
            found.tags.get(RECORD_TAG),
            key,
            model=name,
            version=str(found.version),
            files_digest=files_digest(exported) if exported.is_dir() else "",
            code_digest=code_digest(local),
        )
    except RecordRefused as refused:
        raise ModelNotRegistered(str(refused)) from refused
    return _checked(found, exported)


def load_registered(
    client: MlflowClient, name: str, *, alias: str | None = None, version: str | None = None
) -> RegisteredModel:
    """A registered version of ``name``, by alias or number, checked against its digest.

    Raises ModelNotRegistered naming the model and what is missing or altered.
    """
    found, local = _download(client, name, alias=alias, version=version)
    return _checked(found, local / "artifacts" / EXPORT_ARTIFACT)


def _download(
    client: MlflowClient, name: str, *, alias: str | None = None, version: str | None = None
) -> tuple[ModelVersion, Path]:
    """A registered version of ``name`` and its logged model, downloaded."""
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
    return found, Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))


def _checked(found: ModelVersion, exported: Path) -> RegisteredModel:
    """The version's exported files loaded, if they match the digest registered."""
    expected = found.tags.get(DIGEST_TAG)
    if not exported.is_dir() or files_digest(exported) != expected:
        raise ModelNotRegistered(
            f"{found.name}/{found.version}: its files at {exported} do not match the digest "
            "recorded at registration; refusing to load them"
        )
    return RegisteredModel(
        found.name, str(found.version), str(found.run_id), load_exported(exported)
    )
