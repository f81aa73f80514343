"""Escalation: an overdue task shows on the copied person's inbox and task page; the task stays
with its owner; it is escalated once."""

import datetime

import pytest
from django.test import Client

from audit.models import AuditEntry
from fixtures.demo import DEMO_PASSWORD
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES, task_escalate

D = datetime.date


@pytest.fixture
def overdue_close_step(demo):
    mandate = (TaskMandate.objects.select_related("task__owner")
               .get(task__flow_task__endswith="close", task__status__in=OPEN_STATUSES))
    TaskMandate.objects.filter(pk=mandate.pk).update(due_on=D(2026, 4, 1))
    return mandate


def signed_in(person) -> Client:
    client = Client()
    # A real sign-in: Client.login gives authenticate() no request, which django-axes refuses.
    assert client.post("/login/", {"username": person.username,
                                    "password": DEMO_PASSWORD}).status_code == 302
    return client


def test_the_escalated_task_waits_under_escalated_to_me_and_opens_for_the_copied_person(
        overdue_close_step, persona):
    secretary = persona("sekretaer")
    client = signed_in(secretary)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-testid="tab-escalated"' not in page.content.decode()

    assert task_escalate(task_id=overdue_close_step.task_id, day=D(2026, 4, 9)) == secretary
    assert task_escalate(task_id=overdue_close_step.task_id, day=D(2026, 4, 14)) is None
    assert AuditEntry.objects.filter(action="task.escalated").count() == 1

    page = client.get("/?view=escalated", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="tab-escalated"' in page
    assert f"/tasks/{overdue_close_step.task_id}/" in page
    detail = client.get(f"/tasks/{overdue_close_step.task_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    assert "is copied on the reminders since 09.04.2026" in detail.content.decode()
    overdue_close_step.task.refresh_from_db()
    assert overdue_close_step.task.owner == persona("driftschef")
    counts = client.get("/api/v1/tasks/counts/").json()
    assert counts["escalated"] == 1
