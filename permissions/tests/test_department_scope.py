"""Department-scope permissions: the roles that count in one department, and what they allow.

In a department's scope only a seat on that department's own board counts, and a staff role in
the department's operations area or organisation-wide; seats on organisation-level bodies and
roles in other areas, departments or organisations do not. The expected sets are written out by
hand for every persona on three departments: Søbredden's department 1 (area 1: ab-formand's and
ab-medlem's board, driftschef's and serviceleder's area), Søbredden's department 3 (area 2:
ab-anden's board) and Havnely's department 1 (anden-org chairs its board).
Time is frozen on Monday 02.03.2026, before the demo (whose terms are relative to today) loads.
"""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from fixtures.demo import DEMO_SLUG, OTHER_SLUG, PERSONAS
from governance.models import Department, Membership, StaffAssignment
from permissions.matrix import DEPARTMENT_ACTIONS, Action
from permissions.selectors import permitted_department_actions, roles_in_department
from tests.clock import frozen_before_demo

TODAY = datetime.date(2026, 3, 2)

AREA_1 = (DEMO_SLUG, 1)
AREA_2 = (DEMO_SLUG, 3)
HAVNELY = (OTHER_SLUG, 1)

SECRETARY = frozenset({("staff", "operations_secretary")})
HEAD_OF_OPERATIONS = frozenset({("staff", "operations_manager")})
SERVICE_MANAGER = frozenset({("staff", "service_manager")})
CHAIR = frozenset({("department_board", "chair")})
MEMBER = frozenset({("department_board", "member")})
NONE: frozenset = frozenset()

ROLES = {
    "sekretaer": {AREA_1: SECRETARY, AREA_2: SECRETARY, HAVNELY: NONE},
    "driftschef": {AREA_1: HEAD_OF_OPERATIONS, AREA_2: NONE, HAVNELY: NONE},
    "serviceleder": {AREA_1: SERVICE_MANAGER, AREA_2: NONE, HAVNELY: NONE},
    # fg-formand sits on department 4's board, fg-medlem on department 5's.
    "fg-formand": {AREA_1: NONE, AREA_2: NONE, HAVNELY: NONE},
    "fg-medlem": {AREA_1: NONE, AREA_2: NONE, HAVNELY: NONE},
    "du-formand": {AREA_1: NONE, AREA_2: NONE, HAVNELY: NONE},
    "ob-formand": {AREA_1: NONE, AREA_2: NONE, HAVNELY: NONE},
    # ab-formand also sits in the representatives' council: that does not count here.
    "ab-formand": {AREA_1: CHAIR, AREA_2: NONE, HAVNELY: NONE},
    "ab-medlem": {AREA_1: MEMBER, AREA_2: NONE, HAVNELY: NONE},
    "ab-anden": {AREA_1: NONE, AREA_2: MEMBER, HAVNELY: NONE},
    "anden-org": {AREA_1: NONE, AREA_2: NONE, HAVNELY: CHAIR},
}

A = Action
SECRETARY_MAY = frozenset({A.ROLLOUT_VIEW, A.ROLLOUT_REGISTER_PRESENTATION, A.FOLLOW_UP_VIEW})
AREA_LEAD_MAY = frozenset({
    A.ROLLOUT_VIEW, A.ROLLOUT_REGISTER_PRESENTATION, A.FOLLOW_UP_VIEW, A.FOLLOW_UP_PREPARE,
    A.FOLLOW_UP_RETURN, A.FOLLOW_UP_ANSWER, A.FOLLOW_UP_CLOSE})
CHAIR_MAY = frozenset({A.ROLLOUT_VIEW, A.FOLLOW_UP_VIEW, A.FOLLOW_UP_RETURN,
                       A.FOLLOW_UP_ACKNOWLEDGE, A.FOLLOW_UP_BOARD_REMARK})
MEMBER_MAY = frozenset({A.ROLLOUT_VIEW, A.FOLLOW_UP_VIEW, A.FOLLOW_UP_BOARD_REMARK})
NOTHING: frozenset = frozenset()

ACTIONS = {
    "sekretaer": {AREA_1: SECRETARY_MAY, AREA_2: SECRETARY_MAY, HAVNELY: NOTHING},
    "driftschef": {AREA_1: AREA_LEAD_MAY, AREA_2: NOTHING, HAVNELY: NOTHING},
    "serviceleder": {AREA_1: AREA_LEAD_MAY, AREA_2: NOTHING, HAVNELY: NOTHING},
    "fg-formand": {AREA_1: NOTHING, AREA_2: NOTHING, HAVNELY: NOTHING},
    "fg-medlem": {AREA_1: NOTHING, AREA_2: NOTHING, HAVNELY: NOTHING},
    "du-formand": {AREA_1: NOTHING, AREA_2: NOTHING, HAVNELY: NOTHING},
    "ob-formand": {AREA_1: NOTHING, AREA_2: NOTHING, HAVNELY: NOTHING},
    "ab-formand": {AREA_1: CHAIR_MAY, AREA_2: NOTHING, HAVNELY: NOTHING},
    "ab-medlem": {AREA_1: MEMBER_MAY, AREA_2: NOTHING, HAVNELY: NOTHING},
    "ab-anden": {AREA_1: NOTHING, AREA_2: MEMBER_MAY, HAVNELY: NOTHING},
    "anden-org": {AREA_1: NOTHING, AREA_2: NOTHING, HAVNELY: CHAIR_MAY},
}
PLACES = [AREA_1, AREA_2, HAVNELY]


_frozen_today = frozen_before_demo(TODAY)


def department(where: tuple[str, int]) -> Department:
    slug, number = where
    return Department.objects.select_related("operations_area").get(
        organisation__slug=slug, number=number)


def _id(where: tuple[str, int]) -> str:
    return f"{where[0]}-{where[1]}"


def test_the_tables_cover_every_persona():
    assert set(ROLES) == set(ACTIONS) == {p.username for p in PERSONAS}


def test_the_places_are_where_the_demo_puts_them(demo):
    assert department(AREA_1).operations_area.number == 1
    assert department(AREA_2).operations_area.number == 2
    assert department(HAVNELY).organisation.slug == OTHER_SLUG


@pytest.mark.parametrize("where", PLACES, ids=_id)
def test_roles_in_department_are_exactly_the_seat_there_and_the_staff_role_over_it(
        where, persona):
    dept = department(where)
    assert {username: roles_in_department(user=persona(username), department=dept)
            for username in ROLES} == {username: ROLES[username][where] for username in ROLES}


@pytest.mark.parametrize("where", PLACES, ids=_id)
def test_permitted_department_actions_are_exactly_what_those_roles_allow(where, persona):
    dept = department(where)
    allowed = {username: permitted_department_actions(user=persona(username), department=dept)
               for username in ACTIONS}
    assert allowed == {username: ACTIONS[username][where] for username in ACTIONS}
    assert all(actions <= DEPARTMENT_ACTIONS for actions in allowed.values())


def test_roles_in_department_take_two_queries(persona, django_assert_num_queries):
    user, dept = persona("ab-formand"), department(AREA_1)
    with django_assert_num_queries(2):  # the seats on its board; the staff assignments
        roles_in_department(user=user, department=dept)


def test_an_anonymous_visitor_has_no_role_anywhere(demo):
    for where in PLACES:
        assert roles_in_department(user=AnonymousUser(), department=department(where)) == NONE
        assert permitted_department_actions(user=AnonymousUser(),
                                            department=department(where)) == NOTHING


def _holder(where, role: str):
    return (Membership.objects.current_on(TODAY)
            .get(body__department=department(where), role=role).person)


def _staff(where, role: str):
    return (StaffAssignment.objects.current_on(TODAY)
            .filter(operations_area=department(where).operations_area, role=role)
            .order_by("pk").first().person)


def test_the_other_board_seats_and_staff_roles_of_area_1(demo):
    """The vice-chair may remark like a member; an alternate and the staff on the ground only
    see the department's rollout and follow-ups."""
    dept = department(AREA_1)
    alternate = (Membership.objects.current_on(TODAY)
                 .filter(body__department=dept, role=Membership.Role.ALTERNATE)
                 .order_by("pk").first().person)
    expected = {
        _holder(AREA_1, Membership.Role.VICE_CHAIR): MEMBER_MAY,
        alternate: frozenset({A.ROLLOUT_VIEW, A.FOLLOW_UP_VIEW}),
        _staff(AREA_1, StaffAssignment.Role.ASSISTANT_SITE_MANAGER):
            frozenset({A.ROLLOUT_VIEW, A.FOLLOW_UP_VIEW}),
        _staff(AREA_1, StaffAssignment.Role.SERVICE_WORKER):
            frozenset({A.ROLLOUT_VIEW, A.FOLLOW_UP_VIEW}),
    }
    for person, actions in expected.items():
        assert permitted_department_actions(user=person, department=dept) == actions, person
        # ... and nothing in area 2.
        assert permitted_department_actions(user=person,
                                            department=department(AREA_2)) == NOTHING, person


def test_a_seat_counts_only_on_the_days_of_its_term(persona):
    dept = department(AREA_1)
    chair = persona("ab-formand")
    term = Membership.objects.get(person=chair, body__department=dept)
    former = Membership.objects.get(body__department=dept, role=Membership.Role.CHAIR,
                                    ends_on__isnull=False)
    day_before = term.starts_on - datetime.timedelta(days=1)
    assert former.ends_on == day_before  # the predecessor's last day

    assert roles_in_department(user=chair, department=dept, day=term.starts_on) == CHAIR
    assert roles_in_department(user=chair, department=dept, day=day_before) == NONE
    assert permitted_department_actions(user=former.person, department=dept,
                                        day=day_before) == CHAIR_MAY
    assert permitted_department_actions(user=former.person, department=dept) == NOTHING
