"""The broker-free ways to run reminders: the ``send_reminders`` command (cron) and the demo's
in-process loop."""

import datetime
import io
import threading
import time

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from notifications.apps import start_in_process_sweep
from notifications.models import Notification
from tests.clock import at
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES

D = datetime.date


@pytest.fixture
def one_task_due(demo):
    mandate = TaskMandate.objects.filter(task__status__in=OPEN_STATUSES,
                                         task__owner__isnull=False).first()
    TaskMandate.objects.exclude(pk=mandate.pk).update(due_on=None)
    TaskMandate.objects.filter(pk=mandate.pk).update(due_on=D(2026, 3, 27),
                                                     assigned_on=D(2026, 3, 2))
    return mandate


def test_one_pass_decides_sends_and_says_what_it_did(one_task_due):
    out = io.StringIO()
    with time_machine.travel(at(D(2026, 3, 25), 9), tick=False):
        call_command("send_reminders", stdout=out)
        call_command("send_reminders", stdout=out)
    first, second = out.getvalue().splitlines()
    assert first.startswith("decided 1,") and "sent=1" in first
    assert second.startswith("decided 0,") and "already_sent=1" in second
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_loop_sends_in_the_background_until_stopped(one_task_due, settings):
    settings.NOTIFICATIONS_QUIET_HOURS = ""
    TaskMandate.objects.filter(pk=one_task_due.pk).update(
        due_on=timezone.localdate(), assigned_on=timezone.localdate())
    stop = threading.Event()
    thread = start_in_process_sweep(0.2, stop=stop, first_after=0)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not mail.outbox:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(mail.outbox) == 1
    assert Notification.objects.get().state == Notification.State.SENT
