"""Step deadlines: when each step of the cycle is due.

Every step (a human node of ``AnnualPlanFlow`` or ``FollowUpFlow``, by name) has a *rule*: the
organisation's :class:`~cycles.models.StepDeadline` row, or :data:`DEFAULT_RULES`. A rule counts
business days from a meeting of one of the organisation's bodies (``meeting``), from the
follow-up case's due date (``follow_up``), names a fixed day of the plan's year (``fixed``), or
gives no deadline (``none``). A date that is not a business day moves to the business day
before (Danish public holidays, and the customary closing days where the organisation keeps
them: ``CycleSettings.closes_on_customary_days``).

:func:`due_date` and :func:`pick_meeting` are pure. :func:`step_due_on` reads what one task
needs (at most three queries); :class:`OrganisationDeadlines` reads an organisation's rules,
closing days and meetings once (three queries) and then answers for any number of tasks — the
settings page and ``workflows.services.refresh_due_dates`` use it. The reminder sweep never
computes deadlines: it reads ``TaskMandate.due_on``.

Which meeting a ``meeting`` rule counts from: a meeting that is not cancelled, of the
organisation's body of the rule's kind, on or after ``start_day`` (the day the task was
created), preferring one that has this plan on its agenda, else one with no plan; meetings that
treat another plan never count. No such meeting: no deadline yet.
"""

import calendar
import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cycles.business_days import CUSTOMARY_CLOSING_DAYS, add_business_days, previous_business_day
from cycles.models import StepDeadline

Basis = StepDeadline.Basis

# The steps, by the names of the flows' human nodes (workflows/flows.py), in cycle order.
PLAN_STEPS = ("draft", "review", "committee", "board", "presentation", "evaluation")
FOLLOW_UP_STEPS = ("prepare", "acknowledge", "close")
STEPS = PLAN_STEPS + FOLLOW_UP_STEPS

STEP_LABELS = {
    "draft": _("Draft ready"),
    "review": _("The follow-up group's review closed"),
    "committee": _("The operations committee's sign-off"),
    "board": _("The organisation board's sign-off"),
    "presentation": _("Presentation to the representatives' council"),
    "evaluation": _("The follow-up group's evaluation"),
    "prepare": _("Follow-up prepared for the department board"),
    "acknowledge": _("Follow-up acknowledged by the department board"),
    "close": _("Follow-up closed"),
}

# The bodies whose meetings a plan step may count from (one per organisation; a department
# board's meetings belong to its department, not to the organisation's calendar of steps).
MEETING_BODY_KINDS = ("follow_up_group", "operations_committee", "organisation_board",
                      "representative_council")
MAX_OFFSET = 60  # business days, either way
YEAR_OFFSETS = (-1, 0, 1)


@dataclass(frozen=True)
class Rule:
    """A deadline rule (the fields of :class:`~cycles.models.StepDeadline` without its keys)."""

    basis: str
    body_kind: str = ""
    offset_business_days: int = 0
    fixed_month: int | None = None
    fixed_day: int | None = None
    fixed_year_offset: int = 0

    @classmethod
    def from_row(cls, row: StepDeadline) -> "Rule":
        return cls(basis=row.basis, body_kind=row.body_kind,
                   offset_business_days=row.offset_business_days, fixed_month=row.fixed_month,
                   fixed_day=row.fixed_day, fixed_year_offset=row.fixed_year_offset)

    def as_fields(self) -> dict:
        return {"basis": self.basis, "body_kind": self.body_kind,
                "offset_business_days": self.offset_business_days,
                "fixed_month": self.fixed_month, "fixed_day": self.fixed_day,
                "fixed_year_offset": self.fixed_year_offset}


DEFAULT_RULES: dict[str, Rule] = {
    # The draft is ready two weeks before the follow-up group meets on it.
    "draft": Rule(Basis.MEETING, "follow_up_group", -10),
    # The review is closed when the operations committee's papers go out.
    "review": Rule(Basis.MEETING, "operations_committee", -8),
    "committee": Rule(Basis.MEETING, "operations_committee", 0),
    "board": Rule(Basis.MEETING, "organisation_board", 0),
    "presentation": Rule(Basis.MEETING, "representative_council", 0),
    "evaluation": Rule(Basis.MEETING, "follow_up_group", 0),
    # Around the follow-up case's due date (the department board's meeting).
    "prepare": Rule(Basis.FOLLOW_UP, offset_business_days=-10),
    "acknowledge": Rule(Basis.FOLLOW_UP, offset_business_days=0),
    "close": Rule(Basis.FOLLOW_UP, offset_business_days=15),
}


def closed_days(closes_on_customary_days: bool) -> tuple[tuple[int, int], ...]:
    return CUSTOMARY_CLOSING_DAYS if closes_on_customary_days else ()


def fixed_date(year: int, month: int, day: int) -> datetime.date:
    """``day``.``month``.``year``; a day past the month's end is its last day (29.02 → 28.02)."""
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_date(rule: Rule, *, meeting_day: datetime.date | None = None,
             follow_up_due: datetime.date | None = None, plan_year: int | None = None,
             closed: Iterable[tuple[int, int]] = ()) -> datetime.date | None:
    """The date a rule gives, or ``None`` when what it counts from is not known (yet).

    Pure. ``closed``: closing days (month, day) besides weekends and public holidays. The
    result is always a business day: one that is not moves to the business day before.
    """
    closed = tuple(closed)
    if rule.basis == Basis.MEETING:
        start = meeting_day
    elif rule.basis == Basis.FOLLOW_UP:
        start = follow_up_due
    elif rule.basis == Basis.FIXED:
        if plan_year is None or not rule.fixed_month or not rule.fixed_day:
            return None
        return previous_business_day(
            fixed_date(plan_year + rule.fixed_year_offset, rule.fixed_month, rule.fixed_day),
            closed=closed)
    else:
        return None
    if start is None:
        return None
    day = add_business_days(start, rule.offset_business_days, closed=closed)
    return previous_business_day(day, closed=closed)


@dataclass(frozen=True)
class MeetingDay:
    """What choosing a meeting needs to know of it."""

    date: datetime.date
    body_kind: str
    plan_id: int | None


def pick_meeting(meetings: Iterable[MeetingDay], *, body_kind: str, plan_id: int | None,
                 start_day: datetime.date) -> datetime.date | None:
    """The day of the meeting a step counts from (pure; ``meetings`` are not cancelled).

    Of the meetings of ``body_kind`` on or after ``start_day``: the first that has the plan on
    its agenda, else the first with no plan; ``None`` when there is neither.
    """
    candidates = [m for m in meetings
                  if m.body_kind == body_kind and m.date >= start_day
                  and (m.plan_id is None or m.plan_id == plan_id)]
    if not candidates:
        return None
    return min(candidates, key=lambda m: (m.plan_id is None, m.date)).date


def describe(rule: Rule, body_names: dict[str, str] | None = None) -> str:
    """The rule in words, for the settings page. ``body_names``: the organisation's body of
    each kind by name ("Driftsudvalget"); without it, the kind's name."""
    from governance.models import Body

    days = abs(rule.offset_business_days)
    if rule.basis == Basis.MEETING:
        body = (body_names or {}).get(rule.body_kind) or (
            Body.Kind(rule.body_kind).label if rule.body_kind in Body.Kind.values
            else rule.body_kind)
        if rule.offset_business_days < 0:
            text = ngettext("%(days)d business day before the meeting of %(body)s",
                            "%(days)d business days before the meeting of %(body)s", days)
        elif rule.offset_business_days > 0:
            text = ngettext("%(days)d business day after the meeting of %(body)s",
                            "%(days)d business days after the meeting of %(body)s", days)
        else:
            text = str(_("On the day of the meeting of %(body)s"))
        return text % {"days": days, "body": body}
    if rule.basis == Basis.FOLLOW_UP:
        if rule.offset_business_days < 0:
            text = ngettext("%(days)d business day before the follow-up's due date",
                            "%(days)d business days before the follow-up's due date", days)
        elif rule.offset_business_days > 0:
            text = ngettext("%(days)d business day after the follow-up's due date",
                            "%(days)d business days after the follow-up's due date", days)
        else:
            text = str(_("On the follow-up's due date"))
        return text % {"days": days}
    if rule.basis == Basis.FIXED:
        which = {-1: _("the year before the plan's year"), 0: _("the plan's year"),
                 1: _("the year after the plan's year")}.get(rule.fixed_year_offset,
                                                             _("the plan's year"))
        return str(_("%(day)02d.%(month)02d of %(which)s")) % {
            "day": rule.fixed_day or 0, "month": rule.fixed_month or 0, "which": which}
    return str(_("No deadline"))


# --- reading from the database --------------------------------------------------------------

def _stored_rules(organisation_id: int, steps: Iterable[str] | None = None) -> dict[str, Rule]:
    rows = StepDeadline.objects.filter(organisation_id=organisation_id)
    if steps is not None:
        rows = rows.filter(step__in=list(steps))
    return {row.step: Rule.from_row(row) for row in rows}


def _closed_for(organisation_id: int) -> tuple[tuple[int, int], ...]:
    from cycles.models import CycleSettings

    closes = (CycleSettings.objects.filter(organisation_id=organisation_id)
              .values_list("closes_on_customary_days", flat=True).first())
    return closed_days(True if closes is None else closes)


def _meetings(organisation_id: int, **filters) -> list[MeetingDay]:
    from cycles.models import Meeting

    rows = (Meeting.objects.filter(organisation_id=organisation_id, cancelled_at__isnull=True,
                                   **filters)
            .values_list("date", "body__kind", "plan_id"))
    return [MeetingDay(date, kind, plan_id) for date, kind, plan_id in rows]


def rule_for(*, step: str, organisation_id: int) -> Rule | None:
    """The organisation's rule for ``step``: its own, else the default. One query."""
    stored = _stored_rules(organisation_id, [step])
    return stored.get(step) or DEFAULT_RULES.get(step)


def step_due_on(*, step: str, organisation_id: int, plan, follow_up=None,
                start_day: datetime.date) -> datetime.date | None:
    """The deadline of a task of ``step`` created on ``start_day``; ``None``: no deadline yet.

    Queries: the organisation's rule for the step (1); for a meeting rule, the meetings of the
    rule's body from ``start_day`` on that may count (1); the organisation's closing days (1,
    only when there is something to count from). Used when a task is created.
    """
    rule = rule_for(step=step, organisation_id=organisation_id)
    if rule is None or rule.basis == Basis.NONE:
        return None
    meeting_day = None
    if rule.basis == Basis.MEETING:
        meetings = _meetings(organisation_id, body__kind=rule.body_kind, date__gte=start_day)
        meeting_day = pick_meeting(meetings, body_kind=rule.body_kind,
                                   plan_id=getattr(plan, "pk", None), start_day=start_day)
        if meeting_day is None:
            return None
    follow_up_due = follow_up.due_on if follow_up is not None else None
    if rule.basis == Basis.FOLLOW_UP and follow_up_due is None:
        return None
    return due_date(rule, meeting_day=meeting_day, follow_up_due=follow_up_due,
                    plan_year=getattr(plan, "year", None), closed=_closed_for(organisation_id))


class OrganisationDeadlines:
    """An organisation's rules, closing days and meetings, read once (three queries); then
    :meth:`due_on` answers for any number of tasks without a query."""

    def __init__(self, organisation_id: int):
        self.organisation_id = organisation_id
        self.stored = _stored_rules(organisation_id)
        self.closed = _closed_for(organisation_id)
        self.meetings = _meetings(organisation_id)

    def rule(self, step: str) -> Rule | None:
        return self.stored.get(step) or DEFAULT_RULES.get(step)

    def is_default(self, step: str) -> bool:
        return step not in self.stored

    def due_on(self, *, step: str, plan_id: int | None, plan_year: int | None,
               follow_up_due: datetime.date | None, start_day: datetime.date
               ) -> datetime.date | None:
        rule = self.rule(step)
        if rule is None:
            return None
        meeting_day = None
        if rule.basis == Basis.MEETING:
            meeting_day = pick_meeting(self.meetings, body_kind=rule.body_kind,
                                       plan_id=plan_id, start_day=start_day)
        return due_date(rule, meeting_day=meeting_day, follow_up_due=follow_up_due,
                        plan_year=plan_year, closed=self.closed)

    def plan_calendar(self, *, plan_id: int, plan_year: int, start_day: datetime.date
                      ) -> dict[str, datetime.date | None]:
        """The plan steps' deadlines as they would fall if the plan went through the cycle
        from ``start_day``: each step begins when the one before is due (as its task would),
        so the evaluation counts from the follow-up group's meeting after the presentation,
        not from the one on the draft."""
        dates: dict[str, datetime.date | None] = {}
        day = start_day
        for step in PLAN_STEPS:
            dates[step] = self.due_on(step=step, plan_id=plan_id, plan_year=plan_year,
                                      follow_up_due=None, start_day=day)
            day = max(day, dates[step] or day)
        return dates

