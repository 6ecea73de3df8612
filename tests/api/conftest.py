"""A world with champions of both model families in its registry, built once."""

from __future__ import annotations

import shutil

import pytest

from tests.ml.gates import with_gates
from tests.worlds import copy_world
from zhongtai.ml.retrain import retrain
from zhongtai.settings import Settings


@pytest.fixture(scope="session")
def served_world(feature_world: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The feature world's copy (its keys too, so pseudonyms agree) with its online store
    loaded and champion versions 1 of credit_pd and fraud."""
    from zhongtai.features.materialize import materialize_features

    settings = copy_world(feature_world, tmp_path_factory.mktemp("served"))
    shutil.copytree(feature_world.keys_dir, settings.keys_dir)
    materialize_features(settings)
    for family in ("credit_pd", "fraud"):
        outcome = retrain(with_gates(family), settings, progress=lambda _: None)
        assert outcome.promoted, (family, outcome.decision, outcome.metrics)
    return settings
