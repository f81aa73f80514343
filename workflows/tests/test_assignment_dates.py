"""``TaskMandate.assigned_on``: the day the current owner got the task (the reminder ladder's
first rung counts from it). Routing, claiming, reassigning and rerouting set it; releasing a
task to its queue clears it.

Time starts on Monday 02.03.2026 (the demo is loaded then); department 1's H2 follow-up is
prepared by driftschef, area 1's head of operations.
"""

import datetime

import pytest

from cycles.models import FollowUp
from fixtures.demo import DEMO_SLUG
from tests.clock import frozen_on
from workflows import services
from workflows.models import TaskMandate

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen_today():
    with frozen_on(TODAY):
        yield


def prepare_task():
    case = FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                department__number=1, half="H2")
    (task,) = services.open_follow_up_tasks(follow_up=case)
    return task


def assigned_on(task) -> datetime.date | None:
    return TaskMandate.objects.get(task=task).assigned_on


def test_a_routed_task_is_assigned_the_day_it_is_created(persona):
    task = prepare_task()
    assert task.owner == persona("driftschef")
    assert assigned_on(task) == TODAY


def test_release_clears_it_and_claim_and_reassign_set_it_to_the_day(persona):
    task = prepare_task()
    services.task_release(actor=persona("driftschef"), task=task)
    assert assigned_on(task) is None

    with frozen_on(datetime.date(2026, 3, 4)):
        services.task_claim(actor=persona("serviceleder"), task=task)
    assert assigned_on(task) == datetime.date(2026, 3, 4)

    with frozen_on(datetime.date(2026, 3, 9)):
        services.task_reassign(actor=persona("sekretaer"), task=task, to=persona("driftschef"))
    assert assigned_on(task) == datetime.date(2026, 3, 9)

    with frozen_on(datetime.date(2026, 3, 10)):  # to the person who has it: nothing changes
        services.task_reassign(actor=persona("sekretaer"), task=task, to=persona("driftschef"))
    assert assigned_on(task) == datetime.date(2026, 3, 9)


def test_a_task_that_moves_to_a_substitute_is_theirs_from_that_day(persona):
    task = prepare_task()
    driftschef = persona("driftschef")
    day = datetime.date(2026, 3, 5)
    with frozen_on(day):
        services.delegation_create(
            actor=driftschef, person=driftschef, substitute=persona("serviceleder"),
            organisation_id=task.mandate.organisation_id, starts_on=day,
            ends_on=day + datetime.timedelta(days=7), reason="Ferie")
    task.refresh_from_db()
    assert task.owner == persona("serviceleder")
    assert assigned_on(task) == day
