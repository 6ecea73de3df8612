"""A small real world for the gates: generated, landed, built by dbt once per session.

Tests that break data work on a copy (``world_copy``): raw zone, marts and warehouse file.
The copied warehouse's staging views still read the original raw zone (dbt writes absolute
paths), so a copy suits the raw, marts and reconciliation gates, not staging.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.worlds import build_world
from zhongtai.contracts import BATCH_ID_COLUMN, LOADED_AT_COLUMN
from zhongtai.landing.rawzone import DATA_NAME, batch_dir
from zhongtai.settings import Settings

APPLICANTS = 300
SEED = 11


@pytest.fixture(scope="session")
def delivery_date() -> date:
    """The clock's today: freshness expectations measure from the run time."""
    return Settings().today()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, delivery_date: date) -> Settings:
    """Raw zone, warehouse and marts of a few hundred applicants; never modified by tests."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("quality-world") / "var", env="test")
    build_world(settings, applicants=APPLICANTS, seed=SEED, delivery_date=delivery_date)
    return settings


@pytest.fixture
def world_copy(world: Settings, tmp_path: Path) -> Settings:
    """A copy of the world's raw zone, marts and warehouse that a test may break."""
    settings = Settings(data_dir=tmp_path / "var", env="test")
    for source, target in (
        (world.raw_dir, settings.raw_dir),
        (world.marts_dir, settings.marts_dir),
        (world.warehouse_path.parent, settings.warehouse_path.parent),
    ):
        shutil.copytree(source, target)
    return settings


PlantBatch = Callable[..., str]


@pytest.fixture
def plant_raw_batch() -> PlantBatch:
    """Write a raw batch into a new partition, as landing would; return its batch id.

    ``rows``: how many rows of the source's first existing batch to copy; ``change``:
    {column: {row index: new value}}.
    """

    def plant(
        settings: Settings,
        source: str,
        ingest_date: date,
        *,
        rows: int = 20,
        change: dict[str, dict[int, object]] | None = None,
    ) -> str:
        template = next(iter(sorted(settings.raw_dir.glob(f"{source}/*/*/{DATA_NAME}"))))
        table = pq.read_table(template).slice(0, rows)
        batch_id = hashlib.sha256(f"{source}{ingest_date}{change}".encode()).hexdigest()[:20]
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        for column, values in (change or {}).items():
            for index, value in values.items():
                columns[column][index] = value
        columns[BATCH_ID_COLUMN] = [batch_id] * table.num_rows
        columns[LOADED_AT_COLUMN] = [settings.now()] * table.num_rows
        planted = pa.table(columns, schema=table.schema)
        folder = batch_dir(settings.raw_dir, source, ingest_date, batch_id)
        folder.mkdir(parents=True)
        pq.write_table(planted, folder / DATA_NAME)
        return batch_id

    return plant
