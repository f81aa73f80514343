"""The sweep and delivery against the database, with frozen time and Django's in-memory
mailbox: a task walked through its whole ladder, digests, retries, interruptions, re-checks."""

import datetime
from email.utils import parseaddr

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications import services
from notifications.models import Notification, NotificationPreference
from tests.clock import at
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES

D = datetime.date


def addresses(header_values) -> list[str]:
    return [parseaddr(value)[1] for value in header_values]


def only_this_task_has_a_deadline(mandate: TaskMandate, *, due_on, assigned_on) -> None:
    TaskMandate.objects.exclude(pk=mandate.pk).update(due_on=None)
    TaskMandate.objects.filter(pk=mandate.pk).update(due_on=due_on, assigned_on=assigned_on)
    mandate.refresh_from_db()


def prefer(person, delivery: str) -> None:
    NotificationPreference.objects.update_or_create(
        person=person, defaults={"delivery": delivery, "updated_at": timezone.now()})


@pytest.fixture
def close_step(demo):
    """The open "close" step of a follow-up case, owned by area 1's operations manager, with
    nothing else due."""
    mandate = (TaskMandate.objects.select_related("task__owner", "department")
               .get(task__flow_task__endswith="close", task__status__in=OPEN_STATUSES))
    only_this_task_has_a_deadline(mandate, due_on=D(2026, 4, 1), assigned_on=D(2026, 3, 16))
    prefer(mandate.task.owner, NotificationPreference.Delivery.EACH)
    return mandate


def run_at(moment: datetime.datetime) -> services.PassResult:
    with time_machine.travel(moment, tick=False):
        return services.run_pass()


def test_a_task_walks_its_whole_ladder_with_escalation_over_easter_and_quiet_hours(close_step):
    owner = close_step.task.owner
    sent_on = []
    day = D(2026, 3, 16)
    while day <= D(2026, 4, 20):
        for hour in (6, 9, 21):  # before, inside and after the send window
            before = len(mail.outbox)
            run_at(at(day, hour))
            if len(mail.outbox) > before:
                assert hour == 9, f"e-mail in quiet hours on {day} at {hour}"
                (message,) = mail.outbox[before:]
                sent_on.append((day, message.cc))
        day += datetime.timedelta(days=1)

    close_step.refresh_from_db()
    chief = close_step.escalated_to
    assert [d for d, _ in sent_on] == [D(2026, 3, 16), D(2026, 3, 25), D(2026, 3, 30),
                                       D(2026, 4, 1), D(2026, 4, 9), D(2026, 4, 14),
                                       D(2026, 4, 17)]
    # The operations manager's own step escalates to the operations secretary, copied from
    # three business days overdue (Easter counted); the task stays with its owner.
    assert chief is not None and chief != owner
    assert chief.username == "sekretaer"
    assert close_step.escalated_on == D(2026, 4, 9)
    assert [cc for d, cc in sent_on if d < D(2026, 4, 9)] == [[], [], [], []]
    assert all(addresses(cc) == [chief.email] for d, cc in sent_on if d >= D(2026, 4, 9))
    assert all(addresses(m.to) == [owner.email] for m in mail.outbox)
    assert Notification.objects.filter(task=close_step.task).count() == 7
    assert set(Notification.objects.filter(task=close_step.task)
               .values_list("state", flat=True)) == {Notification.State.SENT}
    close_step.task.refresh_from_db()
    assert close_step.task.owner == owner


def test_a_second_pass_the_same_day_sends_nothing_again(close_step):
    first = run_at(at(D(2026, 3, 25), 9))
    second = run_at(at(D(2026, 3, 25), 9, ))
    assert (first.sweep.decided, len(mail.outbox)) == (1, 1)
    assert second.sweep.decided == 0
    assert second.sweep.skipped["already_sent"] == 1


def test_a_weekly_digest_collects_the_early_rungs_and_goes_on_monday(close_step):
    owner = close_step.task.owner
    prefer(owner, NotificationPreference.Delivery.WEEKLY)
    TaskMandate.objects.filter(pk=close_step.pk).update(assigned_on=D(2026, 3, 18))
    run_at(at(D(2026, 3, 18), 9))  # assigned: collected for the digest
    run_at(at(D(2026, 3, 20), 9))  # Friday: not the digest's day
    assert mail.outbox == []
    run_at(at(D(2026, 3, 23), 9))  # Monday
    (digest,) = mail.outbox
    assert addresses(digest.to) == [owner.email]
    item = Notification.objects.get(task=close_step.task, rung="assigned")
    assert item.state == Notification.State.SENT and item.digest.kind == "digest"
    run_at(at(D(2026, 3, 23), 11))
    assert len(mail.outbox) == 1
    # 25 March, 7 days before: not urgent → next Monday's digest; 30 March, 2 days before: alone.
    run_at(at(D(2026, 3, 25), 9))
    run_at(at(D(2026, 3, 30), 9))
    assert len(mail.outbox) == 3  # the Monday digest and the "2 days before" e-mail
    assert Notification.objects.get(task=close_step.task, rung="before-7").digest is not None


def test_smtp_refusing_is_retried_with_backoff_then_given_up_visibly(close_step, settings,
                                                                    unused_tcp_port):
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": unused_tcp_port, "timeout": 2}}}
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    run_at(at(D(2026, 3, 25), 9))
    row = Notification.objects.get(task=close_step.task)
    assert (row.state, row.attempts) == (Notification.State.PENDING, 1)
    assert "Connection refused" in row.last_error or "refused" in row.last_error.lower()
    assert row.next_attempt_at == at(D(2026, 3, 25), 9) + datetime.timedelta(seconds=60)
    run_at(at(D(2026, 3, 25), 9) + datetime.timedelta(seconds=30))  # not yet due again
    row.refresh_from_db()
    assert row.attempts == 1
    run_at(at(D(2026, 3, 25), 9, ) + datetime.timedelta(seconds=61))
    run_at(at(D(2026, 3, 25), 9, ) + datetime.timedelta(seconds=61 + 121))
    row.refresh_from_db()
    assert (row.state, row.attempts) == (Notification.State.FAILED, 3)
    assert Notification.objects.filter(task=close_step.task).count() == 1


def test_a_row_left_sending_by_a_dead_worker_is_marked_interrupted_and_not_sent(close_step):
    with time_machine.travel(at(D(2026, 3, 25), 9), tick=False):
        services.sweep()
        Notification.objects.update(state=Notification.State.SENDING, claimed_at=timezone.now())
    run_at(at(D(2026, 3, 25), 9) + datetime.timedelta(minutes=11))
    row = Notification.objects.get(task=close_step.task)
    assert row.state == Notification.State.INTERRUPTED and "not sent again" in row.last_error
    assert mail.outbox == []


def test_the_task_is_re_checked_when_the_e_mail_is_sent(close_step):
    with time_machine.travel(at(D(2026, 3, 25), 9), tick=False):
        services.sweep()
    TaskMandate.objects.filter(pk=close_step.pk).update(due_on=D(2026, 4, 8))
    run_at(at(D(2026, 3, 25), 9, ) + datetime.timedelta(minutes=1))
    row = Notification.objects.get(task=close_step.task, rung="before-7")
    assert (row.state, row.reason) == (Notification.State.SKIPPED, "deadline_moved")
    # The moved deadline's ladder stands on the assignment again (16.03), which is old news.
    assert mail.outbox == []


def test_a_decision_that_meets_quiet_hours_at_send_time_waits_until_seven(close_step):
    with time_machine.travel(at(D(2026, 3, 25), 19) + datetime.timedelta(minutes=59),
                             tick=False):
        services.sweep()
    services_now = at(D(2026, 3, 25), 20) + datetime.timedelta(minutes=1)
    with time_machine.travel(services_now, tick=False):
        services.deliver_until_empty()
    row = Notification.objects.get(task=close_step.task)
    assert (row.state, row.next_attempt_at, row.attempts) == (
        Notification.State.PENDING, at(D(2026, 3, 26), 7), 0)
    run_at(at(D(2026, 3, 26), 7))
    row.refresh_from_db()
    assert row.state == Notification.State.SENT and len(mail.outbox) == 1


def test_the_sweep_reads_the_same_number_of_queries_for_one_or_many_due_tasks(
        demo, django_assert_num_queries):
    open_tasks = TaskMandate.objects.filter(task__status__in=OPEN_STATUSES)
    assert open_tasks.count() > 5
    open_tasks.update(due_on=D(2026, 4, 1), assigned_on=D(2026, 3, 16))
    one = open_tasks.first()
    TaskMandate.objects.exclude(pk=one.pk).update(due_on=None)
    # open tasks with owners and deadlines; stored preferences; staff among the rest;
    # ladders; closing days; keys decided before; savepoint, insert, release.
    with time_machine.travel(at(D(2026, 3, 25), 9), tick=False), \
            django_assert_num_queries(9):
        assert services.sweep().decided == 1
    open_tasks.update(due_on=D(2026, 4, 1))
    with time_machine.travel(at(D(2026, 3, 26), 9), tick=False), \
            django_assert_num_queries(9):
        assert services.sweep().decided > 1


def test_a_chairs_own_overdue_step_escalates_to_the_operations_manager_of_the_area(persona):
    from viewflow.workflow.models import Task

    from governance.models import Membership
    from workflows.services import escalation_target

    chair = persona("ab-formand")
    board = Membership.objects.get(person=chair, role="chair").body
    mandate = TaskMandate(kind=TaskMandate.Kind.BODY, body=board, department=board.department,
                          organisation_id=board.organisation_id, role="chair",
                          task=Task(owner=chair))
    assert escalation_target(mandate, day=timezone.localdate()) == persona("driftschef")
    mandate.task = Task(owner=persona("serviceleder"))
    assert escalation_target(mandate, day=timezone.localdate()) == chair


def test_a_digest_whose_tasks_were_all_done_meanwhile_is_not_sent(close_step):
    prefer(close_step.task.owner, NotificationPreference.Delivery.WEEKLY)
    TaskMandate.objects.filter(pk=close_step.pk).update(assigned_on=D(2026, 3, 18))
    run_at(at(D(2026, 3, 18), 9))
    close_step.task.__class__.objects.filter(pk=close_step.task_id).update(status="DONE")
    run_at(at(D(2026, 3, 23), 9))
    digest = Notification.objects.get(kind="digest")
    assert (digest.state, digest.reason) == (Notification.State.SKIPPED, "task_done")
    assert mail.outbox == []
