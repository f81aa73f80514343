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
