"""Racing sign-offs on PostgreSQL: real row locks, one database connection per thread.

SQLite locks the whole file for every writer, so a race there proves nothing: these tests run
on PostgreSQL only (CI runs the suite on both).
"""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.utils import translation

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import services
from cycles.models import AnnualPlan, PlanTransition, SignOff
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
from workflows.services import open_plan_tasks, plan_act

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks need PostgreSQL; SQLite serialises every writer"),
]

State = AnnualPlan.State
Decision = SignOff.Decision


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10,
                                               tzinfo=ZoneInfo("Europe/Copenhagen"))):
        yield


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def plan_at_the_board(persona) -> AnnualPlan:
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    sekretaer = persona("sekretaer")
    for number in (2, 4):
        services.theme_justification_set(actor=sekretaer, plan=plan,
                                         theme=plan.programme.themes.get(number=number),
                                         text="Intet i år.")
    plan_act(services.plan_submit, actor=sekretaer, plan=plan)
    plan_act(services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Anbefales.")
    plan_act(services.plan_sign, actor=persona("du-formand"), plan=plan,
             decision=Decision.APPROVE, comment="Indstilles.", password=DEMO_PASSWORD)
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == State.ORGANISATION_BOARD
    return plan


def race(calls) -> list:
    """Run the calls at once, each in its own thread and connection; their results/errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                results[index] = call()
        except Exception as error:  # the outcome is what the test checks
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call))
               for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


@pytest.mark.parametrize("racers", [2, 8])
def test_racing_board_approvals_sign_and_publish_exactly_once(racers, transactional_db,
                                                              persona):
    plan = plan_at_the_board(persona)
    chair = persona("ob-formand")

    def approve():
        return plan_act(services.plan_sign, actor=chair, plan=AnnualPlan(pk=plan.pk),
                        decision=Decision.APPROVE, comment="Godkendt.",
                        password=DEMO_PASSWORD)

    results = race([approve] * racers)

    winners = [r for r in results if isinstance(r, SignOff)]
    losers = [r for r in results if not isinstance(r, SignOff)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in losers), losers
    assert {r.current_state for r in losers} <= {State.PUBLISHED}
    assert SignOff.objects.filter(plan=plan, step=State.ORGANISATION_BOARD).count() == 1
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == State.PUBLISHED
    assert PlanTransition.objects.filter(plan=plan, to_state=State.PUBLISHED).count() == 1
    assert AuditEntry.objects.filter(action="plan.publish", object_id=str(plan.pk)).count() == 1
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == ["presentation"]


def test_racing_approval_and_return_at_the_board_let_exactly_one_win(transactional_db,
                                                                     persona):
    plan = plan_at_the_board(persona)
    chair = persona("ob-formand")

    def approve():
        return plan_act(services.plan_sign, actor=chair, plan=AnnualPlan(pk=plan.pk),
                        decision=Decision.APPROVE, comment="Godkendt.",
                        password=DEMO_PASSWORD)

    def send_back():
        return plan_act(services.plan_return, actor=chair, plan=AnnualPlan(pk=plan.pk),
                        reason="Vi venter på budgettet.")

    results = race([approve, send_back])

    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1, results
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state in (State.PUBLISHED, State.DRAFT)
    assert conflicts[0].current_state == plan.state
    left_board = PlanTransition.objects.filter(plan=plan, from_state=State.ORGANISATION_BOARD)
    assert left_board.count() == 1
    expected_task = "presentation" if plan.state == State.PUBLISHED else "draft"
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == [expected_task]
