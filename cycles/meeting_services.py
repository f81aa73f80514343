"""Writes to the governance calendar: meetings and the organisation's step deadline rules.

Only the operations secretary (``calendar.manage``) writes here; ``actor=None`` is the system
(the demo loader). Every write is audited and sends :data:`cycles.signals.deadlines_changed`
inside its transaction, so the due dates of open tasks follow in the same commit
(workflows.receivers). A meeting's ``sequence`` rises whenever its date, time or place changes
and when it is cancelled, so calendar subscribers replace the event (RFC 5545 SEQUENCE).
"""

import calendar
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from config.errors import Conflict
from cycles import deadlines
from cycles.models import AnnualPlan, Meeting, StepDeadline
from cycles.signals import deadlines_changed
from governance.models import Body, Organisation
from permissions.matrix import Action
from permissions.selectors import can

# A change of one of these raises the meeting's sequence (what a calendar shows of it).
SEQUENCED_FIELDS = ("date", "starts_at", "place")
EDITABLE_FIELDS = ("body", "kind", "date", "starts_at", "place", "plan", "note")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _require(actor, organisation_id: int) -> None:
    if actor is None:  # the system (demo loader, commands)
        return
    if not can(user=actor, action=Action.CALENDAR_MANAGE, organisation_id=organisation_id):
        raise PermissionDenied(_("You do not have permission to do this."))


def _day(value: datetime.date) -> str:
    return value.strftime("%d.%m.%Y")


def _cancelled_conflict(meeting: Meeting) -> Conflict:
    when = timezone.localtime(meeting.cancelled_at).date()
    return Conflict(
        _("The meeting was cancelled on %(date)s and can no longer be changed.")
        % {"date": _day(when)},
        current_state="cancelled", current_state_label=str(_("cancelled")))


def _snapshot(meeting: Meeting) -> dict:
    """The meeting's fields as JSON for the audit trail."""
    return {
        "body": meeting.body_id, "kind": meeting.kind, "date": meeting.date.isoformat(),
        "starts_at": meeting.starts_at.strftime("%H:%M") if meeting.starts_at else None,
        "place": meeting.place, "plan": meeting.plan_id, "note": meeting.note,
    }


def _validate(*, body: Body, plan: AnnualPlan | None, date: datetime.date | None,
              kind: str, place: str) -> None:
    errors: dict[str, list[str]] = {}
    if date is None:
        errors["date"] = [_("Enter the date of the meeting.")]
    elif not FIRST_YEAR <= date.year <= LAST_YEAR:
        errors["date"] = [_("Enter a date between %(first)s and %(last)s.")
                          % {"first": FIRST_YEAR, "last": LAST_YEAR}]
    if kind not in Meeting.Kind.values:
        errors["kind"] = [_("Choose the kind of meeting.")]
    if len(place) > Meeting._meta.get_field("place").max_length:
        errors["place"] = [_("The place can be at most 200 characters long.")]
    if plan is not None and plan.organisation_id != body.organisation_id:
        errors["plan"] = [_("The plan belongs to another organisation than the body.")]
    if errors:
        raise ValidationError(errors)


def _changed(organisation_id: int) -> None:
    deadlines_changed.send(sender=Meeting, organisation_id=organisation_id)


@transaction.atomic
def meeting_create(*, actor, body: Body, date: datetime.date,
                   kind: str = Meeting.Kind.ORDINARY, starts_at: datetime.time | None = None,
                   place: str = "", plan: AnnualPlan | None = None, note: str = "") -> Meeting:
    """A meeting of ``body`` (its organisation's calendar); the deadlines counted from the
    body's meetings move with it."""
    _require(actor, body.organisation_id)
    place, note = place.strip(), note.strip()
    _validate(body=body, plan=plan, date=date, kind=kind, place=place)
    now = timezone.now()
    meeting = Meeting.objects.create(
        organisation_id=body.organisation_id, body=body, kind=kind, date=date,
        starts_at=starts_at, place=place, plan=plan, note=note, created_at=now,
        updated_at=now)
    audit_record(actor=actor, action="meeting.create", obj=meeting,
                 organisation=Organisation(pk=body.organisation_id),
                 summary=_snapshot(meeting))
    _changed(body.organisation_id)
    return meeting


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("body").get(
        pk=meeting.pk)


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, expected_updated_at: datetime.datetime | None
                   = None, **changes) -> Meeting:
    """Change a meeting's fields (any of ``EDITABLE_FIELDS``).

    ``expected_updated_at``: the version the editor saw; if someone saved the meeting since,
    nothing is changed and :class:`Conflict` names the meeting as it is now.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"meeting_update() got unexpected fields: {sorted(unknown)}")
    _require(actor, meeting.organisation_id)
    meeting = _lock(meeting)
    if meeting.cancelled_at is not None:
        raise _cancelled_conflict(meeting)
    if expected_updated_at is not None and meeting.updated_at != expected_updated_at:
        raise Conflict(
            _("Someone else changed the meeting in the meantime: it is now on %(date)s. "
              "Reload the page and make your change again.") % {"date": _day(meeting.date)},
            current_state="changed", current_state_label=_day(meeting.date))
    for text_field in ("place", "note"):
        if text_field in changes:
            changes[text_field] = (changes[text_field] or "").strip()
    body = changes.get("body", meeting.body)
    if body.organisation_id != meeting.organisation_id:
        raise ValidationError({"body": _("Choose a body of the meeting's organisation.")})
    _validate(body=body, plan=changes.get("plan", meeting.plan),
              date=changes.get("date", meeting.date), kind=changes.get("kind", meeting.kind),
              place=changes.get("place", meeting.place))
    before = _snapshot(meeting)
    changed = [name for name, value in changes.items() if getattr(meeting, name) != value]
    if not changed:
        return meeting
    for name in changed:
        setattr(meeting, name, changes[name])
    if set(changed) & set(SEQUENCED_FIELDS):
        meeting.sequence += 1
    meeting.updated_at = timezone.now()
    meeting.save(update_fields=[*changed, "sequence", "updated_at"])
    after = _snapshot(meeting)
    audit_record(actor=actor, action="meeting.update", obj=meeting,
                 organisation=Organisation(pk=meeting.organisation_id),
                 summary={"before": {k: before[k] for k in changed},
                          "after": {k: after[k] for k in changed},
                          "sequence": meeting.sequence})
    _changed(meeting.organisation_id)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting) -> Meeting:
    """Cancel a meeting: it stays in the calendar as cancelled; deadlines counted from it move
    to the body's next meeting (or have none until there is one)."""
    _require(actor, meeting.organisation_id)
    meeting = _lock(meeting)
    if meeting.cancelled_at is not None:
        raise _cancelled_conflict(meeting)
    now = timezone.now()
    meeting.cancelled_at = now
    meeting.sequence += 1
    meeting.updated_at = now
    meeting.save(update_fields=["cancelled_at", "sequence", "updated_at"])
    audit_record(actor=actor, action="meeting.cancel", obj=meeting,
                 organisation=Organisation(pk=meeting.organisation_id),
                 summary={"date": meeting.date.isoformat(), "sequence": meeting.sequence})
    _changed(meeting.organisation_id)
    return meeting


# --- step deadline rules ----------------------------------------------------------------------

def _rule_errors(step: str, rule: deadlines.Rule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    Basis = StepDeadline.Basis
    if rule.basis not in Basis.values:
        return {"basis": [_("Choose how the deadline is set.")]}
    follow_up_step = step in deadlines.FOLLOW_UP_STEPS
    if rule.basis == Basis.MEETING:
        if follow_up_step:
            errors["basis"] = [_("A follow-up step counts from the follow-up's due date, a "
                                 "fixed date, or has no deadline.")]
        elif rule.body_kind not in deadlines.MEETING_BODY_KINDS:
            errors["body_kind"] = [_("Choose the body whose meeting the deadline counts "
                                     "from.")]
    if rule.basis == Basis.FOLLOW_UP and not follow_up_step:
        errors["basis"] = [_("Only the follow-up steps can count from a follow-up's due "
                             "date.")]
    if rule.basis in (Basis.MEETING, Basis.FOLLOW_UP) and not (
            -deadlines.MAX_OFFSET <= rule.offset_business_days <= deadlines.MAX_OFFSET):
        errors["offset_business_days"] = [
            _("Enter a number of business days between -%(max)s and %(max)s.")
            % {"max": deadlines.MAX_OFFSET}]
    if rule.basis == Basis.FIXED:
        if rule.fixed_month is None or not 1 <= rule.fixed_month <= 12:
            errors["fixed_month"] = [_("Enter a month from 1 to 12.")]
        elif rule.fixed_day is None or not (
                # 2000 was a leap year: 29.02 is allowed (it is 28.02 in other years).
                1 <= rule.fixed_day <= calendar.monthrange(2000, rule.fixed_month)[1]):
            errors["fixed_day"] = [_("Enter a day that exists in the month.")]
        if rule.fixed_year_offset not in deadlines.YEAR_OFFSETS:
            errors["fixed_year_offset"] = [_("Choose the year.")]
    return errors


def _normalised(rule: deadlines.Rule) -> deadlines.Rule:
    """Only the fields the basis uses are kept."""
    Basis = StepDeadline.Basis
    return deadlines.Rule(
        basis=rule.basis,
        body_kind=rule.body_kind if rule.basis == Basis.MEETING else "",
        offset_business_days=(rule.offset_business_days
                              if rule.basis in (Basis.MEETING, Basis.FOLLOW_UP) else 0),
        fixed_month=rule.fixed_month if rule.basis == Basis.FIXED else None,
        fixed_day=rule.fixed_day if rule.basis == Basis.FIXED else None,
        fixed_year_offset=rule.fixed_year_offset if rule.basis == Basis.FIXED else 0)


@transaction.atomic
def step_deadline_save(*, actor, organisation: Organisation, step: str, basis: str,
                       body_kind: str = "", offset_business_days: int = 0,
                       fixed_month: int | None = None, fixed_day: int | None = None,
                       fixed_year_offset: int = 0) -> StepDeadline:
    """Store the organisation's deadline rule for ``step``; open tasks of the step follow."""
    _require(actor, organisation.pk)
    if step not in deadlines.STEPS:
        raise ValidationError({"step": _("There is no such step.")})
    rule = deadlines.Rule(basis=basis, body_kind=body_kind or "",
                          offset_business_days=offset_business_days or 0,
                          fixed_month=fixed_month, fixed_day=fixed_day,
                          fixed_year_offset=fixed_year_offset or 0)
    errors = _rule_errors(step, rule)
    if errors:
        raise ValidationError(errors)
    rule = _normalised(rule)
    current = (StepDeadline.objects.select_for_update()
               .filter(organisation=organisation, step=step).first())
    before = (deadlines.Rule.from_row(current) if current is not None
              else deadlines.DEFAULT_RULES[step])
    if current is None:
        current = StepDeadline(organisation=organisation, step=step)
    for name, value in rule.as_fields().items():
        setattr(current, name, value)
    current.save()
    audit_record(actor=actor, action="step_deadline.save", obj=current,
                 organisation=organisation,
                 summary={"step": step, "before": before.as_fields(),
                          "after": rule.as_fields()})
    deadlines_changed.send(sender=StepDeadline, organisation_id=organisation.pk)
    return current


@transaction.atomic
def step_deadline_reset(*, actor, organisation: Organisation, step: str) -> None:
    """Back to the default rule for ``step`` (the stored rule is removed)."""
    _require(actor, organisation.pk)
    current = (StepDeadline.objects.select_for_update()
               .filter(organisation=organisation, step=step).first())
    if current is None:
        return
    before = deadlines.Rule.from_row(current)
    audit_record(actor=actor, action="step_deadline.reset", obj=current,
                 organisation=organisation,
                 summary={"step": step, "before": before.as_fields(),
                          "after": deadlines.DEFAULT_RULES[step].as_fields()})
    current.delete()
    deadlines_changed.send(sender=StepDeadline, organisation_id=organisation.pk)
