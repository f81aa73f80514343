"""The reminder e-mails (notifications.emails.build_message): language, subject, recipients,
headers, the calendar attachment, digests — and one round through the delivery worker.

The Danish tests check only what is Danish already (step and half-year labels, dates), so they
hold before and after the new texts are translated.
"""

import datetime
import email.policy
import hashlib
import re

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import Person
from notifications.emails import build_message
from notifications.models import Notification
from notifications.tests.mail_fixtures import (  # noqa: F401 (autouse fixtures)
    SITE,
    TODAY,
    _frozen_today,
    _site_url,
    fetched,
    notification,
    open_task,
    set_due,
)
from workflows.models import TaskMandate

pytestmark = pytest.mark.django_db

IN_7_DAYS = TODAY + datetime.timedelta(days=7)  # Monday 09.03.2026
THREE_BUSINESS_DAYS_AGO = datetime.date(2026, 2, 25)  # Wed; Thu, Fri, Mon = 3 business days


def speaking(person: Person, language: str) -> Person:
    Person.objects.filter(pk=person.pk).update(language=language)
    return Person.objects.get(pk=person.pk)


def text_of(message) -> str:
    return message.body


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def calendar_parts(message) -> list:
    return [part for part in message.message().walk()
            if part.get_content_type() == "text/calendar"]


@pytest.fixture
def driftschef(persona):
    return persona("driftschef")


@pytest.fixture
def follow_up_task(driftschef):
    task = open_task(driftschef, department=1)
    set_due(task, IN_7_DAYS)
    return task


# --- language ---------------------------------------------------------------------------------

def test_a_danish_recipient_gets_the_reminder_in_danish(driftschef, follow_up_task):
    message = build_message(fetched(notification(driftschef, task=follow_up_task)))

    assert message.subject.endswith("09.03.2026")
    assert "andet halvår 2026" in message.subject  # the case, in Danish
    for body in (text_of(message), html_of(message)):
        assert "Forbered afdelingens opfølgning" in body  # the step, in Danish
        assert "Afd. 1 " in body
        assert "09.03.2026" in body
        assert f"{SITE}/tasks/{follow_up_task.pk}/" in body
    assert '<html lang="da">' in html_of(message)


def test_an_english_recipient_gets_the_reminder_in_english(driftschef, follow_up_task):
    driftschef = speaking(driftschef, "en")
    message = build_message(fetched(notification(driftschef, task=follow_up_task)))

    assert message.subject == (
        "Reminder: Half-yearly follow-up second half 2026, dept. 1 — due 09.03.2026")
    text = text_of(message)
    assert "Dear Henrik," in text
    assert "Task: Prepare the department's follow-up" in text
    assert "Deadline: 09.03.2026 (in 7 days)" in text
    assert "You get this reminder because the deadline is in 7 days." in text
    assert f"Open the task: {SITE}/tasks/{follow_up_task.pk}/" in text
    assert "Forbered" not in text
    html = html_of(message)
    assert '<html lang="en">' in html
    assert f'<a href="{SITE}/tasks/{follow_up_task.pk}/"' in html
    assert "Open the task in Årshjul" in html


def test_the_reminder_names_the_rung_it_was_sent_for(driftschef, follow_up_task):
    driftschef = speaking(driftschef, "en")
    assigned = build_message(fetched(notification(driftschef, task=follow_up_task,
                                                  rung="assigned")))
    assert assigned.subject.startswith("New task: ")
    assert "because the task has been given to you" in assigned.body

    set_due(follow_up_task, TODAY)
    due = build_message(fetched(notification(driftschef, task=follow_up_task, rung="due")))
    assert due.subject.startswith("Due today: ")
    assert "Deadline: 02.03.2026 (today)" in due.body
    assert "because the deadline is today" in due.body


def test_an_overdue_reminder_says_how_many_business_days(driftschef, follow_up_task):
    driftschef = speaking(driftschef, "en")
    set_due(follow_up_task, THREE_BUSINESS_DAYS_AGO)
    message = build_message(fetched(notification(driftschef, task=follow_up_task,
                                                 rung="overdue-3")))

    assert message.subject.startswith("Overdue: ")
    assert message.subject.endswith("due 25.02.2026")
    assert "Deadline: 25.02.2026 (3 business days overdue)" in message.body
    assert "A task of yours is overdue." in message.body


def test_a_substitute_is_told_on_whose_behalf(driftschef, follow_up_task, persona):
    driftschef = speaking(driftschef, "en")
    set_due(follow_up_task, IN_7_DAYS, delegated_from=persona("sekretaer"))
    message = build_message(fetched(notification(driftschef, task=follow_up_task)))

    assert "You hold this task on behalf of Mette Skovgaard." in message.body
    assert "On behalf of</th><td" in html_of(message).replace("\n", "")


# --- recipients and subject ---------------------------------------------------------------------

def test_an_escalated_reminder_copies_the_chair_and_tells_them_why(persona):
    secretary = speaking(persona("sekretaer"), "en")
    manager = persona("driftschef")
    task = open_task(secretary, follow_up=False)
    set_due(task, THREE_BUSINESS_DAYS_AGO)
    message = build_message(fetched(notification(secretary, task=task, rung="overdue-3",
                                                 copy_to=manager)))

    assert message.to == ["Mette Skovgaard <sekretaer@example.org>"]
    assert message.cc == ["Henrik Kjærsgaard <driftschef@example.org>"]
    assert ("Henrik Kjærsgaard receives a copy of this reminder, "
            "because the task is 3 business days overdue. The task stays with Mette "
            "Skovgaard; nothing has been taken from them.") in message.body
    rendered = message.message()
    assert "driftschef@example.org" in rendered["Cc"]
    # The unsubscribe address would stop the assignee's e-mails: not offered to the chair.
    assert rendered["List-Unsubscribe"] is None
    assert rendered["List-Unsubscribe-Post"] is None
    assert "/unsubscribe/" not in message.body and "/unsubscribe/" not in html_of(message)
    assert f"{SITE}/preferences/" in message.body


def test_a_reminder_without_escalation_has_no_copy(driftschef, follow_up_task):
    message = build_message(fetched(notification(driftschef, task=follow_up_task)))

    assert message.to == ["Henrik Kjærsgaard <driftschef@example.org>"]
    assert message.cc == []
    assert message.message()["Cc"] is None


@pytest.mark.parametrize("language", ["da", "en"])
def test_no_subject_names_a_person(persona, language):
    """Subjects show on lock screens and in shared mailboxes: step, plan or case and the
    deadline only — not the recipient, the chair copied, or whom a substitute stands in for."""
    secretary = speaking(persona("sekretaer"), language)
    manager = speaking(persona("driftschef"), language)
    plan_task = open_task(secretary, follow_up=False)
    set_due(plan_task, THREE_BUSINESS_DAYS_AGO, delegated_from=persona("ob-formand"))
    case_task = open_task(manager, department=2)
    set_due(case_task, IN_7_DAYS, delegated_from=persona("ab-formand"))
    digest = notification(manager, kind=Notification.Kind.DIGEST, rung="digest-daily",
                          due_on=TODAY)
    notification(manager, task=case_task, digest=digest, rung="before-2",
                 state=Notification.State.IN_DIGEST)
    rows = [
        notification(secretary, task=plan_task, rung="overdue-3", copy_to=manager),
        notification(manager, task=case_task, rung="assigned"),
        notification(manager, task=case_task, rung="before-7"),
        digest,
    ]
    names = set()
    for person in Person.objects.filter(username__in=[
            "sekretaer", "driftschef", "ob-formand", "ab-formand"]):
        names |= {person.first_name, person.last_name, person.username, person.email}
    for row in rows:
        subject = build_message(fetched(row)).subject
        assert subject
        assert "\n" not in subject
        assert [name for name in names if name in subject] == [], subject


# --- headers ------------------------------------------------------------------------------------

def test_headers_identify_the_notification_and_offer_one_click_unsubscribe(
        driftschef, follow_up_task, client):
    row = notification(driftschef, task=follow_up_task)
    message = build_message(fetched(row))
    rendered = message.message()

    key_hash = hashlib.sha256(row.key.encode()).hexdigest()[:12]
    assert rendered["Message-ID"] == f"<aarshjul.notification.{row.pk}.{key_hash}@aarshjul.example.org>"
    # Stable: a retry after an SMTP error sends the same Message-ID.
    assert build_message(fetched(row)).message()["Message-ID"] == rendered["Message-ID"]
    assert rendered["Auto-Submitted"] == "auto-generated"
    assert rendered["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert rendered["List-Id"] == "Aarshjul reminders <reminders.aarshjul.example.org>"
    match = re.fullmatch(rf"<{re.escape(SITE)}(/unsubscribe/[^/>]+/)>",
                         rendered["List-Unsubscribe"])
    assert match is not None
    # On the wire as an address, not as RFC 2047 encoded words (which no mail program reads).
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    assert f"\r\nList-Unsubscribe: <{SITE}/unsubscribe/".encode() in raw
    # The address answers (a confirmation page; a GET changes nothing).
    assert client.get(match[1]).status_code == 200


def test_each_notification_has_its_own_message_id(driftschef, follow_up_task):
    first = build_message(fetched(notification(driftschef, task=follow_up_task,
                                               rung="assigned")))
    second = build_message(fetched(notification(driftschef, task=follow_up_task)))
    assert first.extra_headers["Message-ID"] != second.extra_headers["Message-ID"]


# --- the calendar attachment --------------------------------------------------------------------

def test_a_reminder_carries_its_deadline_as_an_ics_attachment(driftschef, follow_up_task):
    message = build_message(fetched(notification(driftschef, task=follow_up_task)))

    [part] = calendar_parts(message)
    assert part.get_content_disposition() == "attachment"
    assert part.get_filename() == f"aarshjul-task-{follow_up_task.pk}.ics"
    assert part.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == IN_7_DAYS
    assert str(event["UID"]) == f"task-{follow_up_task.pk}@aarshjul.example.org"
    # The mail is multipart: the text, its HTML alternative, the attachment.
    types = [part.get_content_type() for part in message.message().walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                     "text/calendar"]


def test_a_digest_has_no_calendar_attachment(driftschef, follow_up_task):
    digest = notification(driftschef, kind=Notification.Kind.DIGEST, rung="digest-daily",
                          due_on=TODAY)
    notification(driftschef, task=follow_up_task, digest=digest,
                 state=Notification.State.IN_DIGEST)
    assert calendar_parts(build_message(fetched(digest))) == []


# --- digests ------------------------------------------------------------------------------------

def test_a_digest_lists_its_open_items_grouped_by_due_date(driftschef, persona):
    driftschef = speaking(driftschef, "en")
    first = open_task(driftschef, department=1)
    second = open_task(driftschef, department=2)
    plan_task = open_task(persona("sekretaer"), follow_up=False)  # someone else's: left out
    set_due(first, datetime.date(2026, 3, 20))
    set_due(second, datetime.date(2026, 3, 12))
    closing = (TaskMandate.objects.filter(task__owner=driftschef, task__status="ASSIGNED",
                                          follow_up__department__number=2)
               .exclude(task=second).first().task)
    set_due(closing, datetime.date(2026, 3, 20))
    digest = notification(driftschef, kind=Notification.Kind.DIGEST, rung="digest-daily",
                          due_on=TODAY)
    for task in (first, second, closing, plan_task):
        notification(driftschef, task=task, digest=digest, state=Notification.State.IN_DIGEST)

    message = build_message(fetched(digest))

    assert message.subject == "Daily overview: 3 tasks with a deadline — 02.03.2026"
    text = message.body
    assert "You have 3 tasks with a deadline." in text
    early = text.index("Deadline 12.03.2026 (in 10 days)")
    late = text.index("Deadline 20.03.2026 (in 18 days)")
    assert early < text.index(f"/tasks/{second.pk}/") < late
    assert late < text.index(f"/tasks/{first.pk}/")
    assert late < text.index(f"/tasks/{closing.pk}/")
    assert f"/tasks/{plan_task.pk}/" not in text
    assert "Registrer" not in text and "Register the presentation" not in text
    html = html_of(message)
    assert html.count("<h2") == 2
    assert f'href="{SITE}/tasks/{first.pk}/"' in html


def test_a_weekly_digest_says_so(persona):
    chair = speaking(persona("sekretaer"), "en")
    task = open_task(chair, follow_up=False)
    set_due(task, IN_7_DAYS)
    digest = notification(chair, kind=Notification.Kind.DIGEST, rung="digest-weekly",
                          due_on=TODAY)
    notification(chair, task=task, digest=digest, state=Notification.State.IN_DIGEST)

    message = build_message(fetched(digest))

    assert message.subject == "Weekly overview: 1 task with a deadline — 02.03.2026"
    assert "Your weekly overview" in html_of(message)


# --- cost and delivery --------------------------------------------------------------------------

def test_a_reminder_renders_in_a_few_queries(driftschef, follow_up_task,
                                             django_assert_num_queries):
    set_due(follow_up_task, THREE_BUSINESS_DAYS_AGO)
    row = fetched(notification(driftschef, task=follow_up_task, rung="overdue-3",
                               copy_to=driftschef))
    # 1 the task with its mandate, plan, case and department; 2 the organisation's closing
    # days (overdue only); 3 the calendar attachment's task and mandate
    with django_assert_num_queries(3):
        build_message(row)


def test_a_digest_renders_in_the_same_queries_however_long(driftschef, persona):
    tasks = [open_task(driftschef, department=1), open_task(driftschef, department=2)]

    def queries(count: int) -> int:
        digest = notification(driftschef, kind=Notification.Kind.DIGEST,
                              rung=f"digest-daily-{count}", due_on=TODAY)
        for task in tasks[:count]:
            notification(driftschef, task=task, digest=digest, rung=f"before-{count}",
                         state=Notification.State.IN_DIGEST)
        row = fetched(digest)
        with CaptureQueriesContext(connection) as captured:
            build_message(row)
        return len(captured)

    # 1 the items with their tasks, mandates, plans and cases (nothing is overdue, so the
    # closing days are not read)
    assert queries(1) == queries(2) == 1


def test_the_delivery_worker_sends_the_built_message(driftschef, follow_up_task):
    from notifications import services

    row = notification(driftschef, task=follow_up_task, next_attempt_at=datetime.datetime(
        2026, 3, 2, 9, tzinfo=datetime.UTC))
    outcome = services.deliver_batch()

    assert outcome["sent"] == 1
    [sent] = mail.outbox
    row.refresh_from_db()
    assert row.state == Notification.State.SENT
    assert sent.extra_headers["Message-ID"] == row.message_id
    assert sent.to == ["Henrik Kjærsgaard <driftschef@example.org>"]
    assert "09.03.2026" in sent.subject
