"""The permission matrix: which roles may take which action, in which scope.

This is the single source of truth. A role is a pair (where, role): ``where`` is a body kind
(``"department_board"``, ``"follow_up_group"`` …) for a seat in a body, or ``"staff"`` for a
staff assignment. Roles are held on a day (memberships and staff assignments have periods).
Every action's scope is the organisation of the object acted on: a role in another
organisation never counts.

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


class Action(StrEnum):
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


MATRIX: dict[Action, frozenset[Role]] = {
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
}

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
