import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEntry
from governance import services
from governance.models import Body, Membership
from governance.tests.factories import d, department, organisation, person

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def board():
    return department(organisation()).board


def test_two_chairs_at_once_are_refused(board):
    services.membership_start(actor=None, person=person("anna"), body=board, role=Role.CHAIR,
                              starts_on=d("01.09.2025"))
    with pytest.raises(ValidationError) as error:
        services.membership_start(actor=None, person=person("bent"), body=board,
                                  role=Role.CHAIR, starts_on=d("01.03.2026"))
    assert "role" in error.value.message_dict
    assert "Anna Testesen" in error.value.message_dict["role"][0]
    assert Membership.objects.filter(body=board, role=Role.CHAIR).count() == 1


def test_terms_overlapping_by_a_single_day_are_refused(board):
    services.membership_start(actor=None, person=person("anna"), body=board, role=Role.CHAIR,
                              starts_on=d("01.09.2024"), ends_on=d("14.09.2025"))
    with pytest.raises(ValidationError):
        services.membership_start(actor=None, person=person("bent"), body=board,
                                  role=Role.CHAIR, starts_on=d("14.09.2025"))


def test_new_chair_can_start_the_day_after_the_old_term_ends(board):
    services.membership_start(actor=None, person=person("anna"), body=board, role=Role.CHAIR,
                              starts_on=d("01.09.2024"), ends_on=d("14.09.2025"))
    services.membership_start(actor=None, person=person("bent"), body=board, role=Role.CHAIR,
                              starts_on=d("15.09.2025"))
    assert Membership.objects.filter(body=board, role=Role.CHAIR).count() == 2


def test_chair_and_vice_chair_and_many_members_can_sit_together(board):
    for name, role in [("anna", Role.CHAIR), ("bent", Role.VICE_CHAIR), ("carl", Role.MEMBER),
                       ("dora", Role.MEMBER), ("emil", Role.ALTERNATE)]:
        services.membership_start(actor=None, person=person(name), body=board, role=role,
                                  starts_on=d("01.09.2025"))
    assert Membership.objects.current_on(d("01.10.2025")).filter(body=board).count() == 5


def test_a_person_cannot_hold_two_seats_in_one_body_at_once(board):
    anna = person("anna")
    services.membership_start(actor=None, person=anna, body=board, role=Role.MEMBER,
                              starts_on=d("01.09.2025"))
    with pytest.raises(ValidationError) as error:
        services.membership_start(actor=None, person=anna, body=board, role=Role.CHAIR,
                                  starts_on=d("01.10.2025"))
    assert "person" in error.value.message_dict


def test_a_term_cannot_end_before_it_starts(board):
    with pytest.raises(ValidationError) as error:
        services.membership_start(actor=None, person=person("anna"), body=board,
                                  role=Role.MEMBER, starts_on=d("01.09.2025"),
                                  ends_on=d("31.08.2025"))
    assert "ends_on" in error.value.message_dict


def test_membership_end_shortens_and_refuses_to_extend(board):
    membership = services.membership_start(
        actor=None, person=person("anna"), body=board, role=Role.CHAIR,
        starts_on=d("01.09.2025"), ends_on=d("31.08.2027"))
    services.membership_end(actor=None, membership=membership, ends_on=d("31.12.2026"))
    membership.refresh_from_db()
    assert membership.ends_on == d("31.12.2026")
    with pytest.raises(ValidationError):
        services.membership_end(actor=None, membership=membership, ends_on=d("31.12.2027"))
    membership.refresh_from_db()
    assert membership.ends_on == d("31.12.2026")


def test_starting_and_ending_a_term_leaves_audit_entries(board):
    actor = person("sekretaer")
    membership = services.membership_start(actor=actor, person=person("anna"), body=board,
                                           role=Role.CHAIR, starts_on=d("01.09.2025"))
    services.membership_end(actor=actor, membership=membership, ends_on=d("30.06.2026"))
    entries = AuditEntry.objects.filter(object_type="governance.membership",
                                        object_id=str(membership.pk)).order_by("pk")
    assert [e.action for e in entries] == ["membership.start", "membership.end"]
    assert entries[0].actor == actor
    assert entries[0].organisation == board.organisation
    assert entries[1].summary["ends_on"] == {"before": None, "after": "2026-06-30"}


def test_department_gets_exactly_one_department_board():
    dept = department(organisation(), households=450)
    assert dept.board.kind == Body.Kind.DEPARTMENT_BOARD
    assert dept.board_size == 7
    with pytest.raises(IntegrityError), transaction.atomic():
        Body.objects.create(organisation=dept.organisation, kind=Body.Kind.DEPARTMENT_BOARD,
                            department=dept, name="En bestyrelse for meget")


def test_an_organisation_has_one_organisation_board():
    org = organisation()
    assert services.organisation_bodies_create(actor=None, organisation=org) == []
    with pytest.raises(IntegrityError), transaction.atomic():
        Body.objects.create(organisation=org, kind=Body.Kind.ORGANISATION_BOARD, name="Nr. 2")


def test_staff_cannot_be_assigned_to_another_organisations_area():
    ours, theirs = organisation("ours"), organisation("theirs")
    their_area = department(theirs).operations_area
    with pytest.raises(ValidationError) as error:
        services.staff_assignment_start(actor=None, person=person("finn"), organisation=ours,
                                        operations_area=their_area, role="operations_manager",
                                        starts_on=d("01.01.2026"))
    assert "operations_area" in error.value.message_dict


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints need PostgreSQL")
def test_database_itself_refuses_two_chairs_on_postgresql(board):
    """The service is the first guard; the exclusion constraint catches any write around it."""
    Membership.objects.create(person=person("anna"), body=board, role=Role.CHAIR,
                              starts_on=d("01.09.2025"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(person=person("bent"), body=board, role=Role.CHAIR,
                                  starts_on=d("01.01.2026"), ends_on=d("31.12.2026"))
    # Back-to-back terms are fine for the database too.
    Membership.objects.create(person=person("carl"), body=board, role=Role.VICE_CHAIR,
                              starts_on=d("01.09.2025"), ends_on=d("31.12.2025"))
    Membership.objects.create(person=person("dora"), body=board, role=Role.VICE_CHAIR,
                              starts_on=d("01.01.2026"))
