"""The annual-plan API: the whole cycle with the demo personas, and every way a request fails.

The day is frozen (2027-04-20, Copenhagen) before the demo loads, so the demo's terms of office,
"today" for the presentation date and every timestamp are the same on every run.
"""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from cycles import services as cycles
from cycles.models import AnnualPlan, Initiative, InitiativeEvaluation, SignOff
from fixtures.demo import DEMO_PASSWORD
from governance.models import Department, OperationsArea
from workflows.services import open_plan_tasks, plan_act, plan_create_and_route

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 4, 20)
ACTIONS = ["submit", "comment", "close-review", "return", "recommend", "sign", "publish",
           "register-presentation", "evaluate"]


@pytest.fixture(autouse=True)
def _frozen_day():
    moment = datetime.datetime(2027, 4, 20, 10, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    with time_machine.travel(moment, tick=False):
        yield


def client_for(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def plan_of(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug="soebredden", year=year)


def url(plan, action: str = "") -> str:
    return f"/api/v1/plans/{plan.pk}/" + (f"{action}/" if action else "")


def post(client, plan, action, data=None):
    return client.post(url(plan, action), data or {}, format="json")


def initiative_ids(detail: dict) -> list[int]:
    return [i["id"] for theme in detail["themes"] for i in theme["initiatives"]]


def all_rows(client, address):
    rows, page = [], address
    while page:
        body = client.get(page).json()
        rows += body["results"]
        page = body["next"]
    return rows


def open_task_names(plan) -> list[str]:
    return [task.flow_task.name for task in open_plan_tasks(plan=plan)]


def walk_to(plan, state, persona):
    """Take a plan (the 2027 draft) through the services to ``state``, the way the API does."""
    people = {name: persona(name) for name in ("sekretaer", "fg-formand", "du-formand",
                                               "ob-formand")}
    State = AnnualPlan.State
    themes = {t.number: t for t in plan.programme.themes.all()}
    for number in (2, 4) if plan.state == State.DRAFT else ():
        cycles.theme_justification_set(actor=people["sekretaer"], plan=plan,
                                        theme=themes[number], text="Ikke i år.")
    approve = {"decision": SignOff.Decision.APPROVE, "password": DEMO_PASSWORD}
    # From each state: the next step's service, who takes it, and its input.
    steps = {
        State.DRAFT: (cycles.plan_submit, "sekretaer", {}),
        State.FOLLOW_UP_GROUP_REVIEW: (cycles.plan_close_review, "fg-formand",
                                       {"recommendation": "Anbefales."}),
        State.OPERATIONS_COMMITTEE: (cycles.plan_sign, "du-formand",
                                     {**approve, "comment": "Indstilles."}),
        State.ORGANISATION_BOARD: (cycles.plan_sign, "ob-formand",
                                   {**approve, "comment": "Godkendt."}),
        State.PUBLISHED: (cycles.plan_register_presentation, "sekretaer",
                          {"presented_on": TODAY, "minutes_reference": "Referat pkt. 4"}),
    }
    while plan.state != state:
        service, who, kwargs = steps[plan.state]
        plan_act(service, actor=people[who], plan=plan, **kwargs)
        plan.refresh_from_db()
    assert plan.state == state
    return plan


# --- the whole cycle ------------------------------------------------------------------------

def test_the_2027_draft_goes_through_the_whole_cycle_by_api(demo, persona):
    plan = plan_of(2027)
    secretary = client_for(persona("sekretaer"))
    areas = list(OperationsArea.objects.filter(organisation=plan.organisation)
                 .order_by("number"))
    departments = list(Department.objects.filter(organisation=plan.organisation)
                       .order_by("number"))

    # The draft covers themes 1 and 3: submitting is not offered, and the blockers say why.
    detail = secretary.get(url(plan)).json()
    assert detail["state"] == "draft" and detail["current_revision"] is None
    assert [t["number"] for t in detail["themes"]] == [1, 2, 3, 4]
    assert [len(t["initiatives"]) for t in detail["themes"]] == [1, 0, 1, 0]
    assert len(detail["submit_blockers"]) == 2
    assert detail["allowed_actions"] == ["edit"]
    first = detail["themes"][0]["initiatives"][0]
    assert first["theme_number"] == 1 and first["expected_saving"] == "600000.00"
    assert first["origin"] == Initiative.objects.get(plan=plan_of(2026), position=1).pk
    assert detail["themes"][2]["initiatives"][0]["operations_areas"] == [a.pk for a in areas[:2]]
    assert post(secretary, plan, "submit").status_code == 400

    # Theme 2 gets an initiative for two departments, theme 4 a written justification.
    themes = {t["number"]: t["id"] for t in detail["themes"]}
    created = secretary.post(url(plan, "initiatives"), {
        "theme": themes[2], "title": "Velkomstmøder for nye beboere", "scope": "departments",
        "departments": [departments[0].pk, departments[1].pk], "expected_saving": "12500.50",
        "planned_start": "2027-03-01", "planned_end": "2027-11-30", "progress": 10,
    }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["theme_number"] == 2 and body["departments"] == [departments[0].pk,
                                                                 departments[1].pk]
    assert body["expected_saving"] == "12500.50" and body["status"] == "planned"
    justified = post(secretary, plan, "theme-justification",
                     {"theme": themes[4], "text": "Driftsanalysen fra 2026 løber videre."})
    assert justified.status_code == 200
    detail = justified.json()
    assert detail["submit_blockers"] == []
    assert detail["themes"][3]["justification"] == "Driftsanalysen fra 2026 løber videre."
    assert detail["allowed_actions"] == ["edit", "submit"]

    # Submit: a first revision, the follow-up group's task.
    submitted = post(secretary, plan, "submit")
    assert submitted.status_code == 200
    detail = submitted.json()
    assert detail["state"] == "follow_up_group_review"
    assert detail["state_label"]
    revision = detail["current_revision"]
    assert revision["number"] == 1 and revision["short_hash"] == revision["sha256"][:10]
    assert detail["allowed_actions"] == []  # the secretary only reads now
    assert open_task_names(plan) == ["review"]

    # Submitting twice answers 409 naming the state the plan is in.
    again = post(secretary, plan, "submit")
    assert again.status_code == 409
    assert again.json()["current_state"] == "follow_up_group_review"
    assert again.json()["code"] == "conflict"

    # A follow-up group member comments on one initiative.
    member = client_for(persona("fg-medlem"))
    assert member.get(url(plan)).json()["allowed_actions"] == ["comment"]
    commented = post(member, plan, "comment",
                     {"text": "Husk tolkning ved møderne.", "initiative": body["id"]})
    assert commented.status_code == 200
    comments = member.get(url(plan, "comments")).json()["results"]
    assert [(c["text"], c["initiative"], c["revision"]["number"]) for c in comments] == [
        ("Husk tolkning ved møderne.", body["id"], 1)]

    # The follow-up group's chair closes the review.
    fg_chair = client_for(persona("fg-formand"))
    assert set(fg_chair.get(url(plan)).json()["allowed_actions"]) == {
        "comment", "close-review", "return"}
    closed = post(fg_chair, plan, "close-review",
                  {"recommendation": "Følgegruppen anbefaler planen."})
    assert closed.status_code == 200
    assert closed.json()["state"] == "operations_committee"
    assert closed.json()["follow_up_group_recommendation"] == "Følgegruppen anbefaler planen."

    # The operations committee's chair: a wrong password or a stale hash is refused.
    du_chair = client_for(persona("du-formand"))
    detail = du_chair.get(url(plan)).json()
    assert set(detail["allowed_actions"]) == {"return", "recommend", "sign"}
    sha256 = detail["current_revision"]["sha256"]
    wrong = post(du_chair, plan, "recommend", {"recommendation": "Indstilles.",
                                               "password": "forkert"})
    assert wrong.status_code == 400
    assert list(wrong.json()["errors"]) == ["password"]
    stale = post(du_chair, plan, "recommend", {"recommendation": "Indstilles.",
                                               "password": DEMO_PASSWORD,
                                               "expected_sha256": "0" * 64})
    assert stale.status_code == 409 and stale.json()["current_state"] == "operations_committee"
    recommended = post(du_chair, plan, "recommend", {
        "recommendation": "Driftsudvalget indstiller planen.", "password": DEMO_PASSWORD,
        "expected_sha256": sha256})
    assert recommended.status_code == 200, recommended.json()
    detail = recommended.json()
    assert detail["state"] == "organisation_board"
    assert detail["operations_committee_recommendation"] == "Driftsudvalget indstiller planen."
    assert detail["last_revision_signed_by_you"]["sha256"] == sha256
    # du-formand sits on the board but does not chair it: nothing to do there.
    assert detail["allowed_actions"] == []

    # The board's chair signs: publication follows at once (the flow's automatic step).
    ob_chair = client_for(persona("ob-formand"))
    assert set(ob_chair.get(url(plan)).json()["allowed_actions"]) == {"return", "sign"}
    signed = post(ob_chair, plan, "sign", {"decision": "approve", "password": DEMO_PASSWORD,
                                           "comment": "Organisationsbestyrelsen godkender.",
                                           "expected_sha256": sha256})
    assert signed.status_code == 200, signed.json()
    detail = signed.json()
    assert detail["state"] == "published"
    assert detail["approved_revision"] == detail["current_revision"]
    assert detail["organisation_board_decision"] == "Organisationsbestyrelsen godkender."
    assert open_task_names(plan) == ["presentation"]
    sign_offs = ob_chair.get(url(plan, "sign-offs")).json()["results"]
    assert [(s["step"], s["decision"], s["stale"], s["revision"]["sha256"])
            for s in sign_offs] == [("operations_committee", "approve", False, sha256),
                                    ("organisation_board", "approve", False, sha256)]
    assert sign_offs[1]["signer"]["name"] == "Grethe Munch"
    assert sign_offs[1]["mandate"] == "chair" and sign_offs[1]["on_behalf_of"] is None

    # The operations secretary registers the presentation; the date cannot be in the future.
    assert secretary.get(url(plan)).json()["allowed_actions"] == ["register-presentation"]
    for bad_day in ["2027-04-21", "20.04.2027", "2027-02-30", "", None, 20270420]:
        refused = post(secretary, plan, "register-presentation",
                       {"presented_on": bad_day, "minutes_reference": "Referat pkt. 4"})
        assert refused.status_code == 400, bad_day
        assert list(refused.json()["errors"]) == ["presented_on"], bad_day
    presented = post(secretary, plan, "register-presentation",
                     {"presented_on": "2027-04-20", "minutes_reference": "Referat pkt. 4"})
    assert presented.status_code == 200
    assert presented.json()["state"] == "presented"
    assert presented.json()["presented_on"] == "2027-04-20"
    assert presented.json()["presentation_minutes_reference"] == "Referat pkt. 4"
    assert open_task_names(plan) == ["evaluation"]

    # The year-end evaluation. 2027 is the programme's last year: "continue" would need a
    # 2028 plan that no programme covers, so the evaluation is refused (400 on "verdicts",
    # naming the year) and nothing is written.
    ids = initiative_ids(presented.json())
    assert len(ids) == 3
    continuing = [{"initiative": pk, "decision": "continue", "reason": "Fortsætter."}
                  for pk in ids]
    refused = post(fg_chair, plan, "evaluate", {"verdicts": continuing})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["verdicts"]
    assert "2028" in refused.json()["errors"]["verdicts"][0]
    assert plan_of(2027).state == "presented"
    assert not AnnualPlan.objects.filter(organisation=plan.organisation, year=2028).exists()
    assert not InitiativeEvaluation.objects.filter(plan=plan).exists()

    verdicts = [
        {"initiative": ids[0], "decision": "close", "reason": "Målet er nået."},
        {"initiative": ids[1], "decision": "merge", "reason": "Samme målgruppe.",
         "merged_into": ids[2]},
        {"initiative": ids[2], "decision": "close", "reason": "Programmet slutter."},
    ]
    evaluated = post(fg_chair, plan, "evaluate", {"verdicts": verdicts})
    assert evaluated.status_code == 200, evaluated.json()
    detail = evaluated.json()
    assert detail["state"] == "evaluated" and detail["allowed_actions"] == []
    verdict_of = {i["id"]: i["evaluation"] for t in detail["themes"] for i in t["initiatives"]}
    assert verdict_of[ids[1]]["decision"] == "merge"
    assert verdict_of[ids[1]]["merged_into"] == ids[2]
    assert verdict_of[ids[0]]["successor"] is None
    assert open_task_names(plan) == []

    # The transition log tells the story, each step with its actor and revision.
    transitions = fg_chair.get(url(plan, "transitions")).json()["results"]
    assert [(t["from_state"], t["to_state"]) for t in transitions] == [
        ("draft", "follow_up_group_review"),
        ("follow_up_group_review", "operations_committee"),
        ("operations_committee", "organisation_board"),
        ("organisation_board", "published"),
        ("published", "presented"),
        ("presented", "evaluated"),
    ]
    assert transitions[0]["actor"]["name"] == "Mette Skovgaard"
    assert transitions[3]["actor"] is None  # publication is the flow's automatic step
    assert {t["revision"]["sha256"] for t in transitions} == {sha256}


def test_continue_copies_the_initiative_into_next_years_draft(demo, persona):
    plan = plan_of(2026)
    secretary, fg_chair = client_for(persona("sekretaer")), client_for(persona("fg-formand"))
    assert post(secretary, plan, "register-presentation",
                {"presented_on": "2026-04-28", "minutes_reference": "RM 2026"}).status_code == 200
    ids = initiative_ids(secretary.get(url(plan)).json())
    energy = Initiative.objects.get(plan=plan, position=1)  # already continued by the demo
    digital = Initiative.objects.get(plan=plan, position=5)
    verdicts = [{"initiative": pk, "decision": "close", "reason": "Afsluttet."} for pk in ids]
    for verdict in verdicts:
        if verdict["initiative"] in (energy.pk, digital.pk):
            verdict.update(decision="continue" if verdict["initiative"] == energy.pk
                           else "rescope", reason="Fortsætter i 2027.")
    response = post(fg_chair, plan, "evaluate", {"verdicts": verdicts})
    assert response.status_code == 200, response.json()

    draft = plan_of(2027)
    copies = draft.initiatives.filter(origin=digital)
    assert copies.count() == 1
    copy = copies.get()
    assert copy.theme.number == 3 and copy.title == digital.title
    assert set(copy.departments.all()) == set(digital.departments.all())
    # The demo's 2027 draft already continues the energy initiative: it is not copied twice.
    assert draft.initiatives.filter(origin=energy).count() == 1
    successors = {i["id"]: i["evaluation"]["successor"]
                  for t in response.json()["themes"] for i in t["initiatives"]}
    assert successors[digital.pk] == copy.pk
    assert successors[energy.pk] == draft.initiatives.get(origin=energy).pk
    got = secretary.get(f"/api/v1/initiatives/{copy.pk}/").json()
    assert got["origin"] == digital.pk and got["plan"] == draft.pk


def test_a_returned_plan_gets_a_new_revision_and_the_old_sign_off_turns_stale(demo, persona):
    plan = walk_to(plan_of(2027), AnnualPlan.State.OPERATIONS_COMMITTEE, persona)
    secretary, du_chair = client_for(persona("sekretaer")), client_for(persona("du-formand"))

    no_reason = post(du_chair, plan, "sign", {"decision": "return", "password": DEMO_PASSWORD})
    assert no_reason.status_code == 400 and list(no_reason.json()["errors"]) == ["comment"]
    returned = post(du_chair, plan, "sign", {"decision": "return", "password": DEMO_PASSWORD,
                                             "comment": "Mangler økonomi for fase 2."})
    assert returned.status_code == 200 and returned.json()["state"] == "draft"
    assert open_task_names(plan) == ["draft"]

    energy = Initiative.objects.get(plan=plan, position=1)
    changed = secretary.patch(f"/api/v1/initiatives/{energy.pk}/",
                              {"title": "Energistyring – fase 2 (med budget)"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["title"] == "Energistyring – fase 2 (med budget)"
    # PATCH keeps what it was not sent: the scope lists of another initiative stay too.
    screens = Initiative.objects.get(plan=plan, position=2)
    kept = secretary.patch(f"/api/v1/initiatives/{screens.pk}/", {"progress": 20},
                           format="json")
    assert kept.status_code == 200, kept.json()
    assert kept.json()["operations_areas"] == list(
        screens.operations_areas.order_by("pk").values_list("pk", flat=True))
    assert post(secretary, plan, "submit").status_code == 200

    revisions = secretary.get(url(plan, "revisions")).json()["results"]
    assert [(r["number"], r["is_current"]) for r in revisions] == [(2, True), (1, False)]
    one = secretary.get(url(plan, "revisions/1")).json()
    assert one["content"]["initiatives"][0]["title"] == "Energistyring – fase 2: styring af " \
                                                         "varmeanlæg"
    assert one["sha256"] == revisions[1]["sha256"]
    diff = secretary.get(url(plan, "revisions/diff") + "?a=1&b=2").json()
    assert (diff["a"]["number"], diff["b"]["number"]) == (1, 2)
    assert diff["changes"] == [{
        "kind": "changed", "path": "initiatives[1].title",
        "before": "Energistyring – fase 2: styring af varmeanlæg",
        "after": "Energistyring – fase 2 (med budget)"}]

    sign_offs = secretary.get(url(plan, "sign-offs")).json()["results"]
    assert [(s["decision"], s["stale"], s["revision"]["number"]) for s in sign_offs] == [
        ("return", True, 1)]


def test_a_plan_is_created_with_its_flow(demo, persona):
    secretary = client_for(persona("sekretaer"))
    organisation = plan_of(2027).organisation
    response = secretary.post("/api/v1/plans/", {"organisation": organisation.pk,
                                                 "year": 2025, "title": "Årsplan 2025"},
                              format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and body["year"] == 2025 and body["summary"] == ""
    assert body["allowed_actions"] == ["edit"]
    assert open_task_names(AnnualPlan.objects.get(pk=body["id"])) == ["draft"]

    duplicate = secretary.post("/api/v1/plans/", {"organisation": organisation.pk,
                                                  "year": 2025, "title": "Igen"}, format="json")
    assert duplicate.status_code == 400 and list(duplicate.json()["errors"]) == ["year"]
    outside = secretary.post("/api/v1/plans/", {"organisation": organisation.pk,
                                                "year": 2031, "title": "Senere"}, format="json")
    assert outside.status_code == 400 and list(outside.json()["errors"]) == ["year"]

    renamed = secretary.patch(url(AnnualPlan.objects.get(pk=body["id"])),
                              {"title": "Årsplan 2025 (udkast)"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Årsplan 2025 (udkast)" and renamed.json()["summary"] == ""


def test_plans_list_filters_by_organisation_year_and_state(demo, persona):
    client = client_for(persona("ab-anden"))
    plans = all_rows(client, "/api/v1/plans/")
    assert [(p["year"], p["state"]) for p in plans] == [(2027, "draft"), (2026, "published")]
    assert all(isinstance(p["id"], int) for p in plans)
    organisation = plan_of(2026).organisation_id
    assert [p["year"] for p in all_rows(client, "/api/v1/plans/?state=published")] == [2026]
    assert [p["year"] for p in all_rows(client, "/api/v1/plans/?year=2027")] == [2027]
    assert len(all_rows(client, f"/api/v1/plans/?organisation={organisation}")) == 2
    assert client_for(persona("anden-org")).get("/api/v1/plans/").json()["results"] == []
    bad = client.get("/api/v1/plans/?state=signed&year=abc&organisation=99999999999999999999")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"state", "year", "organisation"}


def test_a_lost_race_answers_409_with_the_state_the_plan_is_in_now(demo, persona, monkeypatch):
    plan = walk_to(plan_of(2027), AnnualPlan.State.DRAFT, persona)
    secretary = client_for(persona("sekretaer"))
    seen_before = AnnualPlan.objects.get(pk=plan.pk)  # what the losing request read
    assert post(secretary, plan, "submit").status_code == 200  # ...and the winner submits

    monkeypatch.setattr("cycles.api.selectors.plan_get_for_user", lambda **kwargs: seen_before)
    lost = post(secretary, plan, "submit")
    assert lost.status_code == 409
    assert lost.json()["current_state"] == "follow_up_group_review"
    assert plan_of(2027).transitions.count() == 1


# --- 409: the wrong state ---------------------------------------------------------------------

@pytest.mark.parametrize(("who", "year", "action", "data", "state"), [
    ("du-formand", 2027, "sign", {}, "draft"),  # the state is checked before the input
    ("du-formand", 2027, "recommend", {"recommendation": "x", "password": DEMO_PASSWORD},
     "draft"),
    ("fg-formand", 2027, "close-review", {"recommendation": "x"}, "draft"),
    ("fg-formand", 2027, "return", {"reason": "x"}, "draft"),
    ("fg-medlem", 2027, "comment", {"text": "x"}, "draft"),
    ("sekretaer", 2027, "register-presentation",
     {"presented_on": "2027-04-20", "minutes_reference": "x"}, "draft"),
    ("sekretaer", 2027, "publish", {}, "draft"),
    ("fg-formand", 2026, "evaluate", {"verdicts": []}, "published"),
    ("sekretaer", 2026, "submit", {}, "published"),
    ("sekretaer", 2026, "initiatives", {"title": "Sent"}, "published"),
    ("sekretaer", 2026, "theme-justification", {}, "published"),
    ("ob-formand", 2026, "sign", {"decision": "approve", "password": DEMO_PASSWORD},
     "published"),
])
def test_an_action_in_the_wrong_state_answers_409(demo, persona, who, year, action, data,
                                                  state):
    plan = plan_of(year)
    response = post(client_for(persona(who)), plan, action, data)
    assert response.status_code == 409, response.json()
    assert response.json()["current_state"] == state
    assert response.json()["detail"]
    assert plan_of(year).transitions.count() == plan.transitions.count()


def test_initiatives_and_plan_fields_of_a_published_plan_cannot_change(demo, persona):
    secretary = client_for(persona("sekretaer"))
    plan = plan_of(2026)
    initiative = plan.initiatives.first()
    address = f"/api/v1/initiatives/{initiative.pk}/"
    for response in [secretary.patch(address, {"title": "Nyt"}, format="json"),
                     secretary.delete(address),
                     secretary.patch(url(plan), {"title": "Nyt"}, format="json")]:
        assert response.status_code == 409
        assert response.json()["current_state"] == "published"
    assert Initiative.objects.get(pk=initiative.pk).title == initiative.title
    assert secretary.get(address).status_code == 200


def test_publishing_before_the_board_approved_answers_409(demo, persona):
    plan = walk_to(plan_of(2027), AnnualPlan.State.ORGANISATION_BOARD, persona)
    response = post(client_for(persona("sekretaer")), plan, "publish")
    assert response.status_code == 409
    assert response.json()["current_state"] == "organisation_board"


# --- 403: no right ----------------------------------------------------------------------------

@pytest.mark.parametrize("action", [*ACTIONS, "initiatives", "theme-justification"])
def test_a_department_board_member_may_read_but_not_act(demo, persona, action):
    client = client_for(persona("ab-anden"))
    for plan in (plan_of(2027), plan_of(2026)):
        assert client.get(url(plan)).json()["allowed_actions"] == []
        response = post(client, plan, action, {"text": "x", "reason": "x"})
        assert response.status_code == 403, (plan.year, response.json())
        assert response.json()["code"] == "permission_denied"
    assert plan_of(2027).state == "draft" and plan_of(2026).state == "published"


def test_a_department_board_member_may_not_edit_initiatives_or_create_plans(demo, persona):
    client = client_for(persona("ab-anden"))
    plan = plan_of(2027)
    initiative = plan.initiatives.first()
    address = f"/api/v1/initiatives/{initiative.pk}/"
    assert client.get(address).status_code == 200
    assert client.patch(address, {"title": "Nyt"}, format="json").status_code == 403
    assert client.delete(address).status_code == 403
    assert client.patch(url(plan), {"title": "Nyt"}, format="json").status_code == 403
    created = client.post("/api/v1/plans/", {"organisation": plan.organisation_id,
                                             "year": 2025, "title": "Min plan"}, format="json")
    assert created.status_code == 403
    assert Initiative.objects.filter(pk=initiative.pk).exists()
    assert not AnnualPlan.objects.filter(year=2025).exists()


def test_a_right_for_another_step_answers_403(demo, persona):
    plan = walk_to(plan_of(2027), AnnualPlan.State.FOLLOW_UP_GROUP_REVIEW, persona)
    assert post(client_for(persona("fg-medlem")), plan, "close-review",
                {"recommendation": "x"}).status_code == 403
    assert post(client_for(persona("fg-medlem")), plan, "return",
                {"reason": "x"}).status_code == 403
    plan = walk_to(plan, AnnualPlan.State.ORGANISATION_BOARD, persona)
    # du-formand signs for the operations committee, not for the organisation board.
    signed = post(client_for(persona("du-formand")), plan, "sign",
                  {"decision": "approve", "password": DEMO_PASSWORD})
    assert signed.status_code == 403
    assert plan_of(2027).state == "organisation_board"


# --- 404: another organisation ----------------------------------------------------------------

PLAN_READS = ["", "revisions/", "revisions/1/", "revisions/diff/?a=1&b=1", "transitions/",
              "sign-offs/", "comments/"]
PLAN_POSTS = [*ACTIONS, "initiatives", "theme-justification"]


@pytest.mark.parametrize("year", [2026, 2027])
def test_another_organisation_gets_404_on_every_plan_route(demo, persona, year):
    client = client_for(persona("anden-org"))
    plan = plan_of(year)
    missing = AnnualPlan.objects.order_by("-pk").first().pk + 1000
    requests = [("get", route) for route in PLAN_READS]
    requests += [("post", f"{route}/") for route in PLAN_POSTS]
    requests += [("patch", "")]
    for method, route in requests:
        hidden = getattr(client, method)(f"/api/v1/plans/{plan.pk}/{route}",
                                         {"reason": "x"}, format="json")
        absent = getattr(client, method)(f"/api/v1/plans/{missing}/{route}",
                                         {"reason": "x"}, format="json")
        assert hidden.status_code == absent.status_code == 404, (method, route)
        assert hidden.json() == absent.json()
    initiative = plan.initiatives.first()
    for method in ("get", "patch", "delete"):
        hidden = getattr(client, method)(f"/api/v1/initiatives/{initiative.pk}/",
                                         {"title": "x"}, format="json")
        absent = getattr(client, method)("/api/v1/initiatives/99999999999999999999/",
                                         {"title": "x"}, format="json")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.json() == absent.json()
    assert plan_of(year).state == plan.state
    assert Initiative.objects.filter(pk=initiative.pk).exists()


def test_unknown_revisions_answer_404_and_huge_ids_are_not_an_error(demo, persona):
    client = client_for(persona("sekretaer"))
    plan = plan_of(2026)
    assert client.get(url(plan, "revisions/99")).status_code == 404
    assert client.get(url(plan, "revisions/99999999999999999999999")).status_code == 404
    assert client.get("/api/v1/plans/99999999999999999999999/").status_code == 404


# --- 400: bad input ---------------------------------------------------------------------------

def other_organisation_ids():
    from governance.models import Person

    return {
        "department": Department.objects.filter(organisation__slug="havnely").first().pk,
        "area": OperationsArea.objects.filter(organisation__slug="havnely").first().pk,
        "person": Person.objects.get(username="anden-org").pk,
    }


@pytest.mark.parametrize(("change", "field"), [
    ({"theme": "abc"}, "theme"),
    ({"theme": 10**30}, "theme"),
    ({"theme": 1.5}, "theme"),
    ({"theme": None}, "theme"),
    ({"theme": [1]}, "theme"),
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": {"da": "x"}}, "title"),
    ({"scope": "universe"}, "scope"),
    ({"scope": "areas"}, "operations_areas"),
    ({"scope": "departments", "departments": []}, "departments"),
    ({"scope": "departments", "departments": "department"}, "departments"),
    ({"scope": "departments", "departments": ["other"]}, "departments"),
    ({"scope": "areas", "operations_areas": ["other"]}, "operations_areas"),
    ({"scope": "areas", "operations_areas": [10**30]}, "operations_areas"),
    ({"owner": "other"}, "owner"),
    ({"expected_saving": "1e30"}, "expected_saving"),
    ({"expected_saving": "123456789012345.00"}, "expected_saving"),
    ({"expected_saving": "12.345"}, "expected_saving"),
    ({"expected_saving": "-1"}, "expected_saving"),
    ({"expected_saving": "NaN"}, "expected_saving"),
    ({"progress": 101}, "progress"),
    ({"progress": 10**30}, "progress"),
    ({"progress": "halvt"}, "progress"),
    ({"status": "finished"}, "status"),
    ({"planned_start": "31.12.2027"}, "planned_start"),
    ({"planned_start": "2027-02-30"}, "planned_start"),
    ({"planned_start": "2027-06-01", "planned_end": "2027-05-01"}, "planned_end"),
    ({"description": "nul\x00byte"}, "description"),
])
def test_bad_initiative_input_answers_400_with_the_field(demo, persona, change, field):
    plan = plan_of(2027)
    ids = other_organisation_ids()
    theme = plan.programme.themes.get(number=2)
    data = {"theme": theme.pk, "title": "Ny indsats"}
    for key, value in change.items():
        if value == "other":
            value = ids["person"]
        elif value == ["other"]:
            value = [ids["area" if key == "operations_areas" else "department"]]
        data[key] = value
    client = client_for(persona("sekretaer"))
    count = plan.initiatives.count()
    response = client.post(url(plan, "initiatives"), data, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    assert plan.initiatives.count() == count
    # The same change to an existing initiative is refused the same way.
    if "theme" not in change and change != {"title": ""}:
        initiative = plan.initiatives.order_by("position").first()
        patched = client.patch(f"/api/v1/initiatives/{initiative.pk}/", data, format="json")
        assert patched.status_code == 400
        assert list(patched.json()["errors"]) == [field]


def test_a_theme_of_another_programme_is_unknown(demo, persona):
    from cycles.models import Theme

    plan = plan_of(2027)
    foreign = Theme.objects.filter(programme__organisation__slug="havnely").first()
    response = client_for(persona("sekretaer")).post(
        url(plan, "initiatives"), {"theme": foreign.pk, "title": "x"}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["theme"]


def test_malformed_bodies_answer_400(demo, persona):
    client = client_for(persona("sekretaer"))
    plan = plan_of(2027)
    for body in ([], "tekst", 7):
        response = client.post(url(plan, "initiatives"), body, format="json")
        assert response.status_code == 400
        assert "non_field_errors" in response.json()["errors"]
    broken = client.post(url(plan, "initiatives"), "{not json", content_type="application/json")
    assert broken.status_code == 400
    theme = plan.programme.themes.get(number=2).pk
    surrogate = client.post(url(plan, "initiatives"),
                            f'{{"theme": {theme}, "title": "\\ud800"}}',
                            content_type="application/json")
    assert surrogate.status_code == 400 and list(surrogate.json()["errors"]) == ["title"]
    assert plan.initiatives.count() == 2


@pytest.mark.parametrize(("data", "fields"), [
    ({}, {"organisation", "year", "title"}),
    ({"organisation": "other", "year": 2025, "title": "x"}, {"organisation"}),
    ({"organisation": 10**30, "year": 2025, "title": "x"}, {"organisation"}),
    ({"organisation": "own", "year": "næste", "title": "x"}, {"year"}),
    ({"organisation": "own", "year": 10**30, "title": "x"}, {"year"}),
    ({"organisation": "own", "year": 2025, "title": "x", "summary": None}, {"summary"}),
])
def test_bad_plan_input_answers_400_with_the_fields(demo, persona, data, fields):
    from governance.models import Organisation

    ids = {"own": Organisation.objects.get(slug="soebredden").pk,
           "other": Organisation.objects.get(slug="havnely").pk}
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    response = client_for(persona("sekretaer")).post("/api/v1/plans/", data, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields
    assert not AnnualPlan.objects.filter(year=2025).exists()


def test_bad_action_input_answers_400_with_the_fields(demo, persona):
    plan = walk_to(plan_of(2027), AnnualPlan.State.FOLLOW_UP_GROUP_REVIEW, persona)
    fg_chair, member = client_for(persona("fg-formand")), client_for(persona("fg-medlem"))
    other_plan_initiative = plan_of(2026).initiatives.first().pk
    cases = [
        (fg_chair, "return", {}, {"reason"}),
        (fg_chair, "return", {"reason": "   "}, {"reason"}),
        (fg_chair, "return", {"reason": ["a"]}, {"reason"}),
        (fg_chair, "close-review", {"recommendation": ""}, {"recommendation"}),
        (member, "comment", {"text": ""}, {"text"}),
        (member, "comment", {"text": "x", "initiative": other_plan_initiative}, {"initiative"}),
        (member, "comment", {"text": "x", "initiative": "første"}, {"initiative"}),
    ]
    for client, action, data, fields in cases:
        response = post(client, plan, action, data)
        assert response.status_code == 400, (action, data)
        assert set(response.json()["errors"]) == fields, (action, data)
    assert plan_of(2027).state == "follow_up_group_review"

    plan = walk_to(plan, AnnualPlan.State.OPERATIONS_COMMITTEE, persona)
    du_chair = client_for(persona("du-formand"))
    cases = [
        ("sign", {}, {"decision", "password"}),
        ("sign", {"decision": "maybe", "password": DEMO_PASSWORD}, {"decision"}),
        ("sign", {"decision": "approve", "password": "forkert"}, {"password"}),
        ("sign", {"decision": "approve", "password": DEMO_PASSWORD,
                  "expected_sha256": "abc"}, {"expected_sha256"}),
        ("recommend", {"password": DEMO_PASSWORD}, {"recommendation"}),
        ("recommend", {"recommendation": "x", "password": ""}, {"password"}),
    ]
    for action, data, fields in cases:
        response = post(du_chair, plan, action, data)
        assert response.status_code == 400, (action, data)
        assert set(response.json()["errors"]) == fields, (action, data)
    assert plan_of(2027).state == "operations_committee"
    assert not plan.sign_offs.exists()


def test_bad_verdicts_answer_400(demo, persona):
    plan = walk_to(plan_of(2027), AnnualPlan.State.PRESENTED, persona)
    ids = list(plan.initiatives.order_by("position").values_list("pk", flat=True))
    other = plan_of(2026).initiatives.first().pk
    close = [{"initiative": pk, "decision": "close", "reason": "Slut."} for pk in ids]
    cases = [
        ({}, "verdicts"),
        ({"verdicts": "alle"}, "verdicts"),
        ({"verdicts": close[:1]}, "verdicts"),  # every initiative needs a verdict
        ({"verdicts": [*close, close[0]]}, "verdicts"),  # two verdicts for one initiative
        ({"verdicts": [*close[1:], {**close[0], "initiative": other}]}, "verdicts"),
        ({"verdicts": [*close[1:], {**close[0], "initiative": 10**30}]}, "verdicts"),
        ({"verdicts": [*close[1:], {**close[0], "decision": "keep"}]}, "verdicts"),
        ({"verdicts": [*close[1:], {**close[0], "reason": ""}]}, "verdicts"),
        ({"verdicts": [*close[1:], {**close[0], "decision": "merge"}]}, "verdicts"),
        ({"verdicts": [*close[1:], {**close[0], "decision": "merge",
                                    "merged_into": ids[0]}]}, "verdicts"),
    ]
    client = client_for(persona("fg-formand"))
    for data, field in cases:
        response = post(client, plan, "evaluate", data)
        assert response.status_code == 400, data
        assert list(response.json()["errors"]) == [field], data
    assert plan_of(2027).state == "presented"
    assert not InitiativeEvaluation.objects.filter(plan=plan).exists()


def test_bad_diff_parameters_answer_400(demo, persona):
    client = client_for(persona("sekretaer"))
    plan = plan_of(2026)
    response = client.get(url(plan, "revisions/diff") + "?a=første&b=")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"a", "b"}
    response = client.get(url(plan, "revisions/diff") + "?a=1&b=99")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"b"}
    same = client.get(url(plan, "revisions/diff") + "?a=1&b=1")
    assert same.status_code == 200 and same.json()["changes"] == []


def test_deleting_an_initiative_of_a_draft(demo, persona):
    plan = plan_of(2027)
    client = client_for(persona("sekretaer"))
    screens = plan.initiatives.get(position=2)
    assert client.delete(f"/api/v1/initiatives/{screens.pk}/").status_code == 204
    assert not Initiative.objects.filter(pk=screens.pk).exists()
    assert client.get(f"/api/v1/initiatives/{screens.pk}/").status_code == 404


# --- the token, the query counts, the schema ---------------------------------------------------

def test_the_token_from_the_token_endpoint_opens_the_plans(demo):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "fg-medlem",
                                                "password": DEMO_PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(url(plan_of(2027))).json()["allowed_actions"] == []
    assert APIClient().get(url(plan_of(2027))).status_code == 401


def test_the_plan_list_costs_the_same_queries_for_more_plans(demo, persona,
                                                             django_assert_num_queries):
    client = client_for(persona("ab-anden"))
    # 1. count the visible plans  2. the page of plans with organisation and current revision
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/plans/").json()["results"]) == 2
    organisation = plan_of(2026).organisation
    for year in (2023, 2024, 2025):
        plan_create_and_route(actor=persona("sekretaer"), organisation=organisation, year=year,
                              title=f"Årsplan {year}")
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/plans/").json()["results"]) == 5


def test_the_plan_detail_costs_the_same_queries_for_more_initiatives(
        demo, persona, django_assert_num_queries):
    client = client_for(persona("sekretaer"))
    plan = plan_of(2027)
    # 1. the plan with organisation, programme and revisions  2. the programme's themes
    # 3.-4. the caller's seats and staff posts (visibility)  5.-6. the same (allowed actions)
    # 7. initiatives with theme, owner, origin  8. their areas  9. their departments
    # 10. theme justifications  11.-13. submit blockers: covered themes, justified themes,
    # themes  14. the revision the caller last signed
    with django_assert_num_queries(14):
        assert len(initiative_ids(client.get(url(plan)).json())) == 2
    themes = {t.number: t for t in plan.programme.themes.all()}
    areas = list(OperationsArea.objects.filter(organisation=plan.organisation))
    for number in range(8):
        cycles.initiative_create(actor=persona("sekretaer"), plan=plan,
                                 theme=themes[1 + number % 4], title=f"Indsats {number}",
                                 scope=Initiative.Scope.AREAS, operations_areas=areas[:2],
                                 expected_saving=Decimal("1000.00"))
    with django_assert_num_queries(14):
        assert len(initiative_ids(client.get(url(plan)).json())) == 10


def test_the_openapi_schema_validates_and_documents_the_plan_api(demo, persona):
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())
    schema = client_for(persona("sekretaer")).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for action in ACTIONS:
        operation = paths[f"/api/v1/plans/{{id}}/{action}/"]["post"]
        assert {"200", "400", "403", "404", "409"} - {"400"} <= set(operation["responses"])
        assert operation["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"].endswith("/PlanDetail")
    conflict = paths["/api/v1/plans/{id}/submit/"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"]["$ref"].endswith("/ApiConflict")
    for path in ["/api/v1/plans/", "/api/v1/plans/{id}/", "/api/v1/plans/{id}/revisions/",
                 "/api/v1/plans/{id}/revisions/{number}/", "/api/v1/plans/{id}/revisions/diff/",
                 "/api/v1/plans/{id}/transitions/", "/api/v1/plans/{id}/sign-offs/",
                 "/api/v1/initiatives/{id}/"]:
        assert path in paths
    assert "PlanCreateRequest" in schema["components"]["schemas"]


def test_next_years_draft_made_by_the_evaluation_gets_its_flow(demo, persona):
    secretary = client_for(persona("sekretaer"))
    organisation = plan_of(2026).organisation
    created = secretary.post("/api/v1/plans/", {"organisation": organisation.pk, "year": 2024,
                                                "title": "Årsplan 2024"}, format="json")
    plan = AnnualPlan.objects.get(pk=created.json()["id"])
    themes = {t["number"]: t["id"] for t in created.json()["themes"]}
    for number in (1, 2, 3, 4):
        added = secretary.post(url(plan, "initiatives"),
                               {"theme": themes[number], "title": f"Indsats {number}"},
                               format="json")
        assert added.status_code == 201
    plan = walk_to(plan, AnnualPlan.State.PRESENTED, persona)
    verdicts = [{"initiative": pk, "decision": "continue", "reason": "Videre."}
                for pk in plan.initiatives.values_list("pk", flat=True)]
    response = post(client_for(persona("fg-formand")), plan, "evaluate", {"verdicts": verdicts})
    assert response.status_code == 200, response.json()

    next_year = plan_of(2025)
    assert next_year.state == "draft" and next_year.initiatives.count() == 4
    assert open_task_names(next_year) == ["draft"]  # the secretary has it in the inbox
    assert post(secretary, next_year, "submit").status_code == 200
    assert open_task_names(next_year) == ["review"]
