"""Twenty requests racing over HTTP on PostgreSQL: one sign-off, one claim, one transition.

Each racer is its own API client (force_authenticate) in its own thread with its own database
connection; a barrier releases all twenty at once. Whatever the interleaving, exactly one
request changes anything, every other one answers 409 naming the state the winner left behind,
none answers 500, nothing is written twice or lost, and the audit trail's hash chain still
verifies afterwards.

SQLite locks the whole file for every writer, so a race there proves nothing: these tests run
on PostgreSQL only (``DATABASE_URL=postgres://…``; CI runs them in ``.ci/run``).

Time is frozen on Monday 02.03.2026 before the demo loads (its terms are relative to today):
the 2027 plan is a draft the tests walk to the organisation board, department 1's second-half
follow-up case is scheduled, and its "prepare" task is driftschef's.
"""

import datetime
import io
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import translation
from rest_framework.test import APIClient
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from cycles import services
from cycles.models import AnnualPlan, FollowUp, FollowUpTransition, PlanTransition, SignOff
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
from governance import services as governance_services
from governance.models import OperationsArea, Person, StaffAssignment
from tests.clock import frozen_before_demo
from workflows import services as workflow_services
from workflows.services import (
    follow_up_act,
    open_follow_up_tasks,
    open_plan_tasks,
    plan_act,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks need PostgreSQL; SQLite serialises every writer"),
]

RACERS = 20
TODAY = datetime.date(2026, 3, 2)
State = AnnualPlan.State
Decision = SignOff.Decision

_frozen_today = frozen_before_demo(TODAY)


# --- the race -------------------------------------------------------------------------------

def race(calls: list[Callable[[], object]]) -> list:
    """Run every call at the same moment, each in its own thread and database connection.

    Returns what each call returned (or the exception it raised), in the calls' order.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = call()
        except Exception as error:  # the test looks at every outcome
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call), name=f"racer-{index}")
               for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def poster(person: Person, address: str, data: dict | None = None) -> Callable:
    """A racer: one POST by ``person`` through its own API client. A server error comes back
    as a 500 response (not an exception), so the status codes show it."""
    client = APIClient(raise_request_exception=False)
    # Its own copy of the person: nothing shared between threads but the database.
    client.force_authenticate(Person.objects.get(pk=person.pk))

    def post():
        with translation.override("en"):
            return client.post(address, data or {}, format="json",
                               HTTP_ACCEPT_LANGUAGE="en")

    return post


def status_codes(responses: list) -> list:
    """Every racer's status code (an exception stands for itself, so it shows in a failure)."""
    return sorted((getattr(r, "status_code", r) for r in responses), key=str)


def split(responses: list, expected_wins: int = 1) -> tuple[list, list]:
    """The 2xx answers and the 409 answers; anything else (a 500, an exception) fails."""
    assert all(getattr(r, "status_code", None) in (200, 201, 409) for r in responses), \
        status_codes(responses)
    won = [r for r in responses if r.status_code < 300]
    lost = [r for r in responses if r.status_code == 409]
    assert len(won) == expected_wins, status_codes(responses)
    assert len(lost) == len(responses) - expected_wins
    return won, lost


def assert_audit_trail_verifies() -> None:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)  # raises CommandError if a chain is broken
    assert "intact" in out.getvalue()


# --- the demo, moved along ------------------------------------------------------------------

def plan_url(plan: AnnualPlan, action: str) -> str:
    return f"/api/v1/plans/{plan.pk}/{action}/"


def plan_at_the_board(persona) -> AnnualPlan:
    """The 2027 draft, submitted, reviewed and recommended: the board's chair signs next."""
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    sekretaer = persona("sekretaer")
    covered = set(plan.initiatives.values_list("theme__number", flat=True))
    for theme in plan.programme.themes.exclude(number__in=covered):
        services.theme_justification_set(actor=sekretaer, plan=plan, theme=theme,
                                         text="Intet i år.")
    plan_act(services.plan_submit, actor=sekretaer, plan=plan)
    plan_act(services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Anbefales.")
    plan_act(services.plan_sign, actor=persona("du-formand"), plan=plan,
             decision=Decision.APPROVE, comment="Indstilles.", password=DEMO_PASSWORD)
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == State.ORGANISATION_BOARD
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == ["board"]
    return plan


def case_of(number: int, half: str = FollowUp.Half.H2) -> FollowUp:
    return FollowUp.objects.select_related("department").get(
        plan__organisation__slug=DEMO_SLUG, plan__year=2026, department__number=number,
        half=half)


def case_in_preparation(persona) -> FollowUp:
    """Department 1's second-half case, prepared by the area's head of operations."""
    case = case_of(1)
    remarks = [{"initiative": remark.initiative, "status": "ongoing", "progress": 40,
                "text": "I gang."}
               for remark in case.remarks.order_by("pk").select_related("initiative")]
    follow_up_act(services.follow_up_save, actor=persona("driftschef"), follow_up=case,
                  summary="Halvåret er gået efter planen.", remarks=remarks)
    case = FollowUp.objects.get(pk=case.pk)
    assert case.state == FollowUp.State.IN_PREPARATION
    assert case.ready_blockers() == []
    return case


def open_case_tasks(case: FollowUp) -> list[tuple[str, str]]:
    return [(task.flow_task.name, task.owner.username if task.owner else "")
            for task in open_follow_up_tasks(follow_up=case)]


def more_service_managers(persona, count: int) -> list[Person]:
    """``count`` new service managers in area 1, started through the governance services
    (which put them in the area's mandate groups, the queues of the area's tasks)."""
    secretary = persona("sekretaer")
    area = OperationsArea.objects.get(organisation__slug=DEMO_SLUG, number=1)
    people = []
    for index in range(count):
        person = governance_services.person_create(
            actor=secretary, username=f"racer-{index:02}", first_name="Racer",
            last_name=f"Nr. {index + 1}", password=DEMO_PASSWORD)
        governance_services.staff_assignment_start(
            actor=secretary, person=person, organisation=area.organisation,
            operations_area=area, role=StaffAssignment.Role.SERVICE_MANAGER, starts_on=TODAY)
        people.append(person)
    return people


# --- 1. the board's approval ----------------------------------------------------------------

def test_twenty_approvals_by_the_board_chair_sign_and_publish_exactly_once(transactional_db,
                                                                          persona):
    plan = plan_at_the_board(persona)
    chair = persona("ob-formand")
    sign = {"decision": "approve", "password": DEMO_PASSWORD, "comment": "Godkendt.",
            "expected_sha256": plan.current_revision.sha256}

    responses = race([poster(chair, plan_url(plan, "sign"), sign) for _ in range(RACERS)])

    [won], lost = split(responses)
    assert won.json()["state"] == "published"
    for response in lost:
        body = response.json()
        assert (body["code"], body["current_state"]) == ("conflict", "published"), body
        assert body["detail"]
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == State.PUBLISHED
    assert plan.approved_revision_id == plan.current_revision_id
    board_sign_offs = SignOff.objects.filter(plan=plan, step=State.ORGANISATION_BOARD)
    assert [(s.signer, s.decision) for s in board_sign_offs] == [(chair, Decision.APPROVE)]
    assert PlanTransition.objects.filter(plan=plan, from_state=State.ORGANISATION_BOARD
                                         ).count() == 1
    assert PlanTransition.objects.filter(plan=plan, to_state=State.PUBLISHED).count() == 1
    plan_audit = AuditEntry.objects.filter(object_type="cycles.annualplan",
                                           object_id=str(plan.pk))
    assert plan_audit.filter(action="plan.publish").count() == 1
    assert plan_audit.filter(action="plan.sign",
                             summary__step=State.ORGANISATION_BOARD).count() == 1
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == ["presentation"]
    assert_audit_trail_verifies()


# --- 2. claiming a task from the queue ------------------------------------------------------

def test_twenty_people_claiming_one_task_leave_it_with_exactly_one(transactional_db, persona):
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    people = [driftschef, serviceleder, *more_service_managers(persona, RACERS - 2)]
    [task] = open_follow_up_tasks(follow_up=case_of(1))
    workflow_services.task_release(actor=driftschef, task=task)
    address = f"/api/v1/tasks/{task.pk}/"
    # Every racer sees the task in their queue, offered to claim.
    for person in people:
        client = APIClient()
        client.force_authenticate(person)
        assert client.get(address).json()["allowed_actions"][0] == "claim", person

    responses = race([poster(person, address + "claim/") for person in people])

    [won], lost = split(responses)
    task.refresh_from_db()
    winner = task.owner
    assert winner in people and task.status == STATUS.ASSIGNED
    assert won.json()["owner"]["id"] == winner.pk
    for response in lost:
        body = response.json()
        assert (body["code"], body["current_state"]) == ("conflict", STATUS.ASSIGNED), body
        assert winner.get_full_name() in body["detail"]
    claims = AuditEntry.objects.filter(action="task.claim", object_id=str(task.pk))
    assert [entry.actor for entry in claims] == [winner]
    assert open_case_tasks(case_of(1)) == [("prepare", winner.username)]
    assert_audit_trail_verifies()


def test_two_people_double_clicking_claim_ten_times_each_get_one_owner(transactional_db,
                                                                       persona):
    """A double-click by the winner changes nothing more: the task is already theirs, so those
    answers are 200 with the same owner; every click by the other person is a 409."""
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    [task] = open_follow_up_tasks(follow_up=case_of(1))
    workflow_services.task_release(actor=driftschef, task=task)
    address = f"/api/v1/tasks/{task.pk}/claim/"
    people = [driftschef, serviceleder] * (RACERS // 2)

    responses = race([poster(person, address) for person in people])

    won, lost = split(responses, expected_wins=RACERS // 2)
    task.refresh_from_db()
    winner = task.owner
    assert winner in (driftschef, serviceleder)
    by_whom = Counter((person.pk, response.status_code)
                      for person, response in zip(people, responses, strict=True))
    assert by_whom == {(winner.pk, 200): RACERS // 2,
                       (({driftschef.pk, serviceleder.pk} - {winner.pk}).pop(), 409):
                       RACERS // 2}
    assert {response.json()["owner"]["id"] for response in won} == {winner.pk}
    assert all(winner.get_full_name() in response.json()["detail"] for response in lost)
    assert AuditEntry.objects.filter(action="task.claim", object_id=str(task.pk)).count() == 1
    assert_audit_trail_verifies()


# --- 3. a follow-up transition --------------------------------------------------------------

def test_twenty_mark_ready_requests_move_the_case_exactly_once(transactional_db, persona):
    case = case_in_preparation(persona)
    staff = [persona("driftschef"), persona("serviceleder")] * (RACERS // 2)
    address = f"/api/v1/follow-ups/{case.pk}/mark-ready/"

    responses = race([poster(person, address) for person in staff])

    [won], lost = split(responses)
    assert won.json()["state"] == "ready_for_board"
    for response in lost:
        body = response.json()
        assert (body["code"], body["current_state"]) == ("conflict", "ready_for_board"), body
    case = FollowUp.objects.get(pk=case.pk)
    assert case.state == FollowUp.State.READY_FOR_BOARD
    assert list(FollowUpTransition.objects.filter(follow_up=case).values_list(
        "from_state", "to_state")) == [("scheduled", "in_preparation"),
                                       ("in_preparation", "ready_for_board")]
    assert AuditEntry.objects.filter(action="follow_up.mark_ready",
                                     object_id=str(case.pk)).count() == 1
    assert open_case_tasks(case) == [("acknowledge", "ab-formand")]
    assert_audit_trail_verifies()


# --- 4. approve against return at the board -------------------------------------------------

def test_ten_approvals_against_ten_returns_at_the_board_let_exactly_one_win(transactional_db,
                                                                           persona):
    plan = plan_at_the_board(persona)
    chair = persona("ob-formand")
    calls = [poster(chair, plan_url(plan, "sign"),
                    {"decision": "approve", "password": DEMO_PASSWORD, "comment": "Godkendt."})
             if index % 2 else
             poster(chair, plan_url(plan, "return"), {"reason": "Vi venter på budgettet."})
             for index in range(RACERS)]

    responses = race(calls)

    [won], lost = split(responses)
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state in (State.PUBLISHED, State.DRAFT)
    assert won.json()["state"] == plan.state
    assert {response.json()["current_state"] for response in lost} == {plan.state}
    assert PlanTransition.objects.filter(plan=plan, from_state=State.ORGANISATION_BOARD
                                         ).count() == 1
    approvals = SignOff.objects.filter(plan=plan, step=State.ORGANISATION_BOARD)
    assert approvals.count() == (1 if plan.state == State.PUBLISHED else 0)
    expected_task = "presentation" if plan.state == State.PUBLISHED else "draft"
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == [expected_task]
    assert_audit_trail_verifies()
