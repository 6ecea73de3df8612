"""Shared by the hostile-input tests: where a clear value turns up on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FilesHolding = Callable[..., list[Path]]


def files_holding(root: Path, secret: str, *, skip: Path | None = None) -> list[Path]:
    """Every regular file under ``root`` (``skip`` aside) whose bytes hold ``secret`` in UTF-8:
    Parquet pages and statistics, JSON records, SQLite stores, logs alike."""
    needle = secret.encode()
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not path.is_symlink()
        and (skip is None or not path.is_relative_to(skip))
        and needle in path.read_bytes()
    ]


@pytest.fixture
def clear_value_files() -> FilesHolding:
    """``files_holding``: a test asserts it returns [] for every clear value it planted."""
    return files_holding
