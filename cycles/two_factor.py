"""The step-up check on the sign-off and approval pages (see governance.two_factor).

One decorator per kind of object, on each signer view below ``login_required``/``require_POST``::

    @plan_step_up("sign")
    @follow_up_step_up("acknowledge", back="cycles:follow_up_detail")

A verified session goes straight to the view. Otherwise the decorator reads the object's state
and organisation (one query) and lets the view answer unless the organisation requires a second
factor for the step's action and the person may take the step now (the object is visible to
them, in a state the step is taken in, and their roles allow the action); then it redirects to
verification, coming back to the page (or, for a POST-only step, to ``back``, the object's
page). So 404, 403 and 409 stay exactly what the view answers, and nothing is acted on (or
shown in a sign-off form) before verification. The API endpoints
ask ``governance.two_factor.api_require_two_factor`` in their one ``act``/``checked`` helper.
"""

from functools import wraps

from django.urls import reverse

from cycles import selectors
from cycles.models import AnnualPlan, FollowUp
from governance.two_factor import needs_step_up, session_verified, step_up_redirect
from permissions.selectors import permitted_actions, permitted_department_actions


def _next_url(request, pk: int, back: str | None) -> str:
    if back is not None:
        return reverse(back, args=[pk])
    return request.get_full_path() if request.method == "GET" else request.path


def plan_step_up(step: str, *, back: str | None = None):
    """``step`` names the plan action in ``cycles.selectors.PLAN_ACTION_STEPS``."""
    def decorator(view):
        @wraps(view)
        def wrapper(request, pk: int, *args, **kwargs):
            plan = None if session_verified(request) else (
                AnnualPlan.objects.select_related("organisation").filter(pk=pk).first())
            action = plan and selectors.PLAN_ACTION_STEPS[step].get(plan.state)
            if action and needs_step_up(request, organisation=plan.organisation, action=action):
                plan = selectors.plan_get_for_user(user=request.user, pk=pk)  # 404 if unseen
                if action in permitted_actions(user=request.user,
                                               organisation_id=plan.organisation_id):
                    return step_up_redirect(request, organisation=plan.organisation,
                                            next_url=_next_url(request, pk, back))
            return view(request, pk, *args, **kwargs)
        return wrapper
    return decorator


def follow_up_step_up(step: str, *, back: str | None = None):
    """``step`` names the case action in ``cycles.selectors.FOLLOW_UP_ACTION_STEPS``."""
    def decorator(view):
        @wraps(view)
        def wrapper(request, pk: int, *args, **kwargs):
            case = None if session_verified(request) else (
                FollowUp.objects.select_related("department__organisation").filter(pk=pk).first())
            states, action = selectors.FOLLOW_UP_ACTION_STEPS[step]
            if (case is not None and case.state in states and needs_step_up(
                    request, organisation=case.department.organisation, action=action)):
                case = selectors.follow_up_get_for_user(user=request.user, pk=pk)  # 404 if unseen
                if action in permitted_department_actions(user=request.user,
                                                          department=case.department):
                    return step_up_redirect(request, organisation=case.department.organisation,
                                            next_url=_next_url(request, pk, back))
            return view(request, pk, *args, **kwargs)
        return wrapper
    return decorator
