"""Shared set-up of the e-mail tests: a frozen Monday, the demo's open tasks, and
notification rows built directly (in real use the sweep records them).

In the demo loaded on Monday 02.03.2026, driftschef (Henrik Kjærsgaard, area 1's operations
manager) owns the "prepare" tasks of departments 1 and 2's second-half follow-ups, and
sekretaer (Mette Skovgaard) owns the plan's presentation task.
"""

import datetime

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task

from notifications.models import Notification
from tests.clock import frozen_before_demo
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES

TODAY = datetime.date(2026, 3, 2)  # a Monday
SITE = "https://aarshjul.example.org"


_frozen_today = frozen_before_demo(TODAY)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def open_task(owner, *, follow_up: bool = True, department: int | None = None) -> Task:
    """One of ``owner``'s open tasks: a follow-up task (of that department) or a plan task."""
    tasks = (Task.objects.filter(owner=owner, status__in=OPEN_STATUSES,
                                 mandate__follow_up__isnull=not follow_up)
             .order_by("mandate__due_on", "pk"))
    if department is not None:
        tasks = tasks.filter(mandate__follow_up__department__number=department)
    task = tasks.first()
    assert task is not None
    return task


def set_due(task, due_on: datetime.date, **fields) -> None:
    TaskMandate.objects.filter(task=task).update(due_on=due_on, **fields)


def notification(recipient, *, task=None, rung: str = "before-7",
                 due_on: datetime.date | None = None, copy_to=None,
                 kind: str = Notification.Kind.REMINDER, digest=None,
                 state: str = Notification.State.PENDING, **fields) -> Notification:
    """A recorded notification, as the sweep would write it."""
    if due_on is None and task is not None:
        due_on = TaskMandate.objects.get(task=task).due_on
    key = f"{recipient.pk}:{task.pk if task else '-'}:{rung}:{due_on or '-'}"
    return Notification.objects.create(
        key=key, kind=kind, recipient=recipient, task=task, rung=rung, due_on=due_on,
        copy_to=copy_to, digest=digest, state=state, created_at=timezone.now(), **fields)


def fetched(row: Notification) -> Notification:
    """The row as the delivery worker loads it."""
    return Notification.objects.select_related("recipient", "copy_to", "task").get(pk=row.pk)
