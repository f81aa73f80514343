"""The export of everything about a person: the /me/data/ page, the person_data_export command
and what the JSON holds — every section, their own data, nobody else's, no secrets."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation

from audit.models import AuditEntry
from governance.models import Person
from privacy.selectors import EXPORT_SECTIONS, person_data
from privacy.services import person_data_export
from privacy.tests.footprint import TODAY, leave_footprint
from tests.clock import frozen_before_demo
from tests.pages import as_, html
from workflows.selectors import STEP_LABELS

pytestmark = pytest.mark.django_db

_frozen_today = frozen_before_demo(TODAY)
PAGE = "/me/data/"


def test_the_export_has_every_section_with_the_persons_own_data(persona):
    footprint = leave_footprint(persona)
    person = footprint.person

    data = json.loads(json.dumps(person_data(person=person)))  # plain JSON

    assert list(data) == ["format", "version", "generated_at", "person", *EXPORT_SECTIONS]
    assert data["profile"] == {
        "id": person.pk, "username": "ab-formand", "first_name": "Jonas", "last_name": "Friis",
        "email": person.email, "phone": "+45 20 30 40 50", "language": "da",
        "is_active": True, "date_joined": data["profile"]["date_joined"],
        "last_login": data["profile"]["last_login"]}
    assert data["profile"]["last_login"].startswith("2026-03-02T10:")  # ISO, Copenhagen
    assert data["profile"]["last_login"].endswith("+01:00")
    assert {m["role"] for m in data["memberships"]} == {"chair", "member"}
    assert data["memberships"][0]["starts_on"] == "2025-09-15"
    assert [d["reason"] for d in data["delegations_given"]] == ["Ferie på Mallorca med familien"]
    assert data["delegations_given"][0]["cancelled_at"] is not None
    assert [s["as"] for s in data["signing_authorisations"]] == ["chair"]
    [done] = [t for t in data["tasks_completed"] if t["follow_up"] == footprint.follow_up.pk]
    assert (done["step"], done["status"], done["finished"][:11]) == (
        "acknowledge", "DONE", "2026-03-02T")
    with translation.override("da"):  # in his language, as his inbox shows it
        assert done["title"] == str(STEP_LABELS["acknowledge"])
    assert [c["text"] for c in data["task_comments"]] == ["Jeg tager den på mødet."]
    assert "Bestyrelsen vil gerne se tallene for vaskeriet." in [
        r["text"] for r in data["board_remarks"]]
    assert footprint.follow_up.pk in [f["id"] for f in data["follow_ups_acknowledged"]]
    assert {n["as"] for n in data["notifications"]} == {"recipient", "copy"}
    assert data["preferences"]["reminders"] == "each"
    assert [f["name"] for f in data["preferences"]["saved_task_filters"]] == ["Mine frister"]
    assert len(data["calendar_feeds"]) == 1 and len(data["api_tokens"]) == 1
    assert [s["ip_address"] for s in data["sign_ins"]] == ["10.0.0.7"]
    assert [s["ip_address"] for s in data["failed_sign_ins"]] == ["10.0.0.8"]
    actions = {e["action"] for e in data["audit_entries"]}
    assert {"auth.login", "auth.login_failed", "membership.start", "delegation.create",
            "follow_up.acknowledge", "calendar_feed.create"} <= actions


def test_the_export_holds_no_one_elses_personal_data_and_no_secrets(persona):
    footprint = leave_footprint(persona)
    text = json.dumps(person_data(person=footprint.person), ensure_ascii=False)

    others = Person.objects.exclude(pk=footprint.person.pk)
    leaked = sorted({value for other in others
                     for value in (other.get_full_name(), other.email) if value and value in text})
    assert leaked == []
    # The substitute, the vice-chair and the staff who answered are there, as ids.
    assert f'"substitute": {persona("ab-medlem").pk}' in text
    password_hash = Person.objects.get(pk=footprint.person.pk).password
    for secret in (footprint.calendar_token, footprint.api_token, password_hash, "/unsubscribe/"):
        assert secret not in text


def test_the_export_takes_a_fixed_number_of_queries(persona, django_assert_num_queries):
    footprint = leave_footprint(persona)
    # 23 queries, one per list (the preferences two: the stored choice and the saved filters),
    # then the ids of the memberships, staff assignments and delegations (3) and the audit
    # entries about any of them (1): 27, for a busy person and a quiet one alike.
    for person in (footprint.person, persona("ab-anden")):
        with django_assert_num_queries(27):
            person_data(person=person)


def test_the_page_explains_and_the_button_downloads_the_file_and_is_recorded(client, persona):
    client = as_(client, persona, "ab-medlem")
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Download your data" in html(page) and 'method="post"' in html(page)
    assert not AuditEntry.objects.filter(action="person.export").exists()  # looking is free

    response = client.post(PAGE)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="aarshjul-ab-medlem-2026-03-02.json"')
    data = json.loads(response.content)
    assert data["profile"]["username"] == "ab-medlem"
    entry = AuditEntry.objects.get(action="person.export")
    assert (entry.actor, entry.object_id, entry.summary) == (
        persona("ab-medlem"), str(persona("ab-medlem").pk),
        {"person": persona("ab-medlem").pk, "via": "page"})


def test_the_page_needs_a_sign_in(client):
    assert client.get(PAGE).status_code == 302
    assert client.post(PAGE).status_code == 302
    assert not AuditEntry.objects.filter(action="person.export").exists()


def test_someone_else_cannot_export_a_person_but_a_superuser_can(persona):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        person_data_export(actor=persona("sekretaer"), person=persona("ab-formand"))
    admin = Person.objects.filter(is_superuser=True).first()
    data = person_data_export(actor=admin, person=persona("ab-formand"), via="admin")
    assert data["profile"]["username"] == "ab-formand"


def test_the_command_writes_the_file_and_is_recorded(persona, tmp_path):
    target = tmp_path / "export.json"
    call_command("person_data_export", "ab-formand", "--output", str(target),
                 stderr=io.StringIO())
    assert json.loads(target.read_text(encoding="utf-8"))["profile"]["last_name"] == "Friis"
    out = io.StringIO()
    call_command("person_data_export", "ab-medlem", stdout=out)
    assert json.loads(out.getvalue())["profile"]["username"] == "ab-medlem"
    assert [e.summary["via"] for e in AuditEntry.objects.filter(action="person.export")] == [
        "command", "command"]
