"""Writes to the annual cycle. Every change goes through one of these functions.

Each state change locks the plan row (``select_for_update``), re-checks the actor's permission
and the state on the fresh row, runs the state-machine transition, saves, and writes a
:class:`PlanTransition` row in the same transaction. A wrong state or a lost race raises
:class:`config.errors.Conflict` naming the current state; a missing right raises
``PermissionDenied``; bad input raises ``ValidationError`` with field errors.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from config.errors import Conflict
from cycles import selectors
from cycles.lib import canonical_json, content_hash
from cycles.models import (
    AnnualPlan,
    Initiative,
    InitiativeEvaluation,
    OperationsProgramme,
    PlanComment,
    PlanRevision,
    PlanTransition,
    SignOff,
    Theme,
    ThemeJustification,
)
from governance.models import Body, Organisation, StaffAssignment
from governance.selectors import signing_mandate_on
from permissions.matrix import MATRIX, RETURN_ACTION_BY_STATE, SIGN_ACTION_BY_STATE, Action
from permissions.selectors import can

State = AnnualPlan.State


@transaction.atomic
def programme_create(*, actor, organisation: Organisation, name: str, first_year: int,
                     last_year: int, themes: list[tuple[str, str]]) -> OperationsProgramme:
    """Create a programme with its themes, numbered in the order given (title, purpose)."""
    programme = OperationsProgramme(organisation=organisation, name=name,
                                    first_year=first_year, last_year=last_year)
    programme.full_clean()
    programme.save()
    Theme.objects.bulk_create(
        Theme(programme=programme, number=number, title=title, purpose=purpose)
        for number, (title, purpose) in enumerate(themes, start=1)
    )
    audit_record(actor=actor, action="programme.create", obj=programme,
                 organisation=organisation,
                 summary={"name": name, "themes": [title for title, _purpose in themes]})
    return programme


# --- helpers ------------------------------------------------------------------------------

def _require(actor, action: Action, plan: AnnualPlan) -> None:
    if actor is None:  # the system itself (the flow's automatic steps)
        return
    if not can(user=actor, action=action, organisation_id=plan.organisation_id):
        raise PermissionDenied(_("You do not have permission to do this."))


def _lock(plan: AnnualPlan) -> AnnualPlan:
    # Only the plan row: the organisation and programme are read, not changed, and locking
    # them would hold up every other write (audit rows included) of the organisation.
    return AnnualPlan.objects.select_for_update(of=("self",)).select_related(
        "organisation", "programme").get(pk=plan.pk)


def _conflict(plan: AnnualPlan, message: str | None = None) -> Conflict:
    label = plan.get_state_display()
    return Conflict(
        message or _("This cannot be done now: the plan's current state is “%(state)s”.")
        % {"state": label},
        current_state=plan.state, current_state_label=str(label))


def _require_state(plan: AnnualPlan, *states: str) -> None:
    if plan.state not in states:
        raise _conflict(plan)


def _acting_as(actor, plan: AnnualPlan, body_kind: str | None = None,
               action: Action | None = None) -> str:
    """The mandate the actor acts under: a body's chair, or the staff role the action needs.

    Written to the log in the installation's language (Danish), whatever language the actor's
    browser uses, so the record reads the same for everyone.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _acting_as_text(actor, plan, body_kind, action)


def _signing_acting_as(mandate, body: Body) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return f"{mandate.label}, {body.name}"


def _acting_as_text(actor, plan: AnnualPlan, body_kind: str | None,
                    action: Action | None) -> str:
    if actor is None:
        return _("Årshjul (automatic step)")
    if body_kind is not None:
        body = Body.objects.get(organisation_id=plan.organisation_id, kind=body_kind)
        mandate = signing_mandate_on(body=body, person=actor)
        if mandate is not None:
            return f"{mandate.label}, {body.name}"
    if action is not None:
        staff_roles = sorted(role for where, role in MATRIX[action] if where == "staff")
        assignment = (StaffAssignment.objects.current_on(timezone.localdate())
                      .filter(person=actor, organisation_id=plan.organisation_id,
                              role__in=staff_roles)
                      .order_by("role", "starts_on", "pk").first())
        if assignment is not None:
            return f"{assignment.get_role_display()}, {plan.organisation.name}"
    return ""


def _snapshot(plan: AnnualPlan, actor) -> PlanRevision:
    """The revision for the plan's current content: the existing one if nothing changed."""
    content = selectors.plan_content(plan=plan)
    sha256 = content_hash(content)
    revision = plan.revisions.filter(sha256=sha256).first()
    if revision is None:
        number = (plan.revisions.aggregate(top=Max("number"))["top"] or 0) + 1
        revision = PlanRevision.objects.create(
            plan=plan, number=number, content=content,
            canonical=canonical_json(content).decode("utf-8"), sha256=sha256,
            content_version=plan.content_version, created_at=timezone.now(),
            created_by=actor,
        )
    if plan.current_revision_id != revision.pk:
        plan.current_revision = revision
    return revision


def _transition(plan: AnnualPlan, method_name: str, *, actor, reason: str = "",
                acting_as: str = "", revision: PlanRevision | None = None,
                update_fields: tuple[str, ...] = ()) -> PlanTransition:
    method = getattr(plan, method_name)
    if method_name == "return_to_draft":  # the transition clears this round's texts
        update_fields = (*update_fields, "follow_up_group_recommendation",
                         "operations_committee_recommendation", "organisation_board_decision")
    if not can_proceed(method, check_conditions=False):
        raise _conflict(plan)
    before = plan.state
    method()
    plan.save(update_fields=["state", "current_revision", *update_fields])
    entry = PlanTransition.objects.create(
        plan=plan, from_state=before, to_state=plan.state, actor=actor, acting_as=acting_as,
        occurred_at=timezone.now(), reason=reason,
        revision=revision or plan.current_revision)
    audit_record(actor=actor, action=f"plan.{method_name}", obj=plan,
                 organisation=plan.organisation, acting_as=acting_as,
                 summary={"from": before, "to": plan.state, "reason": reason,
                          "revision": entry.revision.sha256 if entry.revision else None})
    return entry


def _content_changed(plan: AnnualPlan) -> None:
    AnnualPlan.objects.filter(pk=plan.pk).update(content_version=plan.content_version + 1)
    plan.content_version += 1


# --- the plan and its content -------------------------------------------------------------

@transaction.atomic
def plan_create(*, actor, organisation: Organisation, year: int, title: str,
                summary: str = "") -> AnnualPlan:
    if actor is not None and not can(user=actor, action=Action.PLAN_EDIT,
                                     organisation_id=organisation.pk):
        raise PermissionDenied(_("You do not have permission to do this."))
    programme = selectors.programme_for_year(organisation_id=organisation.pk, year=year)
    if programme is None:
        raise ValidationError({"year": _("No operations programme covers %(year)s.")
                               % {"year": year}})
    if AnnualPlan.objects.filter(organisation=organisation, year=year).exists():
        raise ValidationError({"year": _("There is already a plan for %(year)s.")
                               % {"year": year}})
    plan = AnnualPlan(organisation=organisation, programme=programme, year=year,
                      title=title, summary=summary)
    plan.full_clean(exclude=["state"])
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as error:
        raise ValidationError({"year": _("There is already a plan for %(year)s.")
                               % {"year": year}}) from error
    audit_record(actor=actor, action="plan.create", obj=plan, organisation=organisation,
                 summary={"year": year, "title": title})
    return plan


@transaction.atomic
def plan_update(*, actor, plan: AnnualPlan, title: str, summary: str) -> AnnualPlan:
    plan = _lock(plan)
    _require(actor, Action.PLAN_EDIT, plan)
    _require_state(plan, State.DRAFT)
    plan.title, plan.summary = title, summary
    plan.full_clean(exclude=["state", "current_revision", "approved_revision"])
    plan.save(update_fields=["title", "summary"])
    _content_changed(plan)
    audit_record(actor=actor, action="plan.update", obj=plan, organisation=plan.organisation,
                 summary={"title": title})
    return plan


INITIATIVE_FIELDS = ("theme", "title", "description", "owner", "scope", "planned_start",
                     "planned_end", "target", "expected_saving", "status", "progress")


def _validate_scope(plan: AnnualPlan, scope: str, areas, departments) -> None:
    if scope == Initiative.Scope.AREAS and not areas:
        raise ValidationError({"operations_areas": _("Choose at least one operations area.")})
    if scope == Initiative.Scope.DEPARTMENTS and not departments:
        raise ValidationError({"departments": _("Choose at least one department.")})
    for area in areas:
        if area.organisation_id != plan.organisation_id:
            raise ValidationError({"operations_areas": _("Unknown operations area.")})
    for department in departments:
        if department.organisation_id != plan.organisation_id:
            raise ValidationError({"departments": _("Unknown department.")})


def _set_scope(initiative: Initiative, areas, departments) -> None:
    scope = initiative.scope
    initiative.operations_areas.set(areas if scope == Initiative.Scope.AREAS else [])
    initiative.departments.set(departments if scope == Initiative.Scope.DEPARTMENTS else [])


@transaction.atomic
def initiative_create(*, actor, plan: AnnualPlan, theme: Theme, title: str,
                      operations_areas=(), departments=(), origin: Initiative | None = None,
                      **fields) -> Initiative:
    plan = _lock(plan)
    _require(actor, Action.PLAN_EDIT, plan)
    _require_state(plan, State.DRAFT)
    if theme.programme_id != plan.programme_id:
        raise ValidationError({"theme": _("The theme belongs to another programme.")})
    unknown = set(fields) - set(INITIATIVE_FIELDS)
    if unknown:
        raise TypeError(f"unknown initiative fields: {sorted(unknown)}")
    initiative = Initiative(plan=plan, theme=theme, title=title, origin=origin,
                            position=selectors.next_initiative_position(plan=plan), **fields)
    initiative.full_clean(exclude=["plan"])
    _validate_scope(plan, initiative.scope, operations_areas, departments)
    initiative.save()
    _set_scope(initiative, operations_areas, departments)
    _content_changed(plan)
    audit_record(actor=actor, action="initiative.create", obj=initiative,
                 organisation=plan.organisation, summary={"title": title})
    return initiative


@transaction.atomic
def initiative_update(*, actor, initiative: Initiative, operations_areas=None, departments=None,
                      **fields) -> Initiative:
    """Change an initiative of a draft. Areas or departments not given (``None``) are kept."""
    plan = _lock(initiative.plan)
    _require(actor, Action.PLAN_EDIT, plan)
    _require_state(plan, State.DRAFT)
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if operations_areas is None:
        operations_areas = list(initiative.operations_areas.all())
    if departments is None:
        departments = list(initiative.departments.all())
    unknown = set(fields) - set(INITIATIVE_FIELDS)
    if unknown:
        raise TypeError(f"unknown initiative fields: {sorted(unknown)}")
    before = {name: str(getattr(initiative, name)) for name in fields}
    for name, value in fields.items():
        setattr(initiative, name, value)
    if initiative.theme.programme_id != plan.programme_id:
        raise ValidationError({"theme": _("The theme belongs to another programme.")})
    initiative.full_clean(exclude=["plan"])
    _validate_scope(plan, initiative.scope, operations_areas, departments)
    initiative.save()
    _set_scope(initiative, operations_areas, departments)
    _content_changed(plan)
    audit_record(actor=actor, action="initiative.update", obj=initiative,
                 organisation=plan.organisation,
                 summary={"before": before, "after": {k: str(v) for k, v in fields.items()}})
    return initiative


@transaction.atomic
def initiative_delete(*, actor, initiative: Initiative) -> None:
    plan = _lock(initiative.plan)
    _require(actor, Action.PLAN_EDIT, plan)
    _require_state(plan, State.DRAFT)
    if initiative.continuations.exists():
        raise ValidationError(_("A later initiative continues this one; it cannot be deleted."))
    # A copy made by last year's evaluation may be dropped from the draft; the verdict stays.
    continued = list(InitiativeEvaluation.objects.filter(successor=initiative)
                     .values_list("initiative_id", flat=True))
    audit_record(actor=actor, action="initiative.delete", obj=initiative,
                 organisation=plan.organisation,
                 summary={"title": initiative.title, "continued_from": continued})
    InitiativeEvaluation.objects.filter(successor=initiative).update(successor=None)
    initiative.comments.update(initiative=None)
    initiative.operations_areas.clear()
    initiative.departments.clear()
    initiative.delete()
    _content_changed(plan)


@transaction.atomic
def theme_justification_set(*, actor, plan: AnnualPlan, theme: Theme, text: str) -> None:
    plan = _lock(plan)
    _require(actor, Action.PLAN_EDIT, plan)
    _require_state(plan, State.DRAFT)
    if theme.programme_id != plan.programme_id:
        raise ValidationError({"theme": _("The theme belongs to another programme.")})
    text = text.strip()
    if text:
        ThemeJustification.objects.update_or_create(plan=plan, theme=theme,
                                                    defaults={"text": text})
    else:
        ThemeJustification.objects.filter(plan=plan, theme=theme).delete()
    _content_changed(plan)
    audit_record(actor=actor, action="plan.justify_theme", obj=plan,
                 organisation=plan.organisation, summary={"theme": theme.number, "text": text})


# --- the state machine --------------------------------------------------------------------

@transaction.atomic
def plan_submit(*, actor, plan: AnnualPlan) -> AnnualPlan:
    """Draft → review by the follow-up group, on a fresh revision of the content."""
    plan = _lock(plan)
    _require(actor, Action.PLAN_EDIT, plan)
    _require_state(plan, State.DRAFT)
    blockers = plan.submit_blockers()
    if blockers:
        raise ValidationError({"plan": blockers})
    revision = _snapshot(plan, actor)
    _transition(plan, "submit", actor=actor, revision=revision,
                acting_as=_acting_as(actor, plan, action=Action.PLAN_EDIT))
    return plan


@transaction.atomic
def plan_comment(*, actor, plan: AnnualPlan, text: str,
                 initiative: Initiative | None = None) -> PlanComment:
    plan = _lock(plan)
    _require(actor, Action.PLAN_COMMENT, plan)
    _require_state(plan, State.FOLLOW_UP_GROUP_REVIEW)
    if not text.strip():
        raise ValidationError({"text": _("Write a comment.")})
    if initiative is not None and initiative.plan_id != plan.pk:
        raise ValidationError({"initiative": _("The initiative belongs to another plan.")})
    comment = PlanComment.objects.create(plan=plan, author=actor, initiative=initiative,
                                         text=text.strip(), created_at=timezone.now(),
                                         revision=plan.current_revision)
    audit_record(actor=actor, action="plan.comment", obj=plan, organisation=plan.organisation,
                 summary={"comment": comment.pk})
    return comment


@transaction.atomic
def plan_close_review(*, actor, plan: AnnualPlan, recommendation: str) -> AnnualPlan:
    """The follow-up group's chair closes the review with the group's recommendation."""
    plan = _lock(plan)
    _require(actor, Action.PLAN_CLOSE_REVIEW, plan)
    _require_state(plan, State.FOLLOW_UP_GROUP_REVIEW)
    if not recommendation.strip():
        raise ValidationError({"recommendation": _("Write the follow-up group's recommendation.")})
    plan.follow_up_group_recommendation = recommendation.strip()
    revision = _snapshot(plan, actor)
    _transition(plan, "close_review", actor=actor, revision=revision,
                acting_as=_acting_as(actor, plan, Body.Kind.FOLLOW_UP_GROUP),
                reason=plan.follow_up_group_recommendation,
                update_fields=("follow_up_group_recommendation",))
    return plan


@transaction.atomic
def plan_return(*, actor, plan: AnnualPlan, reason: str) -> AnnualPlan:
    """Send the plan back to draft from any review or decision step; a reason is required."""
    plan = _lock(plan)
    if plan.state not in RETURN_ACTION_BY_STATE:
        raise _conflict(plan)
    _require(actor, RETURN_ACTION_BY_STATE[plan.state], plan)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the plan is sent back.")})
    body_kind = {State.FOLLOW_UP_GROUP_REVIEW: Body.Kind.FOLLOW_UP_GROUP}.get(
        plan.state, plan.state)
    _transition(plan, "return_to_draft", actor=actor, reason=reason.strip(),
                acting_as=_acting_as(actor, plan, body_kind))
    return plan


@transaction.atomic
def plan_sign(*, actor, plan: AnnualPlan, decision: str, comment: str, password: str,
              expected_sha256: str | None = None) -> SignOff:
    """The chair (or the authorised vice-chair) signs the step the plan is in.

    The signer re-enters their password. ``expected_sha256`` is the revision the signer saw;
    if the content changed since, the signature is refused (409) rather than bound to a
    version nobody read. Approve moves the plan on (the committee's step) or makes it ready to
    publish (the board's step); return sends it back to draft; abstain only records.
    """
    plan = _lock(plan)
    if plan.state not in SIGN_ACTION_BY_STATE:
        raise _conflict(plan)
    _require(actor, SIGN_ACTION_BY_STATE[plan.state], plan)
    body = Body.objects.get(organisation_id=plan.organisation_id, kind=plan.state)
    mandate = signing_mandate_on(body=body, person=actor)
    if mandate is None:
        raise PermissionDenied(_("Only the chair of %(body)s can sign.") % {"body": body.name})
    errors = {}
    if decision not in SignOff.Decision.values:
        errors["decision"] = [_("Choose approve, return or abstain.")]
    if not actor.check_password(password or ""):
        errors["password"] = [_("The password is not correct.")]
    if decision == SignOff.Decision.RETURN and not comment.strip():
        errors["comment"] = [_("Say why the plan is sent back.")]
    if errors:
        raise ValidationError(errors)
    revision = plan.current_revision
    if expected_sha256 and revision.sha256 != expected_sha256:
        raise _conflict(
            plan, _("The plan changed after you opened it; read the new version first."))
    step = plan.state
    step_round = plan.step_round(step)
    if decision == SignOff.Decision.APPROVE and plan.sign_offs.filter(
            step=step, round=step_round, decision=decision).exists():
        raise _conflict(plan, _("This step is already signed on this version."))
    try:
        with transaction.atomic():
            sign_off = SignOff.objects.create(
                plan=plan, step=step, body=body, signer=actor, mandate=mandate.role,
                on_behalf_of=mandate.on_behalf_of, decision=decision, comment=comment.strip(),
                revision=revision, revision_sha256=revision.sha256, round=step_round,
                signed_at=timezone.now())
    except IntegrityError as error:  # the backstop: someone signed this round meanwhile
        raise _conflict(AnnualPlan.objects.get(pk=plan.pk),
                        _("This step is already signed on this version.")) from error
    acting_as = _signing_acting_as(mandate, body)
    audit_record(actor=actor, action="plan.sign", obj=plan, organisation=plan.organisation,
                 acting_as=acting_as,
                 summary={"step": step, "decision": decision, "revision": revision.sha256})
    if decision == SignOff.Decision.RETURN:
        _transition(plan, "return_to_draft", actor=actor, reason=comment.strip(),
                    acting_as=acting_as)
    elif decision == SignOff.Decision.APPROVE and step == State.OPERATIONS_COMMITTEE:
        plan.operations_committee_recommendation = comment.strip()
        _transition(plan, "recommend", actor=actor, acting_as=acting_as, reason=comment.strip(),
                    update_fields=("operations_committee_recommendation",))
    elif decision == SignOff.Decision.APPROVE and step == State.ORGANISATION_BOARD:
        plan.organisation_board_decision = comment.strip()
        plan.save(update_fields=["organisation_board_decision"])
    return sign_off


@transaction.atomic
def plan_publish(*, actor, plan: AnnualPlan) -> AnnualPlan:
    """Publish the revision the organisation board approved: it becomes the plan in force."""
    plan = _lock(plan)
    _require(actor, Action.PLAN_PUBLISH, plan)
    _require_state(plan, State.ORGANISATION_BOARD)
    if not plan.has_approved_board_sign_off():
        raise _conflict(plan, _("The organisation board's chair has not approved this version."))
    plan.approved_revision = plan.current_revision
    _transition(plan, "publish", actor=actor,
                acting_as=_acting_as(actor, plan, action=Action.PLAN_PUBLISH),
                update_fields=("approved_revision",))
    return plan


@transaction.atomic
def plan_register_presentation(*, actor, plan: AnnualPlan, presented_on: datetime.date,
                               minutes_reference: str) -> AnnualPlan:
    plan = _lock(plan)
    _require(actor, Action.PLAN_REGISTER_PRESENTATION, plan)
    _require_state(plan, State.PUBLISHED)
    if presented_on is None:
        raise ValidationError({"presented_on": _("Give the date of the meeting.")})
    if presented_on > timezone.localdate():
        raise ValidationError({"presented_on": _("The meeting cannot be in the future.")})
    plan.presented_on = presented_on
    plan.presentation_minutes_reference = minutes_reference.strip()
    _transition(plan, "register_presentation", actor=actor,
                acting_as=_acting_as(actor, plan, action=Action.PLAN_REGISTER_PRESENTATION),
                reason=plan.presentation_minutes_reference,
                update_fields=("presented_on", "presentation_minutes_reference"))
    return plan


@transaction.atomic
def plan_evaluate(*, actor, plan: AnnualPlan, verdicts: list[dict]) -> AnnualPlan | None:
    """The follow-up group's year-end revisit: a verdict with a reason for every initiative.

    ``verdicts``: ``{"initiative": Initiative, "decision": str, "reason": str,
    "merged_into": Initiative | None}``. Continue and re-scope copy the initiative into next
    year's draft plan (created if missing) with ``origin`` set; an initiative that next year's
    plan already continues is linked, not copied again. Returns next year's plan (``None`` when
    nothing is carried over). Carrying over is refused, with the reason, when no programme
    covers next year, when next year's plan is past drafting, or when its programme lacks the
    theme.
    """
    plan = _lock(plan)
    _require(actor, Action.PLAN_EVALUATE, plan)
    _require_state(plan, State.PRESENTED)
    initiatives = {i.pk: i for i in plan.initiatives.select_related("theme")}
    errors: dict[str, list[str]] = {}
    seen = set()
    for index, verdict in enumerate(verdicts):
        initiative = verdict.get("initiative")
        key = f"verdicts[{index}]"
        if initiative is None or initiative.pk not in initiatives:
            errors[key] = [_("Unknown initiative.")]
            continue
        if initiative.pk in seen:
            errors[key] = [_("“%(title)s” has more than one verdict.")
                           % {"title": initiative.title}]
            continue
        seen.add(initiative.pk)
        if verdict.get("decision") not in InitiativeEvaluation.Decision.values:
            errors[key] = [_("Choose continue, close, merge or re-scope.")]
        elif not (verdict.get("reason") or "").strip():
            errors[key] = [_("Give a reason.")]
        elif verdict["decision"] == InitiativeEvaluation.Decision.MERGE and (
                verdict.get("merged_into") is None
                or verdict["merged_into"].pk not in initiatives
                or verdict["merged_into"].pk == initiative.pk):
            errors[key] = [_("Choose another initiative of the plan to merge into.")]
    missing = [i.title for pk, i in initiatives.items() if pk not in seen]
    if missing:
        errors["verdicts"] = [_("Every initiative needs a verdict: %(titles)s.")
                              % {"titles": ", ".join(missing)}]
    if errors:
        raise ValidationError(errors)

    carried = [(index, v) for index, v in enumerate(verdicts) if v["decision"] in (
        InitiativeEvaluation.Decision.CONTINUE, InitiativeEvaluation.Decision.RESCOPE)]
    next_year = plan.year + 1
    next_plan = None
    if carried:
        next_plan = AnnualPlan.objects.filter(organisation=plan.organisation,
                                              year=next_year).first()
        if next_plan is None and selectors.programme_for_year(
                organisation_id=plan.organisation_id, year=next_year) is None:
            raise ValidationError({"verdicts": [_(
                "No operations programme covers %(year)s, so no initiative can be continued "
                "into it. Close the initiatives, or add the next programme first."
            ) % {"year": next_year}]})
        if next_plan is None:
            next_plan = plan_create(actor=None, organisation=plan.organisation, year=next_year,
                                    title=_("Annual plan %(year)s") % {"year": next_year})
        _check_carry_over(next_plan, carried)
    now = timezone.now()
    for verdict in verdicts:
        initiative = verdict["initiative"]
        successor = None
        if verdict["decision"] in (InitiativeEvaluation.Decision.CONTINUE,
                                   InitiativeEvaluation.Decision.RESCOPE):
            successor = _carry_over(initiative, next_plan)
        InitiativeEvaluation.objects.create(
            plan=plan, initiative=initiative, decision=verdict["decision"],
            reason=verdict["reason"].strip(), merged_into=verdict.get("merged_into"),
            successor=successor, evaluated_by=actor, evaluated_at=now)
    _transition(plan, "evaluate", actor=actor,
                acting_as=_acting_as(actor, plan, Body.Kind.FOLLOW_UP_GROUP))
    return next_plan


def _check_carry_over(next_plan: AnnualPlan, carried: list[tuple[int, dict]]) -> None:
    """Refuse, per verdict, what cannot be carried into an existing plan for next year."""
    continued = set(next_plan.initiatives.filter(origin__isnull=False)
                    .values_list("origin_id", flat=True))
    theme_numbers = set(next_plan.programme.themes.values_list("number", flat=True))
    errors = {}
    for index, verdict in carried:
        initiative = verdict["initiative"]
        if initiative.pk in continued:
            continue
        if next_plan.state != State.DRAFT:
            errors[f"verdicts[{index}]"] = [_(
                "The plan for %(year)s is past drafting (%(state)s): only a draft can take a "
                "continued initiative. Close this one, or have the plan sent back to draft "
                "first."
            ) % {"year": next_plan.year, "state": next_plan.get_state_display()}]
        elif initiative.theme.number not in theme_numbers:
            errors[f"verdicts[{index}]"] = [_(
                "The programme for %(year)s has no theme %(number)s to continue this "
                "initiative under."
            ) % {"year": next_plan.year, "number": initiative.theme.number}]
    if errors:
        raise ValidationError(errors)


def _carry_over(initiative: Initiative, next_plan: AnnualPlan) -> Initiative:
    """Copy an initiative into next year's draft (checked beforehand), keeping its lineage."""
    existing = next_plan.initiatives.filter(origin=initiative).first()
    if existing:
        return existing
    theme = next_plan.programme.themes.get(number=initiative.theme.number)
    copy = Initiative.objects.create(
        plan=next_plan, theme=theme, position=selectors.next_initiative_position(plan=next_plan),
        title=initiative.title, description=initiative.description, owner=initiative.owner,
        scope=initiative.scope, target=initiative.target,
        expected_saving=initiative.expected_saving, origin=initiative,
        status=Initiative.Status.PLANNED, progress=initiative.progress if initiative.status
        == Initiative.Status.ONGOING else 0,
    )
    copy.operations_areas.set(initiative.operations_areas.all())
    copy.departments.set(initiative.departments.all())
    _content_changed(next_plan)
    return copy
