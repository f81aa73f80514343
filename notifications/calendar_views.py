"""The calendar page (the user's feed addresses: create, copy, revoke) and the feeds.

The same thin shape as the other pages: the permission-checked selectors fetch (an address
that is not the user's own answers 404), the form parses (400 with field errors), the services
decide (a ``Conflict`` is the page again with its message, 409). The feed itself is public by
its secret token: unknown, revoked or no longer permitted → 404, never a hint why.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from config.errors import Conflict
from cycles.forms import add_service_errors
from governance.models import Body
from notifications import calendar as feeds
from notifications.calendar_forms import OWN_CALENDAR, CalendarFeedForm


def _bodies_without_feed(user, active):
    """The bodies the user may still get an address for, with their organisation."""
    taken = [feed.body_id for feed in active if feed.body_id is not None]
    return (feeds.feed_bodies_for(person=user).exclude(pk__in=taken)
            .select_related("organisation")
            .order_by("organisation__name", F("department__number").asc(nulls_first=True),
                      "name"))


def _label_bodies(bodies: list[Body]) -> list[Body]:
    """Name the organisation when the user's bodies come from more than one."""
    if len({body.organisation_id for body in bodies}) > 1:
        for body in bodies:
            body.choice_label = f"{body.name} ({body.organisation.short_name})"
    return bodies


def _render_page(request, *, form=None, status: int = 200, error: str | None = None):
    user = request.user
    active = list(feeds.feeds_for_user(user=user))
    for feed in active:
        feed.https_url = feeds.feed_url(feed)
        feed.webcal_url = feeds.webcal_url(feed)
        feed.name = feed.body.name if feed.body else _("My deadlines and meetings")
    bodies_queryset = _bodies_without_feed(user, active)
    bodies = _label_bodies(list(bodies_queryset))
    if form is None:
        form = CalendarFeedForm(bodies=bodies_queryset)
    # The options from the list already read (no second query while rendering).
    form.fields["body"].choices = [(body.pk, getattr(body, "choice_label", body.name))
                                   for body in bodies]
    return render(request, "notifications/calendar/page.html", {
        "feeds": active,
        "has_own": any(feed.body_id is None for feed in active),
        "bodies": bodies,
        "form": form,
        "error": error,
    }, status=status)


@login_required
@require_GET
def calendar_page(request):
    return _render_page(request)


@login_required
@require_POST
def calendar_feed_create(request):
    """A new address: for the user's own calendar (``calendar=own``), or for one of their
    bodies (``body``)."""
    form = None
    if request.POST.get("calendar") != OWN_CALENDAR:
        active = list(feeds.feeds_for_user(user=request.user))
        form = CalendarFeedForm(request.POST, bodies=_bodies_without_feed(request.user, active))
    if form is None or form.is_valid():
        body = form.cleaned_data["body"] if form is not None else None
        try:
            feeds.calendar_feed_create(actor=request.user, body=body)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _render_page(request, status=409, error=error.message)
        else:
            messages.success(request, _(
                "Your calendar address for %(what)s is ready. Add it to your calendar program "
                "as described below.") % {
                "what": body.name if body else _("your own deadlines and meetings")})
            return redirect("notifications:calendar")
    return _render_page(request, form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feed_revoke(request, pk: int):
    """GET asks for confirmation; POST switches the address off for good."""
    feed = feeds.calendar_feed_get_for_user(user=request.user, pk=pk)
    name = feed.body.name if feed.body else _("My deadlines and meetings")
    if request.method == "POST":
        try:
            feeds.calendar_feed_revoke(actor=request.user, feed=feed)
        except Conflict as error:
            return render(request, "notifications/calendar/revoke.html",
                          {"feed": feed, "name": name, "error": error.message}, status=409)
        messages.success(request, _(
            "The calendar address for %(what)s is revoked. Calendar programs that use it get "
            "no more updates.") % {"what": name})
        return redirect("notifications:calendar")
    return render(request, "notifications/calendar/revoke.html", {"feed": feed, "name": name})


@require_safe  # GET and HEAD
def calendar_feed(request, token: str):
    """The iCalendar feed: ``text/calendar``, cached privately for five minutes."""
    feed = feeds.feed_get_by_token(token)
    if feed is None:
        raise Http404
    now = timezone.now()
    content = feeds.feed_calendar(feed, now=now)
    feeds.calendar_feed_touch(feed=feed, now=now)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="aarshjul.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
