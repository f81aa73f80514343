"""Erasure by pseudonymisation (privacy.services.person_erase): refused while the person is part
of the running governance; afterwards their name, username, e-mail address and phone number are
nowhere in the database — every text column of every table is read to prove it — and the audit
trail still verifies."""

import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import translation
from viewflow.workflow.models import Task

from audit.models import AuditEntry
from cycles.models import Initiative, PlanRevision
from governance.models import Membership, Person, StaffAssignment
from privacy.selectors import erased_username
from privacy.services import person_erase
from privacy.tests.footprint import TODAY, leave_footprint, step_down, superuser
from tests.clock import frozen_before_demo
from tests.pages import html
from workflows import services as workflow_services
from workflows.services import OPEN_STATUSES

pytestmark = pytest.mark.django_db

_frozen_today = frozen_before_demo(TODAY)


@pytest.fixture(autouse=True)
def _english():
    """The refusals are read in English here (the installation's language is Danish)."""
    with translation.override("en"):
        yield


def database_texts():
    """(table, column, text) for every value of every column of every table, as text."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(include_views=False):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("utf-8", "replace")
                    yield table, column, value if isinstance(value, str) else json.dumps(
                        value, default=str, ensure_ascii=False)


def occurrences(needles: list[str]) -> list[tuple[str, str, str]]:
    lowered = [needle.lower() for needle in needles if needle]
    return sorted({(table, column, needle) for table, column, text in database_texts()
                   for needle in lowered if needle in text.lower()})


def identity(person: Person) -> list[str]:
    return [person.get_full_name(), person.username, person.email, person.phone]


# --- refusals -------------------------------------------------------------------------------

def test_a_person_holding_a_seat_cannot_be_erased(persona):
    chair = persona("ab-formand")
    with pytest.raises(ValidationError) as error:
        person_erase(actor=superuser(), person=chair)
    assert "still holds 2 seat(s) in a body" in " ".join(error.value.messages)
    assert Person.objects.get(pk=chair.pk).username == "ab-formand"


def test_staff_and_open_tasks_block_erasure_until_they_are_ended_and_moved(persona):
    manager = persona("driftschef")
    messages = " ".join(pytest.raises(ValidationError, person_erase, actor=superuser(),
                                      person=manager).value.messages)
    assert "still has 1 staff assignment(s)" in messages
    assert "open task(s); reassign or finish them first" in messages


def test_a_running_delegation_blocks_erasure(persona):
    chair, member = persona("ab-formand"), persona("ab-medlem")
    workflow_services.delegation_create(
        actor=chair, person=chair, substitute=member,
        organisation_id=Membership.objects.filter(person=chair).first().body.organisation_id,
        starts_on=TODAY + datetime.timedelta(days=10), ends_on=TODAY + datetime.timedelta(days=12))
    step_down(persona, chair)
    with pytest.raises(ValidationError) as error:
        person_erase(actor=superuser(), person=chair)
    assert error.value.messages == [
        "Jonas Friis is part of 1 delegation(s) that have not ended; cancel them first."]


def test_only_a_superuser_erases_and_not_themself(persona):
    step_down(persona, persona("ab-formand"))
    with pytest.raises(PermissionDenied):
        person_erase(actor=persona("sekretaer"), person=persona("ab-formand"))
    admin = superuser()
    with pytest.raises(ValidationError, match="You cannot erase yourself"):
        person_erase(actor=admin, person=admin)


# --- erasure --------------------------------------------------------------------------------

def test_after_erasure_the_person_is_nowhere_in_the_database_and_the_audit_trail_verifies(
        persona):
    footprint = leave_footprint(persona)
    person = footprint.person
    old = identity(person)
    assert all(old)
    found_before = occurrences(old)
    assert {table for table, _column, _needle in found_before} >= {
        "governance_person", "axes_accesslog", "axes_accessattempt", "django_admin_log",
        "cycles_followuptransition", "notifications_notification", "otp_totp_totpdevice"}
    step_down(persona, person)
    entries_before = AuditEntry.objects.count()

    removed = person_erase(actor=superuser(), person=person)

    assert occurrences(old) == []
    person.refresh_from_db()
    assert (person.first_name, person.last_name, person.username, person.email,
            person.phone) == ("Slettet person", f"#{person.pk}", erased_username(person.pk),
                              "", "")
    assert not person.has_usable_password() and not person.is_active
    assert removed["sessions"] == 1 and removed["api_tokens"] == 1
    assert removed["sign_in_records"] == 2  # the sign-in log and the failed attempt
    assert removed["two_factor_devices"] == 2 and removed["calendar_feeds"] == 1
    # What he did stays, attributed to the pseudonym; the audit trail got one entry more.
    assert footprint.follow_up.board_remarks.get().author_id == person.pk
    assert Membership.objects.filter(person=person).count() == 2
    erase = AuditEntry.objects.get(action="person.erase")
    assert AuditEntry.objects.count() == entries_before + 1
    assert erase.summary["person"] == person.pk and erase.object_id == str(person.pk)
    assert "Friis" not in json.dumps(erase.summary)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "The audit trail is intact" in out.getvalue()


def test_pages_show_the_pseudonym_where_the_name_was(client, persona):
    footprint = leave_footprint(persona)
    step_down(persona, footprint.person)
    person_erase(actor=superuser(), person=footprint.person)
    client.force_login(persona("driftschef"))
    page = html(client.get(f"/follow-ups/{footprint.follow_up.pk}/",
                           HTTP_ACCEPT_LANGUAGE="en"))
    assert f"Slettet person #{footprint.person.pk}" in page
    assert "Jonas Friis" not in page
    # His secrets no longer open anything.
    assert Client().get(f"/calendar/{footprint.calendar_token}.ics").status_code == 404
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {footprint.api_token}"
                        ).status_code == 401


def test_a_signed_plan_revision_keeps_an_initiative_owners_username_as_signed(persona):
    """The one documented exception (docs/security.md): a plan revision is the signed text,
    hashed; it names initiative owners by username and is not rewritten."""
    owner = persona("serviceleder")
    assert Initiative.objects.filter(owner=owner).exists()
    Task.objects.filter(owner=owner, status__in=OPEN_STATUSES).update(owner=None)
    for assignment in StaffAssignment.objects.filter(person=owner):
        from governance.services import staff_assignment_end

        staff_assignment_end(actor=None, assignment=assignment,
                             ends_on=TODAY - datetime.timedelta(days=1))
    old_name, old_email = owner.get_full_name(), owner.email

    person_erase(actor=superuser(), person=owner)

    assert occurrences([old_name, old_email]) == []
    assert PlanRevision.objects.filter(canonical__contains='"owner":"serviceleder"').exists()
    assert Initiative.objects.filter(owner=owner).exists()  # still the owner, as the pseudonym


def test_erasing_twice_is_refused(persona):
    person = persona("ab-medlem")
    step_down(persona, persona("ab-formand"))
    for membership in Membership.objects.filter(person=person):
        from governance.services import membership_end

        membership_end(actor=None, membership=membership,
                       ends_on=TODAY - datetime.timedelta(days=1))
    person_erase(actor=None, person=person, via="command")
    with pytest.raises(ValidationError, match="already been erased"):
        person_erase(actor=None, person=Person.objects.get(pk=person.pk))


# --- the command and the admin --------------------------------------------------------------

def test_the_command_asks_before_it_erases(persona, monkeypatch):
    person = persona("ab-formand")
    step_down(persona, person)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing was erased"):
        call_command("erase_person", "ab-formand")
    assert Person.objects.filter(username="ab-formand").exists()

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    out = io.StringIO()
    call_command("erase_person", "ab-formand", stdout=out)
    assert f"the username is now slettet-{person.pk}" in out.getvalue()
    entry = AuditEntry.objects.get(action="person.erase")
    assert (entry.actor, entry.summary["via"]) == (None, "command")


def test_the_command_names_why_it_refuses(persona):
    with pytest.raises(CommandError, match="Not erased: Jonas Friis still holds 2 seat"):
        call_command("erase_person", "ab-formand", "--yes")
    with pytest.raises(CommandError, match="No person with the username 'nobody'"):
        call_command("erase_person", "nobody", "--yes")


def test_the_admin_action_confirms_then_erases_for_superusers_only(client, persona):
    person, holding = persona("ab-formand"), persona("ab-medlem")
    step_down(persona, person)
    admin = superuser()
    client.force_login(admin)
    selected = {"action": "erase_people", "_selected_action": [person.pk, holding.pk]}
    page = client.post("/admin/governance/person/", selected, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = html(page)
    assert "Sofie Lykke" in text and "cannot be erased:" in text  # she still sits on the board
    assert "Yes, erase 1 person" in text
    assert Person.objects.get(pk=person.pk).username == "ab-formand"  # nothing yet

    done = client.post("/admin/governance/person/", {**selected, "post": "yes"},
                       HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 302
    assert Person.objects.get(pk=person.pk).username == erased_username(person.pk)
    assert Person.objects.get(pk=holding.pk).username == "ab-medlem"  # refused, untouched
    entry = AuditEntry.objects.get(action="person.erase")
    assert (entry.actor, entry.summary["via"]) == (admin, "admin")

    staff = persona("sekretaer")
    Person.objects.filter(pk=staff.pk).update(is_staff=True)
    client.force_login(staff)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_person", "change_person"]))
    changelist = html(client.get("/admin/governance/person/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "erase_people" not in changelist


def test_every_row_that_hangs_on_a_person_by_cascade_is_handled_by_erasure():
    """A new table that would be deleted with a person (CASCADE) is personal to them: erasure
    must decide about it. This list is what privacy.services.person_erase handles."""
    handled = {
        ("admin.LogEntry", "user"),  # kept (the admin's own log), descriptions scrubbed
        ("authtoken.Token", "user"), ("guardian.UserObjectPermission", "user"),
        ("otp_totp.TOTPDevice", "user"), ("otp_static.StaticDevice", "user"),
        ("viewflow.Task", "owner"),  # kept: erasure waits until none is open
        ("workflows.SavedTaskFilter", "person"),
        ("notifications.NotificationPreference", "person"),
        ("notifications.Notification", "recipient"), ("notifications.CalendarFeed", "person"),
    }
    cascading = {(rel.related_model._meta.label, rel.field.name)
                 for rel in Person._meta.related_objects
                 if rel.on_delete.__name__ == "CASCADE"}
    assert cascading - handled == set()
