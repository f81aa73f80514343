"""Writes to the annual cycle. Every change goes through one of these functions.

Each state change locks the plan row (``select_for_update``), re-checks the actor's permission
and the state on the fresh row, runs the state-machine transition, saves, and writes a
:class:`PlanTransition` row in the same transaction. A wrong state or a lost race raises
:class:`config.errors.Conflict` naming the current state; a missing right raises
``PermissionDenied``; bad input raises ``ValidationError`` with field errors.
"""

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Model, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from config.errors import Conflict
from cycles import selectors
from cycles.business_days import CUSTOMARY_CLOSING_DAYS, previous_business_day
from cycles.lib import canonical_json, content_hash
from cycles.models import (
    AnnualPlan,
    BoardRemark,
    CycleSettings,
    FollowUp,
    FollowUpRemark,
    FollowUpTransition,
    Initiative,
    InitiativeEvaluation,
    MeetingKind,
    OperationsProgramme,
    PlanComment,
    PlanRevision,
    PlanTransition,
    RolloutEntry,
    RolloutPlan,
    SignOff,
    Theme,
    ThemeJustification,
)
from governance.models import Body, Membership, Organisation, StaffAssignment
from governance.selectors import signing_mandate_on
from permissions.matrix import MATRIX, RETURN_ACTION_BY_STATE, SIGN_ACTION_BY_STATE, Action
from permissions.selectors import can, can_in_department

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


class ActingAs(str):
    """The mandate text written to the logs, carrying the id of the person it was held for.

    The text names mandates and bodies, never a person ("formand, Følgegruppen", "driftssekretær,
    … (stedfortræder)"): the audit trail is hash-chained and must not need changing when a
    person is erased (privacy). Whom a substitute or an authorised vice-chair acted for goes to
    the audit summary as the person's id (``on_behalf_of``); pages show the name from it.
    """

    on_behalf_of: int | None = None

    def __new__(cls, text: str, on_behalf_of=None):
        value = super().__new__(cls, text)
        value.on_behalf_of = getattr(on_behalf_of, "pk", on_behalf_of)
        return value


def _on_behalf_of(acting_as: str) -> dict:
    """The audit summary's ``on_behalf_of`` (a person id), when the actor stood in for someone."""
    person_id = getattr(acting_as, "on_behalf_of", None)
    return {} if person_id is None else {"on_behalf_of": person_id}


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
        return ActingAs(f"{mandate.record_label}, {body.name}", mandate.on_behalf_of)


def _acting_as_text(actor, plan: AnnualPlan, body_kind: str | None,
                    action: Action | None) -> str:
    if actor is None:
        return _("Årshjul (automatic step)")
    if body_kind is not None:
        body = Body.objects.get(organisation_id=plan.organisation_id, kind=body_kind)
        mandate = signing_mandate_on(body=body, person=actor)
        if mandate is not None:
            return ActingAs(f"{mandate.record_label}, {body.name}", mandate.on_behalf_of)
    if action is not None:
        staff_roles = sorted(role for where, role in MATRIX[action] if where == "staff")
        today = timezone.localdate()
        people = [(actor, None)] + [(d, d) for d in _delegators(actor, plan.organisation_id,
                                                                today)]
        for person, on_behalf_of in people:
            assignment = (StaffAssignment.objects.current_on(today)
                          .filter(person=person, organisation_id=plan.organisation_id,
                                  role__in=staff_roles)
                          .order_by("role", "starts_on", "pk").first())
            if assignment is None:
                continue
            text = f"{assignment.get_role_display()}, {plan.organisation.name}"
            if on_behalf_of is None:
                return text
            return ActingAs(_("%(mandate)s (substitute)") % {"mandate": text}, on_behalf_of)
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
                          "revision": entry.revision.sha256 if entry.revision else None,
                          **_on_behalf_of(acting_as)})
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
                 organisation=plan.organisation, summary={"plan": plan.pk, "title": title})
    return initiative


def _audit_value(value):
    """A field's value for the audit summary: related rows (the owner, a person) by id."""
    return value.pk if isinstance(value, Model) else str(value)


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
    before = {name: _audit_value(getattr(initiative, name)) for name in fields}
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
                 summary={"plan": plan.pk, "before": before,
                          "after": {k: _audit_value(v) for k, v in fields.items()}})
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
                 summary={"plan": plan.pk, "title": initiative.title,
                          "continued_from": continued})
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
                 summary={"step": step, "decision": decision, "revision": revision.sha256,
                          **_on_behalf_of(acting_as)})
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


# --- rollout and half-yearly follow-ups ---------------------------------------------------

def follow_up_due_on(*, organisation: Organisation, year: int, half: str) -> datetime.date:
    """The half's deadline: the organisation's date (default 30.06 / 15.12), moved back to the
    previous business day when it falls on a weekend, a public holiday or a closing day."""
    settings_row = CycleSettings.objects.filter(organisation=organisation).first()
    settings_row = settings_row or CycleSettings(organisation=organisation)
    month, day = ((settings_row.h1_due_month, settings_row.h1_due_day)
                  if half == FollowUp.Half.H1
                  else (settings_row.h2_due_month, settings_row.h2_due_day))
    last_day = calendar.monthrange(year, month)[1]
    closed = CUSTOMARY_CLOSING_DAYS if settings_row.closes_on_customary_days else ()
    return previous_business_day(datetime.date(year, month, min(day, last_day)), closed=closed)


@transaction.atomic
def rollout_generate(*, actor, plan: AnnualPlan) -> tuple[int, int]:
    """Create what is missing of the plan's rollout: one rollout plan per department in scope,
    one follow-up per department and half year, and their initiative rows. Idempotent.

    Returns (rollout plans created, follow-ups created). A fixed number of queries whatever
    the number of departments (bulk inserts; unique constraints back up the idempotency).
    """
    plan = AnnualPlan.objects.select_related("organisation").get(pk=plan.pk)
    if plan.state not in (State.PUBLISHED, State.PRESENTED, State.EVALUATED):
        raise _conflict(plan, _("Only a published plan is rolled out."))
    applying = selectors.initiatives_by_department(plan=plan)
    now = timezone.now()

    existing_rollouts = set(plan.rollout_plans.values_list("department_id", flat=True))
    RolloutPlan.objects.bulk_create(
        [RolloutPlan(plan=plan, department_id=pk, created_at=now)
         for pk in applying if pk not in existing_rollouts],
        ignore_conflicts=True)
    rollouts = dict(plan.rollout_plans.values_list("department_id", "pk"))
    have_entries = set(RolloutEntry.objects.filter(rollout__plan=plan)
                       .values_list("rollout_id", "initiative_id"))
    RolloutEntry.objects.bulk_create(
        [RolloutEntry(rollout_id=rollouts[pk], initiative=initiative,
                      planned_start=initiative.planned_start,
                      planned_end=initiative.planned_end)
         for pk, initiatives in applying.items() for initiative in initiatives
         if (rollouts[pk], initiative.pk) not in have_entries],
        ignore_conflicts=True)

    due = {half: follow_up_due_on(organisation=plan.organisation, year=plan.year, half=half)
           for half in FollowUp.Half.values}
    existing_cases = set(plan.follow_ups.values_list("department_id", "half"))
    FollowUp.objects.bulk_create(
        [FollowUp(plan=plan, department_id=pk, half=half, due_on=due[half], created_at=now)
         for pk in applying for half in FollowUp.Half.values
         if (pk, half) not in existing_cases],
        ignore_conflicts=True)
    cases = {(d, h): pk for pk, d, h in plan.follow_ups.values_list("pk", "department_id",
                                                                      "half")}
    have_remarks = set(FollowUpRemark.objects.filter(follow_up__plan=plan)
                       .values_list("follow_up_id", "initiative_id"))
    FollowUpRemark.objects.bulk_create(
        [FollowUpRemark(follow_up_id=cases[(pk, half)], initiative=initiative)
         for pk, initiatives in applying.items() for half in FollowUp.Half.values
         for initiative in initiatives
         if (cases[(pk, half)], initiative.pk) not in have_remarks],
        ignore_conflicts=True)
    created = (len(rollouts) - len(existing_rollouts), len(cases) - len(existing_cases))
    audit_record(actor=actor, action="plan.rollout_generate", obj=plan,
                 organisation=plan.organisation,
                 summary={"rollout_plans": created[0], "follow_ups": created[1]})
    return created


def _require_department(actor, action: Action, department) -> None:
    if actor is None:
        return
    if not can_in_department(user=actor, action=action, department=department):
        raise PermissionDenied(_("You do not have permission to do this."))


def _lock_follow_up(follow_up: FollowUp) -> FollowUp:
    return FollowUp.objects.select_for_update(of=("self",)).select_related(
        "department__organisation", "department__operations_area", "plan").get(pk=follow_up.pk)


def _follow_up_conflict(follow_up: FollowUp, message: str | None = None) -> Conflict:
    label = follow_up.get_state_display()
    return Conflict(
        message or _("This cannot be done now: the follow-up's current state is “%(state)s”.")
        % {"state": label}, current_state=follow_up.state, current_state_label=str(label))


def _follow_up_transition(follow_up: FollowUp, method_name: str, *, actor, reason: str = "",
                          update_fields: tuple[str, ...] = ()) -> FollowUpTransition:
    method = getattr(follow_up, method_name)
    if not can_proceed(method, check_conditions=False):
        raise _follow_up_conflict(follow_up)
    before = follow_up.state
    method()
    follow_up.save(update_fields=["state", *update_fields])
    with translation.override(settings.LANGUAGE_CODE):
        acting_as = _department_acting_as(actor, follow_up, FOLLOW_UP_STEP_ACTIONS[method_name])
    entry = FollowUpTransition.objects.create(
        follow_up=follow_up, from_state=before, to_state=follow_up.state, actor=actor,
        acting_as=acting_as, occurred_at=timezone.now(), reason=reason)
    audit_record(actor=actor, action=f"follow_up.{method_name}", obj=follow_up,
                 organisation=follow_up.department.organisation, acting_as=acting_as,
                 summary={"from": before, "to": follow_up.state, "reason": reason,
                          **_on_behalf_of(acting_as)})
    return entry


# The matrix action that entitles each follow-up transition (for the acting-as mandate).
FOLLOW_UP_STEP_ACTIONS = {
    "start_preparation": Action.FOLLOW_UP_PREPARE,
    "mark_ready": Action.FOLLOW_UP_PREPARE,
    "return_to_preparation": Action.FOLLOW_UP_RETURN,
    "acknowledge": Action.FOLLOW_UP_ACKNOWLEDGE,
    "close": Action.FOLLOW_UP_CLOSE,
}


def _department_acting_as(actor, follow_up: FollowUp, action: Action) -> str:
    """The mandate that entitles ``actor`` to ``action`` in the follow-up's department: a seat
    on its board, or a staff role in its area (before an organisation-wide one) — their own,
    or, for a substitute, the mandate of the person they stand in for ("(substitute)"; that
    person's id rides along for the audit summary, see :class:`ActingAs`)."""
    if actor is None:
        return _("Årshjul (automatic step)")
    department = follow_up.department
    today = timezone.localdate()
    text = _department_mandate_text(actor, department, action, today)
    if text:
        return text
    for delegator in _delegators(actor, department.organisation_id, today):
        text = _department_mandate_text(delegator, department, action, today)
        if text:
            return ActingAs(_("%(mandate)s (substitute)") % {"mandate": text}, delegator)
    return ""


def _delegators(actor, organisation_id: int, day: datetime.date) -> list:
    from governance.models import Person
    from permissions.selectors import acting_for

    return list(Person.objects.filter(pk__in=acting_for(user=actor, day=day,
                                                         organisation_id=organisation_id)))


def _department_mandate_text(person, department, action: Action, day: datetime.date) -> str:
    holders = MATRIX[action]
    board_roles = [role for where, role in holders if where == "department_board"]
    staff_roles = [role for where, role in holders if where == "staff"]
    seat = (Membership.objects.current_on(day)
            .filter(person=person, body__department=department, role__in=board_roles).first())
    if seat is not None:
        return f"{seat.get_role_display()}, {department.board.name}"
    assignment = (StaffAssignment.objects.current_on(day)
                  .filter(Q(operations_area_id=department.operations_area_id)
                          | Q(operations_area__isnull=True),
                          person=person, organisation_id=department.organisation_id,
                          role__in=staff_roles)
                  .select_related("operations_area")
                  .order_by(F("operations_area_id").asc(nulls_last=True), "role", "starts_on",
                            "pk").first())
    if assignment is not None:
        where = assignment.operations_area or department.organisation
        return f"{assignment.get_role_display()}, {where}"
    return ""


@transaction.atomic
def follow_up_start_preparation(*, actor, follow_up: FollowUp) -> FollowUp:
    follow_up = _lock_follow_up(follow_up)
    _require_department(actor, Action.FOLLOW_UP_PREPARE, follow_up.department)
    _follow_up_transition(follow_up, "start_preparation", actor=actor)
    return follow_up


@transaction.atomic
def follow_up_save(*, actor, follow_up: FollowUp, summary: str,
                   remarks: list[dict]) -> FollowUp:
    """Staff write the summary and a remark per initiative: ``{"initiative", "status",
    "progress", "text"}``. Starts the preparation when the case was only scheduled."""
    follow_up = _lock_follow_up(follow_up)
    _require_department(actor, Action.FOLLOW_UP_PREPARE, follow_up.department)
    if follow_up.state not in (FollowUp.State.SCHEDULED, FollowUp.State.IN_PREPARATION):
        raise _follow_up_conflict(follow_up)
    rows = {r.initiative_id: r for r in follow_up.remarks.select_for_update()}
    errors: dict[str, list[str]] = {}
    for index, remark in enumerate(remarks):
        key = f"remarks[{index}]"
        initiative = remark.get("initiative")
        row = rows.get(getattr(initiative, "pk", None))
        if row is None:
            errors[key] = [_("The initiative is not part of this follow-up.")]
            continue
        if remark.get("status") not in FollowUpRemark.Status.values:
            errors[key] = [_("Choose a status.")]
            continue
        progress = remark.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, int) \
                or not 0 <= progress <= 100:
            errors[key] = [_("Progress is a whole number from 0 to 100.")]
            continue
        row.status, row.progress = remark["status"], progress
        row.text = (remark.get("text") or "").strip()
    if errors:
        raise ValidationError(errors)
    FollowUpRemark.objects.bulk_update(list(rows.values()), ["status", "progress", "text"])
    follow_up.summary = summary.strip()
    follow_up.save(update_fields=["summary"])
    if follow_up.state == FollowUp.State.SCHEDULED:
        _follow_up_transition(follow_up, "start_preparation", actor=actor)
    audit_record(actor=actor, action="follow_up.save", obj=follow_up,
                 organisation=follow_up.department.organisation,
                 summary={"remarks": len(remarks)})
    return follow_up


def _follow_up_step(*, actor, follow_up: FollowUp, action: Action, source: str,
                    method_name: str, blockers: str) -> FollowUp:
    """Lock, check the right and the state, check the guard's readable blockers, transition."""
    follow_up = _lock_follow_up(follow_up)
    _require_department(actor, action, follow_up.department)
    if follow_up.state != source:
        raise _follow_up_conflict(follow_up)
    reasons = getattr(follow_up, blockers)()
    if reasons:
        raise ValidationError({"follow_up": reasons})
    _follow_up_transition(follow_up, method_name, actor=actor)
    return follow_up


@transaction.atomic
def follow_up_mark_ready(*, actor, follow_up: FollowUp) -> FollowUp:
    """Staff send the prepared follow-up to the department board."""
    return _follow_up_step(actor=actor, follow_up=follow_up, action=Action.FOLLOW_UP_PREPARE,
                           source=FollowUp.State.IN_PREPARATION, method_name="mark_ready",
                           blockers="ready_blockers")


@transaction.atomic
def follow_up_return(*, actor, follow_up: FollowUp, reason: str) -> FollowUp:
    follow_up = _lock_follow_up(follow_up)
    _require_department(actor, Action.FOLLOW_UP_RETURN, follow_up.department)
    if follow_up.state != FollowUp.State.READY_FOR_BOARD:
        raise _follow_up_conflict(follow_up)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the follow-up goes back to preparation.")})
    _follow_up_transition(follow_up, "return_to_preparation", actor=actor, reason=reason.strip())
    return follow_up


def _check_meeting(presented_on: datetime.date | None, meeting_kind: str) -> None:
    """A presentation happened at a board or network meeting, on a day that has come."""
    errors = {}
    if presented_on is None:
        errors["presented_on"] = [_("Give the date of the meeting.")]
    elif presented_on > timezone.localdate():
        errors["presented_on"] = [_("The meeting cannot be in the future.")]
    if meeting_kind not in MeetingKind.values:
        errors["meeting_kind"] = [_("Choose a board meeting or a network meeting.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def follow_up_acknowledge(*, actor, follow_up: FollowUp, presented_on: datetime.date,
                          meeting_kind: str, minutes_reference: str = "") -> FollowUp:
    """The department board's chair acknowledges the follow-up presented at a meeting."""
    follow_up = _lock_follow_up(follow_up)
    _require_department(actor, Action.FOLLOW_UP_ACKNOWLEDGE, follow_up.department)
    if follow_up.state != FollowUp.State.READY_FOR_BOARD:
        raise _follow_up_conflict(follow_up)
    _check_meeting(presented_on, meeting_kind)
    follow_up.presented_on, follow_up.meeting_kind = presented_on, meeting_kind
    follow_up.minutes_reference = minutes_reference.strip()
    follow_up.acknowledged_by, follow_up.acknowledged_at = actor, timezone.now()
    _follow_up_transition(follow_up, "acknowledge", actor=actor,
                          reason=follow_up.minutes_reference,
                          update_fields=("presented_on", "meeting_kind", "minutes_reference",
                                         "acknowledged_by", "acknowledged_at"))
    return follow_up


@transaction.atomic
def board_remark_add(*, actor, follow_up: FollowUp, text: str) -> BoardRemark:
    follow_up = _lock_follow_up(follow_up)
    _require_department(actor, Action.FOLLOW_UP_BOARD_REMARK, follow_up.department)
    if follow_up.state not in (FollowUp.State.READY_FOR_BOARD, FollowUp.State.PRESENTED):
        raise _follow_up_conflict(follow_up)
    if not text.strip():
        raise ValidationError({"text": _("Write the remark.")})
    remark = BoardRemark.objects.create(follow_up=follow_up, author=actor, text=text.strip(),
                                        created_at=timezone.now())
    audit_record(actor=actor, action="follow_up.board_remark", obj=follow_up,
                 organisation=follow_up.department.organisation, summary={"remark": remark.pk})
    return remark


@transaction.atomic
def board_remark_answer(*, actor, remark: BoardRemark, answer: str,
                        text: str = "") -> BoardRemark:
    follow_up = _lock_follow_up(remark.follow_up)
    _require_department(actor, Action.FOLLOW_UP_ANSWER, follow_up.department)
    if follow_up.state == FollowUp.State.CLOSED:
        raise _follow_up_conflict(follow_up)
    remark = BoardRemark.objects.select_for_update().get(pk=remark.pk)
    if answer not in BoardRemark.Answer.values:
        raise ValidationError({"answer": _("Choose noted, will act or will not act.")})
    if answer == BoardRemark.Answer.WONT_ACT and not text.strip():
        raise ValidationError({"text": _("Say why nothing will be done.")})
    remark.answer, remark.answer_text = answer, text.strip()
    remark.answered_by, remark.answered_at = actor, timezone.now()
    remark.save(update_fields=["answer", "answer_text", "answered_by", "answered_at"])
    audit_record(actor=actor, action="follow_up.board_remark_answer", obj=follow_up,
                 organisation=follow_up.department.organisation,
                 summary={"remark": remark.pk, "answer": answer})
    return remark


@transaction.atomic
def follow_up_close(*, actor, follow_up: FollowUp) -> FollowUp:
    """Staff close the case once every remark from the board has an answer."""
    return _follow_up_step(actor=actor, follow_up=follow_up, action=Action.FOLLOW_UP_CLOSE,
                           source=FollowUp.State.PRESENTED, method_name="close",
                           blockers="close_blockers")


@transaction.atomic
def rollout_register_presentation(*, actor, rollout: RolloutPlan, presented_on: datetime.date,
                                  meeting_kind: str, board_remarks: str = "") -> RolloutPlan:
    rollout = RolloutPlan.objects.select_for_update(of=("self",)).select_related(
        "department__organisation").get(pk=rollout.pk)
    _require_department(actor, Action.ROLLOUT_REGISTER_PRESENTATION, rollout.department)
    _check_meeting(presented_on, meeting_kind)
    rollout.presented_on, rollout.meeting_kind = presented_on, meeting_kind
    rollout.presenter, rollout.board_remarks = actor, board_remarks.strip()
    rollout.save(update_fields=["presented_on", "meeting_kind", "presenter", "board_remarks"])
    audit_record(actor=actor, action="rollout.register_presentation", obj=rollout,
                 organisation=rollout.department.organisation,
                 summary={"presented_on": presented_on.isoformat(), "meeting": meeting_kind})
    return rollout
