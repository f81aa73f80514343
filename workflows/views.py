"""The landing page: what is waiting for the person, and their roles."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from governance.selectors import person_mandates_on
from workflows.selectors import task_step_label, tasks_for_user


@login_required
def home(request):
    """The landing page: the tasks waiting for the person, then their current roles."""
    mandates = person_mandates_on(person=request.user)
    by_organisation: dict = {}
    for mandate in mandates:
        by_organisation.setdefault(mandate.organisation, []).append(mandate)
    tasks = list(tasks_for_user(user=request.user))
    for task in tasks:
        task.step_label = task_step_label(task)
    return render(request, "workflows/home.html", {
        "mandates_by_organisation": by_organisation,
        "tasks": tasks,
    })
