"""Time in the synthetic world: the history window, seasonality and daily rhythm.

Applicants live in China (UTC+8) but every timestamp is written in UTC, so local patterns
(evening peaks, festivals) are sampled in local time and shifted. Nothing happens at or
after the cut-off, 00:00Z on the delivery date: a delivery holds everything before the day
it is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from zhongtai.sources.encoding import SECONDS_PER_DAY, civil_from_days

HISTORY_MONTHS = 27  # 24 months of performance plus room for out-of-time validation
CHINA_UTC_OFFSET_S = 8 * 3600
EPOCH = date(1970, 1, 1)

# First day of the lunar new year; borrowing peaks in the weeks before it.
SPRING_FESTIVAL: dict[int, date] = {
    2015: date(2015, 2, 19), 2016: date(2016, 2, 8), 2017: date(2017, 1, 28),
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25),
    2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
    2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}  # fmt: skip

# Relative activity per local hour: quiet at night, busy late morning and evening.
_HOUR_WEIGHTS = np.array(
    [1.0, 0.6, 0.35, 0.25, 0.2, 0.25, 0.5, 1.0, 1.6, 2.2, 2.6, 2.7,
     2.4, 2.3, 2.4, 2.5, 2.4, 2.3, 2.4, 2.8, 3.2, 3.4, 3.0, 2.0]
)  # fmt: skip
_HOUR_CDF = np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (clamped to the month's last day)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    first_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_next - timedelta(days=1)).day))


def epoch_day(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def add_months_days(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Vectorised `add_months` on days since the epoch (monthly instalment due dates)."""
    year, month, day = civil_from_days(days)
    month_index = year * 12 + month - 1 + months
    month_start = (month_index - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    next_start = (month_index + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    days_in_month = (next_start - month_start).astype(np.int64)
    return month_start.astype(np.int64) + np.minimum(day, days_in_month) - 1


@dataclass(frozen=True)
class Calendar:
    """The history window of one delivery and how busy each of its days is."""

    delivery_date: date
    first_day: int  # epoch day of the first day of history
    cutoff_s: int  # 00:00Z on the delivery date; every event is strictly before it
    day_cdf: np.ndarray  # cumulative application volume over the window's local days
    is_festive: np.ndarray  # Spring Festival run-up or Double 11, per day of the window

    @property
    def cutoff_day(self) -> int:
        return self.cutoff_s // SECONDS_PER_DAY

    @property
    def n_days(self) -> int:
        return self.cutoff_day - self.first_day


def _festive_windows(first: date, last: date) -> list[tuple[date, date, float]]:
    """(start, end, volume factor) of the periods when Chinese consumers borrow more."""
    windows = []
    for year in range(first.year, last.year + 1):
        festival = SPRING_FESTIVAL.get(year, date(year, 2, 1))
        windows.append((festival - timedelta(days=21), festival + timedelta(days=3), 1.5))
        windows.append((date(year, 11, 1), date(year, 11, 11), 2.0))  # Double 11
        windows.append((date(year, 6, 1), date(year, 6, 18), 1.25))  # 618 shopping festival
    return windows


@lru_cache(maxsize=16)
def calendar(delivery_date: date) -> Calendar:
    """The 27-month window before `delivery_date`, with seasonal application volume."""
    first = add_months(delivery_date, -HISTORY_MONTHS)
    first_day, cutoff_day = epoch_day(first), epoch_day(delivery_date)
    days = np.arange(first_day, cutoff_day)
    growth = np.linspace(1.0, 1.6, days.size)  # the lender's book grows over the window
    weekday = np.where((days + 3) % 7 >= 5, 0.9, 1.0)  # 1970-01-01 was a Thursday
    season = np.ones(days.size)
    is_festive = np.zeros(days.size, dtype=bool)
    for start, end, factor in _festive_windows(first, delivery_date):
        inside = (days >= epoch_day(start)) & (days <= epoch_day(end))
        season[inside] *= factor
        is_festive |= inside & (factor >= 1.5)
    weights = growth * weekday * season
    return Calendar(
        delivery_date=delivery_date,
        first_day=first_day,
        cutoff_s=cutoff_day * SECONDS_PER_DAY,
        day_cdf=np.cumsum(weights),
        is_festive=is_festive,
    )


def local_second_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after local midnight, following the daily rhythm of app use."""
    hour = np.searchsorted(_HOUR_CDF, rng.random(n), side="right")
    return hour * 3600 + rng.integers(0, 3600, n)


def utc_second_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """A local-time-of-day rhythm expressed within one UTC day (for date-keyed events)."""
    return (local_second_of_day(rng, n) - CHINA_UTC_OFFSET_S) % SECONDS_PER_DAY


def sample_days(rng: np.random.Generator, cal: Calendar, n: int) -> np.ndarray:
    """Epoch days drawn with the window's seasonal volume."""
    draw = rng.random(n) * cal.day_cdf[-1]
    return cal.first_day + np.searchsorted(cal.day_cdf, draw, side="right")


def sample_times(rng: np.random.Generator, cal: Calendar, n: int) -> np.ndarray:
    """UTC seconds of application-like activity: seasonal days, local daily rhythm."""
    local_midnight = sample_days(rng, cal, n) * SECONDS_PER_DAY - CHINA_UTC_OFFSET_S
    return local_midnight + local_second_of_day(rng, n)


def festive_at(cal: Calendar, seconds: np.ndarray) -> np.ndarray:
    """Whether each UTC second falls in a festive period (by local date)."""
    day = (seconds + CHINA_UTC_OFFSET_S) // SECONDS_PER_DAY - cal.first_day
    inside = (day >= 0) & (day < cal.n_days)
    return inside & cal.is_festive[np.clip(day, 0, cal.n_days - 1)]
