"""Routing the human work of the cycle: start flows, complete tasks, move tasks to new holders.

Views and the API change a plan through :func:`plan_act`, which calls the ``cycles`` service and
then lets the flow catch up (:func:`sync_plan_tasks`) in the same transaction.
"""

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.services import audit_record
from config.errors import Conflict
from cycles import services as cycle_services
from cycles.models import AnnualPlan
from governance.models import Body, Membership, Person, StaffAssignment
from workflows.flows import PLAN_NODES, AnnualPlanFlow, Route
from workflows.models import AnnualPlanProcess, TaskMandate

logger = logging.getLogger(__name__)

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def mandate_holder(*, organisation_id: int, route: Route,
                   day: datetime.date | None = None) -> Person | None:
    """Who holds the mandate on ``day``; ``None`` while it is vacant."""
    day = day or timezone.localdate()
    if route.body_kind is not None:
        membership = (Membership.objects.current_on(day)
                      .filter(body__organisation_id=organisation_id,
                              body__kind=route.body_kind, role=route.role)
                      .select_related("person").order_by("starts_on", "pk").first())
        return membership.person if membership else None
    # The organisation-wide holder first (no area), on every database: SQLite sorts NULL
    # first and PostgreSQL last unless told.
    assignment = (StaffAssignment.objects.current_on(day)
                  .filter(organisation_id=organisation_id, role=route.role)
                  .select_related("person")
                  .order_by(F("operations_area_id").asc(nulls_first=True), "starts_on", "pk")
                  .first())
    return assignment.person if assignment else None


def task_mandate_record(*, task: Task, plan: AnnualPlan, route: Route) -> TaskMandate:
    body = None
    if route.body_kind is not None:
        body = Body.objects.get(organisation_id=plan.organisation_id, kind=route.body_kind)
    return TaskMandate.objects.create(
        task=task, organisation_id=plan.organisation_id,
        kind=TaskMandate.Kind.BODY if body else TaskMandate.Kind.STAFF,
        body=body, role=route.role, plan=plan)


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
        for task in finished:
            with task.activation() as activation:
                if task.status == STATUS.NEW:
                    activation.assign(actor or task.owner)
                if activation.task.status == STATUS.ASSIGNED:
                    if actor is not None and activation.task.owner_id != actor.pk:
                        # Done by someone else than the routed holder (e.g. the vice-chair).
                        activation.task.owner = actor
                    activation.start(None)
                activation.execute()
            completed.append(task)
    return completed


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
        current = AnnualPlan.objects.get(pk=plan.pk)
        label = current.get_state_display()
        raise Conflict(
            _("Someone else is acting on this plan right now; the plan's current state is "
              "“%(state)s”. Reload and try again.") % {"state": label},
            current_state=current.state, current_state_label=str(label)) from error
    return result


def plan_route(*, plan: AnnualPlan) -> None:
    """Start the plan's flow unless it has one (plans created by a service, not a page)."""
    if not AnnualPlanProcess.objects.filter(plan=plan).exists():
        AnnualPlanFlow.start.run(plan=plan)


@transaction.atomic
def reroute_open_tasks(*, organisation_id: int | None = None,
                       day: datetime.date | None = None) -> list[tuple[Task, Person | None]]:
    """Move open tasks whose routed holder no longer holds the mandate to today's holder.

    Runs after every membership or staff change (on commit) and nightly, because a term's end
    date passes without any write. Each move is written to the audit trail.
    """
    day = day or timezone.localdate()
    mandates = TaskMandate.objects.filter(task__status__in=OPEN_STATUSES).select_related(
        "task__owner", "body", "organisation")
    if organisation_id is not None:
        mandates = mandates.filter(organisation_id=organisation_id)
    moved = []
    for mandate in mandates.select_for_update(of=("self",)):
        route = Route(role=mandate.role, body_kind=mandate.body.kind if mandate.body else None)
        holder = mandate_holder(organisation_id=mandate.organisation_id, route=route, day=day)
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
