"""FollowUpFlow against the follow-up's state machine: who gets each task, and where open work
goes when a term ends.

Publication of the demo's 2026 plan started a flow per follow-up case. Every human task must sit
with today's holder of the node's mandate in the case's department: the head of operations of
its area (driftschef in area 1) to prepare and close, the department board's chair (ab-formand in
department 1) to acknowledge. The demo moves area 1's first-half cases along, so the tests walk
the second half's (all scheduled). Time is frozen on Monday 02.03.2026, before the demo loads.
"""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from cycles import services
from cycles.models import AnnualPlan, BoardRemark, FollowUp, FollowUpRemark, MeetingKind
from cycles.selectors import follow_ups_for_user
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
from governance import services as governance_services
from governance.models import Department, Membership, Organisation, StaffAssignment
from permissions.matrix import EVERY_ROLE, MATRIX, Action
from permissions.models import MandateGroup
from permissions.selectors import can_in_department, roles_in_department
from tests.clock import frozen_before_demo, frozen_on
from workflows.flows import FOLLOW_UP_NODES, FollowUpFlow
from workflows.models import FollowUpProcess, TaskMandate
from workflows.services import (
    follow_up_act,
    mandate_holder,
    open_follow_up_tasks,
    reroute_open_tasks,
    roll_out,
)

State = FollowUp.State
Half = FollowUp.Half
TODAY = datetime.date(2026, 3, 2)
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)
MEETING_DAY = datetime.date(2026, 2, 26)
HALF = Half.H2

# The matrix action each node's work needs.
NODE_ACTION = {
    "prepare": Action.FOLLOW_UP_PREPARE,
    "acknowledge": Action.FOLLOW_UP_ACKNOWLEDGE,
    "close": Action.FOLLOW_UP_CLOSE,
}
NOT_HUMAN = {"START", "END", "EXCLUSIVE_GATEWAY", "FUNCTION"}


_frozen_today = frozen_before_demo(TODAY)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------

def plan_2026() -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2026)


def department(number: int) -> Department:
    return Department.objects.select_related("operations_area", "board").get(
        organisation__slug=DEMO_SLUG, number=number)


def case_of(number: int, half: str = HALF) -> FollowUp:
    return FollowUp.objects.select_related("department").get(
        plan=plan_2026(), department__number=number, half=half)


def fresh(follow_up: FollowUp) -> FollowUp:
    return FollowUp.objects.get(pk=follow_up.pk)


def chair_membership(number: int) -> Membership:
    return (Membership.objects.current_on(TODAY).select_related("body", "person")
            .get(body__department=department(number), role=Membership.Role.CHAIR))


def the_open_task(follow_up: FollowUp, owner) -> Task:
    """The case's one open task, checked against FOLLOW_UP_NODES, its owner and its mandate."""
    tasks = list(open_follow_up_tasks(follow_up=follow_up))
    assert len(tasks) == 1, tasks
    task = tasks[0]
    node = task.flow_task.name
    states, route = FOLLOW_UP_NODES[node]
    follow_up = fresh(follow_up)
    assert follow_up.state in states, node
    assert task.status == STATUS.ASSIGNED
    assert task.owner == owner, node
    dept = department(follow_up.department.number)
    assert task.owner == mandate_holder(organisation_id=dept.organisation_id, route=route,
                                        department=dept)
    mandate = TaskMandate.objects.get(task=task)
    assert (mandate.department, mandate.follow_up, mandate.plan) == (
        dept, follow_up, follow_up.plan)
    assert mandate.role == route.role
    if route.body_kind:
        assert (mandate.kind, mandate.body, mandate.operations_area) == (
            TaskMandate.Kind.BODY, dept.board, None)
    else:
        assert (mandate.kind, mandate.body, mandate.operations_area) == (
            TaskMandate.Kind.STAFF, None, dept.operations_area)
    return task


def remarks_for(follow_up: FollowUp) -> list[dict]:
    return [{"initiative": row.initiative, "status": FollowUpRemark.Status.ONGOING,
             "progress": 50, "text": f"I gang: {row.initiative}."}
            for row in follow_up.remarks.select_related("initiative")]


def save(follow_up, actor):
    return follow_up_act(services.follow_up_save, actor=actor, follow_up=follow_up,
                         summary="Status for andet halvår.", remarks=remarks_for(follow_up))


def mark_ready(follow_up, actor):
    return follow_up_act(services.follow_up_mark_ready, actor=actor, follow_up=follow_up)


def acknowledge(follow_up, actor):
    return follow_up_act(services.follow_up_acknowledge, actor=actor, follow_up=follow_up,
                         presented_on=MEETING_DAY, meeting_kind=MeetingKind.BOARD_MEETING,
                         minutes_reference="Referat, pkt. 4")


def ready_for_board(number: int, persona) -> FollowUp:
    follow_up = case_of(number)
    save(follow_up, persona("driftschef"))
    mark_ready(follow_up, persona("driftschef"))
    return fresh(follow_up)


def new_person(username: str):
    return governance_services.person_create(actor=None, username=username,
                                             first_name="Nanna", last_name="Bøgh",
                                             password=DEMO_PASSWORD)


# --- the shape of the flow ------------------------------------------------------------------

def test_every_human_node_has_a_follow_up_nodes_entry_and_every_other_node_is_automatic():
    nodes = {node.name: node.task_type for node in FollowUpFlow.instance.nodes()}
    human = {name for name, kind in nodes.items() if kind == "HUMAN"}
    assert human == set(FOLLOW_UP_NODES)
    assert {kind for name, kind in nodes.items() if name not in human} <= NOT_HUMAN


def test_every_node_is_routed_to_a_department_role_that_may_do_its_work():
    assert set(NODE_ACTION) == set(FOLLOW_UP_NODES)
    every_state = set()
    for node, (states, route) in FOLLOW_UP_NODES.items():
        role = (route.body_kind or "staff", route.role)
        assert route.department, node
        assert role in EVERY_ROLE, node
        assert role in MATRIX[NODE_ACTION[node]], node
        assert not every_state & set(states), node  # each state belongs to one node
        every_state |= set(states)
    assert every_state == set(State.values) - {State.CLOSED}


def test_the_flow_locks_the_process_row():
    from viewflow.workflow import lock

    assert FollowUpFlow.lock_impl is lock.select_for_update_lock


# --- publication starts the flows -----------------------------------------------------------

def test_every_case_has_a_flow_and_a_scheduled_case_waits_with_its_areas_head_of_operations(
        persona):
    plan = plan_2026()
    cases = list(FollowUp.objects.filter(plan=plan).select_related("department"))
    assert len(cases) == 12
    assert FollowUpProcess.objects.filter(follow_up__plan=plan).count() == len(cases)
    heads = {a.operations_area_id: a.person for a in StaffAssignment.objects.current_on(TODAY)
             .filter(role=StaffAssignment.Role.OPERATIONS_MANAGER,
                     organisation__slug=DEMO_SLUG).select_related("person")}
    assert heads[department(1).operations_area_id] == persona("driftschef")
    for case in cases:
        if case.half != HALF:
            continue  # the demo moved some of the first half's cases on
        task = the_open_task(case, heads[case.department.operations_area_id])
        assert task.flow_task.name == "prepare"


def test_rolling_out_again_starts_no_second_flow(persona):
    plan = plan_2026()
    processes = FollowUpProcess.objects.count()
    tasks = Task.objects.count()
    assert roll_out(plan=plan) == 0
    assert (FollowUpProcess.objects.count(), Task.objects.count()) == (processes, tasks)


# --- the case, walked through follow_up_act -------------------------------------------------

def test_the_tasks_follow_the_case_from_preparation_to_the_end(persona):
    driftschef, chair = persona("driftschef"), persona("ab-formand")
    follow_up = case_of(1)
    prepare = the_open_task(follow_up, driftschef)
    assert prepare.flow_task.name == "prepare"

    save(follow_up, driftschef)
    assert fresh(follow_up).state == State.IN_PREPARATION
    assert the_open_task(follow_up, driftschef) == prepare  # still preparing

    mark_ready(follow_up, driftschef)
    assert Task.objects.get(pk=prepare.pk).status == STATUS.DONE
    ack = the_open_task(follow_up, chair)
    assert ack.flow_task.name == "acknowledge"

    acknowledge(follow_up, chair)
    assert (Task.objects.get(pk=ack.pk).status, Task.objects.get(pk=ack.pk).owner) == (
        STATUS.DONE, chair)
    close = the_open_task(follow_up, driftschef)
    assert close.flow_task.name == "close"

    # A board member's remark and its answer move no task.
    remark = follow_up_act(services.board_remark_add, actor=persona("ab-medlem"),
                           follow_up=follow_up, text="Hvad med opgang C?")
    assert the_open_task(follow_up, driftschef) == close
    services.board_remark_answer(actor=driftschef, remark=remark,
                                 answer=BoardRemark.Answer.NOTED)
    follow_up_act(services.follow_up_close, actor=driftschef, follow_up=follow_up)

    assert fresh(follow_up).state == State.CLOSED
    assert list(open_follow_up_tasks(follow_up=follow_up)) == []
    process = FollowUpProcess.objects.get(follow_up=follow_up)
    assert process.status == STATUS.DONE
    done = Task.objects.filter(process=process)
    assert {task.flow_task.name for task in done} == {
        node.name for node in FollowUpFlow.instance.nodes()}
    assert all(task.status == STATUS.DONE for task in done)
    # The area's other cases did not move.
    assert the_open_task(case_of(2), driftschef).flow_task.name == "prepare"


def test_a_return_from_the_board_brings_a_new_prepare_task(persona):
    driftschef, chair = persona("driftschef"), persona("ab-formand")
    follow_up = ready_for_board(1, persona)
    ack = the_open_task(follow_up, chair)
    first_prepare = Task.objects.get(process__followupprocess__follow_up=follow_up,
                                     flow_task=FollowUpFlow.prepare)

    follow_up_act(services.follow_up_return, actor=chair, follow_up=follow_up,
                  reason="Tallene for vand mangler.")
    assert fresh(follow_up).state == State.IN_PREPARATION
    assert Task.objects.get(pk=ack.pk).status == STATUS.DONE
    prepare = the_open_task(follow_up, driftschef)
    assert prepare.flow_task.name == "prepare"
    assert prepare.pk != first_prepare.pk

    mark_ready(follow_up, driftschef)
    again = the_open_task(follow_up, chair)
    assert again.flow_task.name == "acknowledge"
    assert again.pk != ack.pk


def test_a_refused_step_moves_no_task(persona):
    follow_up = ready_for_board(1, persona)
    ack = the_open_task(follow_up, persona("ab-formand"))
    with pytest.raises(PermissionDenied):
        acknowledge(follow_up, persona("ab-medlem"))
    assert fresh(follow_up).state == State.READY_FOR_BOARD
    assert the_open_task(follow_up, persona("ab-formand")) == ack


# --- election day: open work follows the mandate --------------------------------------------

def test_on_election_day_the_open_acknowledgement_moves_to_the_new_chair(
        persona, django_capture_on_commit_callbacks):
    follow_up = ready_for_board(1, persona)
    old_chair = persona("ab-formand")
    task = the_open_task(follow_up, old_chair)
    board_tasks = set(Task.objects.filter(mandate__body=department(1).board,
                                          status__in=(STATUS.NEW, STATUS.ASSIGNED))
                      .values_list("pk", flat=True))
    assert task.pk in board_tasks
    old = chair_membership(1)
    assert old.person == old_chair
    new_chair = new_person("ny-formand")

    with django_capture_on_commit_callbacks(execute=True):
        governance_services.membership_end(actor=None, membership=old, ends_on=YESTERDAY)
        governance_services.membership_start(actor=None, person=new_chair, body=old.body,
                                             role=Membership.Role.CHAIR, starts_on=TODAY)

    task = the_open_task(follow_up, new_chair)
    entries = list(AuditEntry.objects.filter(action="task.reroute"))
    assert {int(e.object_id) for e in entries} == board_tasks  # nothing else moved
    entry = next(e for e in entries if e.object_id == str(task.pk))
    assert (entry.summary["from"], entry.summary["to"]) == (old_chair.pk, new_chair.pk)

    with pytest.raises(PermissionDenied):
        acknowledge(follow_up, old_chair)
    assert fresh(follow_up).state == State.READY_FOR_BOARD
    assert the_open_task(follow_up, new_chair) == task

    # The lists (guardian's groups ∩ the dated matrix) changed on the same day, logged.
    assert not follow_ups_for_user(user=old_chair).filter(pk=follow_up.pk).exists()
    assert follow_ups_for_user(user=new_chair).filter(pk=follow_up.pk).exists()
    chair_group = MandateGroup.objects.get(body=old.body, role=Membership.Role.CHAIR).group
    assert list(chair_group.user_set.all()) == [new_chair]
    synced = {e.object_id for e in AuditEntry.objects.filter(action="permissions.groups_sync")}
    assert {str(old_chair.pk), str(new_chair.pk)} <= synced

    acknowledge(follow_up, new_chair)
    follow_up = fresh(follow_up)
    assert (follow_up.state, follow_up.acknowledged_by) == (State.PRESENTED, new_chair)
    task = Task.objects.get(pk=task.pk)
    assert (task.status, task.owner) == (STATUS.DONE, new_chair)
    assert the_open_task(follow_up, persona("driftschef")).flow_task.name == "close"


def test_a_term_that_starts_tomorrow_gives_no_access_today(
        persona, django_capture_on_commit_callbacks):
    follow_up = ready_for_board(1, persona)
    old_chair = persona("ab-formand")
    task = the_open_task(follow_up, old_chair)
    old = chair_membership(1)
    new_chair = new_person("ny-formand")
    with django_capture_on_commit_callbacks(execute=True):
        governance_services.membership_end(actor=None, membership=old, ends_on=TODAY)
        governance_services.membership_start(actor=None, person=new_chair, body=old.body,
                                             role=Membership.Role.CHAIR, starts_on=TOMORROW)

    # Today: still the old chair's term and task; the new chair has no role in the department.
    assert roles_in_department(user=new_chair, department=department(1)) == frozenset()
    assert not can_in_department(user=new_chair, action=Action.FOLLOW_UP_VIEW,
                                 department=department(1))
    with pytest.raises(PermissionDenied):
        acknowledge(follow_up, new_chair)
    assert the_open_task(follow_up, old_chair) == task
    assert not AuditEntry.objects.filter(action="task.reroute").exists()
    assert not follow_ups_for_user(user=new_chair).exists()
    assert follow_ups_for_user(user=old_chair).filter(pk=follow_up.pk).exists()

    with frozen_on(TOMORROW, hour=0):
        # After midnight, before the nightly run: the old chair's group membership is stale,
        # but the dated matrix in the list query already shuts them out.
        assert old_chair.groups.filter(mandate__body=old.body).exists()
        assert not follow_ups_for_user(user=old_chair).filter(pk=follow_up.pk).exists()

    with frozen_on(TOMORROW, hour=2):
        call_command("reconcile_permissions", stdout=io.StringIO())  # the nightly run
        assert not old_chair.groups.filter(mandate__body=old.body).exists()
        assert follow_ups_for_user(user=new_chair).filter(pk=follow_up.pk).exists()
        assert roles_in_department(user=new_chair, department=department(1)) == frozenset(
            {("department_board", "chair")})
        with pytest.raises(PermissionDenied):
            acknowledge(follow_up, old_chair)
        out = io.StringIO()
        call_command("reroute_tasks", stdout=out)  # the nightly run moves the task
        assert "1 task(s) moved" in out.getvalue()
        assert Task.objects.get(pk=task.pk).owner == new_chair
        acknowledge(follow_up, new_chair)
        assert fresh(follow_up).state == State.PRESENTED
        assert reroute_open_tasks() == []


def test_an_areas_open_tasks_go_to_an_organisation_wide_head_of_operations_when_its_own_leaves(
        persona, django_capture_on_commit_callbacks):
    organisation = Organisation.objects.get(slug=DEMO_SLUG)
    driftschef = persona("driftschef")
    area_1_tasks = set(Task.objects.filter(
        mandate__operations_area=department(1).operations_area,
        status__in=(STATUS.NEW, STATUS.ASSIGNED)).values_list("pk", flat=True))
    assert area_1_tasks
    assert set(Task.objects.filter(pk__in=area_1_tasks).values_list("owner", flat=True)) == {
        driftschef.pk}
    area_2_head = StaffAssignment.objects.current_on(TODAY).get(
        operations_area=department(3).operations_area,
        role=StaffAssignment.Role.OPERATIONS_MANAGER).person
    area_2_task = the_open_task(case_of(3), area_2_head)

    deputy = new_person("fælles-driftschef")
    with django_capture_on_commit_callbacks(execute=True):
        governance_services.staff_assignment_start(
            actor=None, person=deputy, organisation=organisation,
            role=StaffAssignment.Role.OPERATIONS_MANAGER, starts_on=datetime.date(2026, 1, 1))
    # The area's own head of operations comes first: nothing moved.
    assert not AuditEntry.objects.filter(action="task.reroute").exists()

    assignment = StaffAssignment.objects.get(person=driftschef)
    with django_capture_on_commit_callbacks(execute=True):
        governance_services.staff_assignment_end(actor=None, assignment=assignment,
                                                 ends_on=YESTERDAY)
    assert set(Task.objects.filter(pk__in=area_1_tasks).values_list("owner", flat=True)) == {
        deputy.pk}
    assert set(AuditEntry.objects.filter(action="task.reroute").values_list(
        "object_id", flat=True)) == {str(pk) for pk in area_1_tasks}
    assert the_open_task(case_of(3), area_2_head) == area_2_task  # area 2 keeps its own
    assert the_open_task(case_of(1), deputy).flow_task.name == "prepare"
