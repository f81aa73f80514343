"""Calendar feeds: what a person's and a body's feed hold, how moves and cancellations show,
who may fetch them (the token, rechecked against the person's mandates), and the calendar
page (create, copy, revoke). Feeds are read back with the independent ``icalendar`` parser."""

import datetime

import icalendar
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import services as cycle_services
from cycles.models import FollowUp, FollowUpRemark, Meeting
from fixtures.demo import DEMO_SLUG, OTHER_SLUG
from governance.models import Body, Membership
from governance.services import membership_end
from notifications import calendar as feeds
from notifications.models import CalendarFeed
from tests.clock import frozen_on
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES, follow_up_act, open_follow_up_tasks

TODAY = datetime.date(2026, 3, 2)
OWN = {"calendar": "own"}  # the page's button for the person's own calendar


@pytest.fixture(autouse=True)
def _frozen_today():
    with frozen_on(TODAY):
        yield


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://aarshjul.example"


# --- helpers ----------------------------------------------------------------------------------

def meeting(body: Body, day: datetime.date, **fields) -> Meeting:
    now = timezone.now()
    return Meeting.objects.create(organisation_id=body.organisation_id, body=body, date=day,
                                  created_at=now, updated_at=now, **fields)


def org_body(kind: str, slug: str = DEMO_SLUG) -> Body:
    return Body.objects.get(organisation__slug=slug, kind=kind)


def board_of(username: str) -> Body:
    return Body.objects.get(kind=Body.Kind.DEPARTMENT_BOARD,
                            memberships__person__username=username,
                            memberships__role=Membership.Role.CHAIR)


def area_board(area_number: int) -> Body:
    return (Body.objects.filter(kind=Body.Kind.DEPARTMENT_BOARD,
                                organisation__slug=DEMO_SLUG,
                                department__operations_area__number=area_number)
            .order_by("department__number").first())


def fetch(client, feed: CalendarFeed):
    return client.get(reverse("notifications:calendar_feed", args=[feed.token]))


def events_of(client, feed: CalendarFeed) -> dict[str, icalendar.Event]:
    response = fetch(client, feed)
    assert response.status_code == 200, response.status_code
    calendar = icalendar.Calendar.from_ical(response.content.decode("utf-8"))
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def task_uid(task_id: int) -> str:
    return f"task-{task_id}@aarshjul.example"


def meeting_uid(meeting_id: int) -> str:
    return f"meeting-{meeting_id}@aarshjul.example"


def open_tasks_of(person) -> list[Task]:
    return list(Task.objects.filter(owner=person, status__in=OPEN_STATUSES,
                                    mandate__due_on__isnull=False).order_by("pk"))


def ready_for_board(follow_up: FollowUp, actor) -> None:
    remarks = [{"initiative": r.initiative, "status": FollowUpRemark.Status.ONGOING,
                "progress": 50, "text": "I gang."}
               for r in follow_up.remarks.select_related("initiative")]
    follow_up_act(cycle_services.follow_up_save, actor=actor, follow_up=follow_up,
                  summary="Status.", remarks=remarks)
    follow_up_act(cycle_services.follow_up_mark_ready, actor=actor, follow_up=follow_up)


def case_of_board(username: str) -> FollowUp:
    """The second-half follow-up of the department whose board ``username`` chairs."""
    return FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                half="H2", department__board=board_of(username))


# --- a person's feed --------------------------------------------------------------------------

def test_a_staff_members_feed_has_their_deadlines_and_their_bodies_meetings(client, persona):
    manager = persona("driftschef")  # head of operations, area 1
    tasks = open_tasks_of(manager)
    assert len(tasks) >= 2
    committee = meeting(org_body(Body.Kind.OPERATIONS_COMMITTEE), datetime.date(2026, 4, 14),
                        starts_at=datetime.time(17, 0), place="Fælleshuset")
    own_area = meeting(area_board(1), datetime.date(2026, 4, 20))
    other_area = meeting(area_board(2), datetime.date(2026, 4, 21))
    other_org = meeting(org_body(Body.Kind.OPERATIONS_COMMITTEE, OTHER_SLUG),
                        datetime.date(2026, 4, 22))
    feed = feeds.calendar_feed_create(actor=manager)

    events = events_of(client, feed)

    assert {task_uid(t.pk) for t in tasks} <= set(events)
    assert meeting_uid(committee.pk) in events and meeting_uid(own_area.pk) in events
    assert meeting_uid(other_area.pk) not in events  # another area's department board
    assert meeting_uid(other_org.pk) not in events
    task = tasks[0]
    deadline = events[task_uid(task.pk)]
    mandate = TaskMandate.objects.get(task=task)
    assert deadline.decoded("DTSTART") == mandate.due_on
    assert deadline.decoded("DTEND") == mandate.due_on + datetime.timedelta(days=1)
    assert str(deadline["STATUS"]) == "CONFIRMED"
    # The step and the case in words, and the deep link to the task.
    assert "Forbered afdelingens opfølgning" in str(deadline["SUMMARY"])
    assert "Afd. " in str(deadline["SUMMARY"])
    link = f"https://aarshjul.example/tasks/{task.pk}/"
    assert str(deadline["URL"]) == link and link in str(deadline["DESCRIPTION"])
    assert mandate.due_on.strftime("%d.%m.%Y") in str(deadline["DESCRIPTION"])
    (alarm,) = deadline.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -datetime.timedelta(hours=15)
    committee_event = events[meeting_uid(committee.pk)]
    assert committee_event.decoded("DTSTART") == datetime.date(2026, 4, 14)
    assert "17:00" in str(committee_event["SUMMARY"])
    assert str(committee_event["LOCATION"]) == "Fælleshuset"


def test_a_board_members_feed_has_the_meetings_of_the_bodies_they_sit_on(client, persona):
    chair = persona("ab-formand")  # department board chair, so also in the council
    board = meeting(board_of("ab-formand"), datetime.date(2026, 3, 10))
    council = meeting(org_body(Body.Kind.REPRESENTATIVE_COUNCIL), datetime.date(2026, 5, 6))
    committee = meeting(org_body(Body.Kind.OPERATIONS_COMMITTEE), datetime.date(2026, 4, 14))
    feed = feeds.calendar_feed_create(actor=chair)

    events = events_of(client, feed)

    assert meeting_uid(board.pk) in events and meeting_uid(council.pk) in events
    assert meeting_uid(committee.pk) not in events


def test_the_feed_speaks_the_owners_language_not_the_requests(client, persona):
    manager = persona("driftschef")
    manager.language = "en"
    manager.save(update_fields=["language"])
    feed = feeds.calendar_feed_create(actor=manager)

    response = client.get(reverse("notifications:calendar_feed", args=[feed.token]),
                          HTTP_ACCEPT_LANGUAGE="da")

    text = response.content.decode("utf-8").replace("\r\n ", "")
    assert "Prepare the department's follow-up" in text
    assert "Forbered afdelingens opfølgning" not in text


def test_a_moved_deadline_keeps_its_uid_and_raises_the_sequence(client, persona):
    manager = persona("driftschef")
    task = open_tasks_of(manager)[0]
    feed = feeds.calendar_feed_create(actor=manager)
    before = events_of(client, feed)[task_uid(task.pk)]
    mandate = TaskMandate.objects.get(task=task)
    # What the deadline refresh does when a meeting moves: a new date, a higher revision.
    TaskMandate.objects.filter(pk=mandate.pk).update(
        due_on=mandate.due_on + datetime.timedelta(days=7), due_sequence=F("due_sequence") + 1)

    after = events_of(client, feed)[task_uid(task.pk)]

    assert str(before["UID"]) == str(after["UID"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART") == mandate.due_on + datetime.timedelta(days=7)


def test_a_cancelled_task_is_cancelled_in_the_feed_and_gone_after_90_days(client, persona):
    manager = persona("driftschef")
    task = open_tasks_of(manager)[0]
    mandate = TaskMandate.objects.get(task=task)
    feed = feeds.calendar_feed_create(actor=manager)
    sequence = int(events_of(client, feed)[task_uid(task.pk)]["SEQUENCE"])
    Task.objects.filter(pk=task.pk).update(status=STATUS.CANCELED, finished=timezone.now())

    cancelled = events_of(client, feed)[task_uid(task.pk)]

    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == sequence + 1 == mandate.due_sequence + 1
    assert not cancelled.walk("VALARM")
    with frozen_on(TODAY + datetime.timedelta(days=91)):
        assert task_uid(task.pk) not in events_of(client, feed)


def test_a_done_task_leaves_the_feed(client, persona):
    manager = persona("driftschef")
    task = open_tasks_of(manager)[0]
    feed = feeds.calendar_feed_create(actor=manager)
    assert task_uid(task.pk) in events_of(client, feed)
    Task.objects.filter(pk=task.pk).update(status=STATUS.DONE, finished=timezone.now())

    assert task_uid(task.pk) not in events_of(client, feed)


def test_a_cancelled_meeting_is_cancelled_in_the_feed(client, persona):
    chair = persona("ab-formand")
    board = meeting(board_of("ab-formand"), datetime.date(2026, 3, 10))
    feed = feeds.calendar_feed_create(actor=chair)
    assert str(events_of(client, feed)[meeting_uid(board.pk)]["STATUS"]) == "CONFIRMED"
    Meeting.objects.filter(pk=board.pk).update(cancelled_at=timezone.now(),
                                               sequence=F("sequence") + 1)

    event = events_of(client, feed)[meeting_uid(board.pk)]

    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CANCELLED", 1)
    assert not event.walk("VALARM")


# --- a body's feed ----------------------------------------------------------------------------

def test_a_body_feed_has_the_bodys_meetings_and_the_tasks_routed_to_it(client, persona):
    chair = persona("ab-formand")
    board = board_of("ab-formand")
    ready_for_board(case_of_board("ab-formand"), persona("driftschef"))
    (acknowledge,) = open_follow_up_tasks(follow_up=case_of_board("ab-formand"))
    assert TaskMandate.objects.get(task=acknowledge).body_id == board.pk
    own = meeting(board, datetime.date(2026, 3, 10))
    council = meeting(org_body(Body.Kind.REPRESENTATIVE_COUNCIL), datetime.date(2026, 5, 6))
    feed = feeds.calendar_feed_create(actor=chair, body=board)

    events = events_of(client, feed)

    board_meetings = {meeting_uid(pk) for pk in Meeting.objects.filter(body=board)
                      .values_list("pk", flat=True)}
    assert meeting_uid(own.pk) in board_meetings
    assert set(events) == {task_uid(acknowledge.pk)} | board_meetings
    assert meeting_uid(council.pk) not in events
    assert "Afd." in str(events[task_uid(acknowledge.pk)]["SUMMARY"])


def test_a_member_who_left_the_body_gets_404_for_its_feed(client, persona):
    member = persona("ab-medlem")
    board = Body.objects.get(memberships__person=member, kind=Body.Kind.DEPARTMENT_BOARD)
    feed = feeds.calendar_feed_create(actor=member, body=board)
    own = feeds.calendar_feed_create(actor=member)
    assert fetch(client, feed).status_code == 200
    seat = Membership.objects.get(person=member, body=board)
    membership_end(actor=None, membership=seat, ends_on=TODAY - datetime.timedelta(days=1))

    assert fetch(client, feed).status_code == 404
    assert fetch(client, own).status_code == 200  # their own calendar stays theirs


def test_staff_may_follow_their_organisations_bodies_but_not_another_areas_board(persona):
    manager = persona("driftschef")
    allowed = set(feeds.feed_bodies_for(person=manager))
    assert org_body(Body.Kind.ORGANISATION_BOARD) in allowed
    assert area_board(1) in allowed
    assert area_board(2) not in allowed
    assert org_body(Body.Kind.ORGANISATION_BOARD, OTHER_SLUG) not in allowed
    with pytest.raises(PermissionDenied):
        feeds.calendar_feed_create(actor=manager, body=area_board(2))
    secretary = persona("sekretaer")  # organisation-wide: every board of the organisation
    assert area_board(2) in set(feeds.feed_bodies_for(person=secretary))


# --- the token --------------------------------------------------------------------------------

def test_the_feed_is_text_calendar_cached_privately(client, persona):
    feed = feeds.calendar_feed_create(actor=persona("driftschef"))

    response = fetch(client, feed)

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")


def test_unknown_and_revoked_tokens_are_404(client, persona):
    manager = persona("driftschef")
    feed = feeds.calendar_feed_create(actor=manager)
    assert client.get(reverse("notifications:calendar_feed",
                              args=["x" * 43])).status_code == 404
    feeds.calendar_feed_revoke(actor=manager, feed=feed)

    assert fetch(client, feed).status_code == 404


def test_an_inactive_persons_feed_is_404(client, persona):
    manager = persona("driftschef")
    feed = feeds.calendar_feed_create(actor=manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    assert fetch(client, feed).status_code == 404


def test_the_last_fetch_is_recorded_at_most_once_an_hour(client, persona):
    feed = feeds.calendar_feed_create(actor=persona("driftschef"))
    fetch(client, feed)
    first = CalendarFeed.objects.get(pk=feed.pk).last_fetched_at
    assert first is not None
    with time_machine.travel(first + datetime.timedelta(minutes=30)):
        fetch(client, feed)
    assert CalendarFeed.objects.get(pk=feed.pk).last_fetched_at == first
    with time_machine.travel(first + datetime.timedelta(minutes=61)):
        fetch(client, feed)
    assert CalendarFeed.objects.get(pk=feed.pk).last_fetched_at > first


def test_fetching_a_feed_takes_the_same_few_queries_however_many_events(
        client, persona, django_assert_num_queries):
    manager = persona("driftschef")
    feed = feeds.calendar_feed_create(actor=manager)
    committee = org_body(Body.Kind.OPERATIONS_COMMITTEE)
    fetch(client, feed)  # records the fetch: the next ones within the hour write nothing
    meeting(committee, datetime.date(2026, 4, 1))
    # 1 the feed and its person by token, 2 the tasks with their mandate, plan, case and
    # department, 3 the meetings of the person's bodies with body and plan
    with django_assert_num_queries(3):
        few = events_of(client, feed)
    for day in range(2, 12):
        meeting(committee, datetime.date(2026, 4, day))
    with django_assert_num_queries(3):
        many = events_of(client, feed)
    assert len(many) == len(few) + 10
    body_feed = feeds.calendar_feed_create(actor=manager, body=committee)
    fetch(client, body_feed)
    # a body's feed: one more, the check that the person may still follow the body
    with django_assert_num_queries(4):
        body_events = events_of(client, body_feed)
    assert {meeting_uid(pk) for pk in Meeting.objects.filter(body=committee)
            .values_list("pk", flat=True)} <= set(body_events)


def test_task_ics_is_one_deadline_with_the_feeds_uid(persona):
    task = open_tasks_of(persona("driftschef"))[0]
    mandate = TaskMandate.objects.get(task=task)

    text = feeds.task_ics(task)

    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == task_uid(task.pk)
    assert event.decoded("DTSTART") == mandate.due_on
    assert int(event["SEQUENCE"]) == mandate.due_sequence


def test_task_ics_refuses_a_task_without_a_deadline(persona):
    task = open_tasks_of(persona("driftschef"))[0]
    TaskMandate.objects.filter(task=task).update(due_on=None)
    with pytest.raises(ValueError):
        feeds.task_ics(task)


# --- the calendar page ------------------------------------------------------------------------

def test_the_page_creates_a_personal_address_to_copy(client, persona):
    manager = persona("driftschef")
    client.force_login(manager)
    page = client.get(reverse("notifications:calendar"))
    assert page.status_code == 200
    assert b'data-testid="no-feeds"' in page.content

    response = client.post(reverse("notifications:calendar_feed_create"), OWN)

    assert response.status_code == 302
    feed = CalendarFeed.objects.get(person=manager, revoked_at__isnull=True)
    assert feed.body is None and len(feed.token) >= 43
    page = client.get(reverse("notifications:calendar"))
    https = f"https://aarshjul.example/calendar/{feed.token}.ics"
    assert https.encode() in page.content
    assert f"webcal://aarshjul.example/calendar/{feed.token}.ics".encode() in page.content
    assert b'data-testid="copy-hint"' in page.content
    assert AuditEntry.objects.filter(action="calendar_feed.create", object_id=str(feed.pk),
                                     actor=manager).exists()
    assert feed.token not in str(AuditEntry.objects.get(action="calendar_feed.create").summary)


def test_the_page_creates_an_address_for_one_of_my_bodies(client, persona):
    chair = persona("ab-formand")
    client.force_login(chair)
    board = board_of("ab-formand")

    response = client.post(reverse("notifications:calendar_feed_create"), {"body": board.pk})

    assert response.status_code == 302
    assert CalendarFeed.objects.filter(person=chair, body=board).count() == 1


def test_a_body_outside_my_mandates_is_a_field_error(client, persona):
    client.force_login(persona("ab-formand"))
    other = org_body(Body.Kind.ORGANISATION_BOARD, OTHER_SLUG)

    response = client.post(reverse("notifications:calendar_feed_create"), {"body": other.pk})

    assert response.status_code == 400
    assert b'data-testid="create-body"' in response.content
    assert b"error-summary" in response.content
    assert not CalendarFeed.objects.filter(body=other).exists()
    empty = client.post(reverse("notifications:calendar_feed_create"), {})
    assert empty.status_code == 400 and b'id="id_body_error"' in empty.content
    assert not CalendarFeed.objects.exists()


def test_a_second_address_for_the_same_calendar_is_a_conflict(client, persona):
    chair = persona("ab-formand")
    client.force_login(chair)
    client.post(reverse("notifications:calendar_feed_create"), OWN)

    response = client.post(reverse("notifications:calendar_feed_create"), OWN)

    assert response.status_code == 409
    assert b"error-summary" in response.content
    assert CalendarFeed.objects.filter(person=chair).count() == 1


def test_revoking_asks_first_then_switches_the_address_off(client, persona):
    manager = persona("driftschef")
    feed = feeds.calendar_feed_create(actor=manager)
    client.force_login(manager)
    url = reverse("notifications:calendar_feed_revoke", args=[feed.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200 and b'data-testid="revoke-form"' in confirm.content
    assert fetch(client, feed).status_code == 200  # asking changed nothing

    response = client.post(url)

    assert response.status_code == 302
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is not None
    assert fetch(client, feed).status_code == 404
    assert feed.token.encode() not in client.get(reverse("notifications:calendar")).content
    assert AuditEntry.objects.filter(action="calendar_feed.revoke",
                                     object_id=str(feed.pk)).exists()
    assert client.post(url).status_code == 404  # gone from the owner's addresses


def test_revoking_twice_is_a_conflict_naming_the_state(persona):
    manager = persona("driftschef")
    feed = feeds.calendar_feed_create(actor=manager)
    feeds.calendar_feed_revoke(actor=manager, feed=feed)
    with pytest.raises(Conflict) as raised:
        feeds.calendar_feed_revoke(actor=manager, feed=feed)
    assert raised.value.current_state == "revoked"


def test_another_persons_address_cannot_be_revoked(client, persona):
    feed = feeds.calendar_feed_create(actor=persona("driftschef"))
    client.force_login(persona("serviceleder"))
    url = reverse("notifications:calendar_feed_revoke", args=[feed.pk])

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is None
    with pytest.raises(PermissionDenied):
        feeds.calendar_feed_revoke(actor=persona("serviceleder"), feed=feed)


def test_signed_out_visitors_are_sent_to_sign_in(client, persona):
    feed = feeds.calendar_feed_create(actor=persona("driftschef"))
    for url in (reverse("notifications:calendar"),
                reverse("notifications:calendar_feed_revoke", args=[feed.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    assert client.post(reverse("notifications:calendar_feed_create"), OWN).status_code == 302
    assert CalendarFeed.objects.count() == 1


def test_meetings_older_than_a_year_leave_the_feed(client, persona):
    chair = persona("ab-formand")
    board = board_of("ab-formand")
    old = meeting(board, TODAY - datetime.timedelta(days=366))
    recent = meeting(board, TODAY - datetime.timedelta(days=300))
    feed = feeds.calendar_feed_create(actor=chair)

    events = events_of(client, feed)

    assert meeting_uid(recent.pk) in events and meeting_uid(old.pk) not in events


def test_the_page_takes_the_same_few_queries_however_many_addresses(client, persona):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    secretary = persona("sekretaer")
    client.force_login(secretary)
    feeds.calendar_feed_create(actor=secretary)
    # The page's own: the user's addresses with body and organisation, and the bodies still
    # without one (the user's mandates are subqueries); the rest is the session, the user and
    # the site menu, which do not depend on the addresses either.
    client.get(reverse("notifications:calendar"))  # the menu's answers are kept in the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("notifications:calendar")).status_code == 200
    for body in list(feeds.feed_bodies_for(person=secretary))[:4]:
        feeds.calendar_feed_create(actor=secretary, body=body)
    client.get(reverse("notifications:calendar"))
    with CaptureQueriesContext(connection) as five:
        page = client.get(reverse("notifications:calendar"))
    assert page.content.count(b'data-testid="feed"') == 5
    assert len(five) == len(one)
    own = [q["sql"] for q in five if "notifications_calendarfeed" in q["sql"]
           or q["sql"].startswith('SELECT "governance_body"')]
    assert len(own) == 2
