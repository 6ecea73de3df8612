"""Copies of the feature world (the session fixture ``feature_world`` is in tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from zhongtai.features.repo import apply_definitions
from zhongtai.settings import Settings


def copy_world(world: Settings, target: Path, **changes: object) -> Settings:
    """A copy of the world's marts and feature tables, its definitions applied afresh."""
    settings = Settings(data_dir=target / "var", env="test", **changes)  # type: ignore[arg-type]
    for folder in (world.marts_dir, world.features_dir):
        shutil.copytree(folder, settings.data_dir / folder.name)
    apply_definitions(settings)
    return settings
