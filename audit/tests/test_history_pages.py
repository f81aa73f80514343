"""History pages (a plan's, a follow-up's, a person's) and an organisation's whole audit trail:
who may see them, what they show, the filters, the chain's check and the exports.

The demo's 2026 plan is published and its area-1 H1 follow-ups have moved along; the 2027
plan is a draft. sekretaer is the operations secretary (audit.view); ab-formand chairs the
board of department 1; anden-org belongs to the other organisation. Time is frozen on
02.03.2026 before the demo loads; pages are in English.
"""

import csv
import datetime
import hashlib
import io
import json

import pytest
from django.urls import reverse

from audit.models import AuditChain, AuditEntry
from audit.services import audit_record
from cycles import services as cycle_services
from cycles.models import AnnualPlan, FollowUp
from fixtures.demo import DEMO_SLUG
from governance.models import Organisation, Person
from tests.clock import frozen_before_demo, frozen_on
from tests.pages import as_, english_pages, html

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
_frozen_today = frozen_before_demo(TODAY)
_english = english_pages()


def plan_of(year: int, slug: str = DEMO_SLUG) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=slug, year=year)


def organisation(slug: str = DEMO_SLUG) -> Organisation:
    return Organisation.objects.get(slug=slug)


def closed_case() -> FollowUp:
    """Department 1's H1 follow-up, which the demo took through to closed."""
    return FollowUp.objects.get(plan=plan_of(2026), department__number=1, half="H1")


def trail_url(org: Organisation) -> str:
    return reverse("audit:organisation_audit", args=[org.pk])


def history_url(person: Person) -> str:
    return reverse("audit:person_history", args=[person.pk])


def actions_on(response) -> list[str]:
    return [row.entry.action for row in response.context["page"].object_list]


# --- a plan's and a follow-up's history -------------------------------------------------

def test_everyone_with_a_mandate_reads_a_plans_history_with_names_and_mandates(client, persona):
    response = as_(client, persona, "ab-formand").get(
        reverse("audit:plan_history", args=[plan_of(2026).pk]))
    assert response.status_code == 200
    page = html(response)
    actions = actions_on(response)
    assert {"plan.create", "plan.submit", "plan.sign", "plan.publish"} <= set(actions)
    assert actions.index("plan.publish") < actions.index("plan.create")  # newest first
    assert "Plan published" in page and "Plan signed" in page
    assert "Poul Eskildsen" in page  # the committee's chair signed, by name from his row
    assert "as formand, Driftsudvalget" in page  # the mandate he signed under
    assert "Initiative added" in page  # the plan's initiatives are part of its history
    assert "02.03.2026" in page


def test_a_plans_history_reads_state_changes_in_words(client, persona):
    response = as_(client, persona, "sekretaer").get(
        reverse("audit:plan_history", args=[plan_of(2026).pk]))
    submitted = next(row for row in response.context["page"].object_list
                     if row.entry.action == "plan.submit")
    summary = dict(submitted.summary)
    assert (summary["From"], summary["To"]) == ("draft", "review by the follow-up group")
    assert len(summary["Revision"]) == 12  # the revision's hash, shortened


def test_a_changed_initiative_shows_before_and_after_on_its_plans_history(client, persona):
    plan = plan_of(2027)
    initiative = plan.initiatives.order_by("position").first()
    old_title = initiative.title
    cycle_services.initiative_update(actor=persona("sekretaer"), initiative=initiative,
                                     title="Ny titel")
    response = as_(client, persona, "fg-formand").get(
        reverse("audit:plan_history", args=[plan.pk]))
    row = response.context["page"].object_list[0]
    assert (row.entry.action, row.action) == ("initiative.update", "Initiative changed")
    assert ("Title", f"{old_title} → Ny titel") in row.summary
    assert row.actor == "Mette Skovgaard"


def test_a_deleted_initiative_stays_in_its_plans_history(client, persona):
    plan = plan_of(2027)
    initiative = plan.initiatives.order_by("position").last()
    pk = initiative.pk
    cycle_services.initiative_update(actor=persona("sekretaer"), initiative=initiative,
                                     title="Snart væk")
    initiative.refresh_from_db()
    cycle_services.initiative_delete(actor=persona("sekretaer"), initiative=initiative)
    response = as_(client, persona, "sekretaer").get(
        reverse("audit:plan_history", args=[plan.pk]))
    rows = [row for row in response.context["page"].object_list
            if row.entry.object_id == str(pk)]
    assert [row.entry.action for row in rows] == ["initiative.delete", "initiative.update",
                                                  "initiative.create"]
    assert rows[0].object == f"Initiative #{pk}"  # gone: its kind and id
    assert ("Title", "Snart væk") in rows[0].summary


def test_a_plan_of_another_organisation_has_no_history_for_them(client, persona):
    response = as_(client, persona, "anden-org").get(
        reverse("audit:plan_history", args=[plan_of(2026).pk]))
    assert response.status_code == 404
    assert as_(client, persona, "anden-org").get(
        reverse("audit:plan_history", args=[999999])).status_code == 404


def test_a_follow_ups_history_has_its_steps_and_its_tasks(client, persona):
    from workflows.services import open_follow_up_tasks, task_release

    case = FollowUp.objects.get(plan=plan_of(2026), department__number=1, half="H2")
    task = open_follow_up_tasks(follow_up=case).first()
    task_release(actor=task.owner, task=task)
    response = as_(client, persona, "ab-formand").get(
        reverse("audit:follow_up_history", args=[case.pk]))
    assert response.status_code == 200
    row = response.context["page"].object_list[0]
    assert (row.entry.action, row.action) == ("task.release", "Task released to the queue")
    assert row.actor == task.owner.get_full_name()

    closed = as_(client, persona, "ab-formand").get(
        reverse("audit:follow_up_history", args=[closed_case().pk]))
    assert {"follow_up.mark_ready", "follow_up.acknowledge", "follow_up.close"} <= set(
        actions_on(closed))
    assert "Follow-up acknowledged by the board" in html(closed)


def test_a_follow_up_of_another_department_has_no_history_for_its_board(client, persona):
    response = as_(client, persona, "ab-anden").get(
        reverse("audit:follow_up_history", args=[closed_case().pk]))
    assert response.status_code == 404


def test_the_plan_and_follow_up_pages_link_to_their_history(client, persona):
    client = as_(client, persona, "ab-formand")
    plan_page = html(client.get(reverse("cycles:plan_detail", args=[plan_of(2026).pk])))
    assert reverse("audit:plan_history", args=[plan_of(2026).pk]) in plan_page
    case_page = html(client.get(reverse("cycles:follow_up_detail", args=[closed_case().pk])))
    assert reverse("audit:follow_up_history", args=[closed_case().pk]) in case_page


# --- a person's history -----------------------------------------------------------------

def test_my_history_shows_my_sign_ins_and_my_terms_and_is_in_the_menu(client, persona):
    me = persona("ab-formand")
    client.force_login(me)  # a sign-in, recorded
    response = client.get(reverse("home"))
    assert history_url(me) in html(response)
    response = client.get(history_url(me))
    assert response.status_code == 200
    actions = set(actions_on(response))
    assert {"auth.login", "membership.start"} <= actions
    assert "My history" in html(response)
    assert "Term of office started" in html(response)


def test_the_operations_secretary_reads_a_members_history_of_her_organisation_only(
        client, persona):
    member = persona("ab-formand")
    client.force_login(member)  # his sign-in: the global chain, not the organisation's
    response = as_(client, persona, "sekretaer").get(history_url(member))
    assert response.status_code == 200
    entries = [row.entry for row in response.context["page"].object_list]
    assert entries and {e.chain for e in entries} == {f"org:{organisation().pk}"}
    assert "auth.login" not in {e.action for e in entries}
    assert "Boligforeningen Søbredden" in html(response)  # says whose entries these are
    # Only her own page links to the whole trails she keeps.
    assert reverse("audit:organisation_audit", args=[organisation().pk]) not in html(response)
    own = client.get(history_url(persona("sekretaer")))
    assert reverse("audit:organisation_audit", args=[organisation().pk]) in html(own)


@pytest.mark.parametrize(("viewer", "person"), [
    ("ab-medlem", "ab-formand"),  # a fellow board member
    ("ob-formand", "ab-formand"),  # the organisation board's chair: no audit.view
    ("sekretaer", "anden-org"),  # another organisation's person
    ("anden-org", "sekretaer"),
])
def test_a_persons_history_is_404_for_anyone_else(client, persona, viewer, person):
    response = as_(client, persona, viewer).get(history_url(persona(person)))
    assert response.status_code == 404


def test_an_unknown_person_is_404_too(client, persona):
    assert as_(client, persona, "sekretaer").get(
        reverse("audit:person_history", args=[999999])).status_code == 404


# --- an organisation's whole trail ------------------------------------------------------

def test_the_operations_secretary_reads_the_whole_trail_with_the_chain_intact(client, persona):
    org = organisation()
    response = as_(client, persona, "sekretaer").get(trail_url(org))
    assert response.status_code == 200
    status = response.context["status"]
    head = AuditChain.objects.get(chain=f"org:{org.pk}")
    assert status.intact and status.entries == head.sequence
    page = html(response)
    assert "The chain is intact." in page and head.last_hash in page
    rows = response.context["page"].object_list
    assert len(rows) == 50 and rows[0].entry.sequence == head.sequence  # newest first
    assert {row.entry.chain for row in rows} == {f"org:{org.pk}"}
    second = client.get(trail_url(org), {"page": 2})
    assert second.context["page"].object_list[0].entry.sequence == head.sequence - 50


@pytest.mark.parametrize(("username", "status"), [
    ("ob-formand", 403),  # a mandate in the organisation, but not the secretary's
    ("driftschef", 403),
    ("ab-formand", 403),
    ("anden-org", 404),  # no mandate there: the organisation is not even confirmed
])
def test_the_whole_trail_is_the_operations_secretarys(client, persona, username, status):
    client = as_(client, persona, username)
    assert client.get(trail_url(organisation())).status_code == status
    assert client.get(trail_url(organisation()), {"export": "csv"}).status_code == status
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def tamper(sql: str, params: list) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_a_tampered_entry_is_named_as_the_first_broken_one(client, persona):
    org = organisation()
    victim = AuditEntry.objects.get(chain=f"org:{org.pk}", sequence=7)
    tamper("UPDATE audit_auditentry SET summary = %s WHERE id = %s", ['{"x": 1}', victim.pk])
    response = as_(client, persona, "sekretaer").get(trail_url(org))
    status = response.context["status"]
    assert not status.intact and status.problem.sequence == 7
    assert "The chain is broken." in html(response)
    assert "The first broken entry is number 7" in html(response)


def add_entries_on(day: datetime.date, actor, count: int = 1, action: str = "plan.update"):
    with frozen_on(day, 12):
        for _n in range(count):
            audit_record(actor=actor, action=action, obj=plan_of(2027),
                         organisation=plan_of(2027).organisation, summary={"title": "x"})


def test_the_trail_filters_by_period_action_and_person(client, persona):
    org, secretary, chair = organisation(), persona("sekretaer"), persona("fg-formand")
    add_entries_on(datetime.date(2026, 3, 5), secretary, 2)
    add_entries_on(datetime.date(2026, 3, 6), chair, 1, action="plan.comment")
    add_entries_on(datetime.date(2026, 3, 9), chair, 1)
    client = as_(client, persona, "sekretaer")

    def shown(**params):
        response = client.get(trail_url(org), params)
        assert response.status_code == 200
        return [(row.entry.action, row.entry.occurred_at.date())
                for row in response.context["page"].object_list]

    assert shown(since="05.03.2026", until="06.03.2026") == [
        ("plan.comment", datetime.date(2026, 3, 6)),
        ("plan.update", datetime.date(2026, 3, 5)), ("plan.update", datetime.date(2026, 3, 5))]
    assert shown(since="06.03.2026", action="plan.update") == [
        ("plan.update", datetime.date(2026, 3, 9))]
    assert [a for a, _d in shown(since="05.03.2026", action="plan.")] == [
        "plan.update", "plan.comment", "plan.update", "plan.update"]
    assert shown(since="05.03.2026", actor=chair.pk) == [
        ("plan.update", datetime.date(2026, 3, 9)), ("plan.comment", datetime.date(2026, 3, 6))]


@pytest.mark.parametrize("params", [
    {"since": "31.02.2026"}, {"since": "2026-03-01"}, {"since": "05.03.2026",
                                                       "until": "04.03.2026"},
    {"until": "31.12.9999"}, {"since": "01.01.0001"},
    {"action": "plan.nonsense"}, {"actor": "999999"}, {"actor": "abc"}, {"export": "pdf"},
])
def test_bad_filters_answer_400_with_the_fields_error(client, persona, params):
    response = as_(client, persona, "sekretaer").get(trail_url(organisation()), params)
    assert response.status_code == 400
    assert "There is a problem" in html(response)
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_another_organisations_person_is_not_offered_as_a_filter(client, persona):
    response = as_(client, persona, "sekretaer").get(trail_url(organisation()),
                                                     {"actor": persona("anden-org").pk})
    assert response.status_code == 400


# --- exports ----------------------------------------------------------------------------

def test_the_csv_export_has_every_filtered_entry_and_records_itself(client, persona):
    org = organisation()
    add_entries_on(datetime.date(2026, 3, 5), persona("sekretaer"), 3)
    response = as_(client, persona, "sekretaer").get(
        trail_url(org), {"since": "05.03.2026", "export": "csv"})
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:5] == ["Time", "No.", "Who", "Acting as", "What happened"]
    assert [row[5] for row in rows[1:]] == ["plan.update"] * 3
    assert rows[1][0] == "05.03.2026 12:00" and rows[1][2] == "Mette Skovgaard"
    assert int(rows[1][1]) < int(rows[3][1])  # oldest first
    entry = AuditEntry.objects.get(action="audit.export")
    assert (entry.actor, entry.chain, entry.object_id) == (persona("sekretaer"),
                                                           f"org:{org.pk}", str(org.pk))
    assert entry.summary["rows"] == 3 and entry.summary["format"] == "csv"
    assert entry.summary["filters"] == {"since": "05.03.2026"}
    assert entry.summary["up_to_sequence"] == entry.sequence - 1  # the file ends before it


def test_the_xlsx_export_opens_with_real_times(client, persona):
    from openpyxl import load_workbook

    add_entries_on(datetime.date(2026, 3, 5), persona("sekretaer"), 2)
    response = as_(client, persona, "sekretaer").get(
        trail_url(organisation()), {"since": "05.03.2026", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][4] == "What happened" and len(rows) == 3
    assert rows[1][0] == datetime.datetime(2026, 3, 5, 12, 0)  # noqa: DTZ001 (spreadsheet time)
    assert rows[1][4] == "Plan edited"
    assert AuditEntry.objects.get(action="audit.export").summary["format"] == "xlsx"


def sha256_of(content: dict, previous: str) -> str:
    """The check an auditor runs, written out here without audit.chain (docs/security.md)."""
    data = json.dumps({"content": content, "previous": previous}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def test_the_json_lines_export_can_be_verified_offline(client, persona):
    org = organisation()
    response = as_(client, persona, "sekretaer").get(trail_url(org), {"export": "jsonl"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.jsonl"')
    head, *entries = [json.loads(line) for line in response.content.decode().splitlines()]
    assert head["type"] == "chain" and head["chain"] == f"org:{org.pk}"
    previous = "0" * 64
    for number, line in enumerate(entries, start=1):
        assert line["sequence"] == number and line["previous_hash"] == previous
        assert sha256_of(line["content"], line["previous_hash"]) == line["entry_hash"]
        previous = line["entry_hash"]
    assert (head["head"]["sequence"], head["head"]["hash"]) == (len(entries), previous)
    assert "Mette" not in response.content.decode()  # ids, not names
    assert AuditEntry.objects.get(action="audit.export").summary["rows"] == len(entries)


# --- query counts -----------------------------------------------------------------------

def add_entries_about(objects: list, actor, count: int, action: str = "plan.update") -> None:
    """``count`` more entries, about each of ``objects`` in turn (the kinds a page shows)."""
    for number in range(count):
        obj = objects[number % len(objects)]
        audit_record(actor=actor, action=action, obj=obj, organisation=organisation(),
                     summary={"title": "x", "person": actor.pk, "body": 1})


def test_the_trail_page_runs_the_same_queries_however_long_the_trail(
        client, persona, django_assert_num_queries):
    org = organisation()
    client = as_(client, persona, "sekretaer")
    client.get(trail_url(org))  # warm the session
    params = {"action": "membership.", "page": 2}
    # 1 session, 2 user, 3 the organisation, 4-5 the secretary's seats and staff roles,
    # 6 count, 7 the page's entries (actor joined), 8 the people they name, 9 the
    # memberships they are about, 10 the bodies their summaries name, 11 the chain's head,
    # 12 its entries (the check), 13 the people the actor filter offers.
    with django_assert_num_queries(13):
        client.get(trail_url(org), params)
    add_entries_about(list(org.bodies.first().memberships.all()), persona("sekretaer"), 60,
                      action="membership.start")
    with django_assert_num_queries(13):
        response = client.get(trail_url(org), params)
    assert response.context["page"].paginator.count == 150


def test_history_pages_run_the_same_queries_however_long_the_history(
        client, persona, django_assert_num_queries):
    plan = plan_of(2027)
    client = as_(client, persona, "fg-formand")
    url = reverse("audit:plan_history", args=[plan.pk])
    client.get(url)
    # 1 session, 2 user, 3 the plan, 4 its themes, 5-6 the user's roles (plan.view),
    # 7 count, 8 the page's entries, 9 the people they name, 10 initiatives, 11 plans,
    # 12 the bodies their summaries name.
    add_entries_about([plan, plan.initiatives.first()], persona("sekretaer"), 2)
    with django_assert_num_queries(12):
        client.get(url)
    add_entries_about([plan, plan.initiatives.first()], persona("sekretaer"), 60)
    with django_assert_num_queries(12):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 50


def test_a_persons_history_runs_the_same_queries_however_long(
        client, persona, django_assert_num_queries):
    me = persona("sekretaer")
    client = as_(client, persona, "sekretaer")
    url = history_url(me)
    client.get(url)
    about = [plan_of(2027), plan_of(2027).initiatives.first(), me.staff_assignments.first()]
    # 1 session, 2 user, 3 the person, 4 the organisations whose trail she may read, 5-6 her
    # roles there, 7 count, 8 the page's entries, 9 the people they name, 10-12 the plans,
    # initiatives and staff roles they are about, 13 the bodies their summaries name.
    add_entries_about(about, me, 3)
    with django_assert_num_queries(13):
        client.get(url)
    add_entries_about(about, me, 60)
    with django_assert_num_queries(13):
        client.get(url)
