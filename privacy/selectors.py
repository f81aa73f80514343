"""Reads for personal data: everything Årshjul holds about one person (the export), whether a
person can be erased, and what the retention periods reach.

The export names other people by id only: it is one person's data, and a co-member's name or
address is not theirs to take away.
"""

import datetime
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from governance.models import Membership, Person, SigningAuthorisation, StaffAssignment

EXPORT_FORMAT = "aarshjul.person-data"
EXPORT_VERSION = 1

# An erased person keeps their row (every record that points at them stays intact) under this
# name; the username becomes ERASED_USERNAME_PREFIX + id.
ERASED_FIRST_NAME = "Slettet person"
ERASED_USERNAME_PREFIX = "slettet-"


def person_data_json(data: dict) -> bytes:
    """The export as the file the page and the command write (UTF-8, indented)."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")


def erased_username(person_id: int) -> str:
    return f"{ERASED_USERNAME_PREFIX}{person_id}"


def is_erased(person: Person) -> bool:
    return person.username == erased_username(person.pk)


def _when(value: datetime.datetime | None) -> str | None:
    """A moment as ISO 8601 in Copenhagen time (with its offset)."""
    return timezone.localtime(value).isoformat() if value else None


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


# --- the export ---------------------------------------------------------------------------------

def person_data(*, person: Person) -> dict:
    """Everything Årshjul holds about ``person``, as JSON types with stable keys.

    Sections are lists ordered by id (or one object), dates ISO 8601; secrets (password hash,
    calendar and API tokens, unsubscribe links) are left out. Other people appear as ids.
    About 25 queries, whatever the amount of data.
    """
    with translation.override(person.language or settings.LANGUAGE_CODE):
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "generated_at": _when(timezone.now()),
            "person": person.pk,
            "profile": _profile(person),
            "memberships": _memberships(person),
            "staff_assignments": _staff_assignments(person),
            "signing_authorisations": _signing_authorisations(person),
            "delegations_given": _delegations(person, given=True),
            "delegations_received": _delegations(person, given=False),
            "tasks_owned": _tasks(person, open_=True),
            "tasks_completed": _tasks(person, open_=False),
            "initiatives_owned": _initiatives(person),
            "plan_comments": _plan_comments(person),
            "task_comments": _task_comments(person),
            "board_remarks": _board_remarks(person),
            "board_remark_answers": _board_remark_answers(person),
            "follow_ups_acknowledged": _follow_ups_acknowledged(person),
            "rollouts_presented": _rollouts_presented(person),
            "initiative_evaluations": _evaluations(person),
            "sign_offs": _sign_offs(person),
            "notifications": _notifications(person),
            "preferences": _preferences(person),
            "calendar_feeds": _calendar_feeds(person),
            "api_tokens": _api_tokens(person),
            "sign_ins": _sign_ins(person),
            "failed_sign_ins": _failed_sign_ins(person),
            "audit_entries": _audit_entries(person),
        }


EXPORT_SECTIONS = (
    "profile", "memberships", "staff_assignments", "signing_authorisations",
    "delegations_given", "delegations_received", "tasks_owned", "tasks_completed",
    "initiatives_owned", "plan_comments", "task_comments", "board_remarks",
    "board_remark_answers", "follow_ups_acknowledged", "rollouts_presented",
    "initiative_evaluations", "sign_offs", "notifications", "preferences", "calendar_feeds",
    "api_tokens", "sign_ins", "failed_sign_ins", "audit_entries",
)


def _profile(person: Person) -> dict:
    return {
        "id": person.pk,
        "username": person.username,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "language": person.language,
        "is_active": person.is_active,
        "date_joined": _when(person.date_joined),
        "last_login": _when(person.last_login),
    }


def _memberships(person: Person) -> list[dict]:
    rows = (Membership.objects.filter(person=person)
            .select_related("body__organisation").order_by("pk"))
    return [{"id": m.pk, "organisation": m.body.organisation.name, "body_id": m.body_id,
             "body": m.body.name, "role": m.role, "role_label": str(m.get_role_display()),
             "starts_on": _day(m.starts_on), "ends_on": _day(m.ends_on)} for m in rows]


def _staff_assignments(person: Person) -> list[dict]:
    rows = (StaffAssignment.objects.filter(person=person)
            .select_related("organisation", "operations_area").order_by("pk"))
    return [{"id": a.pk, "organisation": a.organisation.name,
             "operations_area": a.operations_area.name if a.operations_area else None,
             "role": a.role, "role_label": str(a.get_role_display()),
             "starts_on": _day(a.starts_on), "ends_on": _day(a.ends_on)} for a in rows]


def _signing_authorisations(person: Person) -> list[dict]:
    rows = (SigningAuthorisation.objects.filter(Q(chair=person) | Q(vice_chair=person))
            .select_related("body").order_by("pk"))
    return [{"id": a.pk, "body_id": a.body_id, "body": a.body.name,
             "as": "chair" if a.chair_id == person.pk else "vice_chair",
             "chair": a.chair_id, "vice_chair": a.vice_chair_id,
             "starts_on": _day(a.starts_on), "ends_on": _day(a.ends_on),
             "created_at": _when(a.created_at)} for a in rows]


def _delegations(person: Person, *, given: bool) -> list[dict]:
    from workflows.models import Delegation

    rows = (Delegation.objects.filter(**({"person": person} if given else
                                         {"substitute": person}))
            .select_related("organisation").order_by("pk"))
    return [{"id": d.pk, "organisation": d.organisation.name, "person": d.person_id,
             "substitute": d.substitute_id, "starts_on": _day(d.starts_on),
             "ends_on": _day(d.ends_on), "reason": d.reason, "created_by": d.created_by_id,
             "created_at": _when(d.created_at), "cancelled_at": _when(d.cancelled_at)}
            for d in rows]


def _tasks(person: Person, *, open_: bool) -> list[dict]:
    from viewflow.workflow.models import Task

    from workflows.selectors import task_step_label
    from workflows.services import OPEN_STATUSES

    status = Q(status__in=OPEN_STATUSES)
    rows = (Task.objects.filter(status if open_ else ~status, owner=person)
            .select_related("mandate__plan", "mandate__follow_up__department",
                            "mandate__follow_up__plan")
            .order_by("pk"))
    found = []
    for task in rows:
        mandate = getattr(task, "mandate", None)
        about = None
        if mandate is not None:
            about = str(mandate.follow_up) if mandate.follow_up else (
                mandate.plan.title if mandate.plan else None)
        found.append({
            "id": task.pk,
            "step": task.flow_task.name if task.flow_task is not None else "",
            "title": str(task_step_label(task)),
            "about": about,
            "plan": mandate.plan_id if mandate else None,
            "follow_up": mandate.follow_up_id if mandate else None,
            "status": task.status,
            "due_on": _day(mandate.due_on) if mandate else None,
            "created": _when(task.created),
            "finished": _when(task.finished),
        })
    return found


def _initiatives(person: Person) -> list[dict]:
    from cycles.models import Initiative

    rows = Initiative.objects.filter(owner=person).select_related("plan").order_by("pk")
    return [{"id": i.pk, "plan": i.plan_id, "year": i.plan.year, "title": i.title,
             "status": i.status} for i in rows]


def _plan_comments(person: Person) -> list[dict]:
    from cycles.models import PlanComment

    rows = PlanComment.objects.filter(author=person).order_by("pk")
    return [{"id": c.pk, "plan": c.plan_id, "initiative": c.initiative_id, "text": c.text,
             "created_at": _when(c.created_at)} for c in rows]


def _task_comments(person: Person) -> list[dict]:
    from workflows.models import TaskComment

    rows = TaskComment.objects.filter(author=person).order_by("pk")
    return [{"id": c.pk, "task": c.task_id, "text": c.text, "created_at": _when(c.created_at)}
            for c in rows]


def _board_remarks(person: Person) -> list[dict]:
    from cycles.models import BoardRemark

    rows = BoardRemark.objects.filter(author=person).order_by("pk")
    return [{"id": r.pk, "follow_up": r.follow_up_id, "text": r.text,
             "created_at": _when(r.created_at)} for r in rows]


def _board_remark_answers(person: Person) -> list[dict]:
    from cycles.models import BoardRemark

    rows = BoardRemark.objects.filter(answered_by=person).order_by("pk")
    return [{"id": r.pk, "follow_up": r.follow_up_id, "answer": r.answer,
             "text": r.answer_text, "answered_at": _when(r.answered_at)} for r in rows]


def _follow_ups_acknowledged(person: Person) -> list[dict]:
    from cycles.models import FollowUp

    rows = FollowUp.objects.filter(acknowledged_by=person).order_by("pk")
    return [{"id": f.pk, "plan": f.plan_id, "department": f.department_id, "half": f.half,
             "presented_on": _day(f.presented_on), "acknowledged_at": _when(f.acknowledged_at)}
            for f in rows]


def _rollouts_presented(person: Person) -> list[dict]:
    from cycles.models import RolloutPlan

    rows = RolloutPlan.objects.filter(presenter=person).order_by("pk")
    return [{"id": r.pk, "plan": r.plan_id, "department": r.department_id,
             "presented_on": _day(r.presented_on), "board_remarks": r.board_remarks}
            for r in rows]


def _evaluations(person: Person) -> list[dict]:
    from cycles.models import InitiativeEvaluation

    rows = InitiativeEvaluation.objects.filter(evaluated_by=person).order_by("pk")
    return [{"id": e.pk, "plan": e.plan_id, "initiative": e.initiative_id,
             "decision": e.decision, "reason": e.reason, "evaluated_at": _when(e.evaluated_at)}
            for e in rows]


def _sign_offs(person: Person) -> list[dict]:
    from cycles.models import SignOff

    rows = (SignOff.objects.filter(Q(signer=person) | Q(on_behalf_of=person))
            .select_related("body").order_by("pk"))
    return [{"id": s.pk, "plan": s.plan_id, "step": s.step, "body": s.body.name,
             "as": "signer" if s.signer_id == person.pk else "on_behalf_of",
             "signer": s.signer_id, "mandate": s.mandate, "on_behalf_of": s.on_behalf_of_id,
             "decision": s.decision, "comment": s.comment if s.signer_id == person.pk else "",
             "revision_sha256": s.revision_sha256, "signed_at": _when(s.signed_at)}
            for s in rows]


def _notifications(person: Person) -> list[dict]:
    from notifications.models import Notification

    rows = (Notification.objects.filter(Q(recipient=person) | Q(copy_to=person))
            .order_by("pk"))
    return [{"id": n.pk, "as": "recipient" if n.recipient_id == person.pk else "copy",
             "kind": n.kind, "task": n.task_id, "rung": n.rung, "due_on": _day(n.due_on),
             "state": n.state, "created_at": _when(n.created_at), "sent_at": _when(n.sent_at)}
            for n in rows]


def _preferences(person: Person) -> dict:
    from notifications.models import NotificationPreference
    from workflows.models import SavedTaskFilter

    stored = NotificationPreference.objects.filter(person=person).first()
    return {
        "language": person.language,
        "reminders": stored.delivery if stored else None,
        "reminders_updated_at": _when(stored.updated_at) if stored else None,
        "saved_task_filters": [{"id": f.pk, "name": f.name, "query": f.query} for f in
                               SavedTaskFilter.objects.filter(person=person).order_by("pk")],
    }


def _calendar_feeds(person: Person) -> list[dict]:
    from notifications.models import CalendarFeed

    rows = CalendarFeed.objects.filter(person=person).select_related("body").order_by("pk")
    return [{"id": f.pk, "body": f.body.name if f.body else None,
             "created_at": _when(f.created_at), "revoked_at": _when(f.revoked_at),
             "last_fetched_at": _when(f.last_fetched_at)} for f in rows]


def _api_tokens(person: Person) -> list[dict]:
    from rest_framework.authtoken.models import Token

    return [{"created": _when(created)} for created in
            Token.objects.filter(user=person).values_list("created", flat=True)]


def _sign_ins(person: Person) -> list[dict]:
    from axes.models import AccessLog

    rows = AccessLog.objects.filter(username__iexact=person.username).order_by("pk")
    return [{"at": _when(r.attempt_time), "signed_out_at": _when(r.logout_time),
             "ip_address": r.ip_address, "user_agent": r.user_agent} for r in rows]


def _failed_sign_ins(person: Person) -> list[dict]:
    from axes.models import AccessAttempt

    rows = AccessAttempt.objects.filter(username__iexact=person.username).order_by("pk")
    return [{"at": _when(r.attempt_time), "failures": r.failures_since_start,
             "ip_address": r.ip_address, "user_agent": r.user_agent} for r in rows]


def _audit_entries(person: Person) -> list[dict]:
    """Entries where the person is the actor or the object (their person row, memberships,
    staff assignments, delegations given)."""
    from audit.models import AuditEntry
    from workflows.models import Delegation

    objects = Q(object_type="governance.person", object_id=str(person.pk))
    for model, ids in (
            (Membership, Membership.objects.filter(person=person)),
            (StaffAssignment, StaffAssignment.objects.filter(person=person)),
            (Delegation, Delegation.objects.filter(person=person))):
        pks = [str(pk) for pk in ids.values_list("pk", flat=True)]
        if pks:
            objects |= Q(object_type=model._meta.label_lower, object_id__in=pks)
    rows = AuditEntry.objects.filter(Q(actor=person) | objects).order_by("pk")
    return [{"id": e.pk, "occurred_at": _when(e.occurred_at), "organisation": e.organisation_id,
             "as": "actor" if e.actor_id == person.pk else "object", "action": e.action,
             "object_type": e.object_type, "object_id": e.object_id, "acting_as": e.acting_as,
             "summary": e.summary} for e in rows]


# --- erasure --------------------------------------------------------------------------------

def erase_blockers(*, person: Person, day: datetime.date | None = None) -> list[str]:
    """Readable reasons ``person`` cannot be erased yet; empty when they can.

    A person holding a mandate, work or a delegation is part of the running governance: end
    the term (or the assignment), let the tasks move on, cancel the delegation first.
    """
    from viewflow.workflow.models import Task

    from workflows.models import Delegation
    from workflows.services import OPEN_STATUSES

    day = day or timezone.localdate()
    reasons = []
    still = Q(ends_on__isnull=True) | Q(ends_on__gte=day)
    seats = Membership.objects.filter(still, person=person).count()
    if seats:
        reasons.append(_("%(name)s still holds %(count)s seat(s) in a body (current or "
                         "future); end the terms first.") % {"name": person, "count": seats})
    roles = StaffAssignment.objects.filter(still, person=person).count()
    if roles:
        reasons.append(_("%(name)s still has %(count)s staff assignment(s) (current or "
                         "future); end them first.") % {"name": person, "count": roles})
    tasks = Task.objects.filter(owner=person, status__in=OPEN_STATUSES).count()
    if tasks:
        reasons.append(_("%(name)s has %(count)s open task(s); reassign or finish them "
                         "first.") % {"name": person, "count": tasks})
    delegations = Delegation.objects.filter(Q(person=person) | Q(substitute=person),
                                            cancelled_at__isnull=True, ends_on__gte=day).count()
    if delegations:
        reasons.append(_("%(name)s is part of %(count)s delegation(s) that have not ended; "
                         "cancel them first.") % {"name": person, "count": delegations})
    return reasons


# --- retention ------------------------------------------------------------------------------

def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day``, Copenhagen time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def people_inactive_since(*, cutoff: datetime.date) -> QuerySet[Person]:
    """People with no mandate on or after ``cutoff`` who have not signed in since and were not
    added since; not yet erased. Superusers and admin staff are never included: their accounts
    are managed by hand."""
    recent = Q(ends_on__isnull=True) | Q(ends_on__gte=cutoff)
    since = start_of(cutoff)
    return (Person.objects
            .filter(is_superuser=False, is_staff=False, date_joined__lt=since)
            .exclude(last_login__gte=since)
            .exclude(Exists(Membership.objects.filter(recent, person=OuterRef("pk"))))
            .exclude(Exists(StaffAssignment.objects.filter(recent, person=OuterRef("pk"))))
            .exclude(username=Concat(Value(ERASED_USERNAME_PREFIX),
                                     Cast("pk", output_field=CharField())))
            .order_by("pk"))
