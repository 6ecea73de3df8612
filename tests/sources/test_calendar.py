"""The world's calendar moves with the as-of date, but no day gives a thinner evidence window."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from zhongtai.sources.calendar import add_months, calendar, epoch_day


def _share(as_of: date, months_back: tuple[int, int]) -> float:
    """Share of the window's application volume between two month offsets before as_of."""
    cal = calendar(as_of)
    start, end = (epoch_day(add_months(as_of, -m)) - cal.first_day for m in months_back)
    volume = np.diff(cal.day_cdf, prepend=0.0)
    return float(volume[start:end].sum() / volume.sum())


def test_the_out_of_time_window_holds_a_steady_share_of_applications_on_every_day() -> None:
    # Labels of first-payment default mature about two months after an application; the
    # out-of-time sample is the three months before that. Festivals and weekdays move
    # volume around, but on no day of two years does that window thin out.
    days = [date(2026, 1, 1) + timedelta(days=d) for d in range(0, 730, 3)]
    shares = np.array([_share(day, (5, 2)) for day in days])
    assert shares.min() > 0.8 * np.median(shares), days[int(shares.argmin())]
    assert shares.max() < 1.25 * np.median(shares), days[int(shares.argmax())]


def test_the_window_ends_at_the_as_of_cutoff() -> None:
    cal = calendar(date(2027, 2, 6))  # the Spring Festival itself
    assert cal.cutoff_day == epoch_day(date(2027, 2, 6))
    assert cal.delivery_date == date(2027, 2, 6)
