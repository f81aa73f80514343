"""Reads of the annual cycle, with the permission check built in."""

import datetime
from decimal import Decimal

from django.db.models import Max, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from cycles.models import (
    AnnualPlan,
    Initiative,
    OperationsProgramme,
    PlanRevision,
    SignOff,
    Theme,
)
from permissions import selectors as permission_selectors
from permissions.matrix import RETURN_ACTION_BY_STATE, SIGN_ACTION_BY_STATE, Action

State = AnnualPlan.State


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _day(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def plan_content(*, plan: AnnualPlan) -> dict:
    """The plan's content as plain JSON types, free of database ids (stable across databases).

    Initiatives are keyed by their position in the plan; scopes by area and department
    numbers; people by username.
    """
    themes = list(plan.programme.themes.order_by("number"))
    justifications = {j.theme_id: j.text for j in plan.theme_justifications.all()}
    initiatives = (
        plan.initiatives.select_related("theme", "owner", "origin__plan", "origin__theme")
        .prefetch_related("operations_areas", "departments")
        .order_by("theme__number", "position")
    )
    return {
        "schema": 1,
        "organisation": plan.organisation.slug,
        "year": plan.year,
        "title": plan.title,
        "summary": plan.summary,
        "themes": [
            {"key": theme.number, "title": theme.title,
             "justification": justifications.get(theme.pk, "")}
            for theme in themes
        ],
        "initiatives": [
            {
                "key": initiative.position,
                "theme": initiative.theme.number,
                "title": initiative.title,
                "description": initiative.description,
                "owner": initiative.owner.username if initiative.owner else None,
                "scope": initiative.scope,
                "operations_areas": sorted(a.number for a in initiative.operations_areas.all()),
                "departments": sorted(d.number for d in initiative.departments.all()),
                "planned_start": _day(initiative.planned_start),
                "planned_end": _day(initiative.planned_end),
                "target": initiative.target,
                "expected_saving": _money(initiative.expected_saving),
                "origin": (
                    {"year": initiative.origin.plan.year, "key": initiative.origin.position}
                    if initiative.origin else None
                ),
            }
            for initiative in initiatives
        ],
    }


def plan_submit_blockers(*, plan: AnnualPlan) -> list[str]:
    """Readable reasons a draft cannot go to the follow-up group yet."""
    reasons = []
    covered = set(plan.initiatives.values_list("theme_id", flat=True))
    if not covered:
        reasons.append(_("A plan needs at least one initiative."))
    justified = set(plan.theme_justifications.exclude(text="").values_list("theme_id", flat=True))
    for theme in plan.programme.themes.order_by("number"):
        if theme.pk not in covered and theme.pk not in justified:
            reasons.append(
                _("The theme “%(theme)s” needs an initiative or a written justification.")
                % {"theme": theme.title})
    return reasons


def programme_for_year(*, organisation_id: int, year: int) -> OperationsProgramme | None:
    return (OperationsProgramme.objects.filter(organisation_id=organisation_id,
                                               first_year__lte=year, last_year__gte=year)
            .order_by("-first_year").first())


def plans_for_user(*, user) -> QuerySet[AnnualPlan]:
    """The plans of every organisation the user holds a mandate in (superusers: all)."""
    organisations = permission_selectors.visible_organisations(user=user)
    return (AnnualPlan.objects.filter(organisation__in=organisations)
            .select_related("organisation", "current_revision")
            .order_by("organisation__name", "-year"))


def plan_get_for_user(*, user, pk: int) -> AnnualPlan:
    """The plan, if the user may see it; 404 otherwise (whether it exists or not)."""
    plan = (plans_for_user(user=user)
            .select_related("programme", "approved_revision")
            .prefetch_related(
                Prefetch("programme__themes", queryset=Theme.objects.order_by("number")))
            .filter(pk=pk).first())
    if plan is None:
        raise Http404
    if not user.is_superuser and not permission_selectors.can(
            user=user, action=Action.PLAN_VIEW, organisation_id=plan.organisation_id):
        raise Http404
    return plan


def initiatives_by_theme(*, plan: AnnualPlan) -> list[tuple[Theme, list[Initiative]]]:
    initiatives = list(
        plan.initiatives.select_related("theme", "owner", "origin__plan")
        .prefetch_related("operations_areas", "departments").order_by("theme__number",
                                                                      "position"))
    justifications = {j.theme_id: j.text for j in plan.theme_justifications.all()}
    grouped = []
    for theme in plan.programme.themes.all():
        theme.justification = justifications.get(theme.pk, "")
        grouped.append((theme, [i for i in initiatives if i.theme_id == theme.pk]))
    return grouped


def plan_sign_offs(*, plan: AnnualPlan) -> list[SignOff]:
    sign_offs = list(plan.sign_offs.select_related("signer", "on_behalf_of", "revision", "body"))
    for sign_off in sign_offs:
        sign_off.plan = plan  # is_stale reads plan.current_revision_id without a query
    return sign_offs


def plan_timeline(*, plan: AnnualPlan) -> list[dict]:
    """Transitions, sign-offs and comments in time order, for the plan page."""
    events = [
        {"kind": "transition", "at": t.occurred_at, "item": t}
        for t in plan.transitions.select_related("actor", "revision")
    ]
    events += [{"kind": "sign_off", "at": s.signed_at, "item": s}
               for s in plan_sign_offs(plan=plan)]
    events += [{"kind": "comment", "at": c.created_at, "item": c}
               for c in plan.comments.select_related("author", "initiative")]
    return sorted(events, key=lambda e: e["at"])


def next_initiative_position(*, plan: AnnualPlan) -> int:
    return (plan.initiatives.aggregate(top=Max("position"))["top"] or 0) + 1


def revisions_of(*, plan: AnnualPlan) -> QuerySet[PlanRevision]:
    return plan.revisions.select_related("created_by").order_by("-number")


def last_revision_seen_by(*, plan: AnnualPlan, user) -> PlanRevision | None:
    """The revision this user last signed, or ``None``."""
    signed = plan.sign_offs.filter(signer=user).select_related("revision").order_by(
        "-signed_at").first()
    return signed.revision if signed else None


# Per plan action (the names the API uses): the states it may be taken in, and the matrix
# action it needs there. The pages and the API show their buttons from this one table.
PLAN_ACTION_STEPS: dict[str, dict[str, Action]] = {
    "edit": {State.DRAFT: Action.PLAN_EDIT},
    "submit": {State.DRAFT: Action.PLAN_EDIT},
    "comment": {State.FOLLOW_UP_GROUP_REVIEW: Action.PLAN_COMMENT},
    "close-review": {State.FOLLOW_UP_GROUP_REVIEW: Action.PLAN_CLOSE_REVIEW},
    "return": dict(RETURN_ACTION_BY_STATE),
    "recommend": {State.OPERATIONS_COMMITTEE: Action.PLAN_SIGN_COMMITTEE},
    "sign": dict(SIGN_ACTION_BY_STATE),
    "publish": {State.ORGANISATION_BOARD: Action.PLAN_PUBLISH},
    "register-presentation": {State.PUBLISHED: Action.PLAN_REGISTER_PRESENTATION},
    "evaluate": {State.PRESENTED: Action.PLAN_EVALUATE},
}


def plan_allowed_actions(*, plan: AnnualPlan, permitted: frozenset[Action],
                         submit_blockers: list[str]) -> list[str]:
    """The API actions the caller can take on the plan now (the buttons to show)."""
    allowed = []
    for name, steps in PLAN_ACTION_STEPS.items():
        needed = steps.get(plan.state)
        if needed is None or needed not in permitted:
            continue
        if name == "submit" and submit_blockers:
            continue
        if name == "publish" and not plan.has_approved_board_sign_off():
            continue
        allowed.append(name)
    return allowed


# --- rollout and follow-ups ---------------------------------------------------------------

def initiatives_by_department(*, plan: AnnualPlan) -> dict[int, list[Initiative]]:
    """Department id → the plan's initiatives that apply there (by each initiative's scope).

    Four queries whatever the size: departments, initiatives, and the two scope tables.
    """
    from governance.models import Department

    departments = list(Department.objects.filter(organisation_id=plan.organisation_id)
                       .values_list("pk", "operations_area_id"))
    initiatives = list(plan.initiatives.prefetch_related("operations_areas", "departments")
                       .select_related("theme").order_by("theme__number", "position"))
    applying: dict[int, list[Initiative]] = {pk: [] for pk, _area in departments}
    for initiative in initiatives:
        if initiative.scope == Initiative.Scope.ORGANISATION:
            targets = [pk for pk, _area in departments]
        elif initiative.scope == Initiative.Scope.AREAS:
            areas = {a.pk for a in initiative.operations_areas.all()}
            targets = [pk for pk, area in departments if area in areas]
        else:
            targets = [d.pk for d in initiative.departments.all()]
        for pk in targets:
            applying[pk].append(initiative)
    return {pk: items for pk, items in applying.items() if items}


def follow_up_ready_blockers(*, follow_up) -> list[str]:
    """Readable reasons a follow-up cannot go to the board yet; empty when it can."""
    reasons = []
    if not follow_up.summary.strip():
        reasons.append(_("Write a summary for the board."))
    if follow_up.remarks.filter(text="").exists():
        reasons.append(_("Every initiative needs a remark."))
    return reasons


def follow_up_close_blockers(*, follow_up) -> list[str]:
    if follow_up.board_remarks.filter(answer="").exists():
        reasons = [_("Every remark from the board needs an answer before the case is closed.")]
        return reasons
    return []
