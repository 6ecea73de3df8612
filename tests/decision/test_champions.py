"""Champions load by alias, and a promotion is picked up without a request failing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.ml.gates import with_gates
from tests.worlds import copy_world
from zhongtai.decision.champions import ChampionSet, ModelsUnavailable
from zhongtai.ml.register import promote
from zhongtai.ml.retrain import retrain
from zhongtai.ml.track import use_mlflow
from zhongtai.settings import Settings


def test_nothing_registered_is_unavailable_not_a_guess(tmp_path: Path) -> None:
    champions = ChampionSet(use_mlflow(Settings(data_dir=tmp_path / "var", env="test")))
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
    champions = ChampionSet(client, log=lambda _: None)
    assert champions.refresh() is True
    assert champions.current().versions == {"credit_pd": "1", "fraud": "1"}
    assert champions.refresh() is False  # nothing changed

    second = retrain(with_gates("credit_pd"), settings, progress=lambda _: None)
    assert not second.promoted  # same data: no gain; promote it by hand to test the swap
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
    promote(client, "credit_pd", second.version)
    assert champions.refresh() is True
    stop.set()
    reader.join()
    assert failures == []
    assert champions.current().versions == {"credit_pd": "2", "fraud": "1"}


def test_when_the_registry_cannot_say_the_serving_pair_stays(served_world: Settings) -> None:
    client = use_mlflow(served_world)
    champions = ChampionSet(client, log=lambda _: None)
    champions.refresh()
    serving = champions.current()
    # no version holds the alias any more: the serving pair stays
    client.delete_registered_model_alias("credit_pd", "champion")
    assert champions.refresh() is False
    assert champions.current() is serving
    client.set_registered_model_alias("credit_pd", "champion", "1")
