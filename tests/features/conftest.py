"""One small world with its feature platform built (graph, indices, apply, materialise)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.worlds import build_world
from zhongtai.features.build import build_features
from zhongtai.features.repo import apply_definitions
from zhongtai.settings import Settings

APPLICANTS = 1500  # enough for a few fraud rings
SEED = 17


@pytest.fixture(scope="session")
def feature_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Marts, feature tables and a materialised SQLite online store; tests only read it."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("feature-world") / "var", env="test")
    build_world(settings, applicants=APPLICANTS, seed=SEED, delivery_date=datetime.now(UTC).date())
    build_features(settings, progress=lambda _: None)
    return settings


def copy_world(world: Settings, target: Path, **changes: object) -> Settings:
    """A copy of the world's marts and feature tables, its definitions applied afresh."""
    settings = Settings(data_dir=target / "var", env="test", **changes)  # type: ignore[arg-type]
    for folder in (world.marts_dir, world.features_dir):
        shutil.copytree(folder, settings.data_dir / folder.name)
    apply_definitions(settings)
    return settings
