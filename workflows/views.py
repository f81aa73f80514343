"""The landing page as a task inbox, the task page, and the delegation page.

The same thin shape as the plan and follow-up pages: fetch the task through the
permission-checked selector (``task_get_for_user``: 404 for a task the user may not see), parse
the form (400 with field errors), call the service and turn its answers into HTTP: a
``ValidationError`` is the page again with the errors (400), a ``Conflict`` the page again with
its message, which names whoever claimed the task first (409), ``PermissionDenied`` the 403
page. On success every POST redirects back to where it came from (its ``next`` parameter, a
local URL with the inbox's query string) with a message.
"""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import Conflict
from cycles.forms import add_service_errors
from cycles.models import AnnualPlan
from governance.models import Body, Department, Membership, Person, StaffAssignment
from governance.selectors import person_mandates_on
from permissions.selectors import visible_organisations
from workflows import services
from workflows.forms import (
    READY_LABELS,
    VIEW_LABELS,
    BulkForm,
    CommentForm,
    DelegationForm,
    InboxFilterForm,
    ReassignForm,
    SavedFilterForm,
    SnoozeForm,
    filter_query,
)
from workflows.selectors import (
    INBOX_VIEWS,
    READY_VIEWS,
    delegation_get_for_user,
    delegations_for_user,
    inbox,
    inbox_counts,
    saved_filter_get_for_user,
    task_get_for_user,
    task_step_label,
)
from workflows.services import OPEN_STATUSES

PAGE_SIZE = 25


# --- helpers ------------------------------------------------------------------------------

def _next_url(request) -> str:
    """Where a POST goes back to: its ``next`` parameter when that is a local path, else the
    inbox. Only a path: ``redirect()`` would read anything else as a URL pattern's name."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse("home")


def _snooze_form(task, data=None) -> SnoozeForm:
    return SnoozeForm(data, prefix=f"snooze-{task.pk}")


def _filter_choices(user) -> dict:
    """The filter form's choices: the user's organisations and their bodies, areas,
    departments and plan years. Four queries."""
    organisations = list(visible_organisations(user=user).order_by("name"))
    ids = [organisation.pk for organisation in organisations]
    several = len(organisations) > 1
    bodies = list(Body.objects.filter(organisation_id__in=ids)
                  .exclude(kind=Body.Kind.DEPARTMENT_BOARD)
                  .select_related("organisation").order_by("organisation__name", "name"))
    departments = list(Department.objects.filter(organisation_id__in=ids)
                       .select_related("organisation", "operations_area__organisation")
                       .order_by("organisation__name", "number"))
    areas = sorted({d.operations_area for d in departments if d.operations_area_id},
                   key=lambda a: (a.organisation.name, a.number))
    years = list(AnnualPlan.objects.filter(organisation_id__in=ids).order_by("-year")
                 .values_list("year", flat=True).distinct())
    if several:  # the same names recur in each organisation: name it
        for row in [*bodies, *areas, *departments]:
            row.choice_label = f"{row} ({row.organisation.short_name})"
    return {"organisations": organisations, "years": years, "bodies": bodies, "areas": areas,
            "departments": departments}


def _render_inbox(request, params: QueryDict, *, here: str, status: int = 200,
                  error: str | None = None, errors=(), bound_snooze=None, bulk_form=None,
                  saved_filter_form=None):
    """The landing page: the inbox for the query string ``params``, then the user's roles.

    ``here`` is the page's own URL (what its forms send as ``next``). ``bound_snooze`` is a
    (task id, form) pair whose errors are shown on that task's row.
    """
    user = request.user
    today = timezone.localdate()
    form = InboxFilterForm(params, **_filter_choices(user))
    counts = inbox_counts(user=user, today=today)
    page, view, ready = None, "mine", None
    if form.is_valid():
        arguments = form.selector_arguments()
        view, ready = arguments["view"], arguments["ready"]
        page = Paginator(inbox(user=user, today=today, **arguments), PAGE_SIZE).get_page(
            params.get("page"))
        for task in page:
            task.step_label = task_step_label(task)
            due_on = task.mandate.due_on
            task.is_open = task.status in OPEN_STATUSES
            task.overdue = bool(task.is_open and due_on and due_on < today)
            task.due_today = bool(task.is_open and due_on == today)
            task.snooze_form = (bound_snooze[1] if bound_snooze and bound_snooze[0] == task.pk
                                else _snooze_form(task))
    elif status == 200:
        status = 400
    filtered = bool(page is not None and (
        ready or any(form.cleaned_data.get(name) for name in form.fields
                     if name not in ("view", "ready", "sort"))))
    tabs = [{"view": v, "label": VIEW_LABELS[v], "count": counts.get(v),
             "current": v == view and not ready} for v in INBOX_VIEWS
            # "Escalated to me" only for those who have some (chairs, managers).
            if v != "escalated" or counts.get(v) or v == view]
    ready_tabs = [{"ready": r, "label": READY_LABELS[r], "count": counts.get(r),
                   "current": r == ready} for r in READY_VIEWS]
    query = filter_query(params)
    mandates = person_mandates_on(person=user)
    by_organisation: dict = {}
    for mandate in mandates:
        by_organisation.setdefault(mandate.organisation, []).append(mandate)
    failed_forms = [f for f in (form, bound_snooze[1] if bound_snooze else None, bulk_form,
                                saved_filter_form) if f is not None and f.errors]
    return render(request, "workflows/home.html", {
        "form": form,
        "params": params,
        "here": here,
        "page": page,
        "view": view,
        "ready": ready,
        "view_label": READY_LABELS[ready] if ready else VIEW_LABELS[view],
        "filtered": filtered,
        "tabs": tabs,
        "ready_tabs": ready_tabs,
        "counts": counts,
        "queue_hint": (view == "mine" and not filtered and counts.get("mine") == 0
                       and counts.get("group", 0) > 0),
        "bulk": view == "mine" and page is not None and len(page.object_list) > 0,
        "bulk_form": bulk_form or BulkForm(),
        "selected": ({int(v) for v in bulk_form.data.getlist("tasks") if v.isdigit()}
                     if bulk_form is not None else set()),
        "saved_filters": list(user.saved_task_filters.all()),
        "saved_filter_form": saved_filter_form or SavedFilterForm(initial={"query": query}),
        "query": query,
        "error": error,
        "errors": list(errors),
        "failed_forms": failed_forms,
        "mandates_by_organisation": by_organisation,
    }, status=status)


def _render_task(request, task, *, status: int = 200, error: str | None = None,
                 errors=(), comment_form=None, reassign_form=None, snooze_form=None):
    """The task page: the task, its mandate, comments, and what the user may do with it."""
    user = request.user
    mandate = task.mandate
    task.step_label = task_step_label(task)
    task.is_open = task.status in OPEN_STATUSES
    today = timezone.localdate()
    task.overdue = bool(task.is_open and mandate.due_on and mandate.due_on < today)
    reassign = task.is_open and services.may_reassign(actor=user, mandate=mandate)
    if reassign and reassign_form is None:
        reassign_form = ReassignForm(people=_candidates(task))
    in_queue = task.is_open and task.owner_id is None and (
        user.groups.filter(pk__in=mandate.candidate_groups.values("pk")).exists())
    failed_forms = [f for f in (comment_form, reassign_form, snooze_form)
                    if f is not None and f.errors]
    return render(request, "workflows/task_detail.html", {
        "task": task,
        "mandate": mandate,
        "here": reverse("workflows:task_detail", args=[task.pk]),
        "comments": task.comments.select_related("author"),
        "comment_form": comment_form or CommentForm(),
        "reassign_form": reassign_form if reassign else None,
        "snooze_form": snooze_form or _snooze_form(task),
        "is_owner": task.is_open and task.owner_id == user.pk,
        "may_claim": in_queue,
        "error": error,
        "errors": list(errors),
        "failed_forms": failed_forms,
    }, status=status)


def _candidates(task):
    """The people who may do the task: the members of its candidate groups."""
    return (Person.objects.filter(groups__in=task.mandate.candidate_groups.all())
            .distinct().order_by("first_name", "last_name", "username"))


def _render_back(request, *, status: int, error: str | None = None, errors=(),
                 task=None, snooze_form=None, bulk_form=None, saved_filter_form=None):
    """The page a failed POST came from, again, with what went wrong: the task page when the
    POST came from there, else the inbox with the query string it was showing."""
    here = _next_url(request)
    path, query = urlsplit(here).path, urlsplit(here).query
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None and match.view_name == "workflows:task_detail":
        detail = task if task is not None and task.pk == match.kwargs["pk"] else None
        if detail is None:
            detail = task_get_for_user(user=request.user, pk=match.kwargs["pk"])
        else:
            detail = task_get_for_user(user=request.user, pk=detail.pk)  # fresh state
        return _render_task(request, detail, status=status, error=error, errors=errors,
                            snooze_form=snooze_form)
    params = QueryDict(query) if match is not None and match.view_name == "home" \
        else QueryDict()
    bound = (task.pk, snooze_form) if task is not None and snooze_form is not None else None
    return _render_inbox(request, params, here=here if match else reverse("home"),
                         status=status, error=error, errors=errors, bound_snooze=bound,
                         bulk_form=bulk_form, saved_filter_form=saved_filter_form)


def _answer(request, task, act, success: str):
    """Run ``act()`` (a service call on ``task``) and answer: back with ``success`` as a
    message, or the page again with the error (400 / 409; 403 is raised)."""
    try:
        act()
    except ValidationError as error:
        return _render_back(request, status=400, errors=error.messages, task=task)
    except Conflict as error:
        return _render_back(request, status=409, error=error.message, task=task)
    messages.success(request, success)
    return redirect(_next_url(request))


# --- the inbox ----------------------------------------------------------------------------

@login_required
def home(request):
    """The landing page: the person's task inbox (a shareable URL), then their roles.
    ``?export=csv|xlsx`` downloads the current view with its filters (every page)."""
    if "export" in request.GET:
        return _export_inbox(request)
    return _render_inbox(request, request.GET, here=request.get_full_path())


def _export_inbox(request):
    from collections import Counter

    from audit.services import export_record
    from config.exports import FORMATS, export_response

    params = request.GET.copy()
    fmt = params.pop("export", [""])[-1]
    form = InboxFilterForm(params, **_filter_choices(request.user))
    if fmt not in FORMATS or not form.is_valid():
        return _render_inbox(request, params, here=request.path, status=400,
                             error=_("Choose CSV or XLSX.") if fmt not in FORMATS else None)
    tasks = list(inbox(user=request.user, **form.selector_arguments()))
    headers = [_("Task"), _("Belongs to"), _("Mandate"), _("On behalf of"), _("Due"),
               _("Priority"), _("Snoozed until"), _("Created"), _("Owner")]
    rows = ([task_step_label(task),
             str(task.mandate.follow_up or task.mandate.plan or ""),
             task.mandate.label,
             task.mandate.delegated_from.get_full_name() if task.mandate.delegated_from
             else "",
             task.mandate.due_on, task.mandate.get_priority_display(),
             task.mandate.follow_up_on, task.created,
             task.owner.get_full_name() if task.owner else ""]
            for task in tasks)
    response = export_response(_("tasks"), headers, rows, fmt)
    # Recorded in the trail of each organisation whose tasks the file holds.
    export_record(actor=request.user, what="tasks", fmt=fmt, filters=params,
                  row_counts=Counter(task.mandate.organisation_id for task in tasks))
    return response


# --- one task -----------------------------------------------------------------------------

@login_required
def task_detail(request, pk: int):
    return _render_task(request, task_get_for_user(user=request.user, pk=pk))


@login_required
@require_POST
def task_claim(request, pk: int):
    task = task_get_for_user(user=request.user, pk=pk)
    return _answer(request, task,
                   lambda: services.task_claim(actor=request.user, task=task),
                   _("You claimed the task “%(step)s”.") % {"step": task_step_label(task)})


@login_required
@require_POST
def task_release(request, pk: int):
    task = task_get_for_user(user=request.user, pk=pk)
    return _answer(request, task,
                   lambda: services.task_release(actor=request.user, task=task),
                   _("The task “%(step)s” went back to the group's queue.")
                   % {"step": task_step_label(task)})


@login_required
@require_POST
def task_snooze(request, pk: int):
    task = task_get_for_user(user=request.user, pk=pk)
    if task.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the task's owner can snooze it."))
    form = _snooze_form(task, request.POST)
    if form.is_valid():
        until = form.until_day()
        try:
            services.task_snooze(actor=request.user, task=task, until=until)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _render_back(request, status=409, error=error.message, task=task)
        else:
            if until is None:
                message = _("The task “%(step)s” is back in your tasks.") % {
                    "step": task_step_label(task)}
            else:
                message = _("The task “%(step)s” is snoozed until %(day)s.") % {
                    "step": task_step_label(task), "day": until.strftime("%d.%m.%Y")}
            messages.success(request, message)
            return redirect(_next_url(request))
    return _render_back(request, status=400, task=task, snooze_form=form)


@login_required
@require_POST
def task_comment(request, pk: int):
    task = task_get_for_user(user=request.user, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.task_comment_add(actor=request.user, task=task,
                                      text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your comment was added."))
            return redirect(reverse("workflows:task_detail", args=[pk]) + "#comments")
    return _render_task(request, task, status=400, comment_form=form)


@login_required
@require_POST
def task_reassign(request, pk: int):
    task = task_get_for_user(user=request.user, pk=pk)
    if not services.may_reassign(actor=request.user, mandate=task.mandate):
        raise PermissionDenied
    form = ReassignForm(request.POST, people=_candidates(task))
    if form.is_valid():
        to = form.cleaned_data["to"]
        try:
            services.task_reassign(actor=request.user, task=task, to=to)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as error:
            return _render_task(request, task_get_for_user(user=request.user, pk=pk),
                                status=409, error=error.message)
        else:
            messages.success(request, _("The task went to %(name)s.") % {"name": to})
            return redirect("workflows:task_detail", pk)
    return _render_task(request, task, status=400, reassign_form=form)


# --- several tasks at once ----------------------------------------------------------------

@login_required
@require_POST
def task_bulk(request):
    """Snooze or release several of my tasks at once: all or none, each with its own entry in
    the audit trail (each is one service call)."""
    ids = [int(value) for value in request.POST.getlist("tasks") if value.isdigit()]
    form = BulkForm(request.POST, task_ids=ids)
    if not form.is_valid():
        return _render_back(request, status=400, bulk_form=form)
    tasks = [task_get_for_user(user=request.user, pk=pk)
             for pk in dict.fromkeys(form.cleaned_data["tasks"])]
    action, until = form.cleaned_data["action"], form.cleaned_data.get("until")
    try:
        with transaction.atomic():
            for task in tasks:
                if action == BulkForm.SNOOZE:
                    services.task_snooze(actor=request.user, task=task, until=until)
                else:
                    services.task_release(actor=request.user, task=task)
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_back(request, status=400, bulk_form=form)
    except Conflict as error:
        return _render_back(request, status=409,
                            error=f"{error.message} ({task_step_label(task)})")
    if action == BulkForm.SNOOZE:
        message = ngettext("%(count)d task is snoozed until %(day)s.",
                           "%(count)d tasks are snoozed until %(day)s.", len(tasks)) % {
            "count": len(tasks), "day": until.strftime("%d.%m.%Y")}
    else:
        message = ngettext("%(count)d task went back to its group's queue.",
                           "%(count)d tasks went back to their groups' queues.",
                           len(tasks)) % {"count": len(tasks)}
    messages.success(request, message)
    return redirect(_next_url(request))


# --- saved filters ------------------------------------------------------------------------

@login_required
@require_POST
def saved_filter_save(request):
    """Save the inbox's current query string under a name (the same name replaces it)."""
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        return _render_back(request, status=400, saved_filter_form=form)
    saved = services.saved_filter_save(person=request.user, name=form.cleaned_data["name"],
                                       query=form.cleaned_data["query"])
    messages.success(request, _("The filter “%(name)s” was saved.") % {"name": saved.name})
    return redirect(reverse("home") + (f"?{saved.query}" if saved.query else ""))


@login_required
@require_POST
def saved_filter_delete(request, pk: int):
    saved = saved_filter_get_for_user(user=request.user, pk=pk)
    services.saved_filter_delete(person=request.user, saved=saved)
    messages.success(request, _("The filter “%(name)s” was deleted.") % {"name": saved.name})
    return redirect(_next_url(request))


# --- delegation ---------------------------------------------------------------------------

def _delegation_people(organisations):
    """Everyone holding a mandate today in one of ``organisations``: the possible
    substitutes (the service checks the chosen organisation)."""
    today = timezone.localdate()
    ids = [organisation.pk for organisation in organisations]
    seats = Membership.objects.current_on(today).filter(
        body__organisation_id__in=ids).values("person_id")
    staff = StaffAssignment.objects.current_on(today).filter(
        organisation_id__in=ids).values("person_id")
    return (Person.objects.filter(Q(pk__in=seats) | Q(pk__in=staff))
            .order_by("first_name", "last_name", "username"))


def _delegation_form(request, data=None) -> DelegationForm:
    organisations = list(visible_organisations(user=request.user).order_by("name"))
    people = _delegation_people(organisations).exclude(pk=request.user.pk)
    return DelegationForm(data, organisations=organisations, people=people)


@login_required
@require_http_methods(["GET", "POST"])
def delegation_list(request):
    """Name a substitute for a period; the substitutes I named and the people I stand in
    for, with a button to cancel mine."""
    status = 200
    if request.method == "POST":
        form = _delegation_form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.delegation_create(
                    actor=request.user, person=request.user, substitute=data["substitute"],
                    organisation_id=data["organisation"], starts_on=data["starts_on"],
                    ends_on=data["ends_on"], reason=data["reason"])
            except ValidationError as error:
                add_service_errors(form, error, {"person": "organisation"})
            else:
                messages.success(request, _(
                    "%(name)s is your substitute from %(first)s to %(last)s.") % {
                    "name": data["substitute"], "first": data["starts_on"].strftime("%d.%m.%Y"),
                    "last": data["ends_on"].strftime("%d.%m.%Y")})
                return redirect("workflows:delegation_list")
        status = 400
    else:
        form = _delegation_form(request)
    today = timezone.localdate()
    delegations = list(delegations_for_user(user=request.user)[:100])
    for delegation in delegations:
        if delegation.cancelled_at is not None:
            delegation.status_label = _("cancelled")
        elif delegation.ends_on < today:
            delegation.status_label = _("ended")
        elif delegation.starts_on > today:
            delegation.status_label = _("planned")
        else:
            delegation.status_label = _("active")
        delegation.cancellable = (delegation.cancelled_at is None
                                  and delegation.ends_on >= today
                                  and request.user.pk in (delegation.person_id,
                                                          delegation.created_by_id))
    return render(request, "workflows/delegation_list.html", {
        "form": form,
        "given": [d for d in delegations if d.substitute_id != request.user.pk],
        "taken": [d for d in delegations if d.substitute_id == request.user.pk],
    }, status=status)


@login_required
@require_POST
def delegation_cancel(request, pk: int):
    delegation = delegation_get_for_user(user=request.user, pk=pk)
    services.delegation_cancel(actor=request.user, delegation=delegation)
    messages.success(request, _("The substitute was cancelled; your tasks are back with you."))
    return redirect("workflows:delegation_list")
