"""The permission matrix: which roles may take which action, in which scope.

This is the single source of truth. A role is a pair (where, role): ``where`` is a body kind
(``"department_board"``, ``"follow_up_group"`` …) for a seat in a body, or ``"staff"`` for a
staff assignment. Roles are held on a day (memberships and staff assignments have periods).
Every action's scope is the organisation of the object acted on: a role in another
organisation never counts.

Actions have a scope. Organisation-scope actions count every role the person holds in the
object's organisation. Department-scope actions (a department's rollout plan and follow-ups)
count only a seat on *that* department's board, and a staff role in the department's operations
area or organisation-wide (an assignment without an area).

Signing (``plan.sign.*``) is given to the chair; the vice-chair signs only while authorised by
the chair (governance.selectors.signing_mandate_on decides that).
"""

from enum import StrEnum

BOARD_ROLES = ("chair", "vice_chair", "member", "alternate", "staff_representative",
               "appointed_member")
BODY_KINDS = ("representative_council", "organisation_board", "operations_committee",
              "follow_up_group", "department_board")
STAFF_ROLES = ("operations_manager", "service_manager", "operations_secretary",
               "assistant_site_manager", "service_worker")

Role = tuple[str, str]

EVERY_ROLE: frozenset[Role] = frozenset(
    {(kind, role) for kind in BODY_KINDS for role in BOARD_ROLES}
    | {("staff", role) for role in STAFF_ROLES}
)
PLAN_EDITORS: frozenset[Role] = frozenset(
    {("staff", "operations_secretary"), ("staff", "operations_manager")})


class Scope(StrEnum):
    ORGANISATION = "organisation"
    DEPARTMENT = "department"


ALL_STAFF: frozenset[Role] = frozenset(("staff", role) for role in STAFF_ROLES)
DEPARTMENT_BOARD: frozenset[Role] = frozenset(("department_board", role) for role in BOARD_ROLES)
AREA_OPERATIONS_LEADS: frozenset[Role] = frozenset(
    {("staff", "operations_manager"), ("staff", "service_manager")})
CYCLE_BODIES: frozenset[Role] = frozenset(
    (kind, role) for kind in ("follow_up_group", "operations_committee", "organisation_board")
    for role in BOARD_ROLES)


class Action(StrEnum):
    ORGANISATION_VIEW = "organisation.view"  # its areas, departments, bodies and members
    PLAN_VIEW = "plan.view"
    PLAN_EDIT = "plan.edit"  # create a plan, edit its initiatives in draft, submit it
    PLAN_COMMENT = "plan.comment"
    PLAN_CLOSE_REVIEW = "plan.close_review"
    PLAN_RETURN_FROM_REVIEW = "plan.return.follow_up_group_review"
    PLAN_RETURN_FROM_COMMITTEE = "plan.return.operations_committee"
    PLAN_RETURN_FROM_BOARD = "plan.return.organisation_board"
    PLAN_SIGN_COMMITTEE = "plan.sign.operations_committee"
    PLAN_SIGN_BOARD = "plan.sign.organisation_board"
    PLAN_PUBLISH = "plan.publish"
    PLAN_REGISTER_PRESENTATION = "plan.register_presentation"
    PLAN_EVALUATE = "plan.evaluate"
    CYCLE_AGGREGATES_VIEW = "cycle.aggregates.view"
    CALENDAR_MANAGE = "calendar.manage"  # meetings, step deadlines, reminder ladders, delivery problems
    AUDIT_VIEW = "audit.view"  # the organisation's whole audit trail, its check and its export
    # Department scope
    ROLLOUT_VIEW = "rollout.view"
    ROLLOUT_REGISTER_PRESENTATION = "rollout.register_presentation"
    FOLLOW_UP_VIEW = "follow_up.view"
    FOLLOW_UP_PREPARE = "follow_up.prepare"  # start, write remarks and summary, send to board
    FOLLOW_UP_RETURN = "follow_up.return"
    FOLLOW_UP_ACKNOWLEDGE = "follow_up.acknowledge"
    FOLLOW_UP_BOARD_REMARK = "follow_up.board_remark"
    FOLLOW_UP_ANSWER = "follow_up.answer"
    FOLLOW_UP_CLOSE = "follow_up.close"


MATRIX: dict[Action, frozenset[Role]] = {
    # Everyone with a mandate in the organisation sees its structure (names only, GDPR).
    Action.ORGANISATION_VIEW: EVERY_ROLE,
    # Everyone with a mandate in the organisation reads its plans.
    Action.PLAN_VIEW: EVERY_ROLE,
    Action.PLAN_EDIT: PLAN_EDITORS,
    Action.PLAN_COMMENT: frozenset(
        {("follow_up_group", r) for r in ("chair", "vice_chair", "member")}),
    Action.PLAN_CLOSE_REVIEW: frozenset({("follow_up_group", "chair")}),
    Action.PLAN_RETURN_FROM_REVIEW: frozenset({("follow_up_group", "chair")}),
    Action.PLAN_RETURN_FROM_COMMITTEE: frozenset({("operations_committee", "chair")}),
    Action.PLAN_RETURN_FROM_BOARD: frozenset({("organisation_board", "chair")}),
    Action.PLAN_SIGN_COMMITTEE: frozenset({("operations_committee", "chair")}),
    Action.PLAN_SIGN_BOARD: frozenset({("organisation_board", "chair")}),
    Action.PLAN_PUBLISH: frozenset({("staff", "operations_secretary")}),
    Action.PLAN_REGISTER_PRESENTATION: frozenset({("staff", "operations_secretary")}),
    Action.PLAN_EVALUATE: frozenset({("follow_up_group", "chair")}),
    # The aggregates of follow-ups and rollout: the bodies that treat the plan, and staff.
    Action.CYCLE_AGGREGATES_VIEW: CYCLE_BODIES | ALL_STAFF,
    # The governance calendar: the operations secretary keeps it (everyone sees it).
    Action.CALENDAR_MANAGE: frozenset({("staff", "operations_secretary")}),
    # The organisation's whole audit trail: the operations secretary, who keeps the records.
    # Not the boards: the trail records what each person did and when (data minimisation), and
    # the boards see each plan's and case's own history page.
    Action.AUDIT_VIEW: frozenset({("staff", "operations_secretary")}),
    # A department's own work: its board, and the staff of its operations area.
    Action.ROLLOUT_VIEW: DEPARTMENT_BOARD | ALL_STAFF,
    Action.ROLLOUT_REGISTER_PRESENTATION: AREA_OPERATIONS_LEADS
    | {("staff", "operations_secretary")},
    Action.FOLLOW_UP_VIEW: DEPARTMENT_BOARD | ALL_STAFF,
    Action.FOLLOW_UP_PREPARE: AREA_OPERATIONS_LEADS,
    Action.FOLLOW_UP_RETURN: AREA_OPERATIONS_LEADS | {("department_board", "chair")},
    Action.FOLLOW_UP_ACKNOWLEDGE: frozenset({("department_board", "chair")}),
    Action.FOLLOW_UP_BOARD_REMARK: frozenset(
        ("department_board", role) for role in ("chair", "vice_chair", "member")),
    Action.FOLLOW_UP_ANSWER: AREA_OPERATIONS_LEADS,
    Action.FOLLOW_UP_CLOSE: AREA_OPERATIONS_LEADS,
}

DEPARTMENT_ACTIONS: frozenset[Action] = frozenset({
    Action.ROLLOUT_VIEW, Action.ROLLOUT_REGISTER_PRESENTATION, Action.FOLLOW_UP_VIEW,
    Action.FOLLOW_UP_PREPARE, Action.FOLLOW_UP_RETURN, Action.FOLLOW_UP_ACKNOWLEDGE,
    Action.FOLLOW_UP_BOARD_REMARK, Action.FOLLOW_UP_ANSWER, Action.FOLLOW_UP_CLOSE,
})


def scope_of(action: Action) -> Scope:
    return Scope.DEPARTMENT if action in DEPARTMENT_ACTIONS else Scope.ORGANISATION

# Actions that a chair signs; the authorised vice-chair may act for the chair.
CHAIR_ACTIONS: dict[Action, str] = {
    Action.PLAN_SIGN_COMMITTEE: "operations_committee",
    Action.PLAN_SIGN_BOARD: "organisation_board",
    Action.PLAN_RETURN_FROM_COMMITTEE: "operations_committee",
    Action.PLAN_RETURN_FROM_BOARD: "organisation_board",
}

# Per plan state: the return action and the sign action that belong to that step.
RETURN_ACTION_BY_STATE = {
    "follow_up_group_review": Action.PLAN_RETURN_FROM_REVIEW,
    "operations_committee": Action.PLAN_RETURN_FROM_COMMITTEE,
    "organisation_board": Action.PLAN_RETURN_FROM_BOARD,
}
SIGN_ACTION_BY_STATE = {
    "operations_committee": Action.PLAN_SIGN_COMMITTEE,
    "organisation_board": Action.PLAN_SIGN_BOARD,
}


# --- the matrix as django-guardian permissions ---------------------------------------------
# Every action is also a permission, held per object by the groups that stand for a mandate
# (permissions.services keeps them in step with the matrix). Department-scope actions are
# granted on governance.Department, organisation-scope actions on governance.Organisation.

def codename(action: Action) -> str:
    """``follow_up.view`` → ``follow_up_view`` (a permission codename has no dots)."""
    return action.value.replace(".", "_").replace("-", "_")


def permission_name(action: Action) -> str:
    """The ``app_label.codename`` string for ``has_perm`` and ``get_objects_for_user``."""
    return f"governance.{codename(action)}"


DEPARTMENT_PERMISSIONS: list[tuple[str, str]] = sorted(
    (codename(action), f"Matrix: {action.value}")
    for action in Action if scope_of(action) == Scope.DEPARTMENT)
ORGANISATION_PERMISSIONS: list[tuple[str, str]] = sorted(
    (codename(action), f"Matrix: {action.value}")
    for action in Action if scope_of(action) == Scope.ORGANISATION)
