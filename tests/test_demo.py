"""The demo organisation `make demo` loads: its shape, its personas and idempotency."""

import pytest
from django.core.management import call_command

from fixtures.demo import PERSONAS
from governance.models import Body, Department, Membership, Organisation, Person
from governance.selectors import body_chair_on, body_members_on, person_mandates_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", verbosity=0)
    return Organisation.objects.get(slug="soebredden")


def test_full_demo_is_3b_sized(full_demo):
    assert full_demo.operations_areas.count() == 9
    assert Department.objects.filter(organisation=full_demo).count() == 85
    boards = Body.objects.filter(organisation=full_demo, kind=Body.Kind.DEPARTMENT_BOARD)
    assert boards.count() == 85
    for board in boards.select_related("department"):
        seated = body_members_on(body=board).exclude(role=Membership.Role.ALTERNATE).count()
        assert seated == board.department.board_size, board


def test_organisation_board_has_the_statutory_composition(full_demo):
    board = Body.objects.get(organisation=full_demo, kind=Body.Kind.ORGANISATION_BOARD)
    roles = list(body_members_on(body=board).values_list("role", flat=True))
    assert sorted(roles) == sorted(
        ["chair", "vice_chair"] + ["member"] * 9 + ["staff_representative", "appointed_member"])
    assert body_chair_on(body=board).username == "ob-formand"


def test_follow_up_group_has_seven_department_board_representatives(full_demo):
    group = Body.objects.get(organisation=full_demo, kind=Body.Kind.FOLLOW_UP_GROUP)
    members = body_members_on(body=group)
    assert members.count() == 7
    for membership in members:
        assert Membership.objects.current_on(membership.starts_on).filter(
            person=membership.person, body__kind=Body.Kind.DEPARTMENT_BOARD).exists()


def test_loading_twice_changes_nothing(full_demo):
    counts = (Person.objects.count(), Membership.objects.count(), Body.objects.count())
    call_command("load_demo", verbosity=0)
    assert (Person.objects.count(), Membership.objects.count(), Body.objects.count()) == counts


def test_every_persona_can_log_in_and_holds_the_described_role(full_demo, client):
    expected = {
        "sekretaer": ("staff", "operations_secretary"),
        "driftschef": ("staff", "operations_manager"),
        "serviceleder": ("staff", "service_manager"),
        "fg-formand": ("follow_up_group", "chair"),
        "fg-medlem": ("follow_up_group", "member"),
        "du-formand": ("operations_committee", "chair"),
        "ob-formand": ("organisation_board", "chair"),
        "ab-formand": ("department_board", "chair"),
        "ab-medlem": ("department_board", "member"),
        "ab-anden": ("department_board", "member"),
        "anden-org": ("department_board", "chair"),
    }
    assert set(expected) == {p.username for p in PERSONAS}
    def signs_in(username: str) -> bool:
        # Through the login page: Client.login gives authenticate() no request (django-axes).
        client.logout()
        return client.post("/login/", {"username": username,
                                       "password": "demo"}).status_code == 302

    for username, (where, role) in expected.items():
        assert signs_in(username), username
        person = Person.objects.get(username=username)
        held = {("staff" if m.kind == "staff" else m.body.kind, m.role)
                for m in person_mandates_on(person=person)}
        assert (where, role) in held, username
    assert signs_in("admin")


def test_personas_sit_where_the_readme_says(full_demo):
    def area_of(username):
        membership = Membership.objects.get(person__username=username,
                                            body__kind=Body.Kind.DEPARTMENT_BOARD)
        return membership.body.department.operations_area.number

    assert area_of("ab-formand") == 1
    assert area_of("ab-medlem") == 1
    assert area_of("ab-anden") == 2
    other = Membership.objects.get(person__username="anden-org").body.organisation
    assert other.slug == "havnely"
