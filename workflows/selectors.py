"""Reads of the routed work: which tasks wait for whom."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task

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
