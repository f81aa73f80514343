"""Routing the human work of the cycle: start flows, complete tasks, move tasks to new holders.

Views and the API change a plan through :func:`plan_act`, which calls the ``cycles`` service and
then lets the flow catch up (:func:`sync_plan_tasks`) in the same transaction.
"""

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.services import audit_record
from config.errors import Conflict
from cycles import services as cycle_services
from cycles.models import AnnualPlan, FollowUp
from governance.models import Body, Department, Membership, Person, StaffAssignment
from workflows.flows import FOLLOW_UP_NODES, PLAN_NODES, AnnualPlanFlow, FollowUpFlow, Route
from workflows.models import AnnualPlanProcess, TaskMandate

logger = logging.getLogger(__name__)

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def mandate_holder(*, organisation_id: int, route: Route, day: datetime.date | None = None,
                   department: Department | None = None) -> Person | None:
    """Who holds the mandate on ``day``; ``None`` while it is vacant.

    Department routes (``route.department``) resolve in ``department``: its own board, or
    staff of its operations area before an organisation-wide holder of the role.
    """
    day = day or timezone.localdate()
    if route.body_kind is not None:
        seats = Membership.objects.current_on(day).filter(role=route.role)
        if route.department:
            seats = seats.filter(body__department=department)
        else:
            seats = seats.filter(body__organisation_id=organisation_id,
                                 body__kind=route.body_kind)
        membership = seats.select_related("person").order_by("starts_on", "pk").first()
        return membership.person if membership else None
    assignments = StaffAssignment.objects.current_on(day).filter(
        organisation_id=organisation_id, role=route.role)
    if route.department:
        # The area's own staff first, then an organisation-wide holder (no area).
        assignments = assignments.filter(
            Q(operations_area_id=department.operations_area_id)
            | Q(operations_area__isnull=True))
        order = F("operations_area_id").asc(nulls_last=True)
    else:
        # The organisation-wide holder first (no area), on every database: SQLite sorts NULL
        # first and PostgreSQL last unless told.
        order = F("operations_area_id").asc(nulls_first=True)
    assignment = (assignments.select_related("person").order_by(order, "starts_on", "pk")
                  .first())
    return assignment.person if assignment else None


def task_mandate_record(*, task: Task, plan: AnnualPlan, route: Route,
                        follow_up: FollowUp | None = None) -> TaskMandate:
    body, department, area = None, None, None
    if follow_up is not None:
        department = follow_up.department
    if route.body_kind is not None:
        body = (department.board if route.department else
                Body.objects.get(organisation_id=plan.organisation_id, kind=route.body_kind))
    elif route.department:
        area = department.operations_area
    return TaskMandate.objects.create(
        task=task, organisation_id=plan.organisation_id,
        kind=TaskMandate.Kind.BODY if body else TaskMandate.Kind.STAFF,
        body=body, operations_area=area, role=route.role, plan=plan,
        department=department, follow_up=follow_up)


@transaction.atomic
def plan_create_and_route(*, actor, **kwargs) -> AnnualPlan:
    """Create a plan (cycles) and start the flow that routes its work."""
    plan = cycle_services.plan_create(actor=actor, **kwargs)
    AnnualPlanFlow.start.run(plan=plan)
    return plan


def open_plan_tasks(*, plan: AnnualPlan):
    return (Task.objects.filter(process__annualplanprocess__plan=plan, status__in=OPEN_STATUSES)
            .select_related("owner").order_by("created", "pk"))


def _task_is_finished(task: Task, plan: AnnualPlan) -> bool:
    node = task.flow_task.name
    if node not in PLAN_NODES:
        return False
    expected_state, _route = PLAN_NODES[node]
    if plan.state != expected_state:
        return True
    return node == "board" and plan.has_approved_board_sign_off()


def sync_plan_tasks(*, plan: AnnualPlan, actor: Person | None) -> list[Task]:
    """Complete the open tasks whose step the plan has left, so the flow moves on.

    Completing a task lets the flow create the next one (which may itself be finished at
    once, e.g. publication); the loop runs until nothing more moves.
    """
    completed = []
    for _round in range(len(PLAN_NODES) + 2):
        plan.refresh_from_db()
        finished = [t for t in open_plan_tasks(plan=plan) if _task_is_finished(t, plan)]
        if not finished:
            break
        completed += _complete(finished, actor)
    return completed


def _complete(tasks: list[Task], actor: Person | None) -> list[Task]:
    """Complete human tasks whose step is over, each under its flow's process lock."""
    for task in tasks:
        with task.activation() as activation:
            if task.status == STATUS.NEW:
                activation.assign(actor or task.owner)
            if activation.task.status == STATUS.ASSIGNED:
                if actor is not None and activation.task.owner_id != actor.pk:
                    # Done by someone else than the routed holder (e.g. the vice-chair).
                    activation.task.owner = actor
                activation.start(None)
            activation.execute()
    return tasks


def _lost_lock(current, what: str) -> Conflict:
    label = current.get_state_display()
    return Conflict(
        _("Someone else is acting on this %(what)s right now; its current state is "
          "“%(state)s”. Reload and try again.") % {"what": what, "state": label},
        current_state=current.state, current_state_label=str(label))


def plan_act(service: Callable, *, actor, plan: AnnualPlan, **kwargs):
    """Run a ``cycles`` plan service and let the flow follow the plan's new state.

    A plan the service created (next year's draft from the evaluation) gets its flow too.
    If the flow's lock on the process cannot be had (someone else is moving the same plan),
    nothing is saved and the caller gets a :class:`Conflict` naming the plan's state.
    """
    try:
        with transaction.atomic():
            result = service(actor=actor, plan=plan, **kwargs)
            sync_plan_tasks(plan=plan, actor=actor)
            if isinstance(result, AnnualPlan) and result.pk != plan.pk:
                plan_route(plan=result)
    except FlowLockFailed as error:
        raise _lost_lock(AnnualPlan.objects.get(pk=plan.pk), _("plan")) from error
    return result


def plan_route(*, plan: AnnualPlan) -> None:
    """Start the plan's flow unless it has one (plans created by a service, not a page)."""
    if not AnnualPlanProcess.objects.filter(plan=plan).exists():
        AnnualPlanFlow.start.run(plan=plan)


@transaction.atomic
def reroute_open_tasks(*, organisation_id: int | None = None, body_id: int | None = None,
                       staff_role: str | None = None, day: datetime.date | None = None
                       ) -> list[tuple[Task, Person | None]]:
    """Move open tasks whose routed holder no longer holds the mandate to today's holder.

    Runs after every membership or staff change (on commit) and nightly, because a term's end
    date passes without any write. Each move is written to the audit trail.
    """
    day = day or timezone.localdate()
    mandates = TaskMandate.objects.filter(task__status__in=OPEN_STATUSES).select_related(
        "task__owner", "body", "organisation", "department")
    if organisation_id is not None:
        mandates = mandates.filter(organisation_id=organisation_id)
    if body_id is not None:
        mandates = mandates.filter(body_id=body_id)
    if staff_role is not None:
        mandates = mandates.filter(kind=TaskMandate.Kind.STAFF, role=staff_role)
    moved = []
    for mandate in mandates.select_for_update(of=("self",)):
        route = Route(role=mandate.role, body_kind=mandate.body.kind if mandate.body else None,
                      department=mandate.department_id is not None)
        holder = mandate_holder(organisation_id=mandate.organisation_id, route=route, day=day,
                                department=mandate.department)
        task = mandate.task
        if holder is None or holder.pk == task.owner_id:
            continue
        previous = task.owner
        task.owner = holder
        task.status = STATUS.ASSIGNED if task.status == STATUS.NEW else task.status
        task.save(update_fields=["owner", "status"])
        audit_record(actor=None, action="task.reroute", obj=task,
                     organisation=mandate.organisation, acting_as=mandate.label,
                     summary={"from": previous.pk if previous else None, "to": holder.pk,
                              "mandate": mandate.label})
        moved.append((task, previous))
    return moved


# --- rollout and follow-ups -----------------------------------------------------------------

def roll_out(*, plan: AnnualPlan) -> int:
    """After publication: rollout plans and follow-up cases (cycles), and a flow per case.

    Idempotent: only cases without a flow get one. Returns the number of flows started.
    """
    cycle_services.rollout_generate(actor=None, plan=plan)
    waiting = (FollowUp.objects.filter(plan=plan, workflow_process__isnull=True)
               .select_related("department").order_by("half", "department__number"))
    started = 0
    for follow_up in waiting:
        FollowUpFlow.start.run(follow_up=follow_up)
        started += 1
    return started


def open_follow_up_tasks(*, follow_up: FollowUp):
    return (Task.objects.filter(process__followupprocess__follow_up=follow_up,
                                status__in=OPEN_STATUSES)
            .select_related("owner").order_by("created", "pk"))


def sync_follow_up_tasks(*, follow_up: FollowUp, actor: Person | None) -> list[Task]:
    """Complete the follow-up's open tasks whose step the case has left."""
    completed = []
    for _round in range(len(FOLLOW_UP_NODES) + 2):
        follow_up.refresh_from_db()
        finished = [t for t in open_follow_up_tasks(follow_up=follow_up)
                    if t.flow_task.name in FOLLOW_UP_NODES
                    and follow_up.state not in FOLLOW_UP_NODES[t.flow_task.name][0]]
        if not finished:
            break
        completed += _complete(finished, actor)
    return completed


def follow_up_act(service: Callable, *, actor, follow_up: FollowUp, **kwargs):
    """Run a ``cycles`` follow-up service and let the case's flow follow its new state."""
    try:
        with transaction.atomic():
            result = service(actor=actor, follow_up=follow_up, **kwargs)
            sync_follow_up_tasks(follow_up=follow_up, actor=actor)
    except FlowLockFailed as error:
        raise _lost_lock(FollowUp.objects.get(pk=follow_up.pk), _("follow-up")) from error
    return result
