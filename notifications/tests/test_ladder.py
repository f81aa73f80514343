"""The reminder ladder and eligibility: pure functions, walked day by day."""

import datetime
import zoneinfo

import pytest

from notifications.ladder import (
    DEFAULT_POLICY,
    Channel,
    Delivery,
    Facts,
    Policy,
    Skip,
    backoff,
    current_rung,
    decide,
    digest_due,
    in_send_window,
    next_send_time,
    rungs,
)

CPH = zoneinfo.ZoneInfo("Europe/Copenhagen")
D = datetime.date


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CPH)


def facts(**overrides) -> Facts:
    values = dict(task_open=True, owner_id=1, due_on=D(2026, 4, 1), assigned_on=D(2026, 3, 16),
                  has_email=True, delivery=Delivery.EACH)
    values.update(overrides)
    return Facts(**values)


def walk(start: datetime.date, end: datetime.date, *, hour: int = 9, **overrides):
    """Run the sweep's decision every day at ``hour``, remembering what was decided."""
    decided: list[tuple[datetime.date, str, bool, Channel]] = []
    day = start
    while day <= end:
        decision = decide(facts(**overrides), now=at(day, hour),
                          already_decided=[name for _, name, _, _ in decided])
        if decision.send:
            decided.append((day, decision.rung.name, decision.rung.escalate, decision.channel))
        day += datetime.timedelta(days=1)
    return decided


def test_a_task_climbs_the_whole_ladder_over_easter_and_escalates_after_three_business_days():
    # Due Wednesday 1 April 2026; Maundy Thursday, Good Friday and Easter Monday are holidays,
    # so "3 business days overdue" is Thursday 9 April, and the next rung Tuesday 14 April.
    sent = walk(D(2026, 3, 16), D(2026, 4, 20))
    assert [(day, name, escalate) for day, name, escalate, _ in sent] == [
        (D(2026, 3, 16), "assigned", False),
        (D(2026, 3, 25), "before-7", False),
        (D(2026, 3, 30), "before-2", False),
        (D(2026, 4, 1), "due", False),
        (D(2026, 4, 9), "overdue-3", True),
        (D(2026, 4, 14), "overdue-6", True),
        (D(2026, 4, 17), "overdue-9", True),
    ]
    assert {channel for *_, channel in sent} == {Channel.EMAIL}


def test_nothing_goes_out_in_quiet_hours_and_the_rung_goes_the_next_morning():
    evening = decide(facts(), now=at(D(2026, 3, 25), 21), already_decided=["assigned"])
    assert (evening.rung.name, evening.skip) == ("before-7", Skip.QUIET_HOURS)
    night = decide(facts(), now=at(D(2026, 3, 26), 6, 59), already_decided=["assigned"])
    assert night.skip == Skip.QUIET_HOURS
    morning = decide(facts(), now=at(D(2026, 3, 26), 7, 0), already_decided=["assigned"])
    assert (morning.rung.name, morning.skip, morning.channel) == ("before-7", None,
                                                                  Channel.EMAIL)


def test_a_rung_on_a_weekend_waits_for_monday_but_a_due_day_mail_goes_on_a_saturday():
    # Due Saturday 11 April 2026 (a fixed date need not be a business day).
    due = D(2026, 4, 11)
    saturday = decide(facts(due_on=due), now=at(due), already_decided=["assigned", "before-2"])
    assert (saturday.rung.name, saturday.skip) == ("due", None)
    # 2 days before is Thursday 9 April: a business day; 7 days before is Saturday 4 April.
    weekend = decide(facts(due_on=due), now=at(D(2026, 4, 4)), already_decided=["assigned"])
    assert (weekend.rung.name, weekend.skip) == ("before-7", Skip.NOT_BUSINESS_DAY)
    holiday = decide(facts(due_on=due), now=at(D(2026, 4, 6)), already_decided=["assigned"])
    assert (holiday.rung.name, holiday.skip) == ("before-7", Skip.NOT_BUSINESS_DAY)
    tuesday = decide(facts(due_on=due), now=at(D(2026, 4, 7)), already_decided=["assigned"])
    assert (tuesday.rung.name, tuesday.skip) == ("before-7", None)


def test_each_reason_is_named():
    now = at(D(2026, 3, 25))
    assert decide(facts(task_open=False), now=now).skip == Skip.TASK_DONE
    assert decide(facts(owner_id=None), now=now).skip == Skip.NO_RECIPIENT
    assert decide(facts(due_on=None), now=now).skip == Skip.NO_DEADLINE
    assert decide(facts(assigned_on=D(2026, 3, 26)), now=now).skip == Skip.NOT_YET
    assert decide(facts(), now=now, already_decided=["before-7"]).skip == Skip.ALREADY_SENT
    assert decide(facts(delivery=Delivery.NONE), now=now).skip == Skip.UNSUBSCRIBED
    assert decide(facts(has_email=False), now=now).skip == Skip.NO_EMAIL
    assert decide(facts(snoozed_until=D(2026, 3, 28)), now=now).skip == Skip.SNOOZED


def test_an_assignment_is_announced_for_a_week_not_again_when_a_moved_deadline_restarts():
    fresh = decide(facts(due_on=D(2026, 4, 30)), now=at(D(2026, 3, 23)))
    assert (fresh.rung.name, fresh.skip) == ("assigned", None)
    moved = decide(facts(due_on=D(2026, 4, 30)), now=at(D(2026, 3, 24)))
    assert (moved.rung.name, moved.skip) == ("assigned", Skip.STALE)


def test_snoozing_does_not_silence_a_deadline_within_48_hours():
    decision = decide(facts(snoozed_until=D(2026, 4, 10)), now=at(D(2026, 3, 30)),
                      already_decided=["assigned", "before-7"])
    assert (decision.rung.name, decision.skip) == ("before-2", None)


def test_digest_readers_get_early_rungs_in_the_digest_and_urgent_ones_by_themselves():
    early = decide(facts(delivery=Delivery.WEEKLY), now=at(D(2026, 3, 25)))
    assert (early.rung.name, early.channel, early.skip) == ("before-7", Channel.DIGEST, None)
    # Digest items are collected at any hour; the digest itself keeps to the send window.
    late = decide(facts(delivery=Delivery.DAILY), now=at(D(2026, 3, 25), 22))
    assert (late.channel, late.skip) == (Channel.DIGEST, None)
    urgent = decide(facts(delivery=Delivery.WEEKLY), now=at(D(2026, 3, 30)),
                    already_decided=["assigned", "before-7"])
    assert (urgent.rung.name, urgent.channel) == ("before-2", Channel.EMAIL)
    overdue = decide(facts(delivery=Delivery.DAILY), now=at(D(2026, 4, 9)))
    assert (overdue.rung.name, overdue.channel) == ("overdue-3", Channel.EMAIL)


def test_a_task_assigned_late_skips_the_rungs_before_its_assignment():
    sent = walk(D(2026, 3, 27), D(2026, 4, 2), assigned_on=D(2026, 3, 27))
    assert [name for _, name, _, _ in sent] == ["assigned", "before-2", "due"]
    # Assigned on the day "2 days before": that rung wins over "assigned" the same day.
    same_day = walk(D(2026, 3, 30), D(2026, 3, 31), assigned_on=D(2026, 3, 30))
    assert [name for _, name, _, _ in same_day] == ["before-2"]


def test_only_the_current_rung_is_sent_after_a_pause_not_the_missed_ones():
    decision = decide(facts(), now=at(D(2026, 4, 1)), already_decided=["assigned"])
    assert decision.rung.name == "due"


@pytest.mark.parametrize("policy", [
    DEFAULT_POLICY,
    Policy(on_assignment=False, days_before=(14, 3, 1), overdue_every=2, escalate_after=5),
    Policy(days_before=(), on_due_day=False, overdue_every=0, escalate_after=4),
    Policy(overdue_every=0, escalate_after=0),
])
def test_the_current_rung_is_always_the_last_rung_of_the_ladder_so_far(policy):
    due, assigned = D(2026, 12, 22), D(2026, 11, 30)
    for offset in range(0, 80):
        today = assigned + datetime.timedelta(days=offset)
        ladder = rungs(due_on=due, assigned_on=assigned, policy=policy, until=today)
        expected = ladder[-1] if ladder else None
        assert current_rung(due_on=due, assigned_on=assigned, today=today,
                            policy=policy) == expected, today


def test_customary_closing_days_count_as_closed_when_the_organisation_keeps_them():
    # Due Monday 21 December 2026: with 24 and 31 December closed, the third business day
    # overdue is 28 December (22, 23, 28); without, it is 24 December.
    closed = ((6, 5), (12, 24), (12, 31))
    with_closing = current_rung(due_on=D(2026, 12, 21), assigned_on=D(2026, 12, 1),
                                today=D(2026, 12, 28), closed=closed)
    assert (with_closing.name, with_closing.day) == ("overdue-3", D(2026, 12, 28))
    without = current_rung(due_on=D(2026, 12, 21), assigned_on=D(2026, 12, 1),
                           today=D(2026, 12, 24))
    assert (without.name, without.day) == ("overdue-3", D(2026, 12, 24))


def test_the_send_window_and_the_next_moment_in_it():
    assert in_send_window(at(D(2026, 3, 25), 7), any_day=False)
    assert not in_send_window(at(D(2026, 3, 25), 20), any_day=False)
    assert not in_send_window(at(D(2026, 3, 28), 10), any_day=False)  # Saturday
    assert in_send_window(at(D(2026, 3, 28), 10), any_day=True)
    friday_evening = at(D(2026, 3, 27), 21)
    assert next_send_time(friday_evening, any_day=False) == at(D(2026, 3, 30), 7)
    assert next_send_time(friday_evening, any_day=True) == at(D(2026, 3, 28), 7)
    # Thursday evening before Easter: next business morning is Tuesday 7 April.
    assert next_send_time(at(D(2026, 4, 1), 22), any_day=False) == at(D(2026, 4, 7), 7)
    assert next_send_time(at(D(2026, 3, 25), 6), any_day=False) == at(D(2026, 3, 25), 7)


def test_digests_go_daily_on_business_mornings_and_weekly_on_the_weeks_first_business_day():
    assert digest_due(at(D(2026, 3, 25), 7, 5), Delivery.DAILY)
    assert not digest_due(at(D(2026, 3, 25), 6), Delivery.DAILY)
    assert not digest_due(at(D(2026, 3, 28), 9), Delivery.DAILY)  # Saturday
    assert digest_due(at(D(2026, 3, 23), 9), Delivery.WEEKLY)  # Monday
    assert not digest_due(at(D(2026, 3, 24), 9), Delivery.WEEKLY)
    # Easter Monday 6 April: the week's digest goes on Tuesday 7 April.
    assert not digest_due(at(D(2026, 4, 6), 9), Delivery.WEEKLY)
    assert digest_due(at(D(2026, 4, 7), 9), Delivery.WEEKLY)


def test_retries_back_off_and_are_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(20).total_seconds() == 3600
