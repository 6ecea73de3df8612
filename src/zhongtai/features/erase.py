"""Erasure in the feature platform: the feature tables and the online store.

The feature tables are Parquet files, rewritten without the rows holding one of the
subject's keys. The online store is Feast's SQLite file: its rows are keyed by a
serialised entity key that holds the join key (the pseudonym) as bytes, so rows whose
key or value holds one are deleted, and the file vacuumed (``erase_from_sqlite``). In
the scale environment the online store is Redis: there each entity row is one hash
whose key is Feast's serialised entity key followed by the project name, so the keys of
the subject's rows are computed, for every entity's join key, the way Feast computes
them, and only those are deleted (``erase_from_redis``); nothing else is scanned or
touched. A Redis that persists to disk (RDB, AOF) drops the deleted rows from its files
at its next snapshot or rewrite.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from zhongtai.feature_tables import FEATURE_TABLES, feature_table_path
from zhongtai.features.repo import open_store
from zhongtai.privacy.erasure import erase_from_sqlite, rewrite_parquet_without
from zhongtai.settings import Settings

if TYPE_CHECKING:
    from feast import FeatureStore
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey

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
    store; the registry is a protobuf file and holds definitions only) and, in the scale
    environment, from the Redis online store."""
    keys = set(keys)
    deleted = 0
    if not settings.feast_dir.is_dir():
        return 0
    for path in sorted(settings.feast_dir.rglob("*")):
        if path.is_file() and _is_sqlite(path):
            deleted += erase_from_sqlite(path, keys)
    if settings.feature_env == "scale":
        deleted += erase_from_redis(open_store(settings), keys)
    return deleted


def erase_from_redis(store: FeatureStore, keys: Iterable[str]) -> int:
    """Delete from ``store``'s Redis online store the entity rows keyed by one of ``keys``
    under any entity's join key; return how many rows were there.

    Raises RuntimeError naming the connection when Redis cannot be reached: the erasure
    is then incomplete, and running it again completes it.
    """
    from feast.infra.online_stores.helpers import _redis_key, get_online_store_from_config
    from feast.infra.online_stores.redis import RedisOnlineStore
    from redis.exceptions import RedisError

    config = store.config
    online = get_online_store_from_config(config.online_store)
    if not isinstance(online, RedisOnlineStore):
        raise TypeError(f"the online store of {config.project} is not Redis")
    join_keys = sorted({entity.join_key for entity in store.list_entities()})
    redis_keys = [
        _redis_key(config.project, entity_key, config.entity_key_serialization_version)
        for entity_key in _entity_keys(join_keys, sorted(set(keys)))
    ]
    if not redis_keys:
        return 0
    try:
        client = online._get_client(config.online_store)
        with client.pipeline(transaction=False) as pipe:
            for redis_key in redis_keys:  # one DEL each: a Redis cluster spreads them
                pipe.delete(redis_key)
            return sum(int(done) for done in pipe.execute())
    except RedisError as error:
        raise RuntimeError(
            f"the Redis online store at {config.online_store.connection_string.split(',')[0]} "
            f"could not be reached ({type(error).__name__}): the subject's online rows are "
            "not erased yet; run the erasure again once it is up"
        ) from None


def _entity_keys(join_keys: list[str], values: list[str]) -> list[EntityKey]:
    """Feast's entity key of each value under each single join key (every view of the
    repository is keyed by one entity)."""
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value

    return [
        EntityKey(join_keys=[join_key], entity_values=[Value(string_val=value)])
        for join_key in join_keys
        for value in values
    ]


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
