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


# --- reading rollout plans and follow-ups, with the permission check built in --------------

def follow_ups_for_user(*, user, action: Action = Action.FOLLOW_UP_VIEW,
                        day: datetime.date | None = None) -> QuerySet:
    """The follow-up cases in whose department ``user`` may take ``action`` today.

    The department scope comes from the matrix on ``day`` (a seat on the department's board,
    a staff role in its area or organisation-wide); superusers see every case.
    """
    from cycles.models import FollowUp

    cases = FollowUp.objects.select_related(
        "plan__organisation", "department__operations_area", "department__organisation")
    if not user.is_authenticated:
        return cases.none()
    if not user.is_superuser:
        cases = cases.filter(department__in=permission_selectors.departments_granted(
            user=user, action=action, day=day))
    return cases.order_by("-plan__year", "plan__organisation__name", "half", "department__number")


def follow_up_get_for_user(*, user, pk: int) -> "FollowUp":  # noqa: F821
    """The case, if the user may see it; 404 otherwise (whether it exists or not)."""
    case = follow_ups_for_user(user=user).select_related("acknowledged_by").filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def rollouts_for_user(*, user, day: datetime.date | None = None) -> QuerySet:
    from cycles.models import RolloutPlan

    rollouts = RolloutPlan.objects.select_related(
        "plan__organisation", "department__operations_area", "department__organisation",
        "presenter")
    if not user.is_authenticated:
        return rollouts.none()
    if not user.is_superuser:
        rollouts = rollouts.filter(department__in=permission_selectors.departments_granted(
            user=user, action=Action.ROLLOUT_VIEW, day=day))
    return rollouts.order_by("-plan__year", "plan__organisation__name", "department__number")


def rollout_get_for_user(*, user, pk: int) -> "RolloutPlan":  # noqa: F821
    rollout = rollouts_for_user(user=user).filter(pk=pk).first()
    if rollout is None:
        raise Http404
    return rollout


def rollout_entries(*, rollout) -> list:
    return list(rollout.entries.select_related("initiative__theme")
                .order_by("initiative__theme__number", "initiative__position"))


def follow_up_remarks(*, follow_up) -> list:
    return list(follow_up.remarks.select_related("initiative__theme")
                .order_by("initiative__theme__number", "initiative__position"))


def follow_up_board_remarks(*, follow_up) -> list:
    return list(follow_up.board_remarks.select_related("author", "answered_by"))


def follow_up_history(*, follow_up) -> list:
    return list(follow_up.transitions.select_related("actor"))


# Per follow-up action (the names the API uses): the states it may be taken in and the matrix
# action it needs. The pages and the API show their buttons from this one table.
FOLLOW_UP_ACTION_STEPS: dict[str, tuple[tuple[str, ...], Action]] = {
    "save": (("scheduled", "in_preparation"), Action.FOLLOW_UP_PREPARE),
    "mark-ready": (("in_preparation",), Action.FOLLOW_UP_PREPARE),
    "return": (("ready_for_board",), Action.FOLLOW_UP_RETURN),
    "acknowledge": (("ready_for_board",), Action.FOLLOW_UP_ACKNOWLEDGE),
    "board-remark": (("ready_for_board", "presented"), Action.FOLLOW_UP_BOARD_REMARK),
    # Board remarks exist from "ready for the board" on, and stay when a case goes back.
    "answer": (("in_preparation", "ready_for_board", "presented"), Action.FOLLOW_UP_ANSWER),
    "close": (("presented",), Action.FOLLOW_UP_CLOSE),
}


def follow_up_allowed_actions(*, follow_up, permitted: frozenset[Action]) -> list[str]:
    """The API actions the caller can take on the case now (state and roles; services
    re-check, and guards such as "every remark answered" are reported as blockers)."""
    return [name for name, (states, needed) in FOLLOW_UP_ACTION_STEPS.items()
            if follow_up.state in states and needed in permitted]


def rollout_allowed_actions(*, rollout, permitted: frozenset[Action]) -> list[str]:
    return (["register-presentation"]
            if Action.ROLLOUT_REGISTER_PRESENTATION in permitted else [])


def rollout_coverage(*, plan: AnnualPlan) -> dict:
    """"Presented in N of M departments" and the departments still missing: two queries."""
    from cycles.models import RolloutPlan

    rollouts = RolloutPlan.objects.filter(plan=plan)
    total = rollouts.count()
    missing = list(rollouts.filter(presented_on__isnull=True)
                   .select_related("department__operations_area")
                   .order_by("department__number"))
    return {"presented": total - len(missing), "total": total,
            "missing": [r.department for r in missing], "missing_rollouts": missing}


def follow_up_aggregates(*, plan: AnnualPlan, half: str | None = None,
                         today: datetime.date | None = None) -> dict:
    """Per operations area and per theme: cases in each state, overdue, and progress.

    For the follow-up group, the operations committee, the organisation board and staff.
    Four queries whatever the size of the organisation. ``half`` limits to H1 or H2.
    """
    from django.db.models import Avg, Count, Q
    from django.utils import timezone

    from cycles.models import FollowUp, FollowUpRemark
    from governance.models import OperationsArea

    today = today or timezone.localdate()
    states = list(FollowUp.State)
    cases = FollowUp.objects.filter(plan=plan)
    remarks = FollowUpRemark.objects.filter(follow_up__plan=plan)
    if half:
        cases = cases.filter(half=half)
        remarks = remarks.filter(follow_up__half=half)
    open_states = (FollowUp.State.SCHEDULED, FollowUp.State.IN_PREPARATION,
                   FollowUp.State.READY_FOR_BOARD)
    per_area_state = {}
    overdue = {}
    for row in (cases.values("department__operations_area_id", "state")
                .annotate(n=Count("pk"),
                          late=Count("pk", filter=Q(due_on__lt=today, state__in=open_states)))):
        area = row["department__operations_area_id"]
        per_area_state.setdefault(area, {})[row["state"]] = row["n"]
        overdue[area] = overdue.get(area, 0) + row["late"]
    progress = dict(remarks.values("follow_up__department__operations_area_id")
                    .annotate(p=Avg("progress"))
                    .values_list("follow_up__department__operations_area_id", "p"))
    areas = []
    for area in OperationsArea.objects.filter(organisation_id=plan.organisation_id).order_by(
            "number"):
        counts = per_area_state.get(area.pk, {})
        if not counts:
            continue
        areas.append({
            "area": area,
            "counts": [(state, counts.get(state.value, 0)) for state in states],
            "total": sum(counts.values()),
            "overdue": overdue.get(area.pk, 0),
            "progress": round(progress[area.pk]) if progress.get(area.pk) is not None else None,
        })
    statuses = list(FollowUpRemark.Status)
    per_theme = {}
    for row in (remarks.values("initiative__theme_id", "status")
                .annotate(n=Count("pk"), p=Avg("progress"))):
        entry = per_theme.setdefault(row["initiative__theme_id"], {"counts": {}, "sum": 0.0,
                                                                   "n": 0})
        entry["counts"][row["status"]] = row["n"]
        entry["sum"] += (row["p"] or 0) * row["n"]
        entry["n"] += row["n"]
    themes = []
    for theme in plan.programme.themes.order_by("number"):
        entry = per_theme.get(theme.pk)
        themes.append({
            "theme": theme,
            "counts": [(status, (entry or {}).get("counts", {}).get(status.value, 0))
                       for status in statuses],
            "remarks": entry["n"] if entry else 0,
            "progress": round(entry["sum"] / entry["n"]) if entry and entry["n"] else None,
        })
    totals = {state.value: sum(dict(a["counts"])[state] for a in areas) for state in states}
    return {
        "half": half,
        "states": states,
        "statuses": statuses,
        "areas": areas,
        "themes": themes,
        "totals": totals,
        "total": sum(totals.values()),
        "overdue": sum(a["overdue"] for a in areas),
    }


def aggregates_plan_get_for_user(*, user, pk: int) -> AnnualPlan:
    """The plan whose aggregates the user may see: visible and ``cycle.aggregates.view``;
    404 when the plan is not visible, 403 when it is but the aggregates are not."""
    from django.core.exceptions import PermissionDenied

    plan = plan_get_for_user(user=user, pk=pk)
    if not user.is_superuser and not permission_selectors.can(
            user=user, action=Action.CYCLE_AGGREGATES_VIEW, organisation_id=plan.organisation_id):
        raise PermissionDenied
    return plan
