import datetime

import pytest

from cycles.business_days import (
    CUSTOMARY_CLOSING_DAYS,
    add_business_days,
    business_days_between,
    holiday_name,
    is_business_day,
    previous_business_day,
)


def d(text: str) -> datetime.date:
    return datetime.datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007


@pytest.mark.parametrize(("day", "expected"), [
    ("26.11.2026", True),    # a Thursday
    ("28.11.2026", False),   # Saturday
    ("02.04.2026", False),   # Skærtorsdag
    ("14.05.2026", False),   # Kristi himmelfartsdag
    ("05.05.2023", False),   # Store bededag, still a holiday in 2023
    ("26.04.2024", True),    # ... and no longer from 2024
    ("05.06.2026", True),    # Grundlovsdag is not a public holiday
    ("24.12.2026", True),    # nor is Christmas Eve
])
def test_business_days_follow_the_danish_public_holidays(day, expected):
    assert is_business_day(d(day)) is expected


def test_customary_closing_days_can_be_added():
    assert not is_business_day(d("24.12.2026"), closed=CUSTOMARY_CLOSING_DAYS)
    assert not is_business_day(d("05.06.2026"), closed=CUSTOMARY_CLOSING_DAYS)


def test_holiday_names_are_danish():
    assert holiday_name(d("25.12.2026")) == "Juledag"
    assert holiday_name(d("26.11.2026")) is None


@pytest.mark.parametrize(("day", "expected"), [
    ("30.06.2026", "30.06.2026"),  # a Tuesday: unchanged
    ("15.12.2024", "13.12.2024"),  # a Sunday → Friday
    ("06.04.2026", "01.04.2026"),  # Anden påskedag → before Skærtorsdag and Langfredag
    ("26.12.2026", "24.12.2026"),  # Anden juledag (Saturday) → Christmas Eve (Thursday)
])
def test_previous_business_day_steps_back_over_weekends_and_holidays(day, expected):
    assert previous_business_day(d(day)) == d(expected)


def test_previous_business_day_with_closing_days():
    assert previous_business_day(d("26.12.2026"), closed=CUSTOMARY_CLOSING_DAYS) == d("23.12.2026")


def test_adding_business_days_skips_easter():
    assert add_business_days(d("01.04.2026"), 1) == d("07.04.2026")
    assert add_business_days(d("07.04.2026"), -1) == d("01.04.2026")
    assert add_business_days(d("26.11.2026"), 0) == d("26.11.2026")
    assert add_business_days(d("27.11.2026"), 3) == d("02.12.2026")


def test_business_days_between_counts_the_end_day_not_the_start():
    assert business_days_between(d("27.11.2026"), d("02.12.2026")) == 3
    assert business_days_between(d("02.12.2026"), d("27.11.2026")) == -3
    assert business_days_between(d("01.04.2026"), d("07.04.2026")) == 1
