"""Writes for personal data (GDPR): the export (audited), erasure by pseudonymisation, and the
retention periods.

Erasure keeps the person's row — memberships, sign-offs, comments and the audit trail point at
it — and pseudonymises it; what only serves the person (preferences, calendar addresses, API
tokens, sessions, sign-in records, their e-mails) is deleted. The audit trail names people by
id only, so it is never touched and ``verify_audit`` still passes. See docs/security.md,
"Personal data (GDPR)".
"""

import datetime
import logging
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from governance.models import Person
from privacy import selectors
from privacy.models import RetentionRun

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


# --- export ---------------------------------------------------------------------------------

@transaction.atomic
def person_data_export(*, actor, person: Person, via: str = "page") -> dict:
    """Everything about ``person`` (privacy.selectors.person_data), with a ``person.export``
    audit entry. ``actor``: the person themself or a superuser; ``None`` for the command run
    by the operator. ``via`` names the path (page, command)."""
    if actor is not None and actor.pk != person.pk and not actor.is_superuser:
        raise PermissionDenied(_("You can only export your own data."))
    data = selectors.person_data(person=person)
    audit_record(actor=actor, action="person.export", obj=person,
                 summary={"person": person.pk, "via": via})
    return data


# --- erasure --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Identity:
    """What identified the person before erasure: searched for in cached display texts."""

    full_name: str
    username: str
    email: str

    def replacements(self, pseudonym: str, username: str) -> list[tuple[str, str]]:
        pairs = [(self.full_name, pseudonym), (self.email, ""), (self.username, username)]
        return [(old, new) for old, new in pairs if old]


def _whole(text: str) -> re.Pattern:
    """``text`` standing alone: not part of a longer name, username or address."""
    return re.compile(rf"(?<![\w.@+-]){re.escape(text)}(?![\w@+-]|\.\w)")


def _scrub(model, fields: list[str], identity: _Identity, pseudonym: str,
           username: str) -> int:
    """Replace the person's name, e-mail and username in cached display texts (rows written
    before the logs held ids only, the admin's object descriptions). Returns the rows changed."""
    pairs = [(_whole(old), new, old) for old, new in identity.replacements(pseudonym, username)]
    found = Q()
    for field in fields:
        for _pattern, _new, old in pairs:
            found |= Q(**{f"{field}__contains": old})
    changed = []
    for row in model.objects.filter(found).only("pk", *fields):
        before = [getattr(row, field) for field in fields]
        for field in fields:
            text = getattr(row, field)
            for pattern, new, _old in pairs:
                text = pattern.sub(new, text)
            setattr(row, field, text)
        if [getattr(row, field) for field in fields] != before:
            changed.append(row)
    model.objects.bulk_update(changed, fields, batch_size=500)
    return len(changed)


def _sessions_of(person: Person) -> list[str]:
    """The session keys of ``person`` (database sessions: decoded one by one)."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return []
    from django.contrib.sessions.models import Session

    keys = []
    for session in Session.objects.iterator(chunk_size=2000):
        try:
            if session.get_decoded().get("_auth_user_id") == str(person.pk):
                keys.append(session.session_key)
        except Exception:  # noqa: S112 — a corrupt session is no one's; retention drops it
            continue
    return keys


def _delete_personal_rows(person: Person, identity: _Identity) -> Counter:
    """Delete what only serves the person; returns counts per kind."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.apps import apps
    from django.contrib.sessions.models import Session
    from guardian.models import UserObjectPermission
    from rest_framework.authtoken.models import Token

    from notifications.models import CalendarFeed, Notification, NotificationPreference
    from workflows.models import Delegation, SavedTaskFilter

    counts: Counter = Counter()
    counts["preferences"] = NotificationPreference.objects.filter(person=person).delete()[0]
    counts["saved_task_filters"] = SavedTaskFilter.objects.filter(person=person).delete()[0]
    counts["calendar_feeds"] = CalendarFeed.objects.filter(person=person).delete()[0]
    counts["api_tokens"] = Token.objects.filter(user=person).delete()[0]
    counts["object_permissions"] = UserObjectPermission.objects.filter(user=person).delete()[0]
    counts["sessions"] = Session.objects.filter(
        session_key__in=_sessions_of(person)).delete()[0]
    # The e-mails sent to them (the rows: the messages themselves are in their mailbox); where
    # they were only copied, the copy goes, and the error text that may quote their address.
    counts["notifications"] = Notification.objects.filter(recipient=person).delete()[0]
    counts["notification_copies"] = Notification.objects.filter(copy_to=person).update(
        copy_to=None, last_error="")
    usernames = Q(username__iexact=identity.username)
    if identity.email:
        usernames |= Q(username__iexact=identity.email)  # typed into the sign-in form
    counts["sign_in_records"] = sum(model.objects.filter(usernames).delete()[0] for model in
                                    (AccessAttempt, AccessFailureLog, AccessLog))
    if apps.is_installed("django_otp"):
        from django_otp import devices_for_user

        devices = list(devices_for_user(person, confirmed=None))
        for device in devices:
            device.delete()
        counts["two_factor_devices"] = len(devices)
    # Why they were away (holiday, illness) is about them; the period stays on the record.
    counts["delegation_reasons"] = Delegation.objects.filter(person=person).exclude(
        reason="").update(reason="")
    return counts


@transaction.atomic
def person_erase(*, actor, person: Person, via: str = "admin") -> dict:
    """Pseudonymise ``person`` everywhere and delete what only serves them.

    Refused (``ValidationError`` naming the reasons) while they hold a mandate, open tasks or
    a delegation that has not ended. ``actor``: a superuser, or ``None`` for the operator's
    command and the retention run. ``via`` names the path in the audit entry. Returns counts
    of what was removed.

    Stays, attributed to the pseudonym: memberships and staff assignments with their periods,
    sign-offs, comments, remarks, evaluations and every other governance text they wrote, the
    tasks they did, and the audit trail (ids only).
    """
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can erase a person."))
    person = Person.objects.select_for_update().get(pk=person.pk)
    if actor is not None and actor.pk == person.pk:
        raise ValidationError({"person": _("You cannot erase yourself.")})
    if selectors.is_erased(person):
        raise ValidationError({"person": _("This person has already been erased.")})
    blockers = selectors.erase_blockers(person=person)
    if blockers:
        raise ValidationError({"person": blockers})
    from cycles.models import FollowUpTransition, PlanTransition
    from notifications.models import Notification

    identity = _Identity(person.get_full_name().strip(), person.username, person.email)
    pseudonym_last = f"#{person.pk}"
    pseudonym = f"{selectors.ERASED_FIRST_NAME} {pseudonym_last}"
    username = selectors.erased_username(person.pk)

    counts = _delete_personal_rows(person, identity)
    counts["texts_scrubbed"] = (
        _scrub(LogEntry, ["object_repr", "change_message"], identity, pseudonym, username)
        + _scrub(PlanTransition, ["acting_as"], identity, pseudonym, username)
        + _scrub(FollowUpTransition, ["acting_as"], identity, pseudonym, username)
        + _scrub(Notification, ["last_error"], identity, pseudonym, username))

    person.first_name, person.last_name = selectors.ERASED_FIRST_NAME, pseudonym_last
    person.username, person.email, person.phone = username, "", ""
    person.set_unusable_password()
    person.is_active = person.is_staff = person.is_superuser = False
    person.last_login = None
    person.save(update_fields=["first_name", "last_name", "username", "email", "phone",
                               "password", "is_active", "is_staff", "is_superuser",
                               "last_login"])
    person.groups.clear()
    person.user_permissions.clear()
    removed = {kind: count for kind, count in sorted(counts.items()) if count}
    audit_record(actor=actor, action="person.erase", obj=person,
                 summary={"person": person.pk, "via": via, "removed": removed})
    return removed


# --- retention ------------------------------------------------------------------------------

def retention_periods() -> dict[str, int]:
    """The RETENTION_* settings in force (days or years; 0 years: never)."""
    return {name: getattr(settings, name) for name in (
        "RETENTION_NOTIFICATION_DAYS", "RETENTION_FAILED_LOGIN_DAYS",
        "RETENTION_SIGN_IN_LOG_DAYS", "RETENTION_TASK_COMMENT_YEARS",
        "RETENTION_CLOSED_CASE_YEARS", "RETENTION_INACTIVE_PERSON_YEARS")}


def redacted_text() -> str:
    """What replaces a closed case's free text once its period is over."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("(removed after the retention period)")


def _delete_in_batches(queryset, *, dry_run: bool) -> int:
    """Delete ``queryset``'s rows in batches by primary key; count only on a dry run."""
    if dry_run:
        return queryset.count()
    model, total = queryset.model, 0
    while True:
        batch = list(queryset.values_list("pk", flat=True)[:BATCH_SIZE])
        if not batch:
            return total
        model.objects.filter(pk__in=batch).delete()
        total += len(batch)


def expired_notifications(*, now: datetime.datetime):
    """E-mail rows past their period that decided nothing more: finished states, and a task
    that is done (or none, a digest). While a task is open its rows stay: they are what keeps
    a reminder from being sent twice."""
    from notifications.models import Notification
    from workflows.services import OPEN_STATUSES

    final = [Notification.State.SENT, Notification.State.SKIPPED, Notification.State.FAILED,
             Notification.State.INTERRUPTED]
    cutoff = now - datetime.timedelta(days=settings.RETENTION_NOTIFICATION_DAYS)
    return (Notification.objects.filter(state__in=final, created_at__lt=cutoff)
            .filter(Q(task__isnull=True) | ~Q(task__status__in=OPEN_STATUSES)))


def closed_cases_with_text(*, cutoff: datetime.date):
    """Follow-up cases closed before ``cutoff`` that still hold free text."""
    from django.db.models import Exists, OuterRef

    from cycles.models import BoardRemark, FollowUp, FollowUpRemark

    placeholder = redacted_text()
    closed = FollowUp.State.CLOSED
    return (FollowUp.objects.filter(state=closed)
            .annotate(closed_at=Max("transitions__occurred_at",
                                    filter=Q(transitions__to_state=closed)))
            .filter(closed_at__lt=selectors.start_of(cutoff))
            .filter(Q(Exists(FollowUpRemark.objects.filter(follow_up=OuterRef("pk"))
                             .exclude(text="").exclude(text=placeholder)))
                    | Q(Exists(BoardRemark.objects.filter(follow_up=OuterRef("pk"))
                               .exclude(text=placeholder)))
                    | (~Q(summary="") & ~Q(summary=placeholder)))
            .select_related("department__organisation").order_by("pk"))


@transaction.atomic
def follow_up_redact(*, actor=None, follow_up) -> bool:
    """Replace a closed case's free text (summary, remarks, the board's remarks and the
    answers) with a placeholder; statuses, progress, dates, answers and who did what stay.
    Returns whether anything changed."""
    from cycles.models import BoardRemark, FollowUp, FollowUpRemark

    placeholder = redacted_text()
    follow_up = FollowUp.objects.select_for_update(of=("self",)).select_related(
        "department__organisation").get(pk=follow_up.pk)
    changed = FollowUpRemark.objects.filter(follow_up=follow_up).exclude(text="").exclude(
        text=placeholder).update(text=placeholder)
    changed += BoardRemark.objects.filter(follow_up=follow_up).exclude(text=placeholder).update(
        text=placeholder)
    changed += BoardRemark.objects.filter(follow_up=follow_up).exclude(answer_text="").exclude(
        answer_text=placeholder).update(answer_text=placeholder)
    if follow_up.summary and follow_up.summary != placeholder:
        follow_up.summary = placeholder
        follow_up.save(update_fields=["summary"])
        changed += 1
    if changed:
        audit_record(actor=actor, action="follow_up.retention_redact", obj=follow_up,
                     organisation=follow_up.department.organisation,
                     summary={"texts": changed,
                              "years": settings.RETENTION_CLOSED_CASE_YEARS})
    return bool(changed)


def handle_one_inactive_person(person_id: int) -> bool:
    """Erase one person past the inactivity period; False (and a log line with the id only)
    when something still holds them, or when erasing them failed: the others go on."""
    try:
        person_erase(actor=None, person=Person(pk=person_id), via="retention")
    except ValidationError:
        logger.info("retention: person %s not erased: still holds a mandate, task or "
                    "delegation", person_id)
        return False
    except Exception as error:  # one bad row is recorded and skipped (no message: it may
        # quote the row's values)
        logger.error("retention: erasing person %s failed: %s", person_id,
                     type(error).__name__)
        return False
    return True


def retention_apply(*, dry_run: bool = False, now: datetime.datetime | None = None
                    ) -> dict[str, int]:
    """Remove or pseudonymise what is past its period (docs/security.md); returns counts per
    kind. ``dry_run``: count what would go, change nothing. A real run is recorded (a
    :class:`RetentionRun` and its ``retention.apply`` audit entry), also when nothing went."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.sessions.models import Session
    from viewflow.workflow.models import Task

    from workflows.models import TaskComment
    from workflows.services import OPEN_STATUSES

    now = now or timezone.now()
    today = timezone.localdate(now)
    counts: dict[str, int] = {}

    counts["notifications"] = _delete_in_batches(expired_notifications(now=now),
                                                 dry_run=dry_run)
    failed_cutoff = now - datetime.timedelta(days=settings.RETENTION_FAILED_LOGIN_DAYS)
    counts["failed_sign_ins"] = sum(
        _delete_in_batches(model.objects.filter(attempt_time__lt=failed_cutoff),
                           dry_run=dry_run) for model in (AccessAttempt, AccessFailureLog))
    counts["sign_in_log"] = _delete_in_batches(AccessLog.objects.filter(
        attempt_time__lt=now - datetime.timedelta(days=settings.RETENTION_SIGN_IN_LOG_DAYS)),
        dry_run=dry_run)
    counts["expired_sessions"] = _delete_in_batches(Session.objects.filter(expire_date__lt=now),
                                                    dry_run=dry_run)

    counts["task_comments"] = 0
    if settings.RETENTION_TASK_COMMENT_YEARS:
        cutoff = selectors.start_of(
            selectors.years_before(today, settings.RETENTION_TASK_COMMENT_YEARS))
        finished = Task.objects.filter(finished__lt=cutoff).exclude(status__in=OPEN_STATUSES)
        counts["task_comments"] = _delete_in_batches(
            TaskComment.objects.filter(task__in=finished), dry_run=dry_run)

    counts["closed_case_texts"] = 0
    if settings.RETENTION_CLOSED_CASE_YEARS:
        cases = closed_cases_with_text(
            cutoff=selectors.years_before(today, settings.RETENTION_CLOSED_CASE_YEARS))
        counts["closed_case_texts"] = (cases.count() if dry_run else
                                       sum(follow_up_redact(follow_up=case) for case in cases))

    counts["people_erased"] = counts["people_kept"] = 0
    if settings.RETENTION_INACTIVE_PERSON_YEARS:
        people = selectors.people_inactive_since(
            cutoff=selectors.years_before(today, settings.RETENTION_INACTIVE_PERSON_YEARS))
        ids = list(people.values_list("pk", flat=True))
        if dry_run:
            counts["people_erased"] = len(ids)
        else:
            erased = sum(handle_one_inactive_person(pk) for pk in ids)
            counts["people_erased"], counts["people_kept"] = erased, len(ids) - erased

    if not dry_run:
        with transaction.atomic():
            run = RetentionRun.objects.create(ran_at=now, periods=retention_periods(),
                                              counts=counts)
            audit_record(actor=None, action="retention.apply", obj=run, summary=counts)
        logger.info("retention: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts

