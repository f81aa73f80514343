"""Template tags of the rollout and follow-up pages: what the menu and the plan page link to.

``follow_ups_in_menu`` answers "does this person have any follow-up case to see?" for the main
menu of every page. The answer is kept in the session for a few minutes so an ordinary page
costs no query for it (the lists themselves always check anew).
"""

import time

from django import template

from cycles.models import AnnualPlan
from permissions.matrix import Action
from permissions.selectors import can

register = template.Library()

MENU_KEY = "follow_ups_in_menu"
MENU_SECONDS = 300
ROLLED_OUT_STATES = (AnnualPlan.State.PUBLISHED, AnnualPlan.State.PRESENTED,
                     AnnualPlan.State.EVALUATED)


@register.simple_tag(takes_context=True)
def follow_ups_in_menu(context) -> bool:
    """Whether the menu shows "Follow-ups": the user may see at least one case."""
    from cycles.selectors import follow_ups_for_user

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    now = time.time()
    cached = request.session.get(MENU_KEY)
    if (isinstance(cached, dict) and cached.get("user") == user.pk
            and 0 <= now - cached.get("at", 0) < MENU_SECONDS):
        return bool(cached.get("show"))
    show = follow_ups_for_user(user=user).exists()
    request.session[MENU_KEY] = {"user": user.pk, "at": now, "show": show}
    return show


@register.simple_tag(takes_context=True)
def plan_aggregates_visible(context, plan: AnnualPlan) -> bool:
    """Whether the plan page links to its rollout coverage and follow-up aggregates: the plan
    is published (or later) and the user's roles allow ``cycle.aggregates.view``."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or plan.state not in ROLLED_OUT_STATES:
        return False
    return user.is_superuser or can(user=user, action=Action.CYCLE_AGGREGATES_VIEW,
                                    organisation_id=plan.organisation_id)
