"""Calendar feeds: secret, revocable iCalendar addresses with a person's deadlines and
meetings, or one body's.

Services (writes): :func:`calendar_feed_create`, :func:`calendar_feed_revoke`,
:func:`calendar_feed_touch`. Selectors (reads): :func:`feeds_for_user`,
:func:`calendar_feed_get_for_user`, :func:`feed_bodies_for`, :func:`feed_get_by_token`,
:func:`feed_events`, :func:`feed_calendar`, and :func:`task_ics` for the e-mail attachments.
The iCalendar text itself is written by the pure :mod:`notifications.ical`.

What a feed holds:

* **a person's feed**: their open tasks with a deadline; their tasks cancelled in the last
  90 days that had one (``STATUS:CANCELLED``); the meetings of the bodies they sit on today and,
  for staff, of their organisation's bodies (the organisation-level bodies, and the department
  boards of their operations area — of every area for organisation-wide staff);
* **a body's feed**: the body's meetings and the open (and recently cancelled) tasks routed to
  the body.

A finished task leaves the feed (calendar programs then drop its event). A task's event keeps
its UID (``task-<pk>@<host>``) for life; ``SEQUENCE`` is ``TaskMandate.due_sequence``, raised
whenever the due date moves, plus one once the task is cancelled. A meeting's is
``Meeting.sequence``. Meetings more than a year old are left out, so a feed does not grow
forever.

The token is the only credential (calendar programs cannot sign in), so the person's access is
checked again on every fetch (:func:`feed_get_by_token`).
"""

import datetime
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.services import audit_record
from config.errors import Conflict
from cycles.models import Meeting
from governance.models import Body, Membership, Person, StaffAssignment
from notifications import ical
from notifications.links import absolute_url, site_host, task_url
from notifications.models import CalendarFeed
from workflows.services import OPEN_STATUSES

CANCELLED_TASKS_DAYS = 90  # cancelled steps stay in the feed (as cancelled) this long
PAST_MEETINGS_DAYS = 365  # meetings older than this leave the feed
FETCH_RECORD_INTERVAL = datetime.timedelta(hours=1)  # last_fetched_at is written at most so often


# --- addresses --------------------------------------------------------------------------------





def feed_url(feed: CalendarFeed) -> str:
    """The feed's address (https in production; SITE_URL's scheme)."""
    return absolute_url(reverse("notifications:calendar_feed", args=[feed.token]))


def webcal_url(feed: CalendarFeed) -> str:
    """The same address as ``webcal://``: calendar programs open it as a subscription."""
    url = feed_url(feed)
    return "webcal://" + url.split("://", 1)[1]




def meeting_url(meeting: Meeting) -> str:
    """The governance calendar's page, filtered to the meeting's body and year (the site's
    home page while the calendar page is not installed)."""
    try:
        path = reverse("cycles:meeting_list")
    except NoReverseMatch:
        return absolute_url(reverse("home"))
    query = urlencode({"when": "all", "body": meeting.body_id, "year": meeting.date.year})
    return absolute_url(f"{path}?{query}")


# --- who may subscribe to what ----------------------------------------------------------------

def feed_bodies_for(*, person: Person, day: datetime.date | None = None) -> QuerySet[Body]:
    """The bodies whose meetings (and feed) the person may follow on ``day``: the bodies they
    sit on; for staff also the organisation-level bodies of their organisation and the
    department boards of their operations area (every area for organisation-wide staff).
    One query (the mandates are subqueries)."""
    day = day or timezone.localdate()
    seats = Membership.objects.current_on(day).filter(person=person).values("body_id")
    staff = StaffAssignment.objects.current_on(day).filter(person=person)
    organisation_wide = staff.filter(operations_area__isnull=True).values("organisation_id")
    areas = staff.filter(operations_area__isnull=False).values("operations_area_id")
    staff_organisations = staff.values("organisation_id")
    return Body.objects.filter(
        Q(pk__in=seats)
        | Q(organisation_id__in=organisation_wide)
        | Q(department__operations_area_id__in=areas)
        | (Q(organisation_id__in=staff_organisations)
           & ~Q(kind=Body.Kind.DEPARTMENT_BOARD)))


def may_follow_body(*, person: Person, body: Body, day: datetime.date | None = None) -> bool:
    return feed_bodies_for(person=person, day=day).filter(pk=body.pk).exists()


# --- services ---------------------------------------------------------------------------------

@transaction.atomic
def calendar_feed_create(*, actor: Person, body: Body | None = None) -> CalendarFeed:
    """A new secret address for the actor's own calendar (``body=None``) or for one body they
    sit on or are staff for. One active address per person and body: a second one is a
    409 (revoke the old one to get a new address)."""
    Person.objects.select_for_update().filter(pk=actor.pk).first()  # one create at a time
    if body is not None and not may_follow_body(person=actor, body=body):
        raise PermissionDenied(_("You can only subscribe to the calendar of a body you sit on "
                                 "or work for."))
    if CalendarFeed.objects.filter(person=actor, body=body, revoked_at__isnull=True).exists():
        raise Conflict(
            _("You already have a calendar address for %(what)s. Revoke it first if you want "
              "a new one.") % {"what": body.name if body else _("your own calendar")},
            current_state="active", current_state_label=_("active"))
    feed = CalendarFeed.objects.create(person=actor, body=body,
                                       token=secrets.token_urlsafe(32),
                                       created_at=timezone.now())
    audit_record(actor=actor, action="calendar_feed.create", obj=feed,
                 organisation=body.organisation if body else None,
                 summary={"body": body.pk if body else None})
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor: Person, feed: CalendarFeed) -> CalendarFeed:
    """The owner switches the address off for good; 409 when it already is."""
    feed = (CalendarFeed.objects.select_for_update(of=("self",))
            .select_related("body__organisation")
            .get(pk=feed.pk))
    if feed.person_id != actor.pk:
        raise PermissionDenied(_("Only the owner can revoke a calendar address."))
    if feed.revoked_at is not None:
        raise Conflict(
            _("The calendar address was already revoked on %(day)s.") % {
                "day": timezone.localtime(feed.revoked_at).strftime("%d.%m.%Y")},
            current_state="revoked", current_state_label=_("revoked"))
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="calendar_feed.revoke", obj=feed,
                 organisation=feed.body.organisation if feed.body else None,
                 summary={"body": feed.body_id})
    return feed


def calendar_feed_touch(*, feed: CalendarFeed, now: datetime.datetime | None = None) -> bool:
    """Record a fetch, at most once an hour (calendar programs poll often; no audit entry).
    A compare-and-set, so two fetches at once write once. No query when recorded recently."""
    now = now or timezone.now()
    cutoff = now - FETCH_RECORD_INTERVAL
    if feed.last_fetched_at is not None and feed.last_fetched_at > cutoff:
        return False
    updated = (CalendarFeed.objects.filter(pk=feed.pk)
               .filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lte=cutoff))
               .update(last_fetched_at=now))
    if updated:
        feed.last_fetched_at = now
    return bool(updated)


# --- selectors --------------------------------------------------------------------------------

def feeds_for_user(*, user) -> QuerySet[CalendarFeed]:
    """The user's active addresses: their own calendar first, then bodies by name."""
    return (CalendarFeed.objects.filter(person=user, revoked_at__isnull=True)
            .select_related("body__organisation")
            .order_by(F("body__name").asc(nulls_first=True), "created_at"))


def calendar_feed_get_for_user(*, user, pk: int) -> CalendarFeed:
    """One of the user's own active addresses; 404 for anyone else's (and for revoked ones)."""
    if not user.is_authenticated:
        raise Http404
    feed = (CalendarFeed.objects.select_related("body__organisation")
            .filter(pk=pk, person=user, revoked_at__isnull=True).first())
    if feed is None:
        raise Http404
    return feed


def feed_get_by_token(token: str, *, day: datetime.date | None = None) -> CalendarFeed | None:
    """The feed behind a token, or ``None`` when the token is unknown or revoked, its person
    is inactive, or (a body's feed) the person no longer sits on or works for the body.
    One query, two more for a body's feed."""
    if not token:
        return None
    feed = (CalendarFeed.objects.select_related("person", "body__organisation")
            .filter(token=token, revoked_at__isnull=True).first())
    if feed is None or not feed.person.is_active:
        return None
    if feed.body is not None and not may_follow_body(person=feed.person, body=feed.body,
                                                     day=day):
        return None
    return feed


def _task_rows(tasks: QuerySet[Task], *, now: datetime.datetime) -> QuerySet[Task]:
    """Open tasks with a deadline, and those cancelled recently that had one, with everything
    their event needs joined in."""
    cutoff = now - datetime.timedelta(days=CANCELLED_TASKS_DAYS)
    return (tasks.filter(mandate__due_on__isnull=False)
            .filter(Q(status__in=OPEN_STATUSES)
                    | Q(status=STATUS.CANCELED, finished__gte=cutoff)
                    | Q(status=STATUS.CANCELED, finished__isnull=True, created__gte=cutoff))
            .select_related("mandate__plan", "mandate__follow_up__department",
                            "mandate__follow_up__plan", "mandate__body",
                            "mandate__organisation", "mandate__operations_area",
                            "mandate__delegated_from")
            .order_by("mandate__due_on", "pk"))


def _meeting_rows(meetings: QuerySet[Meeting], *, today: datetime.date) -> QuerySet[Meeting]:
    return (meetings.filter(date__gte=today - datetime.timedelta(days=PAST_MEETINGS_DAYS))
            .select_related("body", "plan").order_by("date", "starts_at", "pk"))


def feed_events(feed: CalendarFeed, *, today: datetime.date | None = None,
                now: datetime.datetime | None = None) -> list[ical.Event]:
    """The events of a feed, in the active language: two queries whatever their number
    (the tasks with their mandate, plan, case and department joined; the meetings with their
    body and plan)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if feed.body_id is None:
        tasks = Task.objects.filter(owner_id=feed.person_id)
        meetings = Meeting.objects.filter(body__in=feed_bodies_for(person=feed.person,
                                                                   day=today))
    else:
        tasks = Task.objects.filter(mandate__body_id=feed.body_id)
        meetings = Meeting.objects.filter(body_id=feed.body_id)
    events = [task_event(task) for task in _task_rows(tasks, now=now)]
    events += [meeting_event(meeting) for meeting in _meeting_rows(meetings, today=today)]
    events.sort(key=lambda event: (event.day, event.uid))
    return events


def feed_name(feed: CalendarFeed) -> str:
    if feed.body_id is None:
        return _("Årshjul: my deadlines and meetings")
    return _("Årshjul: %(body)s") % {"body": feed.body.name}


def feed_calendar(feed: CalendarFeed, *, now: datetime.datetime | None = None) -> str:
    """The whole feed as iCalendar text, in the feed owner's language."""
    now = now or timezone.now()
    language = feed.person.language or settings.LANGUAGE_CODE
    with translation.override(language):
        events = feed_events(feed, today=timezone.localdate(now), now=now)
        return ical.calendar(events, name=feed_name(feed), stamp=now)


# --- events -----------------------------------------------------------------------------------

def _day(day: datetime.date) -> str:
    return day.strftime("%d.%m.%Y")


def task_subject(mandate) -> str:
    """The plan or case a task belongs to, in words (as the inbox shows it)."""
    follow_up = mandate.follow_up
    if follow_up is not None:
        return _("Half-yearly follow-up, %(half)s %(year)s: %(department)s") % {
            "half": follow_up.get_half_display(), "year": follow_up.plan.year,
            "department": follow_up.department}
    if mandate.plan is not None:
        return mandate.plan.title
    return ""


def task_event(task: Task) -> ical.Event:
    """A task's deadline as an all-day event (``task.mandate`` with its plan, case and
    department loaded)."""
    from workflows.selectors import task_step_label

    mandate = task.mandate
    cancelled = task.status == STATUS.CANCELED
    step = str(task_step_label(task))
    subject = task_subject(mandate)
    summary = (_("Deadline: %(step)s – %(subject)s") % {"step": step, "subject": subject}
               if subject else _("Deadline: %(step)s") % {"step": step})
    if cancelled:
        summary = _("Cancelled: %(summary)s") % {"summary": summary}
    url = task_url(task.pk)
    lines = []
    if cancelled:
        lines.append(_("This step was cancelled; there is nothing more to do."))
    lines.append(step)
    if subject:
        lines.append(subject)
    lines.append(_("Deadline: %(day)s") % {"day": _day(mandate.due_on)})
    lines.append(_("As: %(mandate)s") % {"mandate": mandate.label})
    if mandate.delegated_from_id:
        lines.append(_("On behalf of %(name)s") % {
            "name": mandate.delegated_from.get_full_name() or mandate.delegated_from})
    lines.append(_("Open the task: %(url)s") % {"url": url})
    return ical.Event(
        uid=f"task-{task.pk}@{site_host()}", day=mandate.due_on, summary=summary,
        description="\n".join(lines), url=url,
        sequence=mandate.due_sequence + (1 if cancelled else 0), cancelled=cancelled)


def meeting_event(meeting: Meeting) -> ical.Event:
    """A meeting as an all-day event (``meeting.body`` and ``meeting.plan`` loaded)."""
    cancelled = meeting.cancelled_at is not None
    words = {"body": meeting.body.name, "kind": meeting.get_kind_display()}
    if meeting.starts_at is not None:
        words["time"] = meeting.starts_at.strftime("%H:%M")
        summary = _("%(body)s: %(kind)s at %(time)s") % words
    else:
        summary = _("%(body)s: %(kind)s") % words
    if cancelled:
        summary = _("Cancelled: %(summary)s") % {"summary": summary}
    url = meeting_url(meeting)
    lines = []
    if cancelled:
        lines.append(_("The meeting is cancelled."))
    lines.append(_("%(kind)s of %(body)s on %(day)s") % {**words, "day": _day(meeting.date)})
    if meeting.starts_at is not None:
        lines.append(_("Starts at %(time)s") % words)
    if meeting.place:
        lines.append(_("Place: %(place)s") % {"place": meeting.place})
    if meeting.plan is not None:
        lines.append(_("On the agenda: %(plan)s") % {"plan": meeting.plan.title})
    if meeting.note:
        lines.append(meeting.note)
    lines.append(_("The governance calendar: %(url)s") % {"url": url})
    return ical.Event(
        uid=f"meeting-{meeting.pk}@{site_host()}", day=meeting.date, summary=summary,
        description="\n".join(lines), url=url, sequence=meeting.sequence,
        cancelled=cancelled, location=meeting.place)


def task_ics(task: Task) -> str:
    """A VCALENDAR with the task's one deadline event (the e-mail attachment), in the active
    language, with the same UID and SEQUENCE as in the feeds — so a calendar program that
    imports it and also subscribes keeps one event. Raises ``ValueError`` for a task without
    a due date (there is nothing to put in a calendar)."""
    from workflows.models import TaskMandate

    mandate = (TaskMandate.objects
               .select_related("task", "plan", "follow_up__department", "follow_up__plan",
                               "body", "organisation", "operations_area", "delegated_from")
               .get(task_id=task.pk))
    if mandate.due_on is None:
        raise ValueError(f"task {task.pk} has no due date")
    row = mandate.task
    row.mandate = mandate
    return ical.calendar([task_event(row)], name=_("Årshjul: deadline"), stamp=timezone.now())
