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
}


def task_step_label(task: Task) -> str:
    name = task.flow_task.name if task.flow_task is not None else ""
    return STEP_LABELS.get(name) or task.title or name


def tasks_for_user(*, user) -> QuerySet[Task]:
    """The user's open tasks, oldest first, with the plan and the mandate: one query.

    ``task.process.annualplanprocess.plan`` is the plan; ``task.mandate.label`` the mandate
    the task was routed to.
    """
    if not user.is_authenticated:
        return Task.objects.none()
    return (Task.objects.filter(owner=user, status__in=OPEN_STATUSES)
            .select_related("process__annualplanprocess__plan__organisation",
                            "mandate__body", "mandate__organisation",
                            "mandate__operations_area")
            .order_by("created", "pk"))
