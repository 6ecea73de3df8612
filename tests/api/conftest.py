"""A world with champions of both model families in its registry, built once."""

from __future__ import annotations

import shutil

import pytest

from tests.worlds import copy_world
from zhongtai.ml.retrain import retrain
from zhongtai.ml.spec import FairnessSpec, PromotionSpec, load_spec
from zhongtai.settings import Settings

# The small world's out-of-time sample is too thin for the production gates.
LENIENT = PromotionSpec(min_auc=0.5, min_auc_gain=0.005, max_psi=10, max_fairness_gap=1)
TWO_AGE_BANDS = FairnessSpec(attribute="age_years", bands=[18, 40, 120], min_rows=10)


def lenient(family: str):
    spec = load_spec(family)
    return spec.model_copy(update={"promotion": LENIENT, "fairness": TWO_AGE_BANDS})


@pytest.fixture(scope="session")
def served_world(feature_world: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The feature world's copy (its keys too, so pseudonyms agree) with its online store
    loaded and champion versions 1 of credit_pd and fraud."""
    from zhongtai.features.materialize import materialize_features

    settings = copy_world(feature_world, tmp_path_factory.mktemp("served"))
    shutil.copytree(feature_world.keys_dir, settings.keys_dir)
    materialize_features(settings)
    for family in ("credit_pd", "fraud"):
        assert retrain(lenient(family), settings, progress=lambda _: None).promoted
    return settings
