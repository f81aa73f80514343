"""Writes to an organisation's reminder ladders (``ReminderPolicy``).

The operations secretary (``calendar.manage``) sets a ladder per step, or the organisation's
general one (``step=""``, for every step without its own). The sweep reads them
(notifications.selectors.Policies); only these services write them, audited.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from cycles.deadlines import STEPS
from governance.models import Organisation
from notifications.models import ReminderPolicy
from permissions.matrix import Action
from permissions.selectors import can

MAX_DAYS_BEFORE = 60
MAX_BUSINESS_DAYS = 30  # for "every … business days while overdue" and "escalate after …"
FIELDS = ("on_assignment", "days_before", "on_due_day", "overdue_every_business_days",
          "escalate_after_business_days")


def parse_days_before(text: str) -> tuple[int, ...]:
    """``"7, 2"`` → ``(7, 2)``: distinct whole numbers from 1 to 60, largest first.

    Empty: no reminders before the due day. Raises ``ValidationError`` naming the bad part.
    """
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= MAX_DAYS_BEFORE:
            raise ValidationError(
                _("“%(part)s” is not a number of days from 1 to %(max)s. Separate the days "
                  "with commas, e.g. 7,2.") % {"part": part, "max": MAX_DAYS_BEFORE})
        days.add(int(part))
    return tuple(sorted(days, reverse=True))


def _row(policy: ReminderPolicy | None) -> dict | None:
    if policy is None:
        return None
    return {name: getattr(policy, name) for name in FIELDS}


def _require(actor, organisation: Organisation) -> None:
    if actor is not None and not can(user=actor, action=Action.CALENDAR_MANAGE,
                                     organisation_id=organisation.pk):
        raise PermissionDenied(_("You do not have permission to do this."))


def _check_step(step: str) -> None:
    if step != "" and step not in STEPS:
        raise ValidationError({"step": _("There is no such step.")})


@transaction.atomic
def reminder_policy_save(*, actor, organisation: Organisation, step: str = "",
                         on_assignment: bool = True, days_before: str = "7,2",
                         on_due_day: bool = True, overdue_every_business_days: int = 3,
                         escalate_after_business_days: int = 3) -> ReminderPolicy:
    """Store the organisation's reminder ladder for ``step`` ("" = every step without its own)."""
    _require(actor, organisation)
    _check_step(step)
    errors: dict[str, list[str]] = {}
    try:
        days = parse_days_before(days_before)
    except ValidationError as error:
        errors["days_before"] = error.messages
        days = ()
    for name, value in (("overdue_every_business_days", overdue_every_business_days),
                        ("escalate_after_business_days", escalate_after_business_days)):
        if value is None or not 0 <= value <= MAX_BUSINESS_DAYS:
            errors[name] = [_("Enter a number of business days from 0 to %(max)s.")
                            % {"max": MAX_BUSINESS_DAYS}]
    if errors:
        raise ValidationError(errors)
    current = (ReminderPolicy.objects.select_for_update()
               .filter(organisation=organisation, step=step).first())
    before = _row(current)
    policy = current or ReminderPolicy(organisation=organisation, step=step)
    policy.on_assignment = bool(on_assignment)
    policy.days_before = ",".join(str(day) for day in days)
    policy.on_due_day = bool(on_due_day)
    policy.overdue_every_business_days = overdue_every_business_days
    policy.escalate_after_business_days = escalate_after_business_days
    policy.save()
    audit_record(actor=actor, action="reminder_policy.save", obj=policy,
                 organisation=organisation,
                 summary={"step": step, "before": before, "after": _row(policy)})
    return policy


@transaction.atomic
def reminder_policy_reset(*, actor, organisation: Organisation, step: str = "") -> None:
    """Remove the organisation's ladder for ``step``: the general one (or the default) applies."""
    _require(actor, organisation)
    _check_step(step)
    current = (ReminderPolicy.objects.select_for_update()
               .filter(organisation=organisation, step=step).first())
    if current is None:
        return
    audit_record(actor=actor, action="reminder_policy.reset", obj=current,
                 organisation=organisation, summary={"step": step, "before": _row(current)})
    current.delete()
