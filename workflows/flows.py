"""The viewflow flows: who acts next. State lives in cycles; flows call its services.

Design (see docs/architecture.md):

* Every human node is routed to a *mandate* (``Route``), resolved to its holder when the task is
  created; a :class:`workflows.models.TaskMandate` row records the mandate so open tasks can
  move when a term ends.
* Human tasks are completed by :func:`workflows.services.sync_plan_tasks` after a ``cycles``
  service changed the plan: a task is done once the plan has left the state its node expects.
  The flow never assigns a state; the If gates read it.
* viewflow's own views and URLs are not mounted: the stock cancel/undo/revive actions cannot be
  reached, and every page goes through the project's permission-checked views.
* ``lock_impl`` is a ``select_for_update`` lock on the process row (viewflow's default is none).
"""

from dataclasses import dataclass

from django.http import Http404
from viewflow import this
from viewflow.workflow import flow, lock

from cycles.models import AnnualPlan, FollowUp
from workflows.models import AnnualPlanProcess, FollowUpProcess

State = AnnualPlan.State


def not_served_here(request, *args, **kwargs):
    """viewflow needs a view per human node; Årshjul serves tasks through its own pages."""
    raise Http404


@dataclass(frozen=True)
class Route:
    """A mandate: the ``role`` of a body of ``body_kind``, or a staff role (``body_kind=None``).

    ``department=True``: the department's own board, or staff of the department's operations
    area (an organisation-wide holder of the role when the area has none).
    """

    role: str
    body_kind: str | None = None
    department: bool = False


# Per human node: the plan state the node works on, and the mandate it is routed to.
PLAN_NODES: dict[str, tuple[str, Route]] = {
    "draft": (State.DRAFT, Route("operations_secretary")),
    "review": (State.FOLLOW_UP_GROUP_REVIEW, Route("chair", "follow_up_group")),
    "committee": (State.OPERATIONS_COMMITTEE, Route("chair", "operations_committee")),
    "board": (State.ORGANISATION_BOARD, Route("chair", "organisation_board")),
    "presentation": (State.PUBLISHED, Route("operations_secretary")),
    "evaluation": (State.PRESENTED, Route("chair", "follow_up_group")),
}


class AnnualPlanFlow(flow.Flow):
    """Annual plan

    Drafting, the follow-up group's review, the operations committee's and the organisation
    board's sign-offs, publication, the presentation and the year-end evaluation.
    """

    process_class = AnnualPlanProcess
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.draft)

    draft = (flow.View(not_served_here).Assign(this.route_owner)
             .onCreate(this.record_mandate).Next(this.review))
    review = (flow.View(not_served_here).Assign(this.route_owner)
              .onCreate(this.record_mandate).Next(this.after_review))
    after_review = flow.If(this.is_back_in_draft).Then(this.draft).Else(this.committee)
    committee = (flow.View(not_served_here).Assign(this.route_owner)
                 .onCreate(this.record_mandate).Next(this.after_committee))
    after_committee = flow.If(this.is_back_in_draft).Then(this.draft).Else(this.board)
    board = (flow.View(not_served_here).Assign(this.route_owner)
             .onCreate(this.record_mandate).Next(this.after_board))
    after_board = flow.If(this.is_back_in_draft).Then(this.draft).Else(this.publish)
    publish = flow.Function(this.publish_plan).Next(this.presentation)
    presentation = (flow.View(not_served_here).Assign(this.route_owner)
                    .onCreate(this.record_mandate).Next(this.evaluation))
    evaluation = (flow.View(not_served_here).Assign(this.route_owner)
                  .onCreate(this.record_mandate).Next(this.end))
    end = flow.End()

    # --- callbacks ----------------------------------------------------------------------
    def start_process(self, activation, plan: AnnualPlan):
        activation.process.plan = plan
        return activation.process

    def plan_of(self, activation) -> AnnualPlan:
        return AnnualPlan.objects.get(workflow_process__pk=activation.process.pk)

    def is_back_in_draft(self, activation) -> bool:
        return self.plan_of(activation).state == State.DRAFT

    def route_owner(self, activation):
        from workflows.services import mandate_holder

        plan = self.plan_of(activation)
        _state, route = PLAN_NODES[activation.flow_task.name]
        return mandate_holder(organisation_id=plan.organisation_id, route=route,
                              node=activation.flow_task.name)

    def record_mandate(self, activation):
        from workflows.services import task_mandate_record

        plan = self.plan_of(activation)
        _state, route = PLAN_NODES[activation.flow_task.name]
        task_mandate_record(task=activation.task, plan=plan, route=route)

    def publish_plan(self, activation):
        """Publish, then roll out: rollout plans and follow-up cases, each case with its flow."""
        from cycles.services import plan_publish
        from workflows.services import roll_out

        plan = self.plan_of(activation)
        if plan.state == State.ORGANISATION_BOARD:
            plan = plan_publish(actor=None, plan=plan)
        if plan.state == State.PUBLISHED:
            roll_out(plan=plan)


FollowUpState = FollowUp.State

# Per human node: the follow-up states the node works on, and the mandate it is routed to.
FOLLOW_UP_NODES: dict[str, tuple[tuple[str, ...], Route]] = {
    "prepare": ((FollowUpState.SCHEDULED, FollowUpState.IN_PREPARATION),
                Route("operations_manager", department=True)),
    "acknowledge": ((FollowUpState.READY_FOR_BOARD,),
                    Route("chair", "department_board", department=True)),
    "close": ((FollowUpState.PRESENTED,), Route("operations_manager", department=True)),
}


class FollowUpFlow(flow.Flow):
    """Half-yearly follow-up

    Staff of the operations area prepare the department's follow-up, the department board's
    chair acknowledges it after the meeting, staff answer the board's remarks and close it.
    """

    process_class = FollowUpProcess
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.prepare)
    prepare = (flow.View(not_served_here).Assign(this.route_owner)
               .onCreate(this.record_mandate).Next(this.acknowledge))
    acknowledge = (flow.View(not_served_here).Assign(this.route_owner)
                   .onCreate(this.record_mandate).Next(this.after_acknowledge))
    after_acknowledge = flow.If(this.is_back_in_preparation).Then(this.prepare).Else(this.close)
    close = (flow.View(not_served_here).Assign(this.route_owner)
             .onCreate(this.record_mandate).Next(this.end))
    end = flow.End()

    def start_process(self, activation, follow_up: FollowUp):
        activation.process.follow_up = follow_up
        return activation.process

    def follow_up_of(self, activation) -> FollowUp:
        return FollowUp.objects.select_related("department").get(
            workflow_process__pk=activation.process.pk)

    def is_back_in_preparation(self, activation) -> bool:
        return self.follow_up_of(activation).state == FollowUpState.IN_PREPARATION

    def route_owner(self, activation):
        from workflows.services import mandate_holder

        follow_up = self.follow_up_of(activation)
        _states, route = FOLLOW_UP_NODES[activation.flow_task.name]
        return mandate_holder(organisation_id=follow_up.department.organisation_id,
                              route=route, department=follow_up.department,
                              node=activation.flow_task.name)

    def record_mandate(self, activation):
        from workflows.services import task_mandate_record

        follow_up = self.follow_up_of(activation)
        _states, route = FOLLOW_UP_NODES[activation.flow_task.name]
        task_mandate_record(task=activation.task, plan=follow_up.plan, route=route,
                            follow_up=follow_up)
