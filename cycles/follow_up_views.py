"""HTML pages of the rollout and the half-yearly follow-ups.

The same thin shape as the plan pages (cycles/views.py): fetch through the permission-checked
selector (404 for anything not visible), check the department-scope actions the user's roles
allow (403), parse the form (400 with field errors), call the service (state changes of a case
through ``workflows.services.follow_up_act`` so its tasks follow) and turn ``Conflict`` into the
case page again with a message naming its current state (409).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import Conflict
from cycles import selectors, services
from cycles.follow_up_forms import (
    AcknowledgeForm,
    BoardRemarkAnswerForm,
    BoardRemarkForm,
    FollowUpFilterForm,
    FollowUpReturnForm,
    FollowUpSaveForm,
    RolloutPresentationForm,
)
from cycles.forms import add_service_errors
from cycles.models import FollowUp
from cycles.two_factor import follow_up_step_up
from governance.models import OperationsArea
from permissions.matrix import Action
from permissions.selectors import permitted_department_actions
from workflows.services import follow_up_act

State = FollowUp.State
PAGE_SIZE = 50
# A case is overdue when its due date has passed and the board has not had it yet.
OPEN_STATES = (State.SCHEDULED, State.IN_PREPARATION, State.READY_FOR_BOARD)


def is_overdue(follow_up: FollowUp, today) -> bool:
    return follow_up.due_on < today and follow_up.state in OPEN_STATES


# --- helpers ------------------------------------------------------------------------------

def _case(request, pk: int) -> FollowUp:
    return selectors.follow_up_get_for_user(user=request.user, pk=pk)


def _permitted(request, department) -> frozenset[Action]:
    return permitted_department_actions(user=request.user, department=department)


def _state_message(follow_up: FollowUp, error: Conflict | None = None) -> str:
    """The conflict's message, naming the case's current state if it does not already."""
    label = str(follow_up.get_state_display())
    if error is None:
        return _("This cannot be done now: the follow-up's current state is “%(state)s”.") % {
            "state": label}
    if label in error.message:
        return error.message
    return "{} {}".format(error.message, _("The follow-up's current state is “%(state)s”.")
                          % {"state": label})


def _prepare(request, pk: int, step: str) -> FollowUp:
    """The case for one of FOLLOW_UP_ACTION_STEPS: 404 if not visible, 403 if the user's roles
    do not allow the step, ``Conflict`` if the case is not in a state the step is taken in."""
    follow_up = _case(request, pk)
    states, needed = selectors.FOLLOW_UP_ACTION_STEPS[step]
    if needed not in _permitted(request, follow_up.department):
        raise PermissionDenied
    if follow_up.state not in states:
        raise Conflict(_state_message(follow_up), current_state=follow_up.state)
    return follow_up


def _answers_conflicts(view):
    """A ``Conflict`` becomes the case page again with the current state named: HTTP 409."""
    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        try:
            return view(request, pk, *args, **kwargs)
        except Conflict as error:
            follow_up = _case(request, pk)
            return _render_case(request, follow_up, status=409,
                                error=_state_message(follow_up, error))
    return wrapper


def _render_case(request, follow_up: FollowUp, *, status: int = 200, error: str | None = None,
                 errors: list[str] | None = None, bound: dict | None = None):
    """The case page. ``bound`` holds the form that failed (by step name), shown with its
    errors instead of an empty one."""
    bound = bound or {}
    permitted = _permitted(request, follow_up.department)
    allowed = set(selectors.follow_up_allowed_actions(follow_up=follow_up, permitted=permitted))
    remarks = selectors.follow_up_remarks(follow_up=follow_up)
    board_remarks = selectors.follow_up_board_remarks(follow_up=follow_up)

    def form_for(step, factory):
        if step in bound:
            return bound[step]
        return factory() if step in allowed else None

    for remark in board_remarks:
        remark.answer_form = None
        if "answer" in allowed and (not remark.answer or ("answer", remark.pk) in bound):
            remark.answer_form = bound.get(("answer", remark.pk)) or BoardRemarkAnswerForm(
                remark=remark)
    failed = next(iter(bound.values()), None)
    return render(request, "cycles/follow_up_detail.html", {
        "follow_up": follow_up,
        "overdue": is_overdue(follow_up, timezone.localdate()),
        "allowed": allowed,
        "remarks": remarks,
        "board_remarks": board_remarks,
        "history": selectors.follow_up_history(follow_up=follow_up),
        "save_form": form_for("save", lambda: FollowUpSaveForm(follow_up=follow_up,
                                                                remarks=remarks)),
        "return_form": form_for("return", FollowUpReturnForm),
        "acknowledge_form": form_for("acknowledge", AcknowledgeForm),
        "board_remark_form": form_for("board-remark", BoardRemarkForm),
        "ready_blockers": follow_up.ready_blockers() if "mark-ready" in allowed else [],
        "close_blockers": follow_up.close_blockers() if "close" in allowed else [],
        "failed_form": failed,
        "error": error,
        "errors": errors or [],
    }, status=status)


def _paginate(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- follow-up cases ----------------------------------------------------------------------

@login_required
def follow_up_list(request):
    cases = selectors.follow_ups_for_user(user=request.user)
    years = list(cases.order_by("-plan__year").values_list("plan__year", flat=True).distinct())
    areas = list(OperationsArea.objects.filter(
        pk__in=cases.order_by().values("department__operations_area_id"))
        .select_related("organisation").order_by("organisation__name", "number"))
    form = FollowUpFilterForm(request.GET, years=years, areas=areas)
    if request.GET.get("export") and form.is_valid():  # the filtered list as CSV or XLSX
        from cycles.dashboard_views import follow_up_list_export

        return follow_up_list_export(request, cases=form.filter(cases), several_organisations=len(
            {area.organisation_id for area in areas}) > 1)
    status, page = 200, None
    if form.is_valid():
        page = _paginate(request, form.filter(cases))
        today = timezone.localdate()
        for case in page:
            case.overdue = is_overdue(case, today)
    else:
        status = 400
    return render(request, "cycles/follow_up_list.html", {
        "form": form, "page": page, "several_organisations":
            len({area.organisation_id for area in areas}) > 1,
    }, status=status)


@login_required
def follow_up_detail(request, pk: int):
    return _render_case(request, _case(request, pk))


@login_required
@require_POST
@_answers_conflicts
def follow_up_save(request, pk: int):
    follow_up = _prepare(request, pk, "save")
    remarks = selectors.follow_up_remarks(follow_up=follow_up)
    form = FollowUpSaveForm(request.POST, follow_up=follow_up, remarks=remarks)
    if form.is_valid():
        try:
            follow_up_act(services.follow_up_save, actor=request.user, follow_up=follow_up,
                          summary=form.cleaned_data["summary"], remarks=form.remarks())
        except ValidationError as error:
            add_service_errors(form, error, form.service_field_names())
        else:
            messages.success(request, _("The follow-up was saved."))
            return redirect("cycles:follow_up_detail", pk)
    return _render_case(request, follow_up, status=400, bound={"save": form})


@login_required
@require_POST
@_answers_conflicts
def follow_up_mark_ready(request, pk: int):
    follow_up = _prepare(request, pk, "mark-ready")
    try:
        follow_up_act(services.follow_up_mark_ready, actor=request.user, follow_up=follow_up)
    except ValidationError as error:
        return _render_case(request, _case(request, pk), status=400, errors=error.messages)
    messages.success(request, _("The follow-up is ready for the department board."))
    return redirect("cycles:follow_up_detail", pk)


@login_required
@require_POST
@_answers_conflicts
def follow_up_return(request, pk: int):
    follow_up = _prepare(request, pk, "return")
    form = FollowUpReturnForm(request.POST)
    if form.is_valid():
        try:
            follow_up_act(services.follow_up_return, actor=request.user, follow_up=follow_up,
                          reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The follow-up went back to preparation."))
            return redirect("cycles:follow_up_detail", pk)
    return _render_case(request, follow_up, status=400, bound={"return": form})


@login_required
@require_POST
@follow_up_step_up("acknowledge", back="cycles:follow_up_detail")
@_answers_conflicts
def follow_up_acknowledge(request, pk: int):
    follow_up = _prepare(request, pk, "acknowledge")
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            follow_up_act(services.follow_up_acknowledge, actor=request.user,
                          follow_up=follow_up, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The follow-up was acknowledged."))
            return redirect("cycles:follow_up_detail", pk)
    return _render_case(request, follow_up, status=400, bound={"acknowledge": form})


@login_required
@require_POST
@_answers_conflicts
def board_remark_add(request, pk: int):
    follow_up = _prepare(request, pk, "board-remark")
    form = BoardRemarkForm(request.POST)
    if form.is_valid():
        try:
            services.board_remark_add(actor=request.user, follow_up=follow_up,
                                      text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The board's remark was added."))
            return redirect("cycles:follow_up_detail", pk)
    return _render_case(request, follow_up, status=400, bound={"board-remark": form})


@login_required
@require_POST
@_answers_conflicts
def board_remark_answer(request, pk: int, remark_pk: int):
    follow_up = _prepare(request, pk, "answer")
    remark = follow_up.board_remarks.filter(pk=remark_pk).first()
    if remark is None:
        raise Http404
    form = BoardRemarkAnswerForm(request.POST, remark=remark)
    if form.is_valid():
        try:
            services.board_remark_answer(actor=request.user, remark=remark,
                                         answer=form.cleaned_data["answer"],
                                         text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The answer was recorded."))
            return redirect("cycles:follow_up_detail", pk)
    return _render_case(request, follow_up, status=400, bound={("answer", remark.pk): form})


@login_required
@require_POST
@_answers_conflicts
def follow_up_close(request, pk: int):
    follow_up = _prepare(request, pk, "close")
    try:
        follow_up_act(services.follow_up_close, actor=request.user, follow_up=follow_up)
    except ValidationError as error:
        return _render_case(request, _case(request, pk), status=400, errors=error.messages)
    messages.success(request, _("The follow-up was closed."))
    return redirect("cycles:follow_up_detail", pk)


# --- rollout plans ------------------------------------------------------------------------

@login_required
def rollout_list(request):
    page = _paginate(request, selectors.rollouts_for_user(user=request.user))
    return render(request, "cycles/rollout_list.html", {"page": page})


def _render_rollout(request, rollout, *, status: int = 200, form=None):
    permitted = _permitted(request, rollout.department)
    allowed = selectors.rollout_allowed_actions(rollout=rollout, permitted=permitted)
    if form is None and "register-presentation" in allowed:
        initial = {}
        if rollout.presented_on:
            initial = {"presented_on": rollout.presented_on,
                       "meeting_kind": rollout.meeting_kind,
                       "board_remarks": rollout.board_remarks}
        form = RolloutPresentationForm(initial=initial)
    return render(request, "cycles/rollout_detail.html", {
        "rollout": rollout,
        "entries": selectors.rollout_entries(rollout=rollout),
        "form": form,
    }, status=status)


@login_required
def rollout_detail(request, pk: int):
    return _render_rollout(request, selectors.rollout_get_for_user(user=request.user, pk=pk))


@login_required
@require_POST
def rollout_presentation(request, pk: int):
    rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
    if Action.ROLLOUT_REGISTER_PRESENTATION not in _permitted(request, rollout.department):
        raise PermissionDenied
    form = RolloutPresentationForm(request.POST)
    if form.is_valid():
        try:
            services.rollout_register_presentation(actor=request.user, rollout=rollout,
                                                   **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The presentation was registered."))
            return redirect("cycles:rollout_detail", pk)
    return _render_rollout(request, rollout, status=400, form=form)


# --- a plan's coverage and aggregates -----------------------------------------------------

@login_required
def plan_coverage(request, pk: int):
    plan = selectors.aggregates_plan_get_for_user(user=request.user, pk=pk)
    return render(request, "cycles/plan_coverage.html", {
        "plan": plan, "coverage": selectors.rollout_coverage(plan=plan),
    })


HALF_CHOICES = ("", *FollowUp.Half.values)
CHART_ROW = 32  # px per bar of the progress chart


@login_required
def plan_aggregates(request, pk: int):
    plan = selectors.aggregates_plan_get_for_user(user=request.user, pk=pk)
    half = request.GET.get("half", "")
    context = {"plan": plan, "half": half, "halves": FollowUp.Half.choices}
    if half not in HALF_CHOICES:
        context["error"] = _("Choose the first half, the second half or both.")
        return render(request, "cycles/plan_aggregates.html", context, status=400)
    aggregates = selectors.follow_up_aggregates(plan=plan, half=half or None)
    bars = [{"label": str(row["area"]), "progress": row["progress"],
             "width": (row["progress"] or 0) * 0.5, "y": index * CHART_ROW}
            for index, row in enumerate(aggregates["areas"])]
    return render(request, "cycles/plan_aggregates.html", {
        **context, "aggregates": aggregates,
        "chart": {"bars": bars, "height": len(bars) * CHART_ROW},
    })
