"""A small lender's world delivered on two days, as the warehouse tests' raw zone."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from zhongtai.contracts import declared_sources
from zhongtai.settings import Settings
from zhongtai.sources.generator import generate
from zhongtai.sources.german_credit import land_german_credit_file

SOURCES = declared_sources()

DAY_ONE = date(2026, 11, 22)
DAY_TWO = date(2026, 11, 23)


def deliver_two_days(settings: Settings, *, applicants: int = 1200, seed: int = 13) -> None:
    """Generate one world in two chunks; chunk 0 is delivered on day one, chunk 1 on day two."""
    generate(
        settings.inbox_dir,
        applicants=applicants,
        seed=seed,
        delivery_date=DAY_ONE,
        chunk_size=applicants // 2,
    )
    land_german_credit_file(settings.inbox_dir, DAY_ONE)
    for source in SOURCES:
        later = settings.inbox_dir / DAY_ONE.isoformat() / source / "part-00001.csv"
        if later.exists():
            target = settings.inbox_dir / DAY_TWO.isoformat() / source
            target.mkdir(parents=True, exist_ok=True)
            shutil.move(later, target / later.name)


def day_dir(settings: Settings, day: date) -> Path:
    return settings.inbox_dir / day.isoformat()
