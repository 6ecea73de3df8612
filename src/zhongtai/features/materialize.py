"""Materialisation: the offline feature tables into the online store, incrementally.

Each view resumes where its last materialisation ended, or, the first time, one TTL
before ``end`` (an older value would have expired online anyway), and moves forward in
bounded windows: memory grows with one window's rows, not with history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zhongtai.duck import connect, read_parquet_sql
from zhongtai.features.repo import open_store
from zhongtai.settings import Settings
from zhongtai.warehouse.marts import mart_path

DEFAULT_WINDOW = timedelta(days=180)


@dataclass(frozen=True)
class Materialized:
    view: str
    start: datetime
    end: datetime
    windows: int


def first_event_time(settings: Settings) -> datetime:
    """The earliest application: no feature row is older (every view is dated by one)."""
    path = mart_path(settings, "application_features").resolve()
    with connect(settings) as connection:
        query = f"select min(applied_at) from {read_parquet_sql(path)}"
        [(first,)] = connection.execute(query).fetchall()
    if first is None:
        raise ValueError(f"no applications in {path}: build the warehouse first")
    return datetime.fromisoformat(str(first)).replace(tzinfo=UTC)


def materialize_features(
    settings: Settings,
    *,
    end: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    progress: Callable[[str], None] = print,
) -> list[Materialized]:
    """Bring every feature view's online values up to ``end`` (default: the clock's now)."""
    if window <= timedelta(0):
        raise ValueError(f"window must be positive, got {window}")
    store = open_store(settings)
    end = (end or settings.now()).astimezone(UTC)
    first = first_event_time(settings) - timedelta(seconds=1)
    done = []
    for view in sorted(store.list_feature_views(), key=lambda v: v.name):
        resume = view.most_recent_end_time
        ttl = view.ttl if view.ttl else end - first
        begin = resume.astimezone(UTC) if resume else max(first, end - ttl)
        start, windows = begin, 0
        while start < end:
            stop = min(start + window, end)
            progress(f"materialising {view.name}: {start:%Y-%m-%d %H:%M} → {stop:%Y-%m-%d %H:%M}")
            store.materialize(start, stop, feature_views=[view.name])
            start, windows = stop, windows + 1
        done.append(Materialized(view.name, begin, end, windows))
    return done
