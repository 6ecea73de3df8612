"""What the warehouse has already taken in: the raw ingest dates of published builds.

The raw and staging gates check only the partitions not yet published, so that a daily
run reads one day of data, not the whole history. ``mark_published`` is called once the
marts of a build are published; until the first call every raw partition is pending.

State: ``<quality_dir>/published.json`` (small, rewritten atomically).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from zhongtai.atomic import replacing
from zhongtai.contracts import declared_sources
from zhongtai.settings import Settings

_PARTITION = re.compile(r"^ingest_date=(\d{4}-\d{2}-\d{2})$")


def published_path(settings: Settings) -> Path:
    return settings.quality_dir / "published.json"


def raw_ingest_dates(settings: Settings, source: str | None = None) -> list[date]:
    """Every ingest date with a partition in the raw zone (of one source, or of any)."""
    dates: set[date] = set()
    for name in (source,) if source else declared_sources(settings):
        folder = settings.raw_dir / name
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            match = _PARTITION.match(child.name)
            if match and child.is_dir():
                dates.add(date.fromisoformat(match.group(1)))
    return sorted(dates)


def published_ingest_dates(settings: Settings) -> list[date]:
    path = published_path(settings)
    if not path.is_file():
        return []
    try:
        state = json.loads(path.read_text())
        return sorted(date.fromisoformat(value) for value in state["ingest_dates"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is not a publication record ({error}); restore it, or delete it to "
            "check every raw partition again"
        ) from error


def last_published_ingest_date(settings: Settings) -> date | None:
    published = published_ingest_dates(settings)
    return published[-1] if published else None


def pending_ingest_dates(settings: Settings) -> list[date]:
    """Raw ingest dates after the last published one (all of them before the first publish)."""
    last = last_published_ingest_date(settings)
    return [day for day in raw_ingest_dates(settings) if last is None or day > last]


def mark_published(
    settings: Settings, ingest_dates: Iterable[date | str], *, now: datetime | None = None
) -> list[date]:
    """Record that the warehouse has taken in ``ingest_dates``; return every published date.

    Pass the ``ingest_dates`` of the raw gate's summary: those are the partitions that were
    checked before the build, so a partition landed during the build stays pending.
    """
    new = {day if isinstance(day, date) else date.fromisoformat(day) for day in ingest_dates}
    published = sorted(set(published_ingest_dates(settings)) | new)
    state = {
        "ingest_dates": [day.isoformat() for day in published],
        "last_published_ingest_date": published[-1].isoformat() if published else None,
        "updated_at": (now or datetime.now(UTC)).isoformat(),
    }
    with replacing(published_path(settings)) as partial:
        partial.write_text(json.dumps(state, indent=2) + "\n")
    return published
