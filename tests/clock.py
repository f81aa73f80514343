"""Frozen time for tests that cross a date: everything in Europe/Copenhagen."""

import datetime
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import time_machine

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """``day`` at ``hour`` o'clock, Copenhagen time."""
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN)


@contextmanager
def frozen_on(day: datetime.date, hour: int = 10):
    """Stop the clock on ``day`` (time still ticks, from there)."""
    with time_machine.travel(at(day, hour)):
        yield


def frozen_before_demo(day: datetime.date, hour: int = 10):
    """An autouse fixture for a module: ``_frozen_today = frozen_before_demo(TODAY)``. Autouse,
    so it is in force before the demo (whose terms are relative to today) loads."""
    import pytest

    @pytest.fixture(autouse=True)
    def _frozen_today():
        with frozen_on(day, hour):
            yield

    return _frozen_today
