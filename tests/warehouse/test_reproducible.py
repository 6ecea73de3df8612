"""One clock: the same seed and as-of date give the same world and the same marts."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pandas as pd
from pandas.testing import assert_frame_equal

from tests.worlds import build_world
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path, marts

AS_OF = date(2027, 2, 6)  # the Spring Festival itself: the busiest weeks end the window
KEYS = {
    "pseudonym_key": base64.b64encode(b"p" * 32).decode(),
    "master_keys": {1: base64.b64encode(b"m" * 32).decode()},
}


def _mart(settings: Settings, mart: str) -> pd.DataFrame:
    frame = pd.read_parquet(mart_path(settings, mart))
    # when a batch landed is lineage of this run, not part of the world
    frame = frame.drop(columns=[c for c in frame.columns if c.endswith("loaded_at")])
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_same_seed_and_as_of_give_identical_marts(tmp_path: Path) -> None:
    worlds = []
    for name in ("first", "second"):
        settings = Settings(data_dir=tmp_path / name, env="test", as_of=AS_OF, **KEYS)  # type: ignore[arg-type]
        build_world(settings, applicants=300, seed=5, delivery_date=settings.today())
        worlds.append(settings)
    for mart in marts(worlds[0]):
        first, second = (_mart(world, mart) for world in worlds)
        assert len(first) > 0, mart
        assert_frame_equal(first, second, obj=mart)
