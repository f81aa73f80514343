"""Business-day arithmetic on Danish public holidays (pure; the `holidays` package, country DK).

A business day is a weekday that is not a public holiday. Store bededag is a holiday only up to
2023 (the package knows). Many offices also close on Grundlovsdag (5 June), Christmas Eve and
New Year's Eve, which are not public holidays: pass them as ``closed`` days where an
organisation closes (``CUSTOMARY_CLOSING_DAYS`` has them).
"""

import datetime
from collections.abc import Iterable
from functools import lru_cache

import holidays

CUSTOMARY_CLOSING_DAYS = ((6, 5), (12, 24), (12, 31))  # (month, day)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("DK", years=year))


def holiday_name(day: datetime.date) -> str | None:
    """The Danish name of the public holiday on ``day``, or ``None``."""
    return holidays.country_holidays("DK", years=day.year).get(day)


def is_business_day(day: datetime.date, *, closed: Iterable[tuple[int, int]] = ()) -> bool:
    if day.weekday() >= 5:
        return False
    if day in _public_holidays(day.year):
        return False
    return (day.month, day.day) not in set(closed)


def previous_business_day(day: datetime.date, *, closed: Iterable[tuple[int, int]] = ()
                          ) -> datetime.date:
    """``day`` itself when it is a business day, otherwise the nearest business day before."""
    closed = tuple(closed)
    while not is_business_day(day, closed=closed):
        day -= datetime.timedelta(days=1)
    return day


def add_business_days(day: datetime.date, count: int, *,
                      closed: Iterable[tuple[int, int]] = ()) -> datetime.date:
    """Move ``count`` business days forward (negative: backward) from ``day``.

    ``add_business_days(d, 0)`` is ``d``. Counting starts on the next (previous) day, so
    "3 business days before the meeting" is ``add_business_days(meeting, -3)``.
    """
    closed = tuple(closed)
    step = datetime.timedelta(days=1 if count >= 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if is_business_day(day, closed=closed):
            remaining -= 1
    return day


def business_days_between(start: datetime.date, end: datetime.date, *,
                          closed: Iterable[tuple[int, int]] = ()) -> int:
    """Business days after ``start`` up to and including ``end`` (negative if end < start)."""
    closed = tuple(closed)
    if end < start:
        return -business_days_between(end, start, closed=closed)
    days, day = 0, start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_business_day(day, closed=closed):
            days += 1
    return days
