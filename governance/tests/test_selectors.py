import pytest

from governance import selectors, services
from governance.models import Membership
from governance.tests.factories import d, department, organisation, person

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def board_with_election():
    """Anna chairs until 14.09.2025, the seat is vacant on 15.09, Bent chairs from 16.09.2025."""
    board = department(organisation()).board
    anna, bent, carl = person("anna"), person("bent"), person("carl")
    services.membership_start(actor=None, person=anna, body=board, role=Role.CHAIR,
                              starts_on=d("15.09.2023"), ends_on=d("14.09.2025"))
    services.membership_start(actor=None, person=bent, body=board, role=Role.CHAIR,
                              starts_on=d("16.09.2025"))
    services.membership_start(actor=None, person=carl, body=board, role=Role.MEMBER,
                              starts_on=d("16.09.2025"), ends_on=d("15.09.2027"))
    return board, anna, bent, carl


@pytest.mark.parametrize(
    ("day", "expected"),
    [("15.09.2023", "anna"), ("14.09.2025", "anna"), ("15.09.2025", None),
     ("16.09.2025", "bent"), ("01.01.2030", "bent")],
)
def test_chair_on_a_day_follows_the_term_boundaries(board_with_election, day, expected):
    board = board_with_election[0]
    chair = selectors.body_chair_on(body=board, day=d(day))
    assert (chair.username if chair else None) == expected


def test_chair_before_anyone_was_elected_is_none(board_with_election):
    assert selectors.body_chair_on(body=board_with_election[0], day=d("14.09.2023")) is None


@pytest.mark.parametrize(
    ("day", "expected"),
    [("14.09.2025", {"anna"}), ("16.09.2025", {"bent", "carl"}),
     ("15.09.2027", {"bent", "carl"}), ("16.09.2027", {"bent"})],
)
def test_members_on_a_day_include_exactly_the_current_terms(board_with_election, day, expected):
    members = selectors.body_members_on(body=board_with_election[0], day=d(day))
    assert {m.person.username for m in members} == expected


def test_person_mandates_list_seats_and_staff_roles_held_that_day(board_with_election):
    board, anna, _bent, _carl = board_with_election
    area = board.department.operations_area
    services.staff_assignment_start(actor=None, person=anna, organisation=board.organisation,
                                    operations_area=area, role="service_manager",
                                    starts_on=d("01.01.2025"))
    on_old_term = selectors.person_mandates_on(person=anna, day=d("01.06.2025"))
    assert [(m.kind, m.role) for m in on_old_term] == [("membership", "chair"),
                                                        ("staff", "service_manager")]
    assert on_old_term[0].operations_area == area
    after_term = selectors.person_mandates_on(person=anna, day=d("01.06.2026"))
    assert [(m.kind, m.role, m.scope_label) for m in after_term] == [
        ("staff", "service_manager", str(area))]


def test_department_boards_of_an_area_are_its_departments_boards():
    org = organisation()
    first = department(org)
    second = department(org, area=first.operations_area)
    elsewhere = department(org)
    boards = list(selectors.department_boards_of_area(area=first.operations_area))
    assert boards == [first.board, second.board]
    assert elsewhere.board not in boards


def test_organisations_of_a_person_come_from_current_mandates(board_with_election):
    board, anna, bent, _carl = board_with_election
    assert list(selectors.organisations_of_person_on(person=bent, day=d("01.10.2025"))) == [
        board.organisation]
    assert list(selectors.organisations_of_person_on(person=anna, day=d("01.10.2025"))) == []
