"""Fixtures for the generator: one small world written to an inbox, and its ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
import yaml

from zhongtai.settings import Settings
from zhongtai.sources.generator import ChunkTables, GenerationReport, generate, simulate_chunk

DELIVERY = date(2025, 6, 1)
SEED = 7
APPLICANTS = 3_000
CHUNK_SIZE = 1_500  # two chunks, so uniqueness across chunks is exercised
CONTRACTS_DIR = Settings().contracts_dir


def contract(source: str) -> dict:
    """The data contract of a source, as the landing zone reads it."""
    return yaml.safe_load((CONTRACTS_DIR / f"{source}.yml").read_text(encoding="utf-8"))


def read_text_csv(paths: list[Path]) -> pa.Table:
    """Read CSV parts with every column as text, empty fields as null (as landing must)."""
    header = paths[0].open(encoding="utf-8").readline().rstrip("\n").split(",")
    options = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
    )
    return pa.concat_tables(pa_csv.read_csv(p, convert_options=options) for p in paths)


@pytest.fixture(scope="session")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("inbox")
    report = generate(
        root, applicants=APPLICANTS, seed=SEED, delivery_date=DELIVERY, chunk_size=CHUNK_SIZE
    )
    return root, report


@pytest.fixture(scope="session")
def sources(inbox: tuple[Path, GenerationReport]) -> dict[str, pa.Table]:
    """Every generated source, read back from the inbox as text."""
    _, report = inbox
    return {source: read_text_csv(paths) for source, paths in report.files.items()}


@pytest.fixture(scope="session")
def big_chunk() -> ChunkTables:
    """A chunk large enough for stable rates (rings, defaults by debt-to-income)."""
    return simulate_chunk(seed=SEED, delivery_date=DELIVERY, applicants=30_000)
