"""The governance calendar (/meetings/) and the deadline and reminder settings
(/settings/deadlines/).

The same thin shape as the other cycle pages: fetch through the permission-checked selector
(404 for a meeting of an organisation the user holds no mandate in), check ``calendar.manage``
(403), parse the form (400 with field errors), call the service and turn ``Conflict`` into the
page again with a message naming the meeting's current state (409).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.errors import Conflict
from cycles import deadlines, meeting_selectors, meeting_services
from cycles.forms import add_service_errors
from cycles.meeting_forms import (
    MeetingFilterForm,
    MeetingForm,
    ReminderPolicyForm,
    StepDeadlineForm,
)
from cycles.models import AnnualPlan, FollowUp, Meeting
from governance.models import Body
from permissions.selectors import visible_organisations

PAGE_SIZE = 50


def _posted(request):
    return request.POST if request.method == "POST" else None


def _managed(request) -> list:
    return meeting_selectors.calendar_organisations(user=request.user)


def _meeting_to_manage(request, pk: int) -> tuple[Meeting, list]:
    """The meeting and its organisation (as a one-item list for the form): 404 if the meeting
    is not visible, 403 if the user does not keep its organisation's calendar."""
    meeting = meeting_selectors.meeting_get_for_user(user=request.user, pk=pk)
    organisations = [o for o in _managed(request) if o.pk == meeting.organisation_id]
    if not organisations:
        raise PermissionDenied
    return meeting, organisations


def _cancelled_message(meeting: Meeting) -> str:
    return _("The meeting was cancelled on %(date)s and can no longer be changed.") % {
        "date": timezone.localtime(meeting.cancelled_at).strftime("%d.%m.%Y")}


# --- the calendar -------------------------------------------------------------------------

@login_required
def meeting_list(request):
    """Upcoming meetings first (past ones on request), filterable by body and year.

    Queries, whatever the number of meetings: the bodies and years to filter by (2), the
    organisations the user keeps the calendar of (1 + the user's roles in each), and the page
    (count + rows, with body, organisation and plan joined).
    """
    meetings = meeting_selectors.meetings_for_user(user=request.user)
    organisations = list(visible_organisations(user=request.user))
    several = len(organisations) > 1
    bodies = (Body.objects.filter(pk__in=meetings.order_by().values("body_id"))
              .select_related("organisation")
              .order_by("organisation__name", F("department__number").asc(nulls_first=True),
                        "kind", "name"))
    years = [day.year for day in meetings.order_by().dates("date", "year", order="DESC")]
    form = MeetingFilterForm(request.GET, bodies=bodies, years=years,
                             several_organisations=several)
    today = timezone.localdate()
    managed = {organisation.pk for organisation in _managed(request)}
    status, page = 200, None
    if form.is_valid():
        page = Paginator(form.filter(meetings, today=today), PAGE_SIZE).get_page(
            request.GET.get("page"))
        for meeting in page:
            meeting.can_manage = meeting.organisation_id in managed and not meeting.is_cancelled
    else:
        status = 400
    return render(request, "cycles/meetings/meeting_list.html", {
        "form": form, "page": page, "when": form.when_value,
        "several_organisations": several, "can_manage": bool(managed), "today": today,
    }, status=status)


@login_required
def meeting_create(request):
    organisations = _managed(request)
    if not organisations:
        raise PermissionDenied
    form = MeetingForm(_posted(request), organisations=organisations)
    if request.method == "POST":
        if form.is_valid():
            try:
                changes = form.changes()
                meeting = meeting_services.meeting_create(actor=request.user, **changes)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The meeting of %(body)s on %(date)s was added.") % {
                    "body": meeting.body.name, "date": meeting.date.strftime("%d.%m.%Y")})
                return redirect(f"{reverse('cycles:meeting_list')}?year={meeting.date.year}")
        return render(request, "cycles/meetings/meeting_form.html",
                      {"form": form, "meeting": None}, status=400)
    return render(request, "cycles/meetings/meeting_form.html", {"form": form, "meeting": None})


def _edit_page(request, meeting: Meeting, form, *, status: int = 200, error: str = ""):
    return render(request, "cycles/meetings/meeting_form.html",
                  {"form": form, "meeting": meeting, "error": error}, status=status)


@login_required
def meeting_edit(request, pk: int):
    meeting, organisations = _meeting_to_manage(request, pk)
    if meeting.is_cancelled:
        return _edit_page(request, meeting, None, status=409,
                          error=_cancelled_message(meeting))
    initial = {"body": meeting.body, "kind": meeting.kind, "date": meeting.date,
               "starts_at": meeting.starts_at, "place": meeting.place, "plan": meeting.plan,
               "note": meeting.note, "version": meeting.updated_at.isoformat()}
    form = MeetingForm(_posted(request), organisations=organisations, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                meeting = meeting_services.meeting_update(
                    actor=request.user, meeting=meeting,
                    expected_updated_at=form.cleaned_data["version"], **form.changes())
            except Conflict as error:
                current = meeting_selectors.meeting_get_for_user(user=request.user, pk=pk)
                fresh = None if current.is_cancelled else MeetingForm(
                    organisations=organisations, initial={
                        **initial, "body": current.body, "kind": current.kind,
                        "date": current.date, "starts_at": current.starts_at,
                        "place": current.place, "plan": current.plan, "note": current.note,
                        "version": current.updated_at.isoformat()})
                return _edit_page(request, current, fresh, status=409, error=error.message)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The meeting was saved."))
                return redirect(f"{reverse('cycles:meeting_list')}?year={meeting.date.year}")
        return _edit_page(request, meeting, form, status=400)
    return _edit_page(request, meeting, form)


@login_required
def meeting_cancel(request, pk: int):
    """GET: the confirmation page; POST: cancel the meeting."""
    meeting, _organisations = _meeting_to_manage(request, pk)
    context = {"meeting": meeting}
    if meeting.is_cancelled:
        return render(request, "cycles/meetings/meeting_cancel.html",
                      {**context, "error": _cancelled_message(meeting)}, status=409)
    if request.method == "POST":
        try:
            meeting_services.meeting_cancel(actor=request.user, meeting=meeting)
        except Conflict as error:
            current = meeting_selectors.meeting_get_for_user(user=request.user, pk=pk)
            return render(request, "cycles/meetings/meeting_cancel.html",
                          {"meeting": current, "error": error.message}, status=409)
        messages.success(request, _("The meeting of %(body)s on %(date)s was cancelled.") % {
            "body": meeting.body.name, "date": meeting.date.strftime("%d.%m.%Y")})
        return redirect(f"{reverse('cycles:meeting_list')}?year={meeting.date.year}")
    return render(request, "cycles/meetings/meeting_cancel.html", context)


# --- deadline and reminder settings ---------------------------------------------------------

def _settings_organisation(request):
    """The organisation asked for (``?organisation=``), else the first the user keeps the
    calendar of: 404 if the user holds no mandate in it, 403 if they may not keep it."""
    managed = _managed(request)
    raw = request.GET.get("organisation", "")
    if raw == "":
        if not managed:
            raise PermissionDenied
        return managed[0], managed
    if not (raw.isascii() and raw.isdigit()):
        raise Http404
    chosen = next((o for o in managed if o.pk == int(raw)), None)
    if chosen is not None:
        return chosen, managed
    if not visible_organisations(user=request.user).filter(pk=int(raw)).exists():
        raise Http404
    raise PermissionDenied


def current_plan(organisation) -> AnnualPlan | None:
    """The plan being prepared: the newest plan not yet published, else the newest plan."""
    plans = AnnualPlan.objects.filter(organisation=organisation).order_by("-year")
    unpublished = plans.filter(state__in=[AnnualPlan.State.DRAFT, *AnnualPlan.REVIEW_STATES])
    return unpublished.first() or plans.first()


def _deadline_rows(organisation, bound: dict) -> tuple[AnnualPlan | None, list[dict]]:
    """Per step: its rule (stored or default), in words, the date it gives for the current
    plan (plan steps, each counted from when the step before it is due) or for the plan
    year's two follow-ups (follow-up steps), and its form."""
    from cycles.services import follow_up_due_on

    rules = deadlines.OrganisationDeadlines(organisation.pk)
    body_names = dict(Body.objects.filter(organisation=organisation)
                      .exclude(kind=Body.Kind.DEPARTMENT_BOARD).values_list("kind", "name"))
    plan = current_plan(organisation)
    today = timezone.localdate()
    halves = []
    if plan is not None:
        halves = [(half, label, follow_up_due_on(organisation=organisation, year=plan.year,
                                                 half=half))
                  for half, label in FollowUp.Half.choices]
    calendar = (rules.plan_calendar(plan_id=plan.pk, plan_year=plan.year, start_day=today)
                if plan is not None else {})
    rows = []
    for step in deadlines.STEPS:
        rule = rules.rule(step)
        row = {"step": step, "label": deadlines.STEP_LABELS[step], "rule": rule,
               "text": deadlines.describe(rule, body_names), "default": rules.is_default(step),
               "examples": [],
               "form": bound.get(("deadline", step)) or StepDeadlineForm(
                   step=step, rule=rule, body_names=body_names)}
        if plan is not None and step in deadlines.PLAN_STEPS:
            row["due_on"] = calendar[step]
        elif plan is not None:
            row["examples"] = [
                (label, due, rules.due_on(step=step, plan_id=plan.pk, plan_year=plan.year,
                                          follow_up_due=due, start_day=today))
                for _half, label, due in halves]
        rows.append(row)
    return plan, rows


def ladder_text(policy) -> list[str]:
    """A reminder ladder in words, one line per rung."""
    lines = []
    if policy.on_assignment:
        lines.append(_("when the task is assigned"))
    for days in policy.days_before:
        lines.append(ngettext("%(days)d day before the deadline",
                              "%(days)d days before the deadline", days) % {"days": days})
    if policy.on_due_day:
        lines.append(_("on the due day"))
    if policy.overdue_every:
        lines.append(ngettext("every business day while overdue",
                              "every %(days)d business days while overdue",
                              policy.overdue_every) % {"days": policy.overdue_every})
    if policy.escalate_after:
        lines.append(ngettext(
            "the chair or head of operations is copied after %(days)d business day overdue",
            "the chair or head of operations is copied after %(days)d business days overdue",
            policy.escalate_after) % {"days": policy.escalate_after})
    return lines or [_("no reminders")]


def _ladder_rows(organisation, bound: dict) -> list[dict]:
    """The general ladder and one per step: stored, or what applies without one."""
    from notifications.ladder import DEFAULT_POLICY
    from notifications.models import ReminderPolicy
    from notifications.selectors import policy_from_row

    stored = {row.step: row for row in ReminderPolicy.objects.filter(organisation=organisation)}
    general = policy_from_row(stored[""]) if "" in stored else DEFAULT_POLICY
    rows = []
    for step in ("", *deadlines.STEPS):
        row = stored.get(step)
        policy = policy_from_row(row) if row is not None else general
        if step == "":
            label = _("Every step without its own ladder")
            source = _("stored") if row is not None else _("the default")
        else:
            label = deadlines.STEP_LABELS[step]
            source = (_("its own") if row is not None
                      else _("the general ladder") if "" in stored else _("the default"))
        rows.append({"step": step, "key": step or "all", "label": label, "policy": policy,
                     "lines": ladder_text(policy),
                     "own": row is not None, "source": source,
                     "form": bound.get(("ladder", step)) or ReminderPolicyForm(
                         step=step, policy=policy)})
    return rows


def _settings_page(request, organisation, organisations, *, bound=None, status=200,
                   errors=None, open_form=""):
    bound = bound or {}
    plan, deadline_rows = _deadline_rows(organisation, bound)
    return render(request, "cycles/meetings/deadline_settings.html", {
        "organisation": organisation, "organisations": organisations, "plan": plan,
        "deadline_rows": deadline_rows, "ladder_rows": _ladder_rows(organisation, bound),
        "errors": errors or [], "open_form": open_form,
        "failed_form": next(iter(bound.values()), None),
    }, status=status)


def _save_deadline(request, organisation, step: str, action: str):
    if action == "reset":
        meeting_services.step_deadline_reset(actor=request.user, organisation=organisation,
                                             step=step)
        return None
    rules = deadlines.OrganisationDeadlines(organisation.pk)
    form = StepDeadlineForm(request.POST, step=step, rule=rules.rule(step))
    if form.is_valid():
        try:
            meeting_services.step_deadline_save(actor=request.user, organisation=organisation,
                                                step=step, **form.rule())
        except ValidationError as error:
            add_service_errors(form, error, StepDeadlineForm.SERVICE_FIELDS)
        else:
            return None
    return form


def _save_ladder(request, organisation, step: str, action: str):
    from notifications import policy as policy_services
    from notifications.ladder import DEFAULT_POLICY

    if action == "reset":
        policy_services.reminder_policy_reset(actor=request.user, organisation=organisation,
                                              step=step)
        return None
    form = ReminderPolicyForm(request.POST, step=step, policy=DEFAULT_POLICY)
    if form.is_valid():
        try:
            policy_services.reminder_policy_save(actor=request.user, organisation=organisation,
                                                 step=step, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return None
    return form


@login_required
def deadline_settings(request):
    """The organisation's step deadlines and reminder ladders. Each step's form posts here with
    ``form`` (deadline | ladder), ``step`` and ``action`` (save | reset)."""
    organisation, organisations = _settings_organisation(request)
    if request.method != "POST":
        return _settings_page(request, organisation, organisations)
    kind = request.POST.get("form", "")
    step = request.POST.get("step", "")
    action = request.POST.get("action", "save")
    valid_steps = deadlines.STEPS if kind == "deadline" else ("", *deadlines.STEPS)
    if kind not in ("deadline", "ladder") or step not in valid_steps \
            or action not in ("save", "reset"):
        return _settings_page(request, organisation, organisations, status=400,
                              errors=[_("Choose a step's form and save it again.")])
    save = _save_deadline if kind == "deadline" else _save_ladder
    form = save(request, organisation, step, action)
    if form is not None:
        return _settings_page(request, organisation, organisations, bound={(kind, step): form},
                              status=400, open_form=f"{kind}-{step or 'all'}")
    label = (deadlines.STEP_LABELS[step] if step else _("Every step without its own ladder"))
    if kind == "deadline":
        message = (_("The deadline of “%(step)s” is back to the default.") if action == "reset"
                   else _("The deadline of “%(step)s” was saved; open tasks follow it."))
    else:
        message = (_("The reminders of “%(step)s” are back to the default.")
                   if action == "reset" else _("The reminders of “%(step)s” were saved."))
    messages.success(request, message % {"step": label})
    return redirect(f"{reverse('cycles:deadline_settings')}?organisation={organisation.pk}"
                    f"#{kind}-{step or 'all'}")
