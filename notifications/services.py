"""Reminders: decide what is due (the sweep), collect digests, deliver the outbox.

Built from single steps (CONVENTIONS 6–8) that the Celery tasks, the ``send_reminders`` command
and the demo's in-process loop all call:

* :func:`sweep` — one pass over the open tasks with a deadline: :func:`notifications.ladder.decide`
  per task; a :class:`~notifications.models.Notification` row per decision, inserted with
  ``ignore_conflicts`` on its unique key, so two sweeps at once record each reminder once.
  Overdue tasks past the escalation rung are marked escalated (workflows) and copy the chair.
* :func:`digests_build` — gathers the reminders waiting for a person's daily or weekly digest.
* :func:`deliver_batch` — claims due rows (``select_for_update(skip_locked=True)`` where the
  database has it, and a compare-and-set on the state everywhere), re-checks eligibility, marks
  each row ``sending`` and commits *before* talking to the SMTP server, sends, marks it
  ``sent``. A failure is retried with backoff, then marked failed; a worker that dies mid-send
  leaves that one row ``sending`` and :func:`mark_interrupted` shows it — never sent twice.
"""

import datetime
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import mailers
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from notifications import ladder
from notifications.ladder import Channel, Delivery, Facts, Skip
from notifications.models import Notification
from notifications.selectors import Policies, closed_days_for, deliveries_for
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES

logger = logging.getLogger(__name__)

KEY_CHUNK = 1000


def quiet_hours() -> ladder.QuietHours:
    return ladder.QuietHours.parse(settings.NOTIFICATIONS_QUIET_HOURS)


def notification_key(*, recipient_id: int, task_id: int | None, rung: str,
                     due_on: datetime.date | None) -> str:
    """The delivery key: one e-mail per (recipient, task, rung, due date), ever."""
    return f"{recipient_id}:{task_id or '-'}:{rung}:{due_on.isoformat() if due_on else '-'}"


@dataclass
class SweepResult:
    decided: int = 0  # new rows recorded (e-mails and digest items)
    escalated: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason → tasks


def _open_task_rows():
    """The open tasks that have an owner and a deadline, with what deciding needs. One query."""
    return (TaskMandate.objects
            .filter(task__status__in=OPEN_STATUSES, task__owner__isnull=False,
                    due_on__isnull=False)
            .values_list("task_id", "task__owner_id", "task__owner__email",
                         "task__owner__is_active", "due_on", "assigned_on", "task__created",
                         "follow_up_on", "organisation_id", "task__flow_task", "escalated_to_id")
            .order_by("task_id"))


def sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    """Decide which reminders are due now and record them. Safe to run concurrently."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    rows = list(_open_task_rows())
    result = SweepResult()
    if not rows:
        return result
    owners = {row[1] for row in rows}
    organisations = {row[8] for row in rows}
    deliveries = deliveries_for(owners, day=today)
    policies = Policies(organisations)
    closed_days = closed_days_for(organisations)
    quiet = quiet_hours()

    wanted: dict[str, Notification] = {}
    escalations: list[int] = []  # task ids
    for (task_id, owner_id, email, active, due_on, assigned_on, created, snoozed,
         organisation_id, flow_task, escalated_to_id) in rows:
        policy = policies.get(organisation_id, flow_task.name)
        closed = closed_days[organisation_id]
        facts = Facts(task_open=True, owner_id=owner_id, due_on=due_on,
                      assigned_on=assigned_on or timezone.localdate(created),
                      has_email=bool(email) and active, delivery=deliveries[owner_id],
                      snoozed_until=snoozed)
        decision = ladder.decide(facts, now=now, policy=policy, closed=closed, quiet=quiet)
        if not decision.send:
            result.skipped[decision.skip] += 1
            continue
        rung = decision.rung
        key = notification_key(recipient_id=owner_id, task_id=task_id, rung=rung.name,
                               due_on=due_on)
        digest = decision.channel == Channel.DIGEST
        wanted[key] = Notification(
            key=key, kind=Notification.Kind.REMINDER, recipient_id=owner_id, task_id=task_id,
            rung=rung.name, due_on=due_on, created_at=now,
            state=Notification.State.IN_DIGEST if digest else Notification.State.PENDING,
            next_attempt_at=None if digest else now)
        if rung.escalate:
            if escalated_to_id is None:
                escalations.append(task_id)  # decided below, with the copy
            else:
                wanted[key].copy_to_id = escalated_to_id

    # Drop what was decided before (the common case), then insert the rest; a concurrent sweep
    # that inserted the same key first wins and ours is ignored by the unique constraint.
    keys = list(wanted)
    for start in range(0, len(keys), KEY_CHUNK):
        for key in Notification.objects.filter(key__in=keys[start:start + KEY_CHUNK]) \
                .values_list("key", flat=True):
            wanted.pop(key)
            result.skipped[Skip.ALREADY_SENT] += 1
    with transaction.atomic():
        if escalations:
            result.escalated = _escalate(escalations, wanted, today=today)
        created = Notification.objects.bulk_create(wanted.values(), ignore_conflicts=True,
                                                   batch_size=500)
        result.decided = len(created)
    return result


def _escalate(escalations: list[int], wanted: dict[str, Notification], *,
              today: datetime.date) -> int:
    """Copy the body's chair (or the operations manager) on overdue reminders and show the task
    on their dashboard; the task stays with its owner."""
    from workflows.services import task_escalate

    count = 0
    for task_id in escalations:
        to = task_escalate(task_id=task_id, day=today)
        if to is None:
            continue
        count += 1
        for notification in wanted.values():
            if notification.task_id == task_id and notification.rung.startswith("overdue"):
                notification.copy_to_id = to.pk
    return count


def digests_build(*, now: datetime.datetime | None = None) -> int:
    """Gather each person's waiting digest items into one digest e-mail when their digest is
    due (daily: each business morning; weekly: the week's first business day). Returns the
    number of digests recorded."""
    now = timezone.localtime(now or timezone.now())
    waiting = (Notification.objects.filter(state=Notification.State.IN_DIGEST,
                                           digest__isnull=True)
               .values_list("recipient_id", flat=True).distinct())
    recipients = set(waiting)
    if not recipients:
        return 0
    deliveries = deliveries_for(recipients, day=now.date())
    quiet = quiet_hours()
    built = 0
    for recipient_id in sorted(recipients):
        delivery = deliveries[recipient_id]
        items = Notification.objects.filter(recipient_id=recipient_id, digest__isnull=True,
                                            state=Notification.State.IN_DIGEST)
        if delivery == Delivery.NONE:
            items.update(state=Notification.State.SKIPPED, reason=Skip.UNSUBSCRIBED)
            continue
        if not ladder.digest_due(now, delivery, quiet=quiet):
            continue
        key = notification_key(recipient_id=recipient_id, task_id=None,
                               rung=f"digest-{delivery}", due_on=now.date())
        with transaction.atomic():
            digest, created = Notification.objects.get_or_create(
                key=key, defaults=dict(kind=Notification.Kind.DIGEST, recipient_id=recipient_id,
                                       rung=f"digest-{delivery}", due_on=now.date(),
                                       created_at=now, next_attempt_at=now))
            if digest.state not in (Notification.State.PENDING, Notification.State.SENDING):
                # Today's digest already went: the rest waits for the next one.
                continue
            items.update(digest=digest)
        built += created
    return built


# --- Delivery -------------------------------------------------------------------------------

def _claim(*, now: datetime.datetime, limit: int) -> list[Notification]:
    """Take up to ``limit`` due rows for this worker (``claimed``, committed)."""
    with transaction.atomic():
        due = (Notification.objects.filter(state=Notification.State.PENDING,
                                           next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk"))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = [pk for pk in due.values_list("pk", flat=True)[:limit]
                   # Compare-and-set: on SQLite (no row locks) only one claimant wins a row.
                   if Notification.objects.filter(pk=pk, state=Notification.State.PENDING)
                   .update(state=Notification.State.CLAIMED, claimed_at=now) == 1]
    return list(Notification.objects.filter(pk__in=claimed)
                .select_related("recipient", "copy_to", "task")
                .order_by("next_attempt_at", "pk"))


def _recheck(notification: Notification, *, now: datetime.datetime
             ) -> tuple[Skip | None, datetime.datetime | None]:
    """Eligibility again at send time: (skip reason, or a later send time, or neither)."""
    recipient = notification.recipient
    delivery = deliveries_for([recipient.pk], day=now.date())[recipient.pk]
    if delivery == Delivery.NONE:
        return Skip.UNSUBSCRIBED, None
    if not recipient.email or not recipient.is_active:
        return Skip.NO_EMAIL, None
    any_day = notification.rung == "due"
    closed = ()
    if notification.kind == Notification.Kind.REMINDER:
        task = notification.task
        if task is None or task.status not in OPEN_STATUSES:
            return Skip.TASK_DONE, None
        if task.owner_id != recipient.pk:
            return Skip.RECIPIENT_CHANGED, None
        mandate = TaskMandate.objects.only("due_on", "organisation_id").get(task_id=task.pk)
        if mandate.due_on != notification.due_on:
            return Skip.DEADLINE_MOVED, None
        closed = closed_days_for([mandate.organisation_id])[mandate.organisation_id]
    elif not notification.items.filter(task__status__in=OPEN_STATUSES,
                                       task__owner_id=recipient.pk).exists():
        return Skip.TASK_DONE, None  # a digest of nothing: every item was done meanwhile
    later = ladder.next_send_time(now, any_day=any_day, closed=closed, quiet=quiet_hours())
    return None, (later if later > now else None)


def _move(notification: Notification, source: str, **fields) -> bool:
    """Compare-and-set the row's state from ``source``; False if someone else moved it."""
    return Notification.objects.filter(pk=notification.pk, state=source).update(**fields) == 1


def _deliver(notification: Notification, backend, *, now: datetime.datetime) -> str:
    from notifications.emails import build_message, message_id

    claimed, sending = Notification.State.CLAIMED, Notification.State.SENDING
    skip, later = _recheck(notification, now=now)
    if skip is not None:
        _move(notification, claimed, state=Notification.State.SKIPPED, reason=skip)
        if notification.kind == Notification.Kind.DIGEST:
            notification.items.update(state=Notification.State.SKIPPED, reason=skip)
        return "skipped"
    if later is not None:
        # Not an attempt: it waits for the send window (quiet hours, weekend).
        _move(notification, claimed, state=Notification.State.PENDING, next_attempt_at=later)
        return "deferred"
    # Recorded before it is sent: from here a crash leaves the row "sending", never resent.
    if not _move(notification, claimed, state=sending, attempts=F("attempts") + 1,
                 claimed_at=timezone.now()):
        return "lost"  # taken back as stale; another worker has it
    attempts = notification.attempts + 1
    try:
        message = build_message(notification)
        backend.send_messages([message])
    except Exception as error:  # SMTP down, refused, a rendering bug: retry, then give up
        text = f"{type(error).__name__}: {error}"[:2000]
        # The log names the error's kind only: an SMTP server's answer often quotes the
        # recipient's address. The full text is on the row (the problems page; retention).
        kind = type(error).__name__
        if attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            _move(notification, sending, state=Notification.State.FAILED, last_error=text)
            logger.error("notification %s failed after %s attempts: %s", notification.pk,
                         attempts, kind)
            return "failed"
        _move(notification, sending, state=Notification.State.PENDING, last_error=text,
              next_attempt_at=now + ladder.backoff(
                  attempts, base_seconds=settings.NOTIFICATIONS_RETRY_BASE_SECONDS))
        logger.warning("notification %s attempt %s failed: %s", notification.pk, attempts, kind)
        return "retry"
    sent_at = timezone.now()
    _move(notification, sending, state=Notification.State.SENT, sent_at=sent_at,
          last_error="", message_id=message_id(notification)[:200])
    if notification.kind == Notification.Kind.DIGEST:
        notification.items.update(state=Notification.State.SENT, sent_at=sent_at)
    return "sent"


def deliver_batch(*, now: datetime.datetime | None = None, limit: int | None = None
                  ) -> Counter:
    """Claim and deliver one batch over one SMTP connection. An empty counter: nothing due."""
    now = timezone.localtime(now or timezone.now())
    claimed = _claim(now=now, limit=limit or settings.NOTIFICATIONS_BATCH_SIZE)
    outcomes: Counter = Counter()
    if not claimed:
        return outcomes
    backend = mailers.default
    try:
        for notification in claimed:
            outcomes[_deliver(notification, backend, now=now)] += 1
    finally:
        try:
            backend.close()
        except Exception:  # closing a broken connection must not hide the outcome
            logger.warning("closing the mail connection failed", exc_info=True)
    return outcomes


def mark_interrupted(*, now: datetime.datetime | None = None) -> int:
    """Clean up after a worker that died. Rows left ``sending``: shown as interrupted, not
    re-sent (the e-mail may have gone out); the operations secretary can send them again.
    Rows left ``claimed`` were never attempted: back to pending. Returns the interrupted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS)
    Notification.objects.filter(state=Notification.State.CLAIMED, claimed_at__lt=cutoff) \
        .update(state=Notification.State.PENDING)
    return Notification.objects.filter(
        state=Notification.State.SENDING, claimed_at__lt=cutoff).update(
        state=Notification.State.INTERRUPTED,
        last_error="The worker stopped while sending; it may or may not have been delivered, "
                   "so it is not sent again automatically.")


@dataclass
class PassResult:
    sweep: SweepResult
    digests: int
    interrupted: int
    delivered: Counter


def run_pass(*, now: datetime.datetime | None = None, deliver: bool = True,
             time_budget_seconds: float = 50.0) -> PassResult:
    """One pass of everything, as cron, ``send_reminders`` and the demo run it."""
    now = now or timezone.now()
    interrupted = mark_interrupted(now=now)
    sweep_result = sweep(now=now)
    digests = digests_build(now=now)
    delivered: Counter = Counter()
    if deliver:
        delivered = deliver_until_empty(now=now, time_budget_seconds=time_budget_seconds)
    return PassResult(sweep_result, digests, interrupted, delivered)


def deliver_until_empty(*, now: datetime.datetime | None = None,
                        time_budget_seconds: float = 50.0) -> Counter:
    """Deliver batches until nothing is due or the time budget is spent."""
    started = time.monotonic()
    total: Counter = Counter()
    while time.monotonic() - started < time_budget_seconds:
        outcomes = deliver_batch(now=now)
        if not outcomes:
            break
        total += outcomes
        if set(outcomes) <= {"retry", "deferred"}:
            break  # the server is down or it is quiet hours: do not spin
    return total


def pending_count(*, now: datetime.datetime | None = None) -> int:
    return Notification.objects.filter(state=Notification.State.PENDING,
                                       next_attempt_at__lte=now or timezone.now()).count()
