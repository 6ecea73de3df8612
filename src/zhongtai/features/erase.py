"""Erasure in the feature platform: the feature tables and the SQLite online store.

The feature tables are Parquet files, rewritten without the rows holding one of the
subject's keys. The online store is Feast's SQLite file: its rows are keyed by a
serialised entity key that holds the join key (the pseudonym) as bytes, so rows whose
key or value holds one are deleted, and the file vacuumed (``erase_from_sqlite``). A
Redis online store (the scale environment) expires its values by TTL and is rebuilt by
materialisation; it is not reached here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from zhongtai.feature_tables import FEATURE_TABLES, feature_table_path
from zhongtai.privacy.erasure import erase_from_sqlite, rewrite_parquet_without
from zhongtai.settings import Settings

SQLITE_MAGIC = b"SQLite format 3\x00"


def erase_feature_tables(settings: Settings, keys: Iterable[str]) -> int:
    """Rewrite every feature table without the rows holding one of ``keys``."""
    keys = set(keys)
    return sum(
        rewrite_parquet_without(path, keys)
        for path in (feature_table_path(settings, table) for table in FEATURE_TABLES)
        if path.is_file()
    )


def erase_online_store(settings: Settings, keys: Iterable[str]) -> int:
    """Delete the subject's rows from every SQLite file of the Feast folder (the online
    store; the registry is a protobuf file and holds definitions only)."""
    keys = set(keys)
    deleted = 0
    if not settings.feast_dir.is_dir():
        return 0
    for path in sorted(settings.feast_dir.rglob("*")):
        if path.is_file() and _is_sqlite(path):
            deleted += erase_from_sqlite(path, keys)
    return deleted


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
