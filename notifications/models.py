"""Reminder policy, preferences, the notification outbox and calendar feeds.

Delivery works like a payment system (docs/architecture.md, "Reminders"): a
:class:`Notification` row is written, under a database-unique key per (recipient, task, rung,
due date), in the transaction that decides to send; a worker claims a batch atomically
(``claimed``), marks each row ``sending`` (committed) *just before* it talks to the SMTP server
and ``sent`` after. A row is therefore sent at most once. A worker that dies leaves at most the
one row it was sending ``sending`` — later marked ``interrupted``, visible to the operations
secretary, never re-sent behind anyone's back — and its other claimed rows go back to pending.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReminderPolicy(models.Model):
    """An organisation's reminder ladder for one step ("" = every step without its own).

    Defaults (notifications.ladder.DEFAULT_POLICY): on assignment, 7 and 2 days before, on the
    due day, then every 3 business days while overdue; escalation after 3 business days.
    """

    organisation = models.ForeignKey("governance.Organisation",
                                     verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="reminder_policies")
    step = models.CharField(_("step"), max_length=32, blank=True,
                            help_text=_("Empty: every step without a ladder of its own."))
    on_assignment = models.BooleanField(_("on assignment"), default=True)
    days_before = models.CharField(
        _("days before"), max_length=40, default="7,2",
        help_text=_("Calendar days before the deadline, separated by commas."))
    on_due_day = models.BooleanField(_("on the due day"), default=True)
    overdue_every_business_days = models.PositiveSmallIntegerField(
        _("while overdue, every … business days"), default=3,
        help_text=_("0: no reminders once the deadline has passed."))
    escalate_after_business_days = models.PositiveSmallIntegerField(
        _("escalate after … business days overdue"), default=3,
        help_text=_("The chair of the body (or the operations manager) is copied. 0: never."))

    class Meta:
        verbose_name = _("reminder ladder")
        verbose_name_plural = _("reminder ladders")
        ordering = ["organisation_id", "step"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "step"],
                                    name="notifications_reminderpolicy_one_per_step"),
        ]

    def __str__(self):
        return f"{self.organisation}: {self.step or '*'}"


class NotificationPreference(models.Model):
    """How a person wants reminders. Without a row: daily digest for staff, weekly for board
    members (notifications.selectors.delivery_for). Deadlines within 48 hours always go as
    individual e-mails unless the person unsubscribed."""

    class Delivery(models.TextChoices):
        EACH = "each", _("an e-mail for each reminder")
        DAILY = "daily", _("a daily digest")
        WEEKLY = "weekly", _("a weekly digest (first working day of the week)")
        NONE = "none", _("no reminder e-mails")

    person = models.OneToOneField("governance.Person", verbose_name=_("person"),
                                  on_delete=models.CASCADE,
                                  related_name="notification_preference")
    delivery = models.CharField(_("reminders"), max_length=8, choices=Delivery.choices)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.person}: {self.delivery}"


class Notification(models.Model):
    """One e-mail that was decided: a reminder rung for a task, or a digest of several."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("reminder")
        DIGEST = "digest", _("digest")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        IN_DIGEST = "in_digest", _("waiting for the digest")
        CLAIMED = "claimed", _("taken by a worker")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("not sent")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted while sending")

    key = models.CharField(_("key"), max_length=120, unique=True,
                           help_text=_("recipient:task:rung:due — sent at most once."))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices,
                            default=Kind.REMINDER)
    recipient = models.ForeignKey("governance.Person", verbose_name=_("recipient"),
                                  on_delete=models.CASCADE, related_name="notifications")
    task = models.ForeignKey("viewflow.Task", verbose_name=_("task"),
                             on_delete=models.CASCADE, null=True, blank=True,
                             related_name="notifications")
    rung = models.CharField(_("rung"), max_length=24)
    due_on = models.DateField(_("due"), null=True, blank=True)
    copy_to = models.ForeignKey(
        "governance.Person", verbose_name=_("copy to"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+", help_text=_("Escalation: the chair or operations manager."))
    digest = models.ForeignKey("self", verbose_name=_("digest"), on_delete=models.SET_NULL,
                               null=True, blank=True, related_name="items")
    state = models.CharField(_("state"), max_length=12, choices=State.choices,
                             default=State.PENDING)
    reason = models.CharField(_("reason"), max_length=32, blank=True,
                              help_text=_("Why it was not sent (notifications.ladder.Skip)."))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The delivery worker's queue: only rows waiting to be sent.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"),
                         name="notifications_due_pending"),
            models.Index(fields=["recipient", "state"], name="notifications_recipient"),
            models.Index(fields=["state", "claimed_at"], name="notifications_state"),
        ]

    def __str__(self):
        return self.key


class CalendarFeed(models.Model):
    """A secret, revocable iCalendar address: a person's deadlines and meetings, or one body's.

    The token is the only credential (calendar programs cannot sign in); it is checked against
    the person's current mandates on every fetch.
    """

    person = models.ForeignKey("governance.Person", verbose_name=_("person"),
                               on_delete=models.CASCADE, related_name="calendar_feeds")
    body = models.ForeignKey("governance.Body", verbose_name=_("body"),
                             on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             help_text=_("Empty: the person's own calendar."))
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["person_id", "body_id", "-created_at"]

    def __str__(self):
        return f"{self.person}: {self.body or '-'}"
