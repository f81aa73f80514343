"""Delivery problems: the operations secretary sees the failed and interrupted e-mails of her
organisation and sends them again; nobody else does; a row in any other state answers 409."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from config.errors import Conflict
from fixtures.demo import OTHER_SLUG
from governance.models import Organisation
from notifications import services
from notifications.models import Notification
from notifications.preferences import notification_resend
from notifications.tests.mail_fixtures import (  # noqa: F401 (autouse fixtures)
    TODAY,
    _frozen_today,
    _site_url,
    notification,
    open_task,
    set_due,
)
from tests.pages import english_pages
from workflows.models import TaskMandate

pytestmark = pytest.mark.django_db

PROBLEMS = "/notifications/problems/"
State = Notification.State
SMTP_ERROR = "SMTPServerDisconnected: Connection unexpectedly closed"


_english = english_pages()


@pytest.fixture
def rows(persona):
    """A failed and an interrupted reminder of driftschef's (our organisation), one that was
    sent, and a failed one of a task in the other organisation."""
    manager = persona("driftschef")
    task = open_task(manager, department=1)
    set_due(task, TODAY + datetime.timedelta(days=7))
    other_task = (TaskMandate.objects.filter(task__owner=persona("sekretaer"))
                  .exclude(task__status__in=["NEW", "ASSIGNED", "STARTED"]).first().task)
    TaskMandate.objects.filter(task=other_task).update(
        organisation=Organisation.objects.get(slug=OTHER_SLUG))
    return {
        "failed": notification(manager, task=task, rung="assigned", state=State.FAILED,
                               attempts=8, last_error=SMTP_ERROR),
        "interrupted": notification(manager, task=task, rung="before-7",
                                    state=State.INTERRUPTED, attempts=1,
                                    last_error="The worker stopped while sending."),
        "sent": notification(manager, task=task, rung="before-2", state=State.SENT,
                             attempts=1),
        "other organisation": notification(persona("sekretaer"), task=other_task,
                                           rung="due", state=State.FAILED, attempts=8,
                                           last_error=SMTP_ERROR),
    }


def listed(response) -> list[int]:
    import re

    return [int(pk) for pk in re.findall(r'<tr class="problem-row" data-notification="(\d+)"',
                                         response.content.decode())]


def test_the_secretary_sees_her_organisations_failed_and_interrupted_emails(
        client, persona, rows):
    client.force_login(persona("sekretaer"))
    response = client.get(PROBLEMS)

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted([rows["failed"].pk, rows["interrupted"].pk])
    page = response.content.decode()
    assert "Henrik Kjærsgaard" in page and "driftschef@example.org" in page
    assert "Prepare the department&#x27;s follow-up" in page
    assert "On assignment" in page and "7 days before" in page
    assert SMTP_ERROR in page
    assert "Failed" in page and "Interrupted while sending" in page
    assert page.count('data-testid="resend"') == 2


def test_the_secretary_sends_a_failed_email_again_and_it_goes_out(client, persona, rows):
    secretary = persona("sekretaer")
    client.force_login(secretary)
    failed = rows["failed"]

    response = client.post(PROBLEMS, {"notification": failed.pk})

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == State.PENDING
    assert failed.attempts == 8  # kept
    assert abs(failed.next_attempt_at - timezone.now()) < datetime.timedelta(seconds=5)
    entry = AuditEntry.objects.get(action="notifications.resend")
    assert entry.actor == secretary
    assert entry.summary["from"] == "failed"
    assert entry.organisation.slug != OTHER_SLUG
    assert "will be sent again" in client.get(PROBLEMS).content.decode()
    assert failed.pk not in listed(client.get(PROBLEMS))


def test_an_interrupted_email_can_be_sent_again(client, persona, rows):
    client.force_login(persona("sekretaer"))
    assert client.post(PROBLEMS, {"notification": rows["interrupted"].pk}).status_code == 302
    rows["interrupted"].refresh_from_db()
    assert rows["interrupted"].state == State.PENDING


def test_a_sent_email_is_not_sent_again(client, persona, rows):
    client.force_login(persona("sekretaer"))
    response = client.post(PROBLEMS, {"notification": rows["sent"].pk})

    assert response.status_code == 409
    assert "The e-mail is “sent”" in response.content.decode()
    rows["sent"].refresh_from_db()
    assert rows["sent"].state == State.SENT
    assert not AuditEntry.objects.filter(action="notifications.resend").exists()


def test_a_second_click_loses_and_names_the_state(persona, rows):
    secretary = persona("sekretaer")
    notification_resend(actor=secretary, notification=rows["failed"])
    with pytest.raises(Conflict) as conflict:
        notification_resend(actor=secretary, notification=rows["failed"])
    assert conflict.value.current_state == State.PENDING
    assert AuditEntry.objects.filter(action="notifications.resend").count() == 1


def test_another_organisations_email_is_404(client, persona, rows):
    client.force_login(persona("sekretaer"))
    response = client.post(PROBLEMS, {"notification": rows["other organisation"].pk})
    assert response.status_code == 404
    rows["other organisation"].refresh_from_db()
    assert rows["other organisation"].state == State.FAILED


def test_an_empty_send_again_is_400(client, persona, rows):
    client.force_login(persona("sekretaer"))
    response = client.post(PROBLEMS, {})
    assert response.status_code == 400
    assert "Choose the e-mail to send again." in response.content.decode()


@pytest.mark.parametrize("username", ["ab-formand", "ob-formand", "driftschef"])
def test_others_may_not_see_or_resend(client, persona, rows, username):
    client.force_login(persona(username))
    assert client.get(PROBLEMS).status_code == 403
    assert client.post(PROBLEMS, {"notification": rows["failed"].pk}).status_code == 403
    rows["failed"].refresh_from_db()
    assert rows["failed"].state == State.FAILED


def test_a_resent_email_is_delivered_by_the_worker(client, persona, rows):
    client.force_login(persona("sekretaer"))
    client.post(PROBLEMS, {"notification": rows["failed"].pk})

    outcome = services.deliver_batch()

    assert outcome["sent"] == 1
    assert len(mail.outbox) == 1
    rows["failed"].refresh_from_db()
    assert rows["failed"].state == State.SENT


def test_the_list_costs_the_same_queries_however_long(client, persona, rows):
    client.force_login(persona("sekretaer"))
    manager = persona("driftschef")
    task = open_task(manager, department=2)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PROBLEMS).status_code == 200
        return len(captured)

    client.get(PROBLEMS)  # caches warmed (content types, translations)
    before = queries()
    for days in (3, 6, 9):
        notification(manager, task=task, rung=f"overdue-{days}", state=State.FAILED,
                     attempts=8, last_error=SMTP_ERROR)
    assert queries() == before
    # 1 the session, 2 the user, 3 the organisations she holds a mandate in, 4–5 her roles
    # there (seats, staff assignments), 6 the count and 7 the page of problems with their
    # recipients, tasks, mandates, plans and cases
    assert before == 7


def test_the_admin_action_sends_again_through_the_service(client, persona, rows):
    client.force_login(persona("admin"))
    response = client.post("/admin/notifications/notification/", {
        "action": "send_again", "_selected_action": [rows["failed"].pk, rows["sent"].pk]})

    assert response.status_code == 302
    rows["failed"].refresh_from_db()
    rows["sent"].refresh_from_db()
    assert rows["failed"].state == State.PENDING
    assert rows["sent"].state == State.SENT
    entry = AuditEntry.objects.get(action="notifications.resend")
    assert entry.actor == persona("admin")


def test_a_failed_digest_shows_for_the_organisation_of_its_items(client, persona, rows):
    manager = persona("driftschef")
    digest = notification(manager, kind=Notification.Kind.DIGEST, rung="digest-daily",
                          due_on=TODAY, state=State.FAILED, attempts=8, last_error=SMTP_ERROR)
    rows["failed"].digest = digest
    rows["failed"].save(update_fields=["digest"])
    client.force_login(persona("sekretaer"))

    response = client.get(PROBLEMS)

    assert digest.pk in listed(response)
    assert "Overview of several reminders" in response.content.decode()
    assert client.post(PROBLEMS, {"notification": digest.pk}).status_code == 302
    digest.refresh_from_db()
    assert digest.state == State.PENDING


@pytest.mark.parametrize("path", [
    "/admin/notifications/notification/",
    "/admin/notifications/notification/?state__exact=failed",
    "/admin/notifications/notificationpreference/",
    "/admin/notifications/notificationpreference/add/",
    "/admin/notifications/reminderpolicy/",
    "/admin/notifications/calendarfeed/",
])
def test_the_admin_pages_open(client, persona, rows, path):
    client.force_login(persona("admin"))
    assert client.get(path).status_code == 200


def test_the_admin_shows_a_notification_read_only(client, persona, rows):
    client.force_login(persona("admin"))
    response = client.get(f"/admin/notifications/notification/{rows['failed'].pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert SMTP_ERROR in page
    assert 'name="last_error"' not in page  # not editable
