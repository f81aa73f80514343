"""Reads of the routed work: which tasks wait for whom."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows.services import OPEN_STATUSES

# What each human node of AnnualPlanFlow asks of the person it is routed to.
STEP_LABELS = {
    "draft": _("Prepare the draft and submit it"),
    "review": _("Close the follow-up group's review"),
    "committee": _("Sign for the operations committee"),
    "board": _("Sign for the organisation board"),
    "presentation": _("Register the presentation to the representatives' council"),
    "evaluation": _("Evaluate the year's initiatives"),
    # FollowUpFlow
    "prepare": _("Prepare the department's follow-up"),
    "acknowledge": _("Acknowledge the follow-up presented to the board"),
    "close": _("Answer the board's remarks and close the follow-up"),
}


def task_step_label(task: Task) -> str:
    name = task.flow_task.name if task.flow_task is not None else ""
    return STEP_LABELS.get(name) or task.title or name


def tasks_for_user(*, user) -> QuerySet[Task]:
    """The user's open tasks, oldest first, with the plan and the mandate: one query.

    ``task.mandate.plan`` is the plan, ``task.mandate.follow_up`` the department's follow-up
    (for follow-up tasks); ``task.mandate.label`` the mandate the task was routed to.
    """
    if not user.is_authenticated:
        return Task.objects.none()
    return (Task.objects.filter(owner=user, status__in=OPEN_STATUSES)
            .select_related("mandate__plan__organisation", "mandate__body",
                            "mandate__organisation", "mandate__operations_area",
                            "mandate__follow_up__department")
            .order_by("created", "pk"))


# --- the inbox and the queue --------------------------------------------------------------

INBOX_VIEWS = ("mine", "group", "delegated", "escalated", "snoozed", "done")
READY_VIEWS = ("overdue", "today", "week")
SORTS = {
    "due": ("mandate__due_on", "mandate__priority", "created"),
    "-due": ("-mandate__due_on", "mandate__priority", "created"),
    "priority": ("mandate__priority", "mandate__due_on", "created"),
    "created": ("created",),
    "-created": ("-created",),
}


def _with_task_context(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related(
        "owner", "mandate__plan__organisation", "mandate__body", "mandate__organisation",
        "mandate__operations_area", "mandate__follow_up__department",
        "mandate__delegated_from", "mandate__department", "mandate__escalated_to")


def inbox(*, user, view: str = "mine", ready: str | None = None, filters: dict | None = None,
          sort: str = "due", today=None) -> QuerySet[Task]:
    """The tasks of one inbox view, filtered and sorted in SQL: one query (plus the page's
    count). Views: ``mine`` (assigned to me, not snoozed), ``group`` (open, unassigned, in a
    queue of one of my mandate groups), ``delegated`` (mine, as someone's substitute),
    ``snoozed`` (mine, waiting until my follow-up date), ``done`` (my finished tasks).
    ``ready``: ``overdue``, ``today`` or ``week`` (due within 7 days). ``filters``: any of
    organisation, year, body, operations_area, department, step, due_from, due_to.
    """
    import datetime

    from django.db.models import Q
    from django.utils import timezone

    if not user.is_authenticated:
        return Task.objects.none()
    today = today or timezone.localdate()
    open_tasks = Task.objects.filter(status__in=OPEN_STATUSES, mandate__isnull=False)
    not_snoozed = Q(mandate__follow_up_on__isnull=True) | Q(mandate__follow_up_on__lte=today)
    if view == "group":
        tasks = open_tasks.filter(
            owner__isnull=True,
            mandate__candidate_groups__in=user.groups.filter(mandate__isnull=False)).distinct()
    elif view == "delegated":
        tasks = open_tasks.filter(owner=user, mandate__delegated_from__isnull=False)
    elif view == "escalated":
        # Overdue tasks of others on which the reminders copy me (notifications escalation).
        tasks = open_tasks.filter(mandate__escalated_to=user)
    elif view == "snoozed":
        tasks = open_tasks.filter(owner=user, mandate__follow_up_on__gt=today)
    elif view == "done":
        tasks = Task.objects.filter(owner=user, status=STATUS.DONE, mandate__isnull=False)
    else:
        tasks = open_tasks.filter(not_snoozed, owner=user)
    if ready == "overdue":
        tasks = tasks.filter(mandate__due_on__lt=today)
    elif ready == "today":
        tasks = tasks.filter(mandate__due_on=today)
    elif ready == "week":
        tasks = tasks.filter(mandate__due_on__gte=today,
                             mandate__due_on__lte=today + datetime.timedelta(days=7))
    filters = filters or {}
    lookups = {
        "organisation": "mandate__organisation_id",
        "year": "mandate__plan__year",
        "body": "mandate__body_id",
        "operations_area": "mandate__department__operations_area_id",
        "department": "mandate__department_id",
        "step": "flow_task",
        "due_from": "mandate__due_on__gte",
        "due_to": "mandate__due_on__lte",
    }
    for name, lookup in lookups.items():
        value = filters.get(name)
        if value not in (None, ""):
            if name == "step":
                tasks = tasks.filter(flow_task__endswith=f".{value}")
            else:
                tasks = tasks.filter(**{lookup: value})
    order = SORTS.get(sort, SORTS["due"])
    if view == "done":
        order = ("-finished", "-pk")
    return _with_task_context(tasks).order_by(*order, "pk")


def inbox_counts(*, user, today=None) -> dict[str, int]:
    """How many tasks wait in each view and ready-made view: three queries (mine, the
    groups' queue, escalated to me)."""
    import datetime

    from django.db.models import Count, Q
    from django.utils import timezone

    today = today or timezone.localdate()
    if not user.is_authenticated:
        return {}
    awake = Q(mandate__follow_up_on__isnull=True) | Q(mandate__follow_up_on__lte=today)
    mine = Task.objects.filter(owner=user, status__in=OPEN_STATUSES, mandate__isnull=False)
    counts = mine.aggregate(
        mine=Count("pk", filter=awake),
        delegated=Count("pk", filter=Q(mandate__delegated_from__isnull=False)),
        snoozed=Count("pk", filter=Q(mandate__follow_up_on__gt=today)),
        overdue=Count("pk", filter=awake & Q(mandate__due_on__lt=today)),
        today=Count("pk", filter=awake & Q(mandate__due_on=today)),
        week=Count("pk", filter=awake & Q(
            mandate__due_on__gte=today,
            mandate__due_on__lte=today + datetime.timedelta(days=7))),
    )
    counts["group"] = inbox(user=user, view="group", today=today).count()
    counts["escalated"] = Task.objects.filter(status__in=OPEN_STATUSES,
                                              mandate__escalated_to=user).count()
    return counts


def task_get_for_user(*, user, pk: int) -> Task:
    """A task the user may see: theirs, in one of their groups' queues, delegated from them,
    escalated to them, or one they may reassign; 404 otherwise."""
    from django.db.models import Q
    from django.http import Http404

    if not user.is_authenticated:
        raise Http404
    task = (_with_task_context(Task.objects.filter(mandate__isnull=False))
            .filter(Q(owner=user) | Q(mandate__candidate_groups__in=user.groups.all())
                    | Q(mandate__delegated_from=user) | Q(mandate__escalated_to=user))
            .filter(pk=pk).first())
    if task is None:
        from workflows.models import TaskMandate
        from workflows.services import may_reassign

        mandate = (TaskMandate.objects.select_related("body", "department__board")
                   .filter(task_id=pk).first())
        if mandate is None or not may_reassign(actor=user, mandate=mandate):
            raise Http404
        task = _with_task_context(Task.objects.filter(pk=pk)).get()
    return task


# --- delegations ------------------------------------------------------------------------------

def is_operations_secretary(user, organisation_id: int) -> bool:
    from permissions.selectors import roles_in_organisation

    return ("staff", "operations_secretary") in roles_in_organisation(
        user=user, organisation_id=organisation_id)


def delegations_for_user(*, user):
    """The user's delegations: given (their own, or made by them) and taken, newest first."""
    from django.db.models import Q

    from workflows.models import Delegation

    return (Delegation.objects
            .filter(Q(person=user) | Q(substitute=user) | Q(created_by=user))
            .select_related("person", "substitute", "organisation", "created_by")
            .order_by("-starts_on", "-pk"))


def delegation_get_for_user(*, user, pk: int):
    """A delegation the user is part of, or one in an organisation where they are the
    operations secretary; 404 otherwise."""
    from django.http import Http404

    from workflows.models import Delegation

    delegation = (Delegation.objects
                  .select_related("person", "substitute", "organisation", "created_by")
                  .filter(pk=pk).first())
    if delegation is None:
        raise Http404
    if user.pk not in (delegation.person_id, delegation.substitute_id,
                       delegation.created_by_id) \
            and not is_operations_secretary(user, delegation.organisation_id):
        raise Http404
    return delegation


def saved_filter_get_for_user(*, user, pk: int):
    """One of the user's own saved inbox filters; 404 for anyone else's."""
    from django.shortcuts import get_object_or_404

    from workflows.models import SavedTaskFilter

    return get_object_or_404(SavedTaskFilter, person=user, pk=pk)
