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
from permissions.matrix import Action
from workflows.flows import FOLLOW_UP_NODES, PLAN_NODES, AnnualPlanFlow, FollowUpFlow, Route
from workflows.models import (
    AnnualPlanProcess,
    Delegation,
    SavedTaskFilter,
    TaskComment,
    TaskMandate,
)

logger = logging.getLogger(__name__)

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def routed_holder(*, organisation_id: int, route: Route, day: datetime.date | None = None,
                  department: Department | None = None) -> Person | None:
    """Who holds the mandate on ``day`` in person; ``None`` while it is vacant.

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


def substitute_for(*, person: Person | None, organisation_id: int,
                   day: datetime.date | None = None) -> Person | None:
    """The substitute standing in for ``person`` in the organisation on ``day``, if any."""
    if person is None:
        return None
    day = day or timezone.localdate()
    delegation = (Delegation.objects.filter(person=person, organisation_id=organisation_id,
                                            starts_on__lte=day, ends_on__gte=day,
                                            cancelled_at__isnull=True)
                  .select_related("substitute").order_by("-created_at", "-pk").first())
    return delegation.substitute if delegation else None


def resolve_owner(*, organisation_id: int, route: Route, node: str,
                  day: datetime.date | None = None, department: Department | None = None
                  ) -> tuple[Person | None, Person | None]:
    """(owner, on behalf of): the mandate's holder, or their substitute under a delegation.

    Signing steps are not delegated: the chair signs, or the vice-chair under the chair's
    signing authorisation (governance).
    """
    holder = routed_holder(organisation_id=organisation_id, route=route, day=day,
                           department=department)
    if node in UNDELEGABLE_NODES:
        return holder, None
    substitute = substitute_for(person=holder, organisation_id=organisation_id, day=day)
    return (substitute, holder) if substitute else (holder, None)


def mandate_holder(*, organisation_id: int, route: Route, day: datetime.date | None = None,
                   department: Department | None = None, node: str = "") -> Person | None:
    """Who gets a task routed to the mandate on ``day``: its holder or their substitute."""
    return resolve_owner(organisation_id=organisation_id, route=route, node=node, day=day,
                         department=department)[0]


# The sign-off steps stay with the chair (a vice-chair signs only under a signing
# authorisation); everything else follows a delegation.
UNDELEGABLE_NODES = frozenset({"committee", "board"})

# Per human node: the matrix action it needs (candidate groups are the mandate groups holding
# that permission on the department or the organisation) and its priority.
NODE_ACTIONS = {
    "draft": Action.PLAN_EDIT,
    "review": Action.PLAN_CLOSE_REVIEW,
    "committee": Action.PLAN_SIGN_COMMITTEE,
    "board": Action.PLAN_SIGN_BOARD,
    "presentation": Action.PLAN_REGISTER_PRESENTATION,
    "evaluation": Action.PLAN_EVALUATE,
    "prepare": Action.FOLLOW_UP_PREPARE,
    "acknowledge": Action.FOLLOW_UP_ACKNOWLEDGE,
    "close": Action.FOLLOW_UP_CLOSE,
}
HIGH_PRIORITY_NODES = frozenset({"committee", "board"})


def task_due_on(*, node: str, plan: AnnualPlan, follow_up: FollowUp | None = None,
                start_day: datetime.date | None = None) -> datetime.date | None:
    """The deadline of a new task of ``node``: the organisation's rule for the step, or the
    default (cycles.deadlines). Plan steps count from the bodies' meetings (none yet: no
    deadline); a follow-up's steps from the case's due date (by default prepared 10 business
    days before, acknowledged by it, closed 15 business days after). At most three queries."""
    from cycles.deadlines import step_due_on

    return step_due_on(step=node, organisation_id=plan.organisation_id, plan=plan,
                       follow_up=follow_up, start_day=start_day or timezone.localdate())


@transaction.atomic
def refresh_due_dates(*, organisation_id: int) -> int:
    """Recompute the deadlines of the organisation's open tasks after a meeting or a step's
    deadline rule changed; raise ``due_sequence`` on each task whose date moved. Returns the
    number of tasks whose date moved.

    A task's meeting is looked for from the day the task was created (as when it was created),
    so an overdue task keeps the meeting it was due at rather than jumping to the next one.
    Queries: the open tasks with their plan and case (1, rows locked), the organisation's rules,
    closing days and meetings (3), and one update per 500 changed tasks.
    """
    from cycles.deadlines import OrganisationDeadlines

    mandates = list(TaskMandate.objects.select_for_update(of=("self",))
                    .filter(organisation_id=organisation_id, task__status__in=OPEN_STATUSES)
                    .select_related("task", "plan", "follow_up").order_by("pk"))
    if not mandates:
        return 0
    rules = OrganisationDeadlines(organisation_id)
    changed = []
    for mandate in mandates:
        task = mandate.task
        due_on = rules.due_on(
            step=task.flow_task.name, plan_id=mandate.plan_id,
            plan_year=mandate.plan.year if mandate.plan else None,
            follow_up_due=mandate.follow_up.due_on if mandate.follow_up else None,
            start_day=timezone.localdate(task.created))
        if due_on != mandate.due_on:
            mandate.due_on = due_on
            mandate.due_sequence += 1
            changed.append(mandate)
    TaskMandate.objects.bulk_update(changed, ["due_on", "due_sequence"], batch_size=500)
    return len(changed)


def candidate_group_ids(*, node: str, organisation_id: int,
                        department: Department | None) -> list[int]:
    """The mandate groups that hold the node's permission on its department (department
    steps) or organisation: whoever is in them may claim the task. One query."""
    from permissions.selectors import groups_holding

    action = NODE_ACTIONS.get(node)
    if action is None:
        return []
    return groups_holding(action=action, organisation_id=organisation_id,
                          department=department)


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
    node = task.flow_task.name
    holder, on_behalf_of = resolve_owner(organisation_id=plan.organisation_id, route=route,
                                         node=node, department=department)
    mandate = TaskMandate.objects.create(
        task=task, organisation_id=plan.organisation_id,
        kind=TaskMandate.Kind.BODY if body else TaskMandate.Kind.STAFF,
        body=body, operations_area=area, role=route.role, plan=plan,
        department=department, follow_up=follow_up,
        due_on=task_due_on(node=node, plan=plan, follow_up=follow_up),
        priority=(TaskMandate.Priority.HIGH if node in HIGH_PRIORITY_NODES
                  else TaskMandate.Priority.NORMAL),
        assigned_on=timezone.localdate() if task.owner_id else None,
        delegated_from=on_behalf_of if task.owner_id and on_behalf_of else None)
    mandate.candidate_groups.set(candidate_group_ids(
        node=node, organisation_id=plan.organisation_id, department=department))
    return mandate


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


def _holds_a_candidate_mandate(mandate: TaskMandate, person: Person | None) -> bool:
    return person is not None and mandate.candidate_groups.filter(user=person).exists()


@transaction.atomic
def reroute_open_tasks(*, organisation_id: int | None = None, body_id: int | None = None,
                       staff_role: str | None = None, day: datetime.date | None = None,
                       person_id: int | None = None) -> list[tuple[Task, Person | None]]:
    """Move open tasks whose owner no longer should have them to today's holder.

    A routed task follows its mandate: to the new holder when a term ends, to the holder's
    substitute while a delegation runs, and back when it ends. A claimed or reassigned task
    stays with its owner while they may still do it (they hold one of its candidate
    mandates); otherwise it goes back to the mandate's holder. Runs after every membership,
    staff or delegation change (on commit) and nightly, because terms and delegations end by
    date without any write. Each move is written to the audit trail.
    """
    day = day or timezone.localdate()
    # Released tasks (unowned, no longer routed) wait in their queue; a task created while
    # its mandate was vacant (unowned, routed) goes to the holder as soon as there is one.
    mandates = TaskMandate.objects.filter(
        Q(task__owner__isnull=False) | Q(routed=True),
        task__status__in=OPEN_STATUSES).select_related(
        "task__owner", "body", "organisation", "department", "delegated_from")
    if organisation_id is not None:
        mandates = mandates.filter(organisation_id=organisation_id)
    if body_id is not None:
        mandates = mandates.filter(body_id=body_id)
    if staff_role is not None:
        mandates = mandates.filter(kind=TaskMandate.Kind.STAFF, role=staff_role)
    if person_id is not None:
        mandates = mandates.filter(Q(task__owner_id=person_id) | Q(delegated_from_id=person_id))
    moved = []
    for mandate in mandates.select_for_update(of=("self",)):
        task = mandate.task
        if not mandate.routed:
            if _holds_a_candidate_mandate(mandate, task.owner):
                continue
            mandate.routed = True
        route = Route(role=mandate.role, body_kind=mandate.body.kind if mandate.body else None,
                      department=mandate.department_id is not None)
        holder, on_behalf_of = resolve_owner(
            organisation_id=mandate.organisation_id, route=route, node=task.flow_task.name,
            day=day, department=mandate.department)
        if holder is None or (holder.pk == task.owner_id
                              and mandate.delegated_from_id == getattr(on_behalf_of, "pk",
                                                                        None)):
            continue
        previous = task.owner
        task.owner = holder
        task.status = STATUS.ASSIGNED if task.status == STATUS.NEW else task.status
        task.save(update_fields=["owner", "status"])
        mandate.delegated_from, mandate.follow_up_on = on_behalf_of, None
        mandate.assigned_on = day  # the new owner's reminders count from today
        mandate.save(update_fields=["delegated_from", "follow_up_on", "routed", "assigned_on"])
        audit_record(actor=None, action="task.reroute", obj=task,
                     organisation=mandate.organisation, acting_as=mandate.label,
                     summary={"from": previous.pk if previous else None, "to": holder.pk,
                              "mandate": mandate.label,
                              "on_behalf_of": on_behalf_of.pk if on_behalf_of else None})
        moved.append((task, previous))
    return moved


# --- working on tasks: claim, release, reassign, snooze, comment, delegate --------------------

def _lock_task(task: Task) -> Task:
    """The task row, locked. No joins: PostgreSQL re-reads only the locked row after waiting
    for a concurrent writer, so a joined owner could be stale (e.g. still empty)."""
    return Task.objects.select_for_update().get(pk=task.pk)


def _task_conflict(task: Task, message: str) -> Conflict:
    return Conflict(message, current_state=task.status,
                    current_state_label=str(task.owner or _("nobody")))


def _require_open(task: Task) -> None:
    if task.status not in OPEN_STATUSES:
        raise _task_conflict(task, _("The task is already done."))


@transaction.atomic
def task_claim(*, actor: Person, task: Task) -> Task:
    """Take an unassigned task from one of your groups' queues."""
    from django.core.exceptions import PermissionDenied

    task = _lock_task(task)
    _require_open(task)
    mandate = TaskMandate.objects.get(task=task)
    if not _holds_a_candidate_mandate(mandate, actor):
        raise PermissionDenied(_("The task is not in one of your groups' queues."))
    if task.owner_id == actor.pk:
        return task
    if task.owner_id is not None:
        raise _task_conflict(task, _("%(name)s has already claimed this task.")
                             % {"name": task.owner.get_full_name() or task.owner})
    task.owner, task.status = actor, STATUS.ASSIGNED
    task.save(update_fields=["owner", "status"])
    TaskMandate.objects.filter(task=task).update(routed=False, delegated_from=None,
                                                 follow_up_on=None,
                                                 assigned_on=timezone.localdate())
    audit_record(actor=actor, action="task.claim", obj=task, organisation=mandate.organisation,
                 summary={"task": task.pk})
    return task


@transaction.atomic
def task_release(*, actor: Person, task: Task) -> Task:
    """Give a task back to its groups' queue (someone else in them can claim it)."""
    from django.core.exceptions import PermissionDenied

    task = _lock_task(task)
    _require_open(task)
    if task.owner_id != actor.pk:
        raise PermissionDenied(_("Only the task's owner can release it."))
    mandate = TaskMandate.objects.get(task=task)
    if not mandate.candidate_groups.exists():
        raise _task_conflict(task, _("This task has no queue to go back to."))
    task.owner, task.status = None, STATUS.NEW
    task.save(update_fields=["owner", "status"])
    TaskMandate.objects.filter(task=task).update(routed=False, delegated_from=None,
                                                 follow_up_on=None, assigned_on=None)
    audit_record(actor=actor, action="task.release", obj=task,
                 organisation=mandate.organisation, summary={"task": task.pk})
    return task


def may_reassign(*, actor: Person, mandate: TaskMandate) -> bool:
    """The operations secretary in the task's organisation, and the chair of the body the
    task is routed to (or of the department board for department tasks)."""
    from permissions.selectors import roles_in_organisation

    roles = roles_in_organisation(user=actor, organisation_id=mandate.organisation_id)
    if ("staff", "operations_secretary") in roles:
        return True
    body = mandate.body or (mandate.department.board if mandate.department else None)
    if body is None:
        return False
    return Membership.objects.current_on(timezone.localdate()).filter(
        body=body, person=actor, role=Membership.Role.CHAIR).exists()


@transaction.atomic
def task_reassign(*, actor: Person, task: Task, to: Person) -> Task:
    """Give a task to another person who may do it (a member of one of its groups)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    task = _lock_task(task)
    _require_open(task)
    mandate = TaskMandate.objects.select_related("body", "department__board").get(task=task)
    if not may_reassign(actor=actor, mandate=mandate):
        raise PermissionDenied(_("You cannot reassign this task."))
    if not _holds_a_candidate_mandate(mandate, to):
        raise ValidationError({"to": _("The person cannot do this task: they hold none of "
                                       "the mandates it belongs to.")})
    previous = task.owner
    task.owner, task.status = to, STATUS.ASSIGNED
    task.save(update_fields=["owner", "status"])
    TaskMandate.objects.filter(task=task).update(
        routed=False, delegated_from=None, follow_up_on=None,
        assigned_on=timezone.localdate() if previous != to else F("assigned_on"))
    audit_record(actor=actor, action="task.reassign", obj=task,
                 organisation=mandate.organisation,
                 summary={"from": previous.pk if previous else None, "to": to.pk})
    return task


@transaction.atomic
def task_snooze(*, actor: Person, task: Task, until: datetime.date | None) -> Task:
    """The owner's own follow-up date ("snooze until"); ``None`` wakes the task."""
    from django.core.exceptions import PermissionDenied, ValidationError

    task = _lock_task(task)
    _require_open(task)
    if task.owner_id != actor.pk:
        raise PermissionDenied(_("Only the task's owner can snooze it."))
    if until is not None and until <= timezone.localdate():
        raise ValidationError({"until": _("Choose a day after today.")})
    mandate = TaskMandate.objects.get(task=task)
    mandate.follow_up_on = until
    mandate.save(update_fields=["follow_up_on"])
    audit_record(actor=actor, action="task.snooze", obj=task, organisation=mandate.organisation,
                 summary={"until": until.isoformat() if until else None})
    return task


@transaction.atomic
def task_comment_add(*, actor: Person, task: Task, text: str) -> TaskComment:
    from django.core.exceptions import ValidationError

    if not text.strip():
        raise ValidationError({"text": _("Write the comment.")})
    mandate = TaskMandate.objects.get(task=task)
    comment = TaskComment.objects.create(task=task, author=actor, text=text.strip(),
                                         created_at=timezone.now())
    audit_record(actor=actor, action="task.comment", obj=task,
                 organisation=mandate.organisation, summary={"comment": comment.pk})
    return comment


@transaction.atomic
def delegation_create(*, actor: Person, person: Person, substitute: Person,
                      organisation_id: int, starts_on: datetime.date, ends_on: datetime.date,
                      reason: str = "") -> Delegation:
    """``person`` (or the operations secretary for them) names a substitute for a period.

    The substitute must hold a mandate in the organisation themselves. Open tasks move at
    once when the period has begun; the nightly run moves them back when it ends.
    """
    from django.core.exceptions import PermissionDenied, ValidationError

    from permissions import services as permission_services
    from permissions.selectors import roles_in_organisation

    actor_roles = roles_in_organisation(user=actor, organisation_id=organisation_id)
    if actor.pk != person.pk and ("staff", "operations_secretary") not in actor_roles:
        raise PermissionDenied(_("You can only name a substitute for yourself."))
    errors = {}
    if not (Membership.objects.filter(person=person, body__organisation_id=organisation_id)
            .exists() or StaffAssignment.objects.filter(
                person=person, organisation_id=organisation_id).exists()):
        errors["person"] = [_("The person holds no mandate in the organisation.")]
    if substitute.pk == person.pk:
        errors["substitute"] = [_("Choose someone else as substitute.")]
    elif not roles_in_organisation(user=substitute, organisation_id=organisation_id):
        errors["substitute"] = [_("The substitute must hold a mandate in the organisation.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The last day cannot be before the first day.")]
    elif ends_on < timezone.localdate():
        errors["ends_on"] = [_("The period has already ended.")]
    if Delegation.objects.filter(person=person, organisation_id=organisation_id,
                                 cancelled_at__isnull=True, starts_on__lte=ends_on,
                                 ends_on__gte=starts_on).exists():
        errors.setdefault("starts_on", []).append(
            _("There is already a substitute in part of this period."))
    if errors:
        raise ValidationError(errors)
    delegation = Delegation.objects.create(
        person=person, substitute=substitute, organisation_id=organisation_id,
        starts_on=starts_on, ends_on=ends_on, reason=reason.strip(), created_by=actor,
        created_at=timezone.now())
    audit_record(actor=actor, action="delegation.create", obj=delegation,
                 organisation=delegation.organisation,
                 summary={"person": person.pk, "substitute": substitute.pk,
                          "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    permission_services.person_groups_sync(person=substitute)
    reroute_open_tasks(organisation_id=organisation_id, person_id=person.pk)
    return delegation


@transaction.atomic
def delegation_cancel(*, actor: Person, delegation: Delegation) -> Delegation:
    from django.core.exceptions import PermissionDenied

    from permissions import services as permission_services
    from permissions.selectors import roles_in_organisation

    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    roles = roles_in_organisation(user=actor, organisation_id=delegation.organisation_id)
    if actor.pk != delegation.person_id and ("staff", "operations_secretary") not in roles:
        raise PermissionDenied(_("You can only cancel your own substitute."))
    if delegation.cancelled_at is None:
        delegation.cancelled_at = timezone.now()
        delegation.save(update_fields=["cancelled_at"])
        audit_record(actor=actor, action="delegation.cancel", obj=delegation,
                     organisation=delegation.organisation, summary={})
        permission_services.person_groups_sync(person=delegation.substitute)
        reroute_open_tasks(organisation_id=delegation.organisation_id,
                           person_id=delegation.person_id)
    return delegation


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


# --- saved inbox filters --------------------------------------------------------------------

@transaction.atomic
def saved_filter_save(*, person: Person, name: str, query: str) -> SavedTaskFilter:
    """Save an inbox query string under a name; the same name replaces it."""
    saved, _created = SavedTaskFilter.objects.update_or_create(
        person=person, name=name.strip(), defaults={"query": query})
    return saved


@transaction.atomic
def saved_filter_delete(*, person: Person, saved: SavedTaskFilter) -> None:
    SavedTaskFilter.objects.filter(person=person, pk=saved.pk).delete()


# --- escalation (called by the reminder sweep) ----------------------------------------------

def escalation_target(mandate: TaskMandate, *, day: datetime.date) -> Person | None:
    """Who is copied when a task is overdue: the chair of the task's body, or for staff tasks
    the operations manager (of the department's area, else organisation-wide). When that is the
    owner themself (a chair's own step) or the seat is vacant, the next in line: the operations
    manager, then the operations secretary. ``None`` if nobody else holds any of them."""
    in_department = mandate.department_id is not None
    chain = [Route("operations_manager", department=in_department),
             Route("operations_secretary")]
    if mandate.kind == TaskMandate.Kind.BODY:
        chain.insert(0, Route("chair", mandate.body.kind, department=in_department))
    for route in chain:
        target = routed_holder(organisation_id=mandate.organisation_id, route=route, day=day,
                               department=mandate.department)
        if target is not None and target.pk != mandate.task.owner_id:
            return target
    return None


@transaction.atomic
def task_escalate(*, task_id: int, day: datetime.date) -> Person | None:
    """Mark an overdue task escalated (once) to :func:`escalation_target`; the task stays
    with its owner. Returns whom it went to, or ``None``."""
    mandate = (TaskMandate.objects.select_for_update(of=("self",))
               .select_related("task", "body", "department").filter(task_id=task_id).first())
    if mandate is None or mandate.escalated_to_id is not None:
        return None
    target = escalation_target(mandate, day=day)
    if target is None:
        return None
    TaskMandate.objects.filter(pk=mandate.pk).update(escalated_to=target, escalated_on=day)
    audit_record(actor=None, action="task.escalated", obj=mandate.task,
                 organisation=mandate.organisation,
                 summary={"to": target.pk, "owner": mandate.task.owner_id,
                          "due_on": mandate.due_on.isoformat() if mandate.due_on else None})
    return target
