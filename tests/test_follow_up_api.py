"""The rollout and follow-up API: a case walked by the demo personas, and every way a request fails.

The demo's 2026 plan is published, so its rollout plans and follow-up cases exist. Department 1
(area 1) has ab-formand as chair and ab-medlem as member, with driftschef and serviceleder as the
area's staff; department 3 (area 2) has ab-anden as member; anden-org belongs to another
organisation. Area 1's first-half cases are moved along by the demo (department 1 closed,
department 2 presented); every second-half case is scheduled, so the tests walk those. Time is
frozen on Monday 02.03.2026 before the demo (whose terms are relative to today) loads.
"""

import datetime
import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cycles import services
from cycles.models import (
    AnnualPlan,
    BoardRemark,
    FollowUp,
    FollowUpRemark,
    MeetingKind,
    RolloutPlan,
    SignOff,
)
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
from tests.clock import frozen_before_demo, frozen_on
from workflows.services import follow_up_act, open_follow_up_tasks, plan_act

pytestmark = pytest.mark.django_db

State = FollowUp.State
TODAY = datetime.date(2026, 3, 2)
MEETING_DAY = "2026-02-26"  # the board met last Thursday
FOLLOW_UPS = "/api/v1/follow-ups/"
ROLLOUTS = "/api/v1/rollouts/"


_frozen_today = frozen_before_demo(TODAY)


# --- helpers --------------------------------------------------------------------------------

def client_for(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def plan_of(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=year)


def case_of(number: int, half: str = FollowUp.Half.H2) -> FollowUp:
    return FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                department__number=number, half=half)


def rollout_of(number: int) -> RolloutPlan:
    return RolloutPlan.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                   department__number=number)


def fresh(follow_up: FollowUp) -> FollowUp:
    return FollowUp.objects.get(pk=follow_up.pk)


def case_url(follow_up: FollowUp, action: str = "") -> str:
    return f"{FOLLOW_UPS}{follow_up.pk}/" + (f"{action}/" if action else "")


def post(client, address: str, data=None):
    return client.post(address, data or {}, format="json")


def remarks_input(follow_up: FollowUp, text: str = "I gang.") -> list[dict]:
    return [{"initiative": pk, "status": "ongoing", "progress": 40, "text": text}
            for pk in follow_up.remarks.order_by("pk").values_list("initiative_id", flat=True)]


def saved(follow_up: FollowUp, persona) -> FollowUp:
    """Prepared by the area's operations manager (through the flow, as the API does)."""
    remarks = [{**remark, "initiative": row.initiative}
               for remark, row in zip(remarks_input(follow_up),
                                      follow_up.remarks.order_by("pk").select_related(
                                          "initiative"), strict=True)]
    follow_up_act(services.follow_up_save, actor=persona("driftschef"), follow_up=follow_up,
                  summary="Halvåret er gået efter planen.", remarks=remarks)
    return fresh(follow_up)


def ready(follow_up: FollowUp, persona) -> FollowUp:
    follow_up = saved(follow_up, persona)
    follow_up_act(services.follow_up_mark_ready, actor=persona("driftschef"),
                  follow_up=follow_up)
    return fresh(follow_up)


def presented(follow_up: FollowUp, persona) -> FollowUp:
    follow_up = ready(follow_up, persona)
    follow_up_act(services.follow_up_acknowledge, actor=persona("ab-formand"),
                  follow_up=follow_up, presented_on=datetime.date(2026, 2, 26),
                  meeting_kind=MeetingKind.BOARD_MEETING, minutes_reference="Pkt. 3")
    return fresh(follow_up)


def snapshot(follow_up: FollowUp) -> tuple:
    """Everything a request could change on a case, to show that nothing was saved."""
    follow_up = fresh(follow_up)
    return (follow_up.state, follow_up.summary, follow_up.presented_on,
            follow_up.minutes_reference,
            sorted(follow_up.remarks.values_list("initiative_id", "status", "progress", "text")),
            sorted(follow_up.board_remarks.values_list("pk", "text", "answer", "answer_text")),
            follow_up.transitions.count())


def open_tasks(follow_up: FollowUp) -> list[tuple[str, str]]:
    return [(task.flow_task.name, task.owner.username if task.owner else "")
            for task in open_follow_up_tasks(follow_up=follow_up)]


def all_rows(client, address: str) -> list[dict]:
    rows, page = [], address
    while page:
        body = client.get(page).json()
        rows += body["results"]
        page = body["next"]
    return rows


def publish_2027(persona) -> AnnualPlan:
    """Walk the demo's 2027 draft to publication; the flow rolls it out to every department."""
    plan = plan_of(2027)
    covered = set(plan.initiatives.values_list("theme__number", flat=True))
    for theme in plan.programme.themes.exclude(number__in=covered):
        services.theme_justification_set(actor=persona("sekretaer"), plan=plan, theme=theme,
                                         text="Ikke i år.")
    plan_act(services.plan_submit, actor=persona("sekretaer"), plan=plan)
    plan_act(services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Anbefales.")
    for chair in ("du-formand", "ob-formand"):
        plan_act(services.plan_sign, actor=persona(chair), plan=plan,
                 decision=SignOff.Decision.APPROVE, comment="Godkendt.", password=DEMO_PASSWORD)
    plan = plan_of(2027)
    assert plan.state == AnnualPlan.State.PUBLISHED
    return plan


# --- the whole case by API ------------------------------------------------------------------

def test_a_case_goes_from_preparation_to_closed_by_api(demo, persona):
    case = case_of(1)
    manager = client_for(persona("serviceleder"))
    chair = client_for(persona("ab-formand"))
    assert open_tasks(case) == [("prepare", "driftschef")]

    detail = manager.get(case_url(case)).json()
    assert detail["state"] == "scheduled" and detail["half"] == "H2"
    assert detail["department"] == {"id": case.department_id, "number": 1,
                                    "name": case.department.name}
    assert detail["plan"] == {"id": plan_of(2026).pk, "year": 2026}
    assert detail["due_on"] == "2026-12-15"
    assert detail["allowed_actions"] == ["save"]
    assert detail["blockers"]["ready"] and detail["blockers"]["close"] == []
    remark = detail["remarks"][0]
    assert set(remark) == {"id", "initiative", "status", "status_label", "progress", "text"}
    assert set(remark["initiative"]) == {"id", "title", "theme"}
    assert set(remark["initiative"]["theme"]) == {"id", "number", "title"}

    # The service manager writes the summary and a remark per initiative: in preparation.
    remarks = remarks_input(case, "Målerne er sat op i halvdelen af opgangene.")
    remarks[0].update(status="done", progress=100)
    response = post(manager, case_url(case, "save"),
                    {"summary": "Status for andet halvår.", "remarks": remarks})
    assert response.status_code == 200, response.json()
    detail = response.json()
    assert detail["state"] == "in_preparation" and detail["summary"] == "Status for andet halvår."
    first = next(r for r in detail["remarks"] if r["initiative"]["id"] == remarks[0]["initiative"])
    assert (first["status"], first["progress"]) == ("done", 100)
    assert detail["blockers"]["ready"] == []
    assert "mark-ready" in detail["allowed_actions"]
    assert [(t["from_state"], t["to_state"]) for t in detail["transitions"]] == [
        ("scheduled", "in_preparation")]
    assert detail["transitions"][0]["actor"]["name"] == persona("serviceleder").get_full_name()

    response = post(manager, case_url(case, "mark-ready"))
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "ready_for_board"
    assert open_tasks(case) == [("acknowledge", "ab-formand")]

    # The chair sees the acknowledgement offered, and acknowledges the presentation.
    assert "acknowledge" in chair.get(case_url(case)).json()["allowed_actions"]
    response = post(chair, case_url(case, "acknowledge"),
                    {"presented_on": MEETING_DAY, "meeting_kind": "board_meeting",
                     "minutes_reference": "Referat pkt. 3"})
    assert response.status_code == 200, response.json()
    detail = response.json()
    assert detail["state"] == "presented" and detail["presented_on"] == MEETING_DAY
    assert (detail["meeting_kind"], detail["minutes_reference"]) == ("board_meeting",
                                                                     "Referat pkt. 3")
    assert detail["acknowledged_by"]["name"] == persona("ab-formand").get_full_name()
    assert open_tasks(case) == [("close", "driftschef")]

    # The board remarks; the case cannot close before staff answer.
    response = post(chair, case_url(case, "board-remarks"),
                    {"text": "Hvornår kommer målerne i opgang B?"})
    assert response.status_code == 201, response.json()
    remark = response.json()
    assert remark["author"]["name"] == persona("ab-formand").get_full_name()
    assert remark["answer"] == "" and remark["answered_by"] is None
    response = post(manager, case_url(case, "close"))
    assert response.status_code == 400 and "follow_up" in response.json()["errors"]
    assert fresh(case).state == State.PRESENTED
    assert manager.get(case_url(case)).json()["blockers"]["close"]

    response = post(manager, f"{case_url(case)}board-remarks/{remark['id']}/answer/",
                    {"answer": "will_act", "text": "I maj."})
    assert response.status_code == 200, response.json()
    detail = response.json()
    answered = detail["board_remarks"][0]
    assert (answered["answer"], answered["answer_text"]) == ("will_act", "I maj.")
    assert answered["answered_by"]["name"] == persona("serviceleder").get_full_name()
    assert detail["blockers"]["close"] == [] and "close" in detail["allowed_actions"]

    response = post(manager, case_url(case, "close"))
    assert response.status_code == 200, response.json()
    detail = response.json()
    assert detail["state"] == "closed" and detail["allowed_actions"] == []
    assert [t["to_state"] for t in detail["transitions"]] == [
        "in_preparation", "ready_for_board", "presented", "closed"]
    assert open_tasks(case) == []


def test_the_chair_returns_a_case_to_preparation_with_a_reason(demo, persona):
    case = ready(case_of(1), persona)
    response = post(client_for(persona("ab-formand")), case_url(case, "return"),
                    {"reason": "Der mangler tal for energiforbruget."})
    assert response.status_code == 200, response.json()
    detail = response.json()
    assert detail["state"] == "in_preparation"
    assert detail["transitions"][-1]["reason"] == "Der mangler tal for energiforbruget."
    assert open_tasks(case) == [("prepare", "driftschef")]


# --- lists and filters ----------------------------------------------------------------------

def test_each_persona_lists_the_cases_of_their_own_departments(demo, persona):
    def departments(username, query=""):
        rows = all_rows(client_for(persona(username)), FOLLOW_UPS + query)
        return sorted({(row["department"]["number"], row["half"]) for row in rows})

    assert departments("ab-formand") == [(1, "H1"), (1, "H2")]
    assert departments("ab-anden") == [(3, "H1"), (3, "H2")]
    assert departments("serviceleder") == [(n, h) for n in (1, 2) for h in ("H1", "H2")]
    assert len(departments("sekretaer")) == 12
    assert departments("anden-org") == []
    assert departments("fg-formand", "?half=H1") == [(4, "H1")]  # a member of department 4

    plan = plan_of(2026)
    area_2 = case_of(3).department.operations_area_id
    assert departments("sekretaer", f"?operations_area={area_2}&half=H2") == [(3, "H2"),
                                                                              (4, "H2")]
    assert departments("sekretaer", "?state=closed") == [(1, "H1")]
    assert departments("sekretaer", f"?plan={plan.pk}&year=2026&department="
                                    f"{case_of(2).department_id}") == [(2, "H1"), (2, "H2")]
    # An id outside the caller's departments matches nothing, like an unknown one.
    assert departments("ab-anden", f"?department={case_of(1).department_id}") == []
    row = client_for(persona("ab-formand")).get(FOLLOW_UPS + "?half=H1").json()["results"][0]
    assert (row["state"], row["state_label"] != "", row["operations_area"]["number"]) == (
        "closed", True, 1)


@pytest.mark.parametrize("query", ["?half=H3", "?state=done", "?year=twenty", "?plan=-1",
                                   "?department=x", f"?operations_area={2**64}"])
def test_bad_follow_up_filters_answer_400(demo, persona, query):
    response = client_for(persona("sekretaer")).get(FOLLOW_UPS + query)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {query[1:].split("=")[0]}


def test_the_follow_up_list_costs_the_same_queries_for_twice_the_cases(
        demo, persona, django_assert_num_queries):
    client = client_for(persona("serviceleder"))
    client.get(FOLLOW_UPS)  # guardian looks up the permission's content type once per process
    # 1. count the cases in the caller's departments (the matrix and guardian's grants are
    # subqueries)  2. the page of cases with plan, department and operations area
    with django_assert_num_queries(2):
        assert len(client.get(FOLLOW_UPS).json()["results"]) == 4
    publish_2027(persona)
    with django_assert_num_queries(2):
        assert len(client.get(FOLLOW_UPS).json()["results"]) == 8


def test_the_rollout_list_costs_the_same_queries_for_twice_the_plans(
        demo, persona, django_assert_num_queries):
    client = client_for(persona("sekretaer"))
    client.get(ROLLOUTS)  # guardian looks up the permission's content type once per process
    # 1. count the rollout plans in the caller's departments  2. the page of them with plan,
    # department, operations area and presenter
    with django_assert_num_queries(2):
        assert len(client.get(ROLLOUTS).json()["results"]) == 6
    publish_2027(persona)
    with django_assert_num_queries(2):
        assert len(client.get(ROLLOUTS).json()["results"]) == 12


# --- who may see and do what ----------------------------------------------------------------

# Every route of a case: (method, address suffix, a valid body).
CASE_ROUTES = [
    ("get", "", None),
    ("post", "save/", {"summary": "Ny status.", "remarks": []}),
    ("post", "mark-ready/", {}),
    ("post", "return/", {"reason": "Mangler tal."}),
    ("post", "acknowledge/", {"presented_on": MEETING_DAY, "meeting_kind": "board_meeting"}),
    ("post", "board-remarks/", {"text": "Et spørgsmål."}),
    ("post", "close/", {}),
]


@pytest.mark.parametrize("username", ["ab-anden", "anden-org"])
def test_a_case_of_another_department_or_organisation_answers_404_on_every_route(
        demo, persona, username):
    case = presented(case_of(1), persona)
    remark = services.board_remark_add(actor=persona("ab-formand"), follow_up=case,
                                       text="Hvornår?")
    before = snapshot(case)
    client = client_for(persona(username))
    for method, suffix, data in CASE_ROUTES:
        response = getattr(client, method)(case_url(case) + suffix, data, format="json")
        assert response.status_code == 404, (suffix, response.json())
    response = post(client, f"{case_url(case)}board-remarks/{remark.pk}/answer/",
                    {"answer": "noted"})
    assert response.status_code == 404
    assert client.get(f"{FOLLOW_UPS}{2**62}/").status_code == 404
    assert snapshot(case) == before


def test_a_board_remark_of_another_case_answers_404(demo, persona):
    # The demo's board remark on department 2's first-half case, visible to serviceleder too.
    other_remark = BoardRemark.objects.get(follow_up=case_of(2, FollowUp.Half.H1))
    case = presented(case_of(1), persona)
    response = post(client_for(persona("serviceleder")),
                    f"{case_url(case)}board-remarks/{other_remark.pk}/answer/",
                    {"answer": "noted"})
    assert response.status_code == 404
    assert BoardRemark.objects.get(pk=other_remark.pk).answer == ""


@pytest.mark.parametrize(("username", "suffix", "data", "prepare"), [
    # A board member reads the case but may neither prepare nor acknowledge it.
    ("ab-medlem", "save/", {"summary": "Ny status."}, None),
    ("ab-medlem", "acknowledge/", {"presented_on": MEETING_DAY,
                                   "meeting_kind": "board_meeting"}, ready),
    ("ab-medlem", "return/", {"reason": "Nej."}, ready),
    # The chair acknowledges, but does not prepare or close.
    ("ab-formand", "save/", {"summary": "Ny status."}, None),
    ("ab-formand", "mark-ready/", {}, saved),
    ("ab-formand", "close/", {}, presented),
    # Staff prepare, but the acknowledgement and the board's remarks are the board's.
    ("serviceleder", "acknowledge/", {"presented_on": MEETING_DAY,
                                      "meeting_kind": "board_meeting"}, ready),
    ("serviceleder", "board-remarks/", {"text": "Et spørgsmål."}, ready),
    # The operations secretary sees every department but prepares none.
    ("sekretaer", "save/", {"summary": "Ny status."}, None),
    ("sekretaer", "close/", {}, presented),
])
def test_a_visible_case_without_the_right_answers_403(demo, persona, username, suffix, data,
                                                      prepare):
    case = prepare(case_of(1), persona) if prepare else case_of(1)
    before = snapshot(case)
    client = client_for(persona(username))
    assert client.get(case_url(case)).status_code == 200
    response = post(client, case_url(case) + suffix, data)
    assert response.status_code == 403, response.json()
    assert response.json()["status"] == 403
    assert snapshot(case) == before


def test_staff_without_the_right_to_answer_board_remarks_get_403(demo, persona):
    case = presented(case_of(1), persona)
    remark = services.board_remark_add(actor=persona("ab-formand"), follow_up=case,
                                       text="Hvornår?")
    for username in ("ab-formand", "sekretaer"):
        response = post(client_for(persona(username)),
                        f"{case_url(case)}board-remarks/{remark.pk}/answer/",
                        {"answer": "noted"})
        assert response.status_code == 403
    assert BoardRemark.objects.get(pk=remark.pk).answer == ""


@pytest.mark.parametrize(("username", "suffix", "data", "current"), [
    ("serviceleder", "mark-ready/", {}, "scheduled"),
    ("serviceleder", "close/", {}, "scheduled"),
    ("ab-formand", "acknowledge/", {"presented_on": MEETING_DAY,
                                    "meeting_kind": "board_meeting"}, "scheduled"),
    ("ab-formand", "return/", {"reason": "Nej."}, "scheduled"),
    ("ab-medlem", "board-remarks/", {"text": "Et spørgsmål."}, "scheduled"),
])
def test_an_action_in_the_wrong_state_answers_409_with_the_current_state(
        demo, persona, username, suffix, data, current):
    case = case_of(1)
    before = snapshot(case)
    response = post(client_for(persona(username)), case_url(case) + suffix, data)
    assert response.status_code == 409, response.json()
    assert response.json()["current_state"] == current
    assert snapshot(case) == before


def test_saving_or_answering_a_closed_case_answers_409(demo, persona):
    closed = case_of(1, FollowUp.Half.H1)  # closed by the demo
    remark = closed.board_remarks.get()
    before = snapshot(closed)
    manager = client_for(persona("serviceleder"))
    response = post(manager, case_url(closed, "save"), {"summary": "Ny status."})
    assert response.status_code == 409 and response.json()["current_state"] == "closed"
    response = post(manager, f"{case_url(closed)}board-remarks/{remark.pk}/answer/",
                    {"answer": "noted"})
    assert response.status_code == 409 and response.json()["current_state"] == "closed"
    assert snapshot(closed) == before


# --- bad input ------------------------------------------------------------------------------

def test_an_initiative_of_another_case_in_save_is_a_field_error_and_nothing_is_saved(
        demo, persona):
    case = case_of(1)
    # Department 1 has a remark on every initiative of 2026: take one of the 2027 draft.
    foreign = plan_of(2027).initiatives.values_list("pk", flat=True).first()
    remarks = remarks_input(case)
    before = snapshot(case)
    response = post(client_for(persona("serviceleder")), case_url(case, "save"),
                    {"summary": "Ny status.", "remarks": [
                        remarks[0], {**remarks[1], "initiative": foreign}]})
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]["remarks"]
    assert errors[0] == {} and list(errors[1]) == ["initiative"]
    assert snapshot(case) == before


# Each builds a body from one valid remark row of the case.
BAD_SAVES = {
    "no summary": (lambda row: {"remarks": [row]}, "summary"),
    "summary too long": (lambda row: {"summary": "x" * 10_001}, "summary"),
    "remarks not a list": (lambda row: {"summary": "Ok.", "remarks": "none"}, "remarks"),
    "no initiative": (lambda row: {"summary": "Ok.", "remarks": [
        {"status": "ongoing", "progress": 1}]}, "remarks"),
    "unknown status": (lambda row: {"summary": "Ok.", "remarks": [
        {**row, "status": "late"}]}, "remarks"),
    "progress over 100": (lambda row: {"summary": "Ok.", "remarks": [
        {**row, "progress": 101}]}, "remarks"),
    "huge id": (lambda row: {"summary": "Ok.", "remarks": [
        {**row, "initiative": 2**64}]}, "remarks"),
    "an initiative twice": (lambda row: {"summary": "Ok.", "remarks": [row, row]}, "remarks"),
}


@pytest.mark.parametrize("case_name", BAD_SAVES)
def test_bad_save_input_answers_400_with_the_field_and_nothing_is_saved(demo, persona,
                                                                        case_name):
    case = case_of(1)
    build, field = BAD_SAVES[case_name]
    before = snapshot(case)
    response = post(client_for(persona("serviceleder")), case_url(case, "save"),
                    build(remarks_input(case)[0]))
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    assert snapshot(case) == before
    assert open_tasks(case) == [("prepare", "driftschef")]


def test_bad_action_input_answers_400_with_the_fields_and_nothing_is_saved(demo, persona):
    case = ready(case_of(1), persona)
    chair = client_for(persona("ab-formand"))
    before = snapshot(case)
    cases = [
        ("return/", {}, {"reason"}),
        ("return/", {"reason": "   "}, {"reason"}),
        ("acknowledge/", {}, {"presented_on", "meeting_kind"}),
        ("acknowledge/", {"presented_on": "26.02.2026", "meeting_kind": "party"},
         {"presented_on", "meeting_kind"}),
        ("acknowledge/", {"presented_on": "2026-03-03", "meeting_kind": "board_meeting"},
         {"presented_on"}),  # tomorrow
        ("board-remarks/", {"text": ""}, {"text"}),
        ("board-remarks/", {"text": "   "}, {"text"}),
    ]
    for suffix, data, fields in cases:
        response = post(chair, case_url(case) + suffix, data)
        assert response.status_code == 400, (suffix, data, response.json())
        assert set(response.json()["errors"]) == fields, (suffix, data)
    assert snapshot(case) == before


def test_marking_ready_without_remarks_answers_400_with_the_reasons(demo, persona):
    case = case_of(1)
    manager = client_for(persona("serviceleder"))
    assert post(manager, case_url(case, "save"), {"summary": ""}).status_code == 200
    before = snapshot(case)
    response = post(manager, case_url(case, "mark-ready"))
    assert response.status_code == 400
    assert len(response.json()["errors"]["follow_up"]) == 2  # no summary, remarks without text
    assert snapshot(case) == before


def test_a_bad_answer_to_a_board_remark_answers_400(demo, persona):
    case = presented(case_of(1), persona)
    remark = services.board_remark_add(actor=persona("ab-formand"), follow_up=case,
                                       text="Hvornår?")
    address = f"{case_url(case)}board-remarks/{remark.pk}/answer/"
    manager = client_for(persona("serviceleder"))
    for data, fields in [({}, {"answer"}), ({"answer": "maybe"}, {"answer"}),
                         ({"answer": "wont_act"}, {"text"})]:
        response = post(manager, address, data)
        assert response.status_code == 400, response.json()
        assert set(response.json()["errors"]) == fields
    assert BoardRemark.objects.get(pk=remark.pk).answer == ""
    assert post(manager, f"{case_url(case)}board-remarks/{2**62}/answer/",
                {"answer": "noted"}).status_code == 404


# --- rollout plans --------------------------------------------------------------------------

def test_a_rollout_plan_shows_its_initiatives_and_takes_the_presentation(demo, persona):
    rollout = rollout_of(1)
    chair = client_for(persona("ab-formand"))
    detail = chair.get(f"{ROLLOUTS}{rollout.pk}/").json()
    assert detail["department"]["number"] == 1 and detail["plan"]["year"] == 2026
    assert detail["presented_on"] is None and detail["allowed_actions"] == []
    assert len(detail["entries"]) == rollout.entries.count() > 0
    entry = detail["entries"][0]
    assert set(entry) == {"id", "initiative", "planned_start", "planned_end"}
    assert set(entry["initiative"]["theme"]) == {"id", "number", "title"}

    manager = client_for(persona("serviceleder"))
    assert manager.get(f"{ROLLOUTS}{rollout.pk}/").json()["allowed_actions"] == [
        "register-presentation"]
    response = post(manager, f"{ROLLOUTS}{rollout.pk}/register-presentation/",
                    {"presented_on": MEETING_DAY, "meeting_kind": "network_meeting",
                     "board_remarks": "Bestyrelsen tog planen til efterretning."})
    assert response.status_code == 200, response.json()
    detail = response.json()
    assert (detail["presented_on"], detail["meeting_kind"]) == (MEETING_DAY, "network_meeting")
    assert detail["presenter"]["name"] == persona("serviceleder").get_full_name()
    assert detail["board_remarks"] == "Bestyrelsen tog planen til efterretning."
    rows = all_rows(chair, ROLLOUTS + "?presented=true")
    assert [row["department"]["number"] for row in rows] == [1]


def test_rollout_routes_answer_404_403_and_400(demo, persona):
    rollout = rollout_of(1)
    address = f"{ROLLOUTS}{rollout.pk}/"
    good = {"presented_on": MEETING_DAY, "meeting_kind": "board_meeting"}
    for username in ("ab-anden", "anden-org"):
        client = client_for(persona(username))
        assert client.get(address).status_code == 404
        assert post(client, address + "register-presentation/", good).status_code == 404
        assert [row["department"]["number"] for row in all_rows(client, ROLLOUTS)] == (
            [3] if username == "ab-anden" else [])
    for username in ("ab-formand", "ab-medlem"):
        response = post(client_for(persona(username)), address + "register-presentation/",
                        good)
        assert response.status_code == 403
    manager = client_for(persona("serviceleder"))
    for data, fields in [({}, {"presented_on", "meeting_kind"}),
                         ({"presented_on": "2026-03-03", "meeting_kind": "board_meeting"},
                          {"presented_on"}),
                         ({**good, "meeting_kind": "party"}, {"meeting_kind"})]:
        response = post(manager, address + "register-presentation/", data)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == fields
    rollout.refresh_from_db()
    assert (rollout.presented_on, rollout.meeting_kind, rollout.presenter_id) == (None, "", None)


# --- coverage and aggregates of a plan ------------------------------------------------------

def test_coverage_counts_presented_departments_and_lists_the_missing(demo, persona):
    plan = plan_of(2026)
    secretary = client_for(persona("sekretaer"))
    response = secretary.get(f"/api/v1/plans/{plan.pk}/coverage/")
    assert response.status_code == 200
    body = response.json()
    assert (body["presented"], body["total"]) == (0, 6)
    assert [d["number"] for d in body["missing"]] == [1, 2, 3, 4, 5, 6]
    assert set(body["missing"][0]) == {"id", "number", "name", "operations_area"}
    assert body["missing"][0]["operations_area"]["number"] == 1

    services.rollout_register_presentation(actor=persona("serviceleder"), rollout=rollout_of(1),
                                           presented_on=datetime.date(2026, 2, 26),
                                           meeting_kind=MeetingKind.BOARD_MEETING)
    body = client_for(persona("fg-formand")).get(f"/api/v1/plans/{plan.pk}/coverage/").json()
    assert (body["presented"], body["total"]) == (1, 6)
    assert [d["number"] for d in body["missing"]] == [2, 3, 4, 5, 6]


def test_aggregates_count_cases_per_area_and_remarks_per_theme(demo, persona):
    plan = plan_of(2026)
    client = client_for(persona("du-formand"))
    response = client.get(f"/api/v1/plans/{plan.pk}/aggregates/?half=H1")
    assert response.status_code == 200
    body = response.json()
    assert body["half"] == "H1" and body["total"] == 6 and body["overdue"] == 0
    assert body["totals"] == {"scheduled": 4, "in_preparation": 0, "ready_for_board": 0,
                              "presented": 1, "closed": 1}
    areas = {row["area"]["number"]: row for row in body["areas"]}
    assert areas[1]["counts"]["closed"] == 1 and areas[1]["counts"]["presented"] == 1
    assert (areas[1]["total"], areas[1]["progress"]) == (2, 40)
    assert areas[2]["counts"]["scheduled"] == 2 and areas[2]["progress"] == 0
    remarks = FollowUpRemark.objects.filter(follow_up__plan=plan, follow_up__half="H1")
    assert sum(theme["remarks"] for theme in body["themes"]) == remarks.count()
    assert sum(theme["counts"]["ongoing"] for theme in body["themes"]) == remarks.filter(
        status="ongoing").count() > 0

    both = client.get(f"/api/v1/plans/{plan.pk}/aggregates/").json()
    assert both["half"] is None and both["total"] == 12
    # After the first half's deadline the four scheduled cases of areas 2 and 3 are overdue.
    with frozen_on(datetime.date(2026, 7, 1)):
        late = client.get(f"/api/v1/plans/{plan.pk}/aggregates/?half=H1").json()
    assert late["overdue"] == 4
    assert {row["area"]["number"]: row["overdue"] for row in late["areas"]} == {1: 0, 2: 2,
                                                                                3: 2}


def test_coverage_and_aggregates_answer_404_403_and_400(demo, persona):
    plan = plan_of(2026)
    for suffix in ("coverage/", "aggregates/"):
        address = f"/api/v1/plans/{plan.pk}/{suffix}"
        assert client_for(persona("anden-org")).get(address).status_code == 404
        assert client_for(persona("sekretaer")).get(
            f"/api/v1/plans/{2**62}/{suffix}").status_code == 404
        # Department board members read the plan, but not the organisation's figures.
        for username in ("ab-formand", "ab-anden"):
            assert client_for(persona(username)).get(address).status_code == 403
    response = client_for(persona("sekretaer")).get(
        f"/api/v1/plans/{plan.pk}/aggregates/?half=H3")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["half"]


# --- the schema -----------------------------------------------------------------------------

def test_the_openapi_schema_validates_and_documents_the_follow_up_api(demo, persona):
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())
    schema = client_for(persona("sekretaer")).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for action in ("save", "mark-ready", "return", "acknowledge", "close"):
        operation = paths[f"/api/v1/follow-ups/{{id}}/{action}/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])
        assert operation["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"].endswith("/FollowUpDetail")
    assert "201" in paths["/api/v1/follow-ups/{id}/board-remarks/"]["post"]["responses"]
    for path in ["/api/v1/follow-ups/", "/api/v1/follow-ups/{id}/",
                 "/api/v1/follow-ups/{id}/board-remarks/{remark_pk}/answer/",
                 "/api/v1/rollouts/", "/api/v1/rollouts/{id}/",
                 "/api/v1/rollouts/{id}/register-presentation/",
                 "/api/v1/plans/{id}/coverage/", "/api/v1/plans/{id}/aggregates/"]:
        assert path in paths
    assert "FollowUpSaveRequest" in schema["components"]["schemas"]
