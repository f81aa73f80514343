"""The permission matrix agrees with the governance model and the plan's state machine."""

from cycles.models import AnnualPlan
from governance.models import Body, Membership, StaffAssignment
from permissions.matrix import (
    BOARD_ROLES,
    BODY_KINDS,
    CHAIR_ACTIONS,
    EVERY_ROLE,
    MATRIX,
    RETURN_ACTION_BY_STATE,
    SIGN_ACTION_BY_STATE,
    STAFF_ROLES,
    Action,
)

VALID_ROLES = (
    {(kind, role) for kind in Body.Kind.values for role in Membership.Role.values}
    | {("staff", role) for role in StaffAssignment.Role.values}
)


def test_every_action_has_a_matrix_entry_with_someone_in_it():
    assert set(MATRIX) == set(Action)
    assert [action for action, roles in MATRIX.items() if not roles] == []


def test_every_role_in_the_matrix_is_a_body_kind_and_seat_or_a_staff_role():
    for action, roles in MATRIX.items():
        assert roles <= VALID_ROLES, (action, roles - VALID_ROLES)


def test_the_matrix_role_lists_match_the_governance_choices():
    assert set(BODY_KINDS) == set(Body.Kind.values)
    assert set(BOARD_ROLES) == set(Membership.Role.values)
    assert set(STAFF_ROLES) == set(StaffAssignment.Role.values)
    assert EVERY_ROLE == VALID_ROLES


def test_return_and_sign_actions_are_keyed_by_plan_states():
    states = set(AnnualPlan.State.values)
    assert set(RETURN_ACTION_BY_STATE) <= states
    assert set(SIGN_ACTION_BY_STATE) <= states
    assert set(RETURN_ACTION_BY_STATE) == set(AnnualPlan.REVIEW_STATES)
    assert set(SIGN_ACTION_BY_STATE) < set(RETURN_ACTION_BY_STATE)


def test_the_body_that_signs_a_step_is_the_body_the_state_is_named_after():
    """plan_sign finds the signing body by ``kind=plan.state``: the names must match."""
    for state, action in SIGN_ACTION_BY_STATE.items():
        assert state in Body.Kind.values
        assert MATRIX[action] == frozenset({(state, "chair")})
        assert CHAIR_ACTIONS[action] == state


def test_only_chairs_sign_and_a_chair_action_belongs_to_that_bodys_chair():
    for action, body_kind in CHAIR_ACTIONS.items():
        assert body_kind in Body.Kind.values
        assert (body_kind, "chair") in MATRIX[action]
        assert {role for _kind, role in MATRIX[action]} == {"chair"}
    signing = {action for action in Action if action.startswith("plan.sign.")}
    assert signing == set(SIGN_ACTION_BY_STATE.values())
    assert signing <= set(CHAIR_ACTIONS)


def test_action_values_are_unique_and_dotted():
    values = [action.value for action in Action]
    assert len(values) == len(set(values))
    assert all(value.split(".")[0] in {"organisation", "plan", "cycle", "rollout", "follow_up",
                                       "calendar", "audit"}
               and "." in value for value in values)


def test_department_actions_are_given_only_to_department_boards_and_staff():
    """A seat on an organisation-level body never opens a department's cases."""
    from permissions.matrix import DEPARTMENT_ACTIONS

    for action in DEPARTMENT_ACTIONS:
        assert {where for where, _role in MATRIX[action]} <= {"department_board", "staff"}


def test_codenames_are_unique_and_every_action_is_a_model_permission():
    from governance.models import Department, Organisation
    from permissions.matrix import Scope, codename, scope_of

    codenames = [codename(action) for action in Action]
    assert len(codenames) == len(set(codenames))
    assert all("." not in c and len(c) <= 100 for c in codenames)
    on_department = {c for c, _label in Department._meta.permissions}
    on_organisation = {c for c, _label in Organisation._meta.permissions}
    for action in Action:
        where = on_department if scope_of(action) == Scope.DEPARTMENT else on_organisation
        assert codename(action) in where
