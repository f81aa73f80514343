"""HTML pages of the annual cycle: plans, initiatives, revisions, sign-offs.

Views are thin: fetch the plan through the permission-checked selector, check which actions the
user's roles allow (to answer 403 early and to choose the buttons), parse the form, call the
service (state changes through ``workflows.services.plan_act``) and turn its exceptions into
answers: ``ValidationError`` → the form again with field errors (400), ``Conflict`` → the page
again with a message naming the plan's current state (409), ``PermissionDenied`` → 403.
"""

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import Conflict
from cycles import forms, selectors, services
from cycles.lib import diff_content
from cycles.models import AnnualPlan, Initiative
from cycles.two_factor import plan_step_up
from governance.models import Body
from governance.selectors import signing_mandate_on
from permissions.matrix import RETURN_ACTION_BY_STATE, SIGN_ACTION_BY_STATE, Action
from permissions.selectors import permitted_actions, visible_organisations
from workflows.services import plan_act, plan_create_and_route

State = AnnualPlan.State


# --- helpers ------------------------------------------------------------------------------

def _plan(request, pk: int) -> AnnualPlan:
    return selectors.plan_get_for_user(user=request.user, pk=pk)


def _actions(request, plan: AnnualPlan) -> frozenset[Action]:
    return permitted_actions(user=request.user, organisation_id=plan.organisation_id)


def _require(actions: frozenset[Action], *wanted: Action) -> None:
    """403 unless the user's roles allow at least one of ``wanted`` (state not considered)."""
    if not actions & set(wanted):
        raise PermissionDenied


def _state_message(plan: AnnualPlan, error: Conflict | None = None) -> str:
    """The conflict's message, naming the plan's current state if it does not already."""
    label = str(plan.get_state_display())
    if error is None:
        return _("This cannot be done now: the plan's current state is “%(state)s”.") % {
            "state": label}
    if label in error.message:
        return error.message
    return "{} {}".format(error.message, _("The plan's current state is “%(state)s”.")
                          % {"state": label})


def _conflict(request, pk: int, error: Conflict | None = None):
    """The plan page again, with a message naming the current state: HTTP 409."""
    plan = _plan(request, pk)
    return _render_detail(request, plan, status=409, error=_state_message(plan, error))


def _available(plan: AnnualPlan, actions: frozenset[Action]) -> dict[str, bool]:
    """Which buttons to show: the user's roles and the plan's state (the services re-check)."""
    allowed = set(selectors.plan_allowed_actions(plan=plan, permitted=actions,
                                                 submit_blockers=[]))
    return {
        "edit": "edit" in allowed,
        "comment": "comment" in allowed,
        "close_review": "close-review" in allowed,
        "sign": "sign" in allowed,
        "return": "return" in allowed,
        "publish": "publish" in allowed,
        "presentation": "register-presentation" in allowed,
        "evaluate": "evaluate" in allowed,
    }


def _render_detail(request, plan: AnnualPlan, *, status: int = 200, error: str | None = None,
                   comment_form=None, errors: list[str] | None = None):
    actions = _actions(request, plan)
    can = _available(plan, actions)
    themes = selectors.initiatives_by_theme(plan=plan)
    initiatives = [i for _theme, items in themes for i in items]
    if can["comment"] and comment_form is None:
        comment_form = forms.CommentForm(initiatives=initiatives)
    evaluations = []
    if plan.state == State.EVALUATED:
        evaluations = list(plan.evaluations.select_related(
            "initiative", "merged_into", "successor__plan").order_by(
            "initiative__theme__number", "initiative__position"))
    return render(request, "cycles/plan_detail.html", {
        "plan": plan,
        "can": can,
        "any_action": any(can.values()),
        "themes": themes,
        "initiative_count": len(initiatives),
        "timeline": selectors.plan_timeline(plan=plan),
        "blockers": plan.submit_blockers() if can["edit"] else [],
        "draft_changed": (plan.state == State.DRAFT and plan.current_revision is not None
                          and plan.current_revision.content_version != plan.content_version),
        "comment_form": comment_form,
        "close_review_form": forms.CloseReviewForm() if can["close_review"] else None,
        "presentation_form": forms.PresentationForm() if can["presentation"] else None,
        "evaluations": evaluations,
        "error": error,
        "errors": errors or [],
    }, status=status)


def _posted(request):
    """The form data of a POST (even an empty one, so it is validated), else ``None``."""
    return request.POST if request.method == "POST" else None


def _form_page(request, template: str, plan: AnnualPlan, form, *, status: int = 200,
               error: str | None = None, **context):
    return render(request, template, {"plan": plan, "form": form, "error": error, **context},
                  status=status)


# --- plans --------------------------------------------------------------------------------

@login_required
def plan_list(request):
    plans = list(selectors.plans_for_user(user=request.user))
    by_organisation: dict = {}
    for plan in plans:
        by_organisation.setdefault(plan.organisation, []).append(plan)
    return render(request, "cycles/plan_list.html", {
        "plans_by_organisation": by_organisation,
        "can_create": bool(_editable_organisations(request)),
    })


def _editable_organisations(request):
    organisations = visible_organisations(user=request.user).order_by("name")
    allowed = [o.pk for o in organisations
               if Action.PLAN_EDIT in permitted_actions(user=request.user, organisation_id=o.pk)]
    return organisations.filter(pk__in=allowed)


@login_required
def plan_create(request):
    organisations = _editable_organisations(request)
    if not organisations.exists():
        raise PermissionDenied
    form = forms.PlanCreateForm(_posted(request), organisations=organisations)
    if request.method == "POST":
        if form.is_valid():
            try:
                plan = plan_create_and_route(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The plan was created as a draft."))
                return redirect("cycles:plan_detail", plan.pk)
        return render(request, "cycles/plan_create.html", {"form": form}, status=400)
    return render(request, "cycles/plan_create.html", {"form": form})


@login_required
def plan_detail(request, pk: int):
    return _render_detail(request, _plan(request, pk))


@login_required
def plan_edit(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_EDIT)
    if plan.state != State.DRAFT:
        return _conflict(request, pk)
    form = forms.PlanForm(_posted(request),
                          initial={"title": plan.title, "summary": plan.summary})
    if request.method == "POST":
        if form.is_valid():
            try:
                services.plan_update(actor=request.user, plan=plan, **form.cleaned_data)
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The plan was saved."))
                return redirect("cycles:plan_detail", plan.pk)
        return _form_page(request, "cycles/plan_edit.html", plan, form, status=400)
    return _form_page(request, "cycles/plan_edit.html", plan, form)


# --- initiatives and theme justifications (draft only) ------------------------------------

def _draft_editor(request, pk: int) -> AnnualPlan:
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_EDIT)
    if plan.state != State.DRAFT:
        raise Conflict(_state_message(plan), current_state=plan.state)
    return plan


def _initiative(plan: AnnualPlan, initiative_pk: int):
    initiative = (plan.initiatives.select_related("theme", "owner")
                  .prefetch_related("operations_areas", "departments")
                  .filter(pk=initiative_pk).first())
    if initiative is None:
        raise Http404
    return initiative


@login_required
def initiative_create(request, pk: int):
    try:
        plan = _draft_editor(request, pk)
    except Conflict as error:
        return _conflict(request, pk, error)
    form = forms.InitiativeForm(_posted(request), plan=plan)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.initiative_create(actor=request.user, plan=plan,
                                           **form.service_kwargs())
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The initiative was added."))
                return redirect("cycles:plan_detail", plan.pk)
        return _form_page(request, "cycles/initiative_form.html", plan, form, status=400)
    return _form_page(request, "cycles/initiative_form.html", plan, form)


@login_required
def initiative_edit(request, pk: int, initiative_pk: int):
    try:
        plan = _draft_editor(request, pk)
    except Conflict as error:
        return _conflict(request, pk, error)
    initiative = _initiative(plan, initiative_pk)
    form = forms.InitiativeForm(_posted(request), plan=plan, initiative=initiative)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.initiative_update(actor=request.user, initiative=initiative,
                                           **form.service_kwargs())
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The initiative was saved."))
                return redirect("cycles:plan_detail", plan.pk)
        return _form_page(request, "cycles/initiative_form.html", plan, form, status=400,
                          initiative=initiative)
    return _form_page(request, "cycles/initiative_form.html", plan, form,
                      initiative=initiative)


@login_required
def initiative_delete(request, pk: int, initiative_pk: int):
    try:
        plan = _draft_editor(request, pk)
    except Conflict as error:
        return _conflict(request, pk, error)
    initiative = _initiative(plan, initiative_pk)
    context = {"plan": plan, "initiative": initiative}
    if request.method == "POST":
        try:
            services.initiative_delete(actor=request.user, initiative=initiative)
        except Conflict as error:
            return _conflict(request, pk, error)
        except ValidationError as error:
            return render(request, "cycles/initiative_delete.html",
                          {**context, "errors": error.messages}, status=400)
        messages.success(request, _("The initiative “%(title)s” was deleted.")
                         % {"title": initiative.title})
        return redirect("cycles:plan_detail", plan.pk)
    return render(request, "cycles/initiative_delete.html", context)


@login_required
def theme_justification(request, pk: int, theme_pk: int):
    try:
        plan = _draft_editor(request, pk)
    except Conflict as error:
        return _conflict(request, pk, error)
    theme = next((t for t in plan.programme.themes.all() if t.pk == theme_pk), None)
    if theme is None:
        raise Http404
    current = plan.theme_justifications.filter(theme=theme).first()
    form = forms.ThemeJustificationForm(_posted(request),
                                        initial={"text": current.text if current else ""})
    if request.method == "POST":
        if form.is_valid():
            try:
                services.theme_justification_set(actor=request.user, plan=plan, theme=theme,
                                                 text=form.cleaned_data["text"])
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error, {"theme": "text"})
            else:
                messages.success(request, _("The justification was saved."))
                return redirect("cycles:plan_detail", plan.pk)
        return _form_page(request, "cycles/theme_justification.html", plan, form, status=400,
                          theme=theme)
    return _form_page(request, "cycles/theme_justification.html", plan, form, theme=theme)


# --- the steps ----------------------------------------------------------------------------

@login_required
@require_POST
def plan_submit(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_EDIT)
    try:
        plan_act(services.plan_submit, actor=request.user, plan=plan)
    except Conflict as error:
        return _conflict(request, pk, error)
    except ValidationError as error:
        return _render_detail(request, _plan(request, pk), status=400, errors=error.messages)
    messages.success(request, _("The plan was sent to the follow-up group."))
    return redirect("cycles:plan_detail", pk)


@login_required
@require_POST
def plan_comment(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_COMMENT)
    initiatives = list(plan.initiatives.order_by("theme__number", "position"))
    form = forms.CommentForm(request.POST, initiatives=initiatives)
    if form.is_valid():
        try:
            plan_act(services.plan_comment, actor=request.user, plan=plan,
                     text=form.cleaned_data["text"],
                     initiative=form.cleaned_data["initiative"])
        except Conflict as error:
            return _conflict(request, pk, error)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            messages.success(request, _("Your comment was added."))
            return redirect("cycles:plan_detail", pk)
    return _render_detail(request, plan, status=400, comment_form=form)


@login_required
@plan_step_up("close-review")
def plan_close_review(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_CLOSE_REVIEW)
    if plan.state != State.FOLLOW_UP_GROUP_REVIEW:
        return _conflict(request, pk)
    form = forms.CloseReviewForm(_posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                plan_act(services.plan_close_review, actor=request.user, plan=plan,
                         recommendation=form.cleaned_data["recommendation"])
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The review is closed; the plan went on to the "
                                            "operations committee."))
                return redirect("cycles:plan_detail", pk)
        return _form_page(request, "cycles/plan_close_review.html", plan, form, status=400)
    return _form_page(request, "cycles/plan_close_review.html", plan, form)


@login_required
@plan_step_up("return")
def plan_return(request, pk: int):
    plan = _plan(request, pk)
    actions = _actions(request, plan)
    _require(actions, *RETURN_ACTION_BY_STATE.values())
    if plan.state not in RETURN_ACTION_BY_STATE:
        return _conflict(request, pk)
    _require(actions, RETURN_ACTION_BY_STATE[plan.state])
    form = forms.ReturnForm(_posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                plan_act(services.plan_return, actor=request.user, plan=plan,
                         reason=form.cleaned_data["reason"])
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The plan was sent back to draft."))
                return redirect("cycles:plan_detail", pk)
        return _form_page(request, "cycles/plan_return.html", plan, form, status=400)
    return _form_page(request, "cycles/plan_return.html", plan, form)


def _display(value) -> str:
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    return "" if value is None else str(value)


def _field_label(name: str) -> str:
    for model in (Initiative, AnnualPlan):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            continue
    return {"justification": _("justification")}.get(name, name)


PATH_PART = re.compile(r"(\w+)(?:\[(\w+)\])?")


def _path_label(path: str, before: dict, after: dict) -> str:
    """``initiatives[3].title`` → ``Initiative “Title” › title``, in the page's language."""
    labels = []
    for name, key in PATH_PART.findall(path):
        if name in ("initiatives", "themes") and key:
            items = {str(item.get("key")): item for item in
                     (*before.get(name, []), *after.get(name, []))}
            title = items.get(key, {}).get("title", key)
            labels.append((_("Initiative “%(title)s”") if name == "initiatives"
                           else _("Theme “%(title)s”")) % {"title": title})
        else:
            labels.append(_field_label(name))
    return " › ".join(labels)


def _changes(before, after) -> list[dict]:
    return [{"kind": c.kind, "path": c.path,
             "label": _path_label(c.path, before.content, after.content),
             "before": _display(c.before), "after": _display(c.after)}
            for c in diff_content(before.content, after.content)]


@login_required
@plan_step_up("sign")
def plan_sign(request, pk: int):
    plan = _plan(request, pk)
    actions = _actions(request, plan)
    _require(actions, *SIGN_ACTION_BY_STATE.values())
    if plan.state not in SIGN_ACTION_BY_STATE:
        return _conflict(request, pk)
    _require(actions, SIGN_ACTION_BY_STATE[plan.state])
    body = Body.objects.get(organisation_id=plan.organisation_id, kind=plan.state)
    mandate = signing_mandate_on(body=body, person=request.user)
    if mandate is None:
        raise PermissionDenied
    revision = plan.current_revision
    form = forms.SignForm(_posted(request), initial={"expected_sha256": revision.sha256})
    status, error = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                sign_off = plan_act(services.plan_sign, actor=request.user, plan=plan,
                                    decision=data["decision"], comment=data["comment"],
                                    password=data["password"],
                                    expected_sha256=data["expected_sha256"])
            except Conflict as conflict:
                step, plan = plan.state, _plan(request, pk)
                if plan.state != step:
                    return _conflict(request, pk, conflict)
                # The content changed under the signer: show the new version, sign again.
                status, error = 409, _state_message(plan, conflict)
                revision = plan.current_revision
                form = forms.SignForm(initial={"expected_sha256": revision.sha256,
                                               "decision": data["decision"],
                                               "comment": data["comment"]})
            except ValidationError as validation_error:
                forms.add_service_errors(form, validation_error)
            else:
                messages.success(request, _("Your sign-off (%(decision)s) was recorded on "
                                            "revision %(hash)s.")
                                 % {"decision": sign_off.get_decision_display(),
                                    "hash": revision.short_hash})
                return redirect("cycles:plan_detail", pk)
    last_seen = selectors.last_revision_seen_by(plan=plan, user=request.user)
    return _form_page(request, "cycles/plan_sign.html", plan, form, status=status, error=error,
                      body=body, mandate=mandate, revision=revision, last_seen=last_seen,
                      changes=(_changes(last_seen, revision)
                               if last_seen and last_seen.pk != revision.pk else []))


@login_required
@require_POST
@plan_step_up("publish", back="cycles:plan_detail")
def plan_publish(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_PUBLISH)
    try:
        plan_act(services.plan_publish, actor=request.user, plan=plan)
    except Conflict as error:
        return _conflict(request, pk, error)
    messages.success(request, _("The plan was published."))
    return redirect("cycles:plan_detail", pk)


@login_required
def plan_presentation(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_REGISTER_PRESENTATION)
    if plan.state != State.PUBLISHED:
        return _conflict(request, pk)
    form = forms.PresentationForm(_posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                plan_act(services.plan_register_presentation, actor=request.user, plan=plan,
                         **form.cleaned_data)
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The presentation was registered."))
                return redirect("cycles:plan_detail", pk)
        return _form_page(request, "cycles/plan_presentation.html", plan, form, status=400)
    return _form_page(request, "cycles/plan_presentation.html", plan, form)


@login_required
@plan_step_up("evaluate")
def plan_evaluate(request, pk: int):
    plan = _plan(request, pk)
    _require(_actions(request, plan), Action.PLAN_EVALUATE)
    if plan.state != State.PRESENTED:
        return _conflict(request, pk)
    initiatives = plan.initiatives.select_related("theme").order_by("theme__number", "position")
    form = forms.EvaluationForm(_posted(request), initiatives=initiatives)
    if request.method == "POST":
        if form.is_valid():
            try:
                next_plan = plan_act(services.plan_evaluate, actor=request.user, plan=plan,
                                     verdicts=form.verdicts())
            except Conflict as error:
                return _conflict(request, pk, error)
            except ValidationError as error:
                forms.add_service_errors(form, error, form.service_field_names())
            else:
                if next_plan is not None:
                    messages.success(request, _("The evaluation was recorded. The continued "
                                                "initiatives are in the draft for %(year)s.")
                                     % {"year": next_plan.year})
                    return redirect("cycles:plan_detail", next_plan.pk)
                messages.success(request, _("The evaluation was recorded."))
                return redirect("cycles:plan_detail", pk)
        return _form_page(request, "cycles/plan_evaluate.html", plan, form, status=400)
    return _form_page(request, "cycles/plan_evaluate.html", plan, form)


# --- revisions ----------------------------------------------------------------------------

@login_required
def revision_list(request, pk: int):
    plan = _plan(request, pk)
    revisions = list(selectors.revisions_of(plan=plan))
    initial = {}
    if len(revisions) >= 2:
        initial = {"a": revisions[1].number, "b": revisions[0].number}
    return render(request, "cycles/revision_list.html", {
        "plan": plan, "revisions": revisions, "form": forms.RevisionDiffForm(initial=initial),
    })


@login_required
def revision_diff(request, pk: int):
    plan = _plan(request, pk)
    form = forms.RevisionDiffForm(request.GET)
    context = {"plan": plan, "form": form}
    if not form.is_valid():
        return render(request, "cycles/revision_diff.html", context, status=400)
    numbers = (form.cleaned_data["a"], form.cleaned_data["b"])
    found = {r.number: r for r in plan.revisions.select_related("created_by")
             .filter(number__in=numbers)}
    for name, number in zip(("a", "b"), numbers, strict=True):
        if number not in found:
            form.add_error(name, _("The plan has no revision %(number)s.")
                           % {"number": number})
    if form.errors:
        return render(request, "cycles/revision_diff.html", context, status=400)
    before, after = found[numbers[0]], found[numbers[1]]
    return render(request, "cycles/revision_diff.html", {
        **context, "before": before, "after": after, "changes": _changes(before, after),
        "list_url": reverse("cycles:revision_list", args=[plan.pk]),
    })
