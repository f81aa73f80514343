"""The reminder e-mails: :func:`build_message` turns one recorded
:class:`~notifications.models.Notification` into the e-mail the delivery worker sends
(notifications/services.py). Rendering only — nothing here writes to the database.

Every e-mail:

* is in the recipient's language (``Person.language``), plain text with an HTML alternative
  (templates ``notifications/email/{reminder,digest}.{txt,html}``);
* has a subject without personal data: the kind of reminder, the plan or case in words
  (department numbers, no names) and the deadline;
* carries the deep link to the task page, what is due and when (dd.mm.yyyy), how overdue, "on
  behalf of" for a substitute, and why the recipient gets it (the rung); an escalated reminder
  copies the chair (or the operations manager), and says so to them;
* has a stable ``Message-ID`` per notification (a retry after an SMTP error sends the same id,
  so a receiving server that got the first attempt drops the second), ``Auto-Submitted``,
  ``List-Id`` and a one-click ``List-Unsubscribe`` (RFC 8058);
* for a reminder with a deadline: the deadline as an ``.ics`` attachment
  (``text/calendar; method=PUBLISH``), with the same UID and SEQUENCE as the calendar feeds.

A reminder costs a handful of queries (the task with its plan, case and mandate; the
organisation's closing days when overdue; the calendar attachment); a digest two or three,
whatever its length.
"""

import datetime
import hashlib
import re
from email.headerregistry import Address
from email.message import MIMEPart
from itertools import groupby

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.links import absolute_url, site_host, task_url
from notifications.models import Notification
from notifications.selectors import closed_days_for

LIST_ID_NAME = "Aarshjul reminders"


# --- addresses and headers --------------------------------------------------------------------







def unsubscribe_url(person) -> str:
    from notifications.preferences import unsubscribe_token

    return absolute_url(reverse("notifications:unsubscribe", args=[unsubscribe_token(person)]))


def preferences_url() -> str:
    return absolute_url(reverse("notifications:preferences"))


def calendar_url() -> str | None:
    try:
        return absolute_url(reverse("notifications:calendar"))
    except NoReverseMatch:  # the calendar pages are optional to the e-mails
        return None


def message_id(notification: Notification) -> str:
    """Stable per notification: ``<aarshjul.notification.<pk>.<hash of key>@<host>>``."""
    digest = hashlib.sha256(notification.key.encode()).hexdigest()[:12]
    return f"<aarshjul.notification.{notification.pk}.{digest}@{site_host()}>"


def address(person) -> str:
    """``Name <e-mail>``, quoted and encoded as needed."""
    name = person.get_full_name() or ""
    return str(Address(display_name=name, addr_spec=person.email)) if name else person.email


class UnfoldedHeader(str):
    """A header value written on one line as it is.

    Python's e-mail package folds header lines longer than 78 characters at whitespace, and
    turns a longer word it cannot fold — an unsubscribe address with its signed token — into
    RFC 2047 encoded words, which no mail program reads as an address. An object with a
    ``name`` and a ``fold()`` is stored and written by the package as given
    (``EmailPolicy.header_store_parse`` / ``_fold``), and Django passes a ``str`` through
    unchanged. RFC 5322 allows lines up to 998 characters.
    """

    name: str

    def __new__(cls, name: str, value: str):
        if "\r" in value or "\n" in value:
            raise ValueError("header values are one line")
        header = super().__new__(cls, value)
        header.name = name
        return header

    def __getnewargs__(self):  # copy and pickle (the in-memory backend deep-copies)
        return self.name, str(self)

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def copied(notification: Notification) -> bool:
    """Does a second person (the chair, on an escalation) get this very e-mail in Cc?"""
    return notification.copy_to_id is not None and bool(notification.copy_to.email)


def headers(notification: Notification) -> dict[str, str]:
    """The e-mail's own headers. An e-mail with a Cc has no unsubscribe address: a mail
    program would offer the chair copied a one-click unsubscribe of the *assignee*."""
    host = site_host()
    values = {
        "Message-ID": message_id(notification),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "OOF, AutoReply",
        "List-Id": f"{LIST_ID_NAME} <reminders.{host}>",
    }
    if not copied(notification):
        values["List-Unsubscribe"] = UnfoldedHeader(
            "List-Unsubscribe", f"<{unsubscribe_url(notification.recipient)}>")
        values["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return values


# --- words --------------------------------------------------------------------------------------

def _day(day: datetime.date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else ""


def case_short(mandate, step: str) -> str:
    """The plan or case in a few words, without names: for subjects."""
    follow_up = mandate.follow_up if mandate is not None else None
    if follow_up is not None:
        return _("Half-yearly follow-up %(half)s %(year)s, dept. %(number)s") % {
            "half": follow_up.get_half_display(), "year": follow_up.plan.year,
            "number": follow_up.department.number}
    if mandate is not None and mandate.plan is not None:
        return _("Annual plan %(year)s: %(step)s") % {"year": mandate.plan.year, "step": step}
    return step


def case_long(mandate) -> str:
    """The plan or case as the pages name it."""
    if mandate is None:
        return ""
    if mandate.follow_up is not None:
        follow_up = mandate.follow_up
        return _("Half-yearly follow-up, %(half)s %(year)s: %(department)s") % {
            "half": follow_up.get_half_display(), "year": follow_up.plan.year,
            "department": follow_up.department}
    if mandate.plan is not None:
        return mandate.plan.title
    return ""


RUNG = re.compile(r"^(?P<kind>before|overdue)-(?P<count>\d+)$")


def rung_label(rung: str) -> str:
    """A rung as people read it: "7 days before", "on the due day", "3 business days overdue",
    "daily digest"…"""
    if rung == "assigned":
        return _("on assignment")
    if rung == "due":
        return _("on the due day")
    if rung.startswith("digest-"):
        return {"digest-daily": _("daily digest"), "digest-weekly": _("weekly digest"),
                "digest-each": _("digest")}.get(rung, _("digest"))
    match = RUNG.match(rung)
    if match is None:
        return rung
    count = int(match["count"])
    if match["kind"] == "before":
        return ngettext("%(count)d day before", "%(count)d days before", count) % {
            "count": count}
    return ngettext("%(count)d business day overdue", "%(count)d business days overdue",
                    count) % {"count": count}


def subject_prefix(rung: str) -> str:
    if rung == "assigned":
        return _("New task")
    if rung == "due":
        return _("Due today")
    if rung.startswith("overdue"):
        return _("Overdue")
    return _("Reminder")


def intro(rung: str, *, overdue: int, due_today: bool) -> str:
    """The e-mail's first sentence."""
    if rung == "assigned":
        return _("You have a new task in Årshjul.")
    if overdue > 0:
        return _("A task of yours is overdue.")
    if due_today:
        return _("A task of yours is due today.")
    return _("A deadline of yours is coming up.")


def why(rung: str, *, days_left: int) -> str:
    """Why the recipient gets this e-mail, from the rung it was decided on."""
    if rung == "assigned":
        return _("You get this e-mail because the task has been given to you.")
    if rung == "due":
        return _("You get this reminder because the deadline is today.")
    if rung.startswith("overdue"):
        return _("You get this reminder because the deadline has passed. Reminders keep "
                 "coming every few business days until the task is done.")
    if days_left > 0:
        return ngettext("You get this reminder because the deadline is in %(count)d day.",
                        "You get this reminder because the deadline is in %(count)d days.",
                        days_left) % {"count": days_left}
    return _("You get this reminder because the deadline is close.")


def when(due_on: datetime.date, *, today: datetime.date, overdue: int) -> str:
    """The deadline relative to today: "in 7 days", "today", "3 business days overdue"."""
    if due_on > today:
        days = (due_on - today).days
        return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}
    if due_on == today or overdue <= 0:
        return _("today")
    return ngettext("%(count)d business day overdue", "%(count)d business days overdue",
                    overdue) % {"count": overdue}


def _overdue(due_on: datetime.date | None, today: datetime.date, closed) -> int:
    from cycles.business_days import business_days_between

    if due_on is None or due_on >= today:
        return 0
    return business_days_between(due_on, today, closed=closed)


# --- the message --------------------------------------------------------------------------------

def _task_ics(task) -> str:
    try:
        from notifications.calendar import task_ics
    except ImportError:  # pragma: no cover - where the calendar writer lives may move
        from notifications.ical import task_ics
    return task_ics(task)


def _ics_part(task) -> MIMEPart:
    part = MIMEPart()
    part.set_content(_task_ics(task), subtype="calendar", charset="utf-8",
                     disposition="attachment", filename=f"aarshjul-task-{task.pk}.ics",
                     params={"method": "PUBLISH"})
    return part


def _mandate(task_id: int):
    from workflows.models import TaskMandate

    return (TaskMandate.objects
            .select_related("task", "plan", "follow_up__department", "follow_up__plan",
                            "department", "body", "organisation", "operations_area",
                            "delegated_from")
            .filter(task_id=task_id).first())


def _common(notification: Notification) -> dict:
    recipient = notification.recipient
    return {
        "notification": notification,
        "recipient": recipient,
        "greeting_name": recipient.first_name or recipient.get_full_name() or recipient.username,
        "preferences_url": preferences_url(),
        # Not in an e-mail someone else reads in Cc: it would stop the recipient's e-mails.
        "unsubscribe_url": None if copied(notification) else unsubscribe_url(recipient),
        "calendar_url": calendar_url(),
        "site_url": settings.SITE_URL,
        "language": translation.get_language(),
    }


def _reminder(notification: Notification, *, today: datetime.date) -> tuple[str, dict]:
    from workflows.selectors import task_step_label

    mandate = _mandate(notification.task_id) if notification.task_id else None
    task = mandate.task if mandate is not None else notification.task
    step = str(task_step_label(task)) if task is not None else ""
    due_on = (mandate.due_on if mandate is not None else None) or notification.due_on
    closed = (closed_days_for([mandate.organisation_id])[mandate.organisation_id]
              if mandate is not None and due_on and due_on < today else ())
    overdue = _overdue(due_on, today, closed)
    days_left = (due_on - today).days if due_on else 0
    copy_to = notification.copy_to if notification.copy_to_id else None
    subject = f"{subject_prefix(notification.rung)}: {case_short(mandate, step)}"
    if due_on:
        subject += " — " + _("due %(day)s") % {"day": _day(due_on)}
    context = {
        **_common(notification),
        "kind": "reminder",
        "task": task,
        "mandate": mandate,
        "step": step,
        "case": case_long(mandate),
        "organisation": mandate.organisation.name if mandate is not None else "",
        "as_mandate": mandate.label if mandate is not None else "",
        "on_behalf_of": (mandate.delegated_from.get_full_name() or mandate.delegated_from.username
                         if mandate is not None and mandate.delegated_from_id else ""),
        "due_on": due_on,
        "when": when(due_on, today=today, overdue=overdue) if due_on else "",
        "overdue": overdue,
        "due_today": due_on == today,
        "intro": intro(notification.rung, overdue=overdue, due_today=due_on == today),
        "why": why(notification.rung, days_left=days_left),
        "rung_label": rung_label(notification.rung),
        "task_url": task_url(task.pk) if task is not None else settings.SITE_URL + "/",
        "copy_to": copy_to,
        "escalation": (ngettext(
            "%(chair)s receives a copy of this reminder, because the task is %(count)d "
            "business day overdue. The task stays with %(owner)s; nothing has been taken "
            "from them.",
            "%(chair)s receives a copy of this reminder, because the task is %(count)d "
            "business days overdue. The task stays with %(owner)s; nothing has been taken "
            "from them.", overdue) % {
            "chair": copy_to.get_full_name() or copy_to.username, "count": overdue,
            "owner": notification.recipient.get_full_name() or notification.recipient.username}
            if copy_to is not None and mandate is not None else ""),
    }
    return subject.replace("\n", " "), context


def _digest(notification: Notification, *, today: datetime.date) -> tuple[str, dict]:
    """A digest lists its items that are still open and still the recipient's, grouped by
    their (current) due date, earliest first."""
    from workflows.selectors import task_step_label
    from workflows.services import OPEN_STATUSES

    items = list(
        notification.items.filter(task__isnull=False)
        .select_related("task__mandate__plan", "task__mandate__follow_up__department",
                        "task__mandate__follow_up__plan", "task__mandate__organisation",
                        "task__mandate__body", "task__mandate__operations_area",
                        "task__mandate__delegated_from")
        .order_by("pk"))
    rows = []
    for item in items:
        task = item.task
        mandate = getattr(task, "mandate", None)
        if (mandate is None or task.status not in OPEN_STATUSES
                or task.owner_id != notification.recipient_id):
            continue  # done or moved on since it was collected: nothing to remind of
        rows.append((item, task, mandate))
    closed = closed_days_for({m.organisation_id for _i, _t, m in rows
                           if m.due_on and m.due_on < today}) if rows else {}
    entries = []
    for item, task, mandate in rows:
        due_on = mandate.due_on or item.due_on
        overdue = _overdue(due_on, today, closed.get(mandate.organisation_id, ()))
        step = str(task_step_label(task))
        entries.append({
            "due_on": due_on,
            "step": step,
            "case": case_long(mandate),
            "as_mandate": mandate.label,
            "on_behalf_of": (mandate.delegated_from.get_full_name()
                             or mandate.delegated_from.username
                             if mandate.delegated_from_id else ""),
            "when": when(due_on, today=today, overdue=overdue) if due_on else "",
            "overdue": overdue,
            "rung_label": rung_label(item.rung),
            "task_url": task_url(task.pk),
        })
    entries.sort(key=lambda e: (e["due_on"] or datetime.date.max, e["step"]))
    groups = [{"due_on": day, "entries": list(group)}
              for day, group in groupby(entries, key=lambda e: e["due_on"])]
    count = len(entries)
    weekly = notification.rung == "digest-weekly"
    if weekly:
        subject = ngettext("Weekly overview: %(count)d task with a deadline",
                           "Weekly overview: %(count)d tasks with a deadline", count)
    else:
        subject = ngettext("Daily overview: %(count)d task with a deadline",
                           "Daily overview: %(count)d tasks with a deadline", count)
    subject = subject % {"count": count} + " — " + _day(notification.due_on or today)
    context = {
        **_common(notification),
        "kind": "digest",
        "weekly": weekly,
        "groups": groups,
        "count": count,
        "overdue_count": sum(1 for e in entries if e["overdue"]),
        "why": (_("You get a weekly overview of your reminders. Deadlines within 48 hours "
                  "and overdue tasks come as separate e-mails.") if weekly else
                _("You get a daily overview of your reminders. Deadlines within 48 hours and "
                  "overdue tasks come as separate e-mails.")),
        "inbox_url": absolute_url(reverse("home")),
    }
    return subject, context


def build_message(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail for one notification, in its recipient's language, ready to send."""
    recipient = notification.recipient
    language = recipient.language or settings.LANGUAGE_CODE
    with translation.override(language):
        today = timezone.localdate()
        if notification.kind == Notification.Kind.DIGEST:
            subject, context = _digest(notification, today=today)
            template = "digest"
        else:
            subject, context = _reminder(notification, today=today)
            template = "reminder"
        context["subject"] = subject
        text = render_to_string(f"notifications/email/{template}.txt", context)
        html = render_to_string(f"notifications/email/{template}.html", context)
        cc = ([address(context["copy_to"])]
              if context.get("copy_to") is not None and context["copy_to"].email else [])
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[address(recipient)], cc=cc,
            headers=headers(notification))
        message.attach_alternative(html, "text/html")
        if template == "reminder" and context["task"] is not None and context["due_on"]:
            message.attach(_ics_part(context["task"]))
    return message
