"""The dbt manifest that the build_warehouse DAG is rendered from.

Cosmos renders one Airflow task per dbt node. Asking dbt for the nodes (``dbt ls``) while
Airflow imports the DAG file takes longer than Airflow's import timeout on a busy machine,
so the DAG reads a manifest compiled beforehand by ``dbt parse``: ``ensure_manifest``
compiles it when the dbt project changed (``zhongtai airflow ...`` and the demo call it
before Airflow starts), and the DAG file only computes its path (``manifest_path``).

This module stays light (hashlib and pathlib): the DAG file imports it.
"""

from __future__ import annotations

import hashlib
import os
from importlib.metadata import version
from pathlib import Path

from zhongtai.settings import Settings
from zhongtai.warehouse.dbt import dbt_environment, dbt_run_dir, run_dbt

# What dbt reads from the project to build the manifest.
PROJECT_INPUTS: tuple[str, ...] = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")


class ManifestMissing(FileNotFoundError):
    """The DAG file needs a manifest that nobody compiled: the message says how to."""


def manifest_dir(settings: Settings) -> Path:
    return dbt_run_dir(settings) / "manifest"


def manifest_path(settings: Settings) -> Path:
    """Where the compiled manifest is, computed without touching the disk."""
    return manifest_dir(settings) / "manifest.json"


def require_manifest(settings: Settings) -> Path:
    """The manifest's path; ManifestMissing, saying how to compile it, if it is not there."""
    path = manifest_path(settings)
    if not path.is_file():
        raise ManifestMissing(
            f"dbt manifest {path} is missing: build_warehouse is rendered from it. Compile it "
            "with `zhongtai airflow ...` (any Airflow command: it runs `dbt parse` first) or "
            "zhongtai.warehouse.manifest.ensure_manifest(Settings())."
        )
    return path


def project_fingerprint(settings: Settings) -> str:
    """A hash of everything the manifest depends on: the project's files, the paths that
    profiles.yml and dbt_project.yml read from the environment, and dbt's version."""
    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}\n".encode())
    for name, value in sorted(dbt_environment(settings).items()):
        digest.update(f"{name}={value}\n".encode())
    project = settings.dbt_project_dir
    for path in _project_files(project):
        digest.update(f"{path.relative_to(project).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def ensure_manifest(settings: Settings) -> Path:
    """Compile the manifest with ``dbt parse`` unless the project is unchanged since the
    last time (the fingerprint beside the manifest says); return its path."""
    folder = manifest_dir(settings)
    path, stamp = manifest_path(settings), folder / "fingerprint"
    fingerprint = project_fingerprint(settings)
    if path.is_file() and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return path
    # dbt writes into its own target folder (with partial_parse.msgpack, so the next parse
    # is quick); the manifest then replaces the old one in one step, never half-written.
    parsed = folder / "parse"
    run_dbt(["parse", "--target-path", str(parsed)], settings)
    os.replace(parsed / "manifest.json", path)
    stamp.write_text(fingerprint + "\n")
    return path


def _project_files(project: Path) -> list[Path]:
    files: list[Path] = []
    for name in PROJECT_INPUTS:
        entry = project / name
        if entry.is_file():
            files.append(entry)
        elif entry.is_dir():
            files += [path for path in entry.rglob("*") if path.is_file()]
    return sorted(files)
