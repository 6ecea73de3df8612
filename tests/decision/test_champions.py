"""Champions load by alias, and a promotion is picked up without a request failing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.ml.gates import with_gates
from tests.worlds import copy_world
from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.ml.retrain import regate, retrain
from zhongtai.ml.track import use_mlflow
from zhongtai.privacy.keys import promotion_signing_key, resolve_keyring
from zhongtai.settings import Settings


def signing_key(settings: Settings) -> bytes:
    """The platform key the gate signs with and the API verifies with."""
    return promotion_signing_key(resolve_keyring(settings, announce=lambda _: None))


def test_nothing_registered_is_unavailable_not_a_guess(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", env="test")
    champions = ChampionSet(use_mlflow(settings), key=signing_key(settings))
    with pytest.raises(ModelsUnavailable, match="no champion"):
        champions.current()
    with pytest.raises(ModelsUnavailable, match="cannot be loaded"):
        champions.refresh()


def test_a_promotion_is_swapped_in_while_requests_keep_scoring(
    feature_world: Settings, tmp_path: Path
) -> None:
    settings = copy_world(feature_world, tmp_path)
    for family in ("credit_pd", "fraud"):
        retrain(with_gates(family), settings, progress=lambda _: None)
    client = use_mlflow(settings)
    champions = ChampionSet(client, key=signing_key(settings), log=lambda _: None)
    assert champions.refresh() is True
    assert champions.current().versions == {"credit_pd": "1", "fraud": "1"}
    assert champions.refresh() is False  # nothing changed

    second = retrain(with_gates("credit_pd"), settings, progress=lambda _: None)
    assert not second.promoted  # same data: no gain; a gate asking for none promotes it
    failures: list[BaseException] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                champions.current().credit.model.features  # noqa: B018
            except BaseException as error:  # pragma: no cover - the failure we look for
                failures.append(error)

    reader = threading.Thread(target=serve)
    reader.start()
    regated = regate(
        with_gates("credit_pd", min_auc_gain=0.0), second.version, settings, lambda _: None
    )
    assert regated.promoted, regated.decision.report
    assert champions.refresh() is True
    stop.set()
    reader.join()
    assert failures == []
    assert champions.current().versions == {"credit_pd": "2", "fraud": "1"}


def test_when_the_registry_cannot_say_the_serving_pair_stays(served_world: Settings) -> None:
    client = use_mlflow(served_world)
    champions = ChampionSet(client, key=signing_key(served_world), log=lambda _: None)
    champions.refresh()
    serving = champions.current()
    # no version holds the alias any more: the serving pair stays
    client.delete_registered_model_alias("credit_pd", "champion")
    assert champions.refresh() is False
    assert champions.current() is serving
    client.set_registered_model_alias("credit_pd", "champion", "1")
