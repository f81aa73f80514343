"""Reads of the governance calendar, with the permission check built in.

Everyone who holds a mandate in an organisation sees its meetings (``organisation.view``); the
operations secretary (``calendar.manage``) keeps them.
"""

from django.db.models import QuerySet
from django.http import Http404

from cycles.models import Meeting
from governance.models import Organisation
from permissions.matrix import Action
from permissions.selectors import can, visible_organisations


def meetings_for_user(*, user) -> QuerySet[Meeting]:
    """The meetings of every organisation the user holds a mandate in, with what the list
    shows (body, organisation, plan) joined: one query."""
    return (Meeting.objects.filter(organisation__in=visible_organisations(user=user))
            .select_related("body", "organisation", "plan"))


def meeting_get_for_user(*, user, pk: int) -> Meeting:
    """The meeting, if the user may see it; 404 otherwise (whether it exists or not)."""
    meeting = meetings_for_user(user=user).filter(pk=pk).first()
    if meeting is None:
        raise Http404
    return meeting


def calendar_organisations(*, user) -> list[Organisation]:
    """The organisations whose calendar and deadlines the user keeps, by name.

    One query for the organisations, then the user's roles per organisation (people hold
    mandates in one or two organisations).
    """
    return [organisation for organisation in visible_organisations(user=user).order_by("name")
            if can(user=user, action=Action.CALENDAR_MANAGE, organisation_id=organisation.pk)]
