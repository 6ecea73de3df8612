"""The Feast repository and its two environments over the same definitions.

``feature_repo/`` holds declarative definitions only. Each environment has its own
``feature_store*.yaml``, which Feast reads with ``${VAR}`` expansion: the variables come
from :func:`feast_environment`, so the data dir, registry and online store follow
Settings, the one source of configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.environ import temporary_environ
from zhongtai.settings import FeatureEnvironment, Settings

if TYPE_CHECKING:
    from feast import FeatureStore

STORE_YAML: dict[FeatureEnvironment, str] = {
    "default": "feature_store.yaml",  # DuckDB offline store, SQLite online store
    "scale": "feature_store.scale.yaml",  # Spark offline store, Redis online store
}


def store_yaml(settings: Settings) -> Path:
    return settings.feature_repo_dir / STORE_YAML[settings.feature_env]


def feast_environment(settings: Settings) -> dict[str, str]:
    """What Feast (SDK, CLI, ``feast serve``) needs in its environment to find our data."""
    return {
        "ZHONGTAI_DATA_DIR": str(settings.data_dir.resolve()),
        "ZHONGTAI_ENV": settings.env,
        "ZHONGTAI_FEATURE_ENV": settings.feature_env,
        "ZHONGTAI_FEAST_DIR": str(settings.feast_dir.resolve()),
        "ZHONGTAI_REDIS_CONNECTION": settings.redis_connection,
        "FEAST_USAGE": "False",
    }


def open_store(settings: Settings) -> FeatureStore:
    """The feature store of ``settings.feature_env`` (its yaml expanded with our paths)."""
    from feast import FeatureStore

    settings.feast_dir.mkdir(parents=True, exist_ok=True)
    with temporary_environ(feast_environment(settings)):
        return FeatureStore(
            repo_path=str(settings.feature_repo_dir), fs_yaml_file=store_yaml(settings)
        )


def feast_command(args: list[str], settings: Settings) -> list[str]:
    """``feast ARGS`` on our repository and environment (the command line a user would type)."""
    feast = Path(sys.executable).with_name("feast")
    repo = settings.feature_repo_dir
    return [str(feast), "-c", str(repo), "-f", str(store_yaml(settings)), *args]


def run_feast(
    args: list[str], settings: Settings, *, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the Feast CLI (apply, serve, ui, ...) on our repository; raise on failure."""
    settings.feast_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **feast_environment(settings)}
    result = subprocess.run(
        feast_command(args, settings), env=env, text=True, capture_output=capture, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-20:] if capture else []
        raise RuntimeError(
            f"feast {' '.join(args)} failed (exit {result.returncode})"
            + ("\n" + "\n".join(detail) if detail else "")
        )
    return result


def apply_definitions(settings: Settings) -> None:
    """``feast apply``: register entities, sources, views and services (idempotent)."""
    run_feast(["apply"], settings, capture=True)
