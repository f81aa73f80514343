"""The reminder ladder and who gets which reminder when — pure functions, no database.

A task with a deadline climbs a ladder of rungs (default: on assignment, 7 and 2 days before, on
the due day, then every 3 business days while overdue). :func:`current_rung` names the rung a
task stands on today; :func:`decide` says whether a reminder for it goes out now, by e-mail or
in a digest, or why not (a :class:`Skip` reason). Delivery asks :func:`in_send_window` again
just before it sends, because time passes between deciding and sending.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from cycles.business_days import add_business_days, business_days_between, is_business_day

QUIET_FROM = datetime.time(20, 0)  # no e-mail from 20:00 …
QUIET_UNTIL = datetime.time(7, 0)  # … until 07:00, Europe/Copenhagen
URGENT_WITHIN_DAYS = 2  # a deadline within 48 hours always gets its own e-mail
# "On assignment" is news for a week (a long weekend and a holiday fit); after that, e.g. when a
# moved deadline restarts the ladder, the assignment is not announced again.
ASSIGNMENT_NEWS_DAYS = 7


@dataclass(frozen=True)
class QuietHours:
    """No e-mail from ``start`` until ``end`` (local time; the span may cross midnight).
    ``start == end``: no quiet hours."""

    start: datetime.time = QUIET_FROM
    end: datetime.time = QUIET_UNTIL

    def __contains__(self, moment: datetime.time) -> bool:
        if self.start == self.end:
            return False
        if self.start > self.end:  # e.g. 20:00–07:00
            return moment >= self.start or moment < self.end
        return self.start <= moment < self.end

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """ "20:00-07:00" (or "" for none)."""
        if not text.strip():
            return cls(datetime.time(0), datetime.time(0))
        start, end = (datetime.time.fromisoformat(part.strip()) for part in text.split("-"))
        return cls(start, end)


DEFAULT_QUIET = QuietHours()


class Skip(StrEnum):
    """Why no reminder goes out (stored on a skipped notification's ``reason``)."""

    TASK_DONE = "task_done"
    NO_RECIPIENT = "no_recipient"  # the mandate is vacant
    NO_DEADLINE = "no_deadline"
    NOT_YET = "not_yet"  # no rung reached
    STALE = "stale"  # the current rung is the assignment, more than a week ago
    ALREADY_SENT = "already_sent"  # this rung was decided before
    UNSUBSCRIBED = "unsubscribed"
    NO_EMAIL = "no_email"
    SNOOZED = "snoozed"  # the owner snoozed it and the deadline is not close
    QUIET_HOURS = "quiet_hours"
    NOT_BUSINESS_DAY = "not_business_day"
    RECIPIENT_CHANGED = "recipient_changed"  # re-checked at send time
    DEADLINE_MOVED = "deadline_moved"  # re-checked at send time


class Channel(StrEnum):
    EMAIL = "email"
    DIGEST = "digest"


class Delivery(StrEnum):
    """Mirrors NotificationPreference.Delivery (kept free of Django here)."""

    EACH = "each"
    DAILY = "daily"
    WEEKLY = "weekly"
    NONE = "none"


@dataclass(frozen=True)
class Policy:
    on_assignment: bool = True
    days_before: tuple[int, ...] = (7, 2)
    on_due_day: bool = True
    overdue_every: int = 3  # business days; 0: nothing once overdue
    escalate_after: int = 3  # business days overdue; 0: never


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Rung:
    name: str  # "assigned", "before-7", "due", "overdue-3", …
    day: datetime.date
    escalate: bool = False

    @property
    def is_due_day(self) -> bool:
        return self.name == "due"


@lru_cache(maxsize=4096)
def _business_days_overdue(due_on: datetime.date, today: datetime.date,
                           closed: tuple[tuple[int, int], ...]) -> int:
    return business_days_between(due_on, today, closed=closed)


def _overdue_counts(policy: Policy, overdue_days: int) -> list[int]:
    """The overdue rungs (in business days overdue) reached after ``overdue_days``."""
    counts = set()
    if policy.escalate_after and policy.escalate_after <= overdue_days:
        counts.add(policy.escalate_after)
    if policy.overdue_every:
        counts.update(range(policy.overdue_every, overdue_days + 1, policy.overdue_every))
    return sorted(counts)


def _overdue_rung(policy: Policy, count: int, due_on: datetime.date,
                  assigned_on: datetime.date, closed: tuple) -> Rung:
    day = add_business_days(due_on, count, closed=closed)
    escalate = bool(policy.escalate_after) and count >= policy.escalate_after
    return Rung(f"overdue-{count}", max(day, assigned_on), escalate)


def _early_rungs(*, due_on: datetime.date, assigned_on: datetime.date,
                 policy: Policy) -> list[Rung]:
    ladder: list[Rung] = []
    if policy.on_assignment:
        ladder.append(Rung("assigned", assigned_on))
    for days in sorted(set(policy.days_before), reverse=True):
        day = due_on - datetime.timedelta(days=days)
        if days > 0 and assigned_on <= day:
            ladder.append(Rung(f"before-{days}", day))
    if policy.on_due_day and assigned_on <= due_on:
        ladder.append(Rung("due", due_on))
    return ladder


def rungs(*, due_on: datetime.date, assigned_on: datetime.date, policy: Policy,
          until: datetime.date, closed: Iterable[tuple[int, int]] = ()) -> list[Rung]:
    """Every rung from assignment up to ``until``, in order (for schedules and tests). Rungs
    dated before the assignment are dropped: nobody is reminded "7 days before" of a task they
    got 3 days before."""
    closed = tuple(closed)
    ladder = _early_rungs(due_on=due_on, assigned_on=assigned_on, policy=policy)
    if until > due_on:
        overdue_days = _business_days_overdue(due_on, until, closed)
        ladder += [_overdue_rung(policy, count, due_on, assigned_on, closed)
                   for count in _overdue_counts(policy, overdue_days)]
    # Python's sort is stable: on the same day the later rung of the ladder comes last.
    return sorted((r for r in ladder if r.day <= until), key=lambda r: r.day)


def current_rung(*, due_on: datetime.date, assigned_on: datetime.date, today: datetime.date,
                 policy: Policy = DEFAULT_POLICY,
                 closed: Iterable[tuple[int, int]] = ()) -> Rung | None:
    """The rung a task stands on today: the latest one reached, or ``None`` before the first.
    Rungs missed while nothing ran are not sent late; only the current one is. (The same as
    ``rungs(...)[-1]`` without building the whole ladder of a long-overdue task.)"""
    closed = tuple(closed)
    if today > due_on:
        counts = _overdue_counts(policy, _business_days_overdue(due_on, today, closed))
        if counts:
            return _overdue_rung(policy, counts[-1], due_on, assigned_on, closed)
    reached = [r for r in _early_rungs(due_on=due_on, assigned_on=assigned_on, policy=policy)
               if r.day <= today]
    return sorted(reached, key=lambda r: r.day)[-1] if reached else None


def in_send_window(now: datetime.datetime, *, any_day: bool,
                   closed: Iterable[tuple[int, int]] = (),
                   quiet: QuietHours = DEFAULT_QUIET) -> bool:
    """May an e-mail go out at ``now`` (local time)? Never in quiet hours; on weekends and
    holidays only when ``any_day`` (due-day reminders)."""
    if now.time() in quiet:
        return False
    return any_day or is_business_day(now.date(), closed=closed)


def next_send_time(now: datetime.datetime, *, any_day: bool,
                   closed: Iterable[tuple[int, int]] = (),
                   quiet: QuietHours = DEFAULT_QUIET) -> datetime.datetime:
    """The first moment at or after ``now`` (local, aware) inside the send window."""
    if in_send_window(now, any_day=any_day, closed=closed, quiet=quiet):
        return now
    if now.time() in quiet:
        day = now.date() if now.time() < quiet.end else now.date() + datetime.timedelta(days=1)
        start = quiet.end
    else:  # a closed day outside quiet hours: the next open day's first moment
        day, start = now.date() + datetime.timedelta(days=1), quiet.end
    while not (any_day or is_business_day(day, closed=closed)):
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day, start, tzinfo=now.tzinfo)


def is_urgent(rung: Rung, due_on: datetime.date, today: datetime.date) -> bool:
    """Deadlines within 48 hours (and overdue ones) always go as their own e-mail."""
    return (due_on - today).days <= URGENT_WITHIN_DAYS or rung.name.startswith("overdue")


@dataclass(frozen=True)
class Facts:
    """What the sweep knows about one open task and its owner."""

    task_open: bool
    owner_id: int | None
    due_on: datetime.date | None
    assigned_on: datetime.date | None
    has_email: bool
    delivery: Delivery
    snoozed_until: datetime.date | None = None


@dataclass(frozen=True)
class Decision:
    rung: Rung | None
    channel: Channel | None
    skip: Skip | None

    @property
    def send(self) -> bool:
        return self.skip is None


def decide(facts: Facts, *, now: datetime.datetime, policy: Policy = DEFAULT_POLICY,
           already_decided: Iterable[str] = (),
           closed: Iterable[tuple[int, int]] = (),
           quiet: QuietHours = DEFAULT_QUIET) -> Decision:
    """Whether a reminder goes out for this task now, how, or why not.

    ``now`` is local (Europe/Copenhagen); ``already_decided`` holds the rung names recorded
    for this recipient, task and due date.
    """
    if not facts.task_open:
        return Decision(None, None, Skip.TASK_DONE)
    if facts.owner_id is None:
        return Decision(None, None, Skip.NO_RECIPIENT)
    if facts.due_on is None:
        return Decision(None, None, Skip.NO_DEADLINE)
    today = now.date()
    rung = current_rung(due_on=facts.due_on, assigned_on=facts.assigned_on or today,
                        today=today, policy=policy, closed=closed)
    if rung is None:
        return Decision(None, None, Skip.NOT_YET)
    if rung.name == "assigned" and (today - rung.day).days > ASSIGNMENT_NEWS_DAYS:
        return Decision(rung, None, Skip.STALE)
    if rung.name in set(already_decided):
        return Decision(rung, None, Skip.ALREADY_SENT)
    if facts.delivery == Delivery.NONE:
        return Decision(rung, None, Skip.UNSUBSCRIBED)
    if not facts.has_email:
        return Decision(rung, None, Skip.NO_EMAIL)
    urgent = is_urgent(rung, facts.due_on, today)
    if facts.snoozed_until and facts.snoozed_until > today and not urgent:
        return Decision(rung, None, Skip.SNOOZED)
    if not urgent and facts.delivery in (Delivery.DAILY, Delivery.WEEKLY):
        # Collected for the digest; the digest itself keeps to the send window.
        return Decision(rung, Channel.DIGEST, None)
    if now.time() in quiet:
        return Decision(rung, Channel.EMAIL, Skip.QUIET_HOURS)
    if not in_send_window(now, any_day=rung.is_due_day, closed=closed, quiet=quiet):
        return Decision(rung, Channel.EMAIL, Skip.NOT_BUSINESS_DAY)
    return Decision(rung, Channel.EMAIL, None)


def digest_due(now: datetime.datetime, delivery: Delivery,
               closed: Iterable[tuple[int, int]] = (),
               quiet: QuietHours = DEFAULT_QUIET) -> bool:
    """Is today's (daily) or this week's (weekly: the week's first business day) digest due
    at ``now``? Each digest is recorded once per day, so a true answer twice sends once."""
    if not in_send_window(now, any_day=False, closed=closed, quiet=quiet):
        return False
    if delivery == Delivery.DAILY or delivery == Delivery.EACH:
        return True
    if delivery == Delivery.WEEKLY:
        monday = now.date() - datetime.timedelta(days=now.weekday())
        first = monday
        while not is_business_day(first, closed=closed):
            first += datetime.timedelta(days=1)
        return now.date() == first
    return False


def backoff(attempts: int, *, base_seconds: float = 60, cap_seconds: float = 3600
            ) -> datetime.timedelta:
    """Wait before the next attempt after ``attempts`` failures: 1, 2, 4 … minutes, capped."""
    return datetime.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0)))
