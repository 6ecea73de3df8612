"""Models trained before an erasure: recorded on every registered version it predates.

A model fitted on a subject's rows keeps what it learnt from them after the rows are
gone. Each registered version created before an erasure gets the tag
``trained_before_erasure``: the ids of the erasures (from the erasure ledger, never the
subject) its training data predates, so a retraining can be planned and a reviewer can
see which versions are concerned (``zhongtai erase`` prints them).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from zhongtai.ml.track import use_mlflow
from zhongtai.settings import Settings

ERASURE_TAG = "trained_before_erasure"


def mark_models_trained_before(settings: Settings, erasure_id: str, erased_at: str) -> list[str]:
    """Tag each registered version created before ``erased_at`` (ISO UTC) with
    ``erasure_id``; returns the versions newly tagged, as ``name/version``."""
    if not _has_registry(settings):
        return []
    client = use_mlflow(settings)
    cutoff_ms = int(datetime.fromisoformat(erased_at.replace("Z", "+00:00")).timestamp() * 1000)
    tagged = []
    for version in client.search_model_versions():
        if version.creation_timestamp is None or version.creation_timestamp > cutoff_ms:
            continue
        erasures = [e for e in version.tags.get(ERASURE_TAG, "").split(",") if e]
        if erasure_id in erasures:
            continue
        value = ",".join([*erasures, erasure_id])
        client.set_model_version_tag(version.name, version.version, ERASURE_TAG, value)
        tagged.append(f"{version.name}/{version.version}")
    return tagged


def models_trained_before_erasures(settings: Settings) -> dict[str, list[str]]:
    """``name/version`` → the erasures its training data predates (for reports)."""
    if not _has_registry(settings):
        return {}
    client = use_mlflow(settings)
    return {
        f"{version.name}/{version.version}": version.tags[ERASURE_TAG].split(",")
        for version in client.search_model_versions()
        if version.tags.get(ERASURE_TAG)
    }


def _has_registry(settings: Settings) -> bool:
    """A tracking server is configured, or the local registry file exists: erasure never
    creates an empty registry."""
    return bool(settings.mlflow_tracking_uri) or Path(settings.mlflow_dir / "mlflow.db").is_file()
