"""The rollout and follow-up pages: lists, the case page and its steps, coverage and aggregates.

The demo's 2026 plan is published. Department 1 (area 1) has ab-formand as chair and ab-medlem
as member, with driftschef and serviceleder as the area's staff; department 3 (area 2) has
ab-anden as member; anden-org belongs to the other organisation. In the demo, area 1's H1 cases
are moved along (department 1's is closed, department 2's presented); every H2 case is
scheduled, so the tests walk department 1's H2 case. Time is frozen on Monday 02.03.2026 before
the demo (whose terms are relative to today) is loaded. Pages are requested in English.
"""

import datetime

import pytest
from django.urls import reverse

from cycles import follow_up_views, services
from cycles.models import (
    AnnualPlan,
    BoardRemark,
    FollowUp,
    FollowUpRemark,
    FollowUpTransition,
    MeetingKind,
    RolloutPlan,
    SignOff,
)
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG, OTHER_SLUG
from governance.models import OperationsArea
from tests.clock import frozen_before_demo, frozen_on
from tests.pages import as_, english_pages, html
from workflows.services import follow_up_act, open_follow_up_tasks, plan_act

pytestmark = pytest.mark.django_db

State = FollowUp.State
TODAY = datetime.date(2026, 3, 2)
MEETING_DAY = datetime.date(2026, 2, 26)  # the board met last Thursday


_frozen_today = frozen_before_demo(TODAY)


_english = english_pages()


# --- helpers ------------------------------------------------------------------------------

def case_of(number: int, half: str = FollowUp.Half.H2, slug: str = DEMO_SLUG) -> FollowUp:
    return FollowUp.objects.select_related("department").get(
        plan__organisation__slug=slug, plan__year=2026, department__number=number, half=half)


def fresh(follow_up: FollowUp) -> FollowUp:
    return FollowUp.objects.get(pk=follow_up.pk)


def url(name: str, follow_up: FollowUp, *args) -> str:
    return reverse(f"cycles:{name}", args=[follow_up.pk, *args])


def save_data(follow_up: FollowUp, *, summary: str = "Halvåret er gået efter planen.",
              progress: int = 40, text: str = "I gang.") -> dict:
    """The save form's POST data: the summary and every initiative's remark."""
    data = {"summary": summary}
    for remark in follow_up.remarks.all():
        pk = remark.initiative_id
        data.update({f"status_{pk}": FollowUpRemark.Status.ONGOING,
                     f"progress_{pk}": str(progress), f"text_{pk}": text})
    return data


def remarks_for(follow_up: FollowUp) -> list[dict]:
    return [{"initiative": r.initiative, "status": FollowUpRemark.Status.ONGOING,
             "progress": 40, "text": f"I gang: {r.initiative}."}
            for r in follow_up.remarks.select_related("initiative")]


def prepared(persona, number: int = 1, summary: str = "Halvåret er gået efter planen.",
             ) -> FollowUp:
    follow_up = case_of(number)
    follow_up_act(services.follow_up_save, actor=persona("serviceleder"), follow_up=follow_up,
                  summary=summary, remarks=remarks_for(follow_up))
    return fresh(follow_up)


def ready(persona, number: int = 1) -> FollowUp:
    follow_up = prepared(persona, number)
    follow_up_act(services.follow_up_mark_ready, actor=persona("serviceleder"),
                  follow_up=follow_up)
    return fresh(follow_up)


def presented(persona) -> FollowUp:
    follow_up = ready(persona)
    follow_up_act(services.follow_up_acknowledge, actor=persona("ab-formand"),
                  follow_up=follow_up, presented_on=MEETING_DAY,
                  meeting_kind=MeetingKind.BOARD_MEETING, minutes_reference="Pkt. 3")
    return fresh(follow_up)


def with_board_remark(persona) -> tuple[FollowUp, BoardRemark]:
    follow_up = presented(persona)
    remark = services.board_remark_add(actor=persona("ab-formand"), follow_up=follow_up,
                                       text="Hvornår kommer målerne?")
    return fresh(follow_up), remark


def publish_2027(persona) -> AnnualPlan:
    """Walk the demo's 2027 draft to publication: its rollout and follow-ups are made."""
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    secretary = persona("sekretaer")
    covered = set(plan.initiatives.values_list("theme__number", flat=True))
    for theme in plan.programme.themes.exclude(number__in=covered):
        services.theme_justification_set(actor=secretary, plan=plan, theme=theme,
                                         text="Ikke i år.")
    plan_act(services.plan_submit, actor=secretary, plan=plan)
    plan_act(services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Anbefales.")
    for chair in ("du-formand", "ob-formand"):
        plan_act(services.plan_sign, actor=persona(chair), plan=plan,
                 decision=SignOff.Decision.APPROVE, comment="Godkendt.", password=DEMO_PASSWORD)
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == AnnualPlan.State.PUBLISHED
    return plan


def listed(response) -> list[tuple[str, int, str]]:
    """(organisation slug, department number, half) of the list's rows, in order."""
    return [(case.department.organisation.slug, case.department.number, case.half)
            for case in response.context["page"].object_list]


def assert_conflict(response, state_label: str) -> None:
    """409, with an alert naming the case's current state."""
    assert response.status_code == 409
    assert f"“{state_label}”" in response.context["error"]
    assert 'role="alert"' in html(response)


# --- the list -----------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "expected"), [
    ("ab-formand", [(DEMO_SLUG, 1, "H1"), (DEMO_SLUG, 1, "H2")]),
    ("ab-medlem", [(DEMO_SLUG, 1, "H1"), (DEMO_SLUG, 1, "H2")]),
    ("ab-anden", [(DEMO_SLUG, 3, "H1"), (DEMO_SLUG, 3, "H2")]),
    ("serviceleder", [(DEMO_SLUG, 1, "H1"), (DEMO_SLUG, 2, "H1"),
                      (DEMO_SLUG, 1, "H2"), (DEMO_SLUG, 2, "H2")]),
])
def test_follow_up_list_shows_exactly_the_cases_of_the_personas_departments(
        client, persona, username, expected):
    response = as_(client, persona, username).get(reverse("cycles:follow_up_list"))
    assert response.status_code == 200
    assert listed(response) == expected
    page = html(response)
    assert page.count('class="follow-up-row"') == len(expected)
    assert f'href="{url("follow_up_detail", case_of(expected[0][1], expected[0][2]))}"' in page


def test_the_other_organisation_sees_none_of_the_demo_organisations_cases(client, persona):
    response = as_(client, persona, "anden-org").get(reverse("cycles:follow_up_list"))
    assert response.status_code == 200
    assert {slug for slug, _number, _half in listed(response)} <= {OTHER_SLUG}
    assert "Søbredden" not in html(response)


def test_follow_up_list_filters_by_year_half_state_and_area_from_the_query_string(
        client, persona):
    client = as_(client, persona, "serviceleder")
    response = client.get(reverse("cycles:follow_up_list"), {"half": "H1", "state": "closed"})
    assert listed(response) == [(DEMO_SLUG, 1, "H1")]
    area = OperationsArea.objects.get(organisation__slug=DEMO_SLUG, number=1)
    response = client.get(reverse("cycles:follow_up_list"),
                          {"year": "2026", "half": "H2", "area": str(area.pk)})
    assert listed(response) == [(DEMO_SLUG, 1, "H2"), (DEMO_SLUG, 2, "H2")]
    # The form shows the filters in force, so the URL can be shared and the page reloaded.
    assert response.context["form"].cleaned_data["half"] == "H2"
    assert 'value="H2" selected' in html(response)
    response = client.get(reverse("cycles:follow_up_list"), {"year": "2025"})
    assert response.status_code == 400  # not a year the user has cases in
    assert "year" in response.context["form"].errors


@pytest.mark.parametrize("query", [{"year": "abc"}, {"state": "done"}, {"half": "H3"},
                                   {"area": "999999"}])
def test_a_bad_filter_answers_400_with_the_field_named(client, persona, query):
    response = as_(client, persona, "serviceleder").get(reverse("cycles:follow_up_list"),
                                                        query)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == set(query)
    assert 'role="alert"' in html(response)
    assert 'class="follow-up-row"' not in html(response)


def test_overdue_cases_are_marked_in_words(client, persona):
    client = as_(client, persona, "ab-anden")
    response = client.get(reverse("cycles:follow_up_list"))
    assert 'data-testid="overdue"' not in html(response)
    with frozen_on(datetime.date(2026, 7, 10)):  # after the H1 due date, 30.06.2026
        client = as_(client, persona, "ab-anden")  # the earlier session has expired
        response = client.get(reverse("cycles:follow_up_list"))
        rows = html(response).split('class="follow-up-row"')[1:]
        assert len(rows) == 2
        assert "30.06.2026" in rows[0] and ">overdue<" in rows[0]
        assert ">overdue<" not in rows[1]  # H2 is due in December
        detail = client.get(url("follow_up_detail", case_of(3, "H1")))
        assert ">overdue<" in html(detail)


def test_follow_up_list_pages_keep_the_filters(client, persona, monkeypatch):
    monkeypatch.setattr(follow_up_views, "PAGE_SIZE", 3)
    client = as_(client, persona, "sekretaer")
    response = client.get(reverse("cycles:follow_up_list"), {"half": "H2"})
    assert len(listed(response)) == 3
    assert response.context["page"].paginator.count == 6
    assert 'href="?half=H2&amp;page=2"' in html(response)
    response = client.get(reverse("cycles:follow_up_list"), {"half": "H2", "page": "2"})
    assert [n for _s, n, _h in listed(response)] == [4, 5, 6]


def test_follow_up_list_query_count_does_not_grow_with_cases(client, persona,
                                                             django_assert_num_queries):
    client = as_(client, persona, "sekretaer")
    client.get(reverse("cycles:follow_up_list"))  # warm the session
    # 1 session, 2 user, 3 the years of the visible cases, 4 their operations areas,
    # 5 the count for the paginator, 6 the page of cases (with plan, department, area).
    # The visible departments are subqueries of 3-6.
    with django_assert_num_queries(6):
        response = client.get(reverse("cycles:follow_up_list"))
    assert len(listed(response)) == 12
    publish_2027(persona)
    with django_assert_num_queries(6):
        response = client.get(reverse("cycles:follow_up_list"))
    assert len(listed(response)) == FollowUp.objects.filter(
        plan__organisation__slug=DEMO_SLUG).count() > 12
    assert html(response).count('class="follow-up-row"') == len(listed(response))


def test_the_menu_links_to_follow_ups_only_for_people_who_have_some(client, persona):
    link = f'href="{reverse("cycles:follow_up_list")}"'
    assert link in html(as_(client, persona, "ab-formand").get(reverse("home")))
    assert link not in html(as_(client, persona, "du-formand").get(reverse("home")))


# --- the case page ------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["ab-formand", "ab-medlem", "serviceleder", "driftschef",
                                      "sekretaer"])
def test_the_case_page_opens_for_the_department_and_its_staff(client, persona, username):
    follow_up = case_of(1)
    response = as_(client, persona, username).get(url("follow_up_detail", follow_up))
    assert response.status_code == 200
    page = html(response)
    assert str(follow_up.department) in page
    assert "15.12.2026" in page  # the H2 due date
    assert "Scheduled" in page


@pytest.mark.parametrize("username", ["ab-anden", "anden-org", "du-formand"])
def test_the_case_page_of_another_department_is_not_found(client, persona, username):
    response = as_(client, persona, username).get(url("follow_up_detail", case_of(1)))
    assert response.status_code == 404


def test_an_unknown_case_is_not_found(client, persona):
    response = as_(client, persona, "serviceleder").get(
        reverse("cycles:follow_up_detail", args=[999999]))
    assert response.status_code == 404


def test_a_closed_case_shows_remarks_presentation_board_remarks_and_log(client, persona):
    follow_up = case_of(1, "H1")
    assert follow_up.state == State.CLOSED
    response = as_(client, persona, "ab-medlem").get(url("follow_up_detail", follow_up))
    page = html(response)
    remarks = follow_up.remarks.count()
    assert remarks and page.count('class="remark-row"') == remarks
    assert "Ongoing" in page and "40 %" in page
    assert "Status for første halvår" in page  # the summary
    assert "Bestyrelsen ønsker en orientering" in page  # the board's remark
    assert "Will act" in page and "Serviceleder orienterer" in page  # staff's answer
    assert "Board meeting" in page and "Bestyrelsesmøde, pkt. 3" in page
    assert str(persona("ab-formand")) in page.split('data-testid="presentation"')[1]
    assert page.split('data-testid="history"')[1].count("<li>") == 4
    assert "There is nothing for you to do on this follow-up now." in page
    assert "<form" not in page.split('id="actions-heading"')[1].split("</main>")[0]


def test_the_buttons_follow_roles_and_state(client, persona):
    follow_up = case_of(1)
    page = html(as_(client, persona, "serviceleder").get(url("follow_up_detail", follow_up)))
    assert 'data-testid="save-form"' in page
    assert 'data-testid="mark-ready"' not in page  # save first: the case is only scheduled
    page = html(as_(client, persona, "ab-formand").get(url("follow_up_detail", follow_up)))
    assert 'data-testid="save-form"' not in page
    assert 'data-testid="acknowledge"' not in page
    follow_up = ready(persona)
    page = html(client.get(url("follow_up_detail", follow_up)))
    assert 'data-testid="acknowledge"' in page and 'data-testid="return"' in page
    assert 'data-testid="add-board-remark"' in page
    page = html(as_(client, persona, "ab-medlem").get(url("follow_up_detail", follow_up)))
    assert 'data-testid="acknowledge"' not in page and 'data-testid="return"' not in page
    assert 'data-testid="add-board-remark"' in page


def test_blockers_are_shown_next_to_the_disabled_step(client, persona):
    follow_up = prepared(persona, summary="")
    page = html(as_(client, persona, "serviceleder").get(url("follow_up_detail", follow_up)))
    blockers = page.split('data-testid="ready-blockers"')[1].split("</div>")[0]
    assert "Write a summary for the board." in blockers
    assert ('data-testid="mark-ready" disabled aria-describedby="ready-blockers"') in page
    follow_up, _remark = with_board_remark(persona)
    page = html(client.get(url("follow_up_detail", follow_up)))
    assert "Every remark from the board needs an answer" in page.split(
        'data-testid="close-blockers"')[1]
    assert 'data-testid="close" disabled' in page


# --- POSTs: not visible → 404, visible but not allowed → 403 --------------------------------

STEP_POSTS = ["follow_up_save", "follow_up_mark_ready", "follow_up_return",
              "follow_up_acknowledge", "follow_up_board_remark", "follow_up_close"]


@pytest.mark.parametrize("username", ["ab-anden", "anden-org"])
def test_steps_on_another_departments_case_are_not_found(client, persona, username):
    follow_up = ready(persona)
    client = as_(client, persona, username)
    for name in STEP_POSTS:
        response = client.post(url(name, follow_up), {"reason": "x", "board-remark-text": "x"})
        assert response.status_code == 404, name
    follow_up = fresh(follow_up)
    assert follow_up.state == State.READY_FOR_BOARD
    assert not follow_up.board_remarks.exists()


@pytest.mark.parametrize("username", ["ab-anden", "anden-org"])
def test_answering_on_another_departments_case_is_not_found(client, persona, username):
    follow_up, remark = with_board_remark(persona)
    response = as_(client, persona, username).post(
        url("follow_up_board_remark_answer", follow_up, remark.pk),
        {f"answer-{remark.pk}-answer": "noted"})
    assert response.status_code == 404
    remark.refresh_from_db()
    assert remark.answer == ""


@pytest.mark.parametrize(("name", "username", "setup"), [
    ("follow_up_save", "ab-formand", "scheduled"),
    ("follow_up_save", "sekretaer", "scheduled"),
    ("follow_up_mark_ready", "ab-formand", "prepared"),
    ("follow_up_return", "ab-medlem", "ready"),
    ("follow_up_acknowledge", "serviceleder", "ready"),
    ("follow_up_acknowledge", "ab-medlem", "ready"),
    ("follow_up_board_remark", "serviceleder", "ready"),
    ("follow_up_close", "ab-formand", "presented"),
])
def test_steps_the_roles_do_not_allow_are_forbidden(client, persona, name, username, setup):
    follow_up = {"scheduled": lambda: case_of(1), "prepared": lambda: prepared(persona),
                 "ready": lambda: ready(persona), "presented": lambda: presented(persona)}[setup]()
    before = (follow_up.state, follow_up.summary, follow_up.board_remarks.count())
    data = {**save_data(follow_up), "reason": "Mangler.", "board-remark-text": "Hm.",
            "presented_on": MEETING_DAY.strftime("%d.%m.%Y"), "meeting_kind": "board_meeting"}
    response = as_(client, persona, username).post(url(name, follow_up), data)
    assert response.status_code == 403
    follow_up = fresh(follow_up)
    assert (follow_up.state, follow_up.summary, follow_up.board_remarks.count()) == before


def test_only_staff_answer_the_boards_remarks(client, persona):
    follow_up, remark = with_board_remark(persona)
    response = as_(client, persona, "ab-formand").post(
        url("follow_up_board_remark_answer", follow_up, remark.pk),
        {f"answer-{remark.pk}-answer": "noted"})
    assert response.status_code == 403
    remark.refresh_from_db()
    assert remark.answer == ""


def test_the_steps_only_take_posts(client, persona):
    response = as_(client, persona, "serviceleder").get(url("follow_up_save", case_of(1)))
    assert response.status_code == 405


# --- bad input → 400 with field errors, nothing saved --------------------------------------

def test_saving_a_progress_over_100_answers_400_and_saves_nothing(client, persona):
    follow_up = case_of(1)
    data = save_data(follow_up, progress=150)
    response = as_(client, persona, "serviceleder").post(url("follow_up_save", follow_up), data)
    assert response.status_code == 400
    form = response.context["failed_form"]
    first = follow_up.remarks.first().initiative_id
    assert form.errors[f"progress_{first}"]
    page = html(response)
    assert f'href="#id_progress_{first}"' in page  # the summary links to the field
    follow_up = fresh(follow_up)
    assert (follow_up.state, follow_up.summary) == (State.SCHEDULED, "")
    assert set(follow_up.remarks.values_list("progress", flat=True)) == {0}
    assert not FollowUpTransition.objects.filter(follow_up=follow_up).exists()


def test_marking_ready_with_blockers_answers_400_naming_them(client, persona):
    follow_up = prepared(persona, summary="")
    response = as_(client, persona, "serviceleder").post(url("follow_up_mark_ready", follow_up))
    assert response.status_code == 400
    assert "Write a summary for the board." in response.context["errors"]
    assert fresh(follow_up).state == State.IN_PREPARATION


def test_a_return_without_a_reason_answers_400(client, persona):
    follow_up = ready(persona)
    response = as_(client, persona, "ab-formand").post(url("follow_up_return", follow_up),
                                                       {"reason": "  "})
    assert response.status_code == 400
    assert response.context["failed_form"].errors["reason"]
    assert fresh(follow_up).state == State.READY_FOR_BOARD


@pytest.mark.parametrize(("data", "field"), [
    ({"presented_on": "27.03.2026", "meeting_kind": "board_meeting"}, "presented_on"),
    ({"presented_on": "2026-02-26", "meeting_kind": "board_meeting"}, "presented_on"),
    ({"presented_on": "26.02.2026", "meeting_kind": "dinner"}, "meeting_kind"),
    ({"meeting_kind": "board_meeting"}, "presented_on"),
])
def test_a_bad_acknowledgement_answers_400_with_the_field_named(client, persona, data, field):
    follow_up = ready(persona)
    response = as_(client, persona, "ab-formand").post(url("follow_up_acknowledge", follow_up),
                                                       data)
    assert response.status_code == 400
    assert list(response.context["failed_form"].errors) == [field]
    follow_up = fresh(follow_up)
    assert (follow_up.state, follow_up.presented_on) == (State.READY_FOR_BOARD, None)


def test_an_empty_board_remark_answers_400(client, persona):
    follow_up = ready(persona)
    response = as_(client, persona, "ab-medlem").post(url("follow_up_board_remark", follow_up),
                                                      {"board-remark-text": ""})
    assert response.status_code == 400
    assert response.context["failed_form"].errors["text"]
    assert 'href="#id_board-remark-text"' in html(response)
    assert not follow_up.board_remarks.exists()


def test_will_not_act_without_a_reason_answers_400(client, persona):
    follow_up, remark = with_board_remark(persona)
    response = as_(client, persona, "serviceleder").post(
        url("follow_up_board_remark_answer", follow_up, remark.pk),
        {f"answer-{remark.pk}-answer": "wont_act", f"answer-{remark.pk}-text": ""})
    assert response.status_code == 400
    assert response.context["failed_form"].errors["text"] == ["Say why nothing will be done."]
    remark.refresh_from_db()
    assert remark.answer == ""


def test_an_answer_to_another_cases_remark_is_not_found(client, persona):
    follow_up, remark = with_board_remark(persona)
    other = prepared(persona, number=2)
    response = as_(client, persona, "serviceleder").post(
        url("follow_up_board_remark_answer", other, remark.pk),
        {f"answer-{remark.pk}-answer": "noted"})
    assert response.status_code == 404


def test_closing_with_an_unanswered_board_remark_answers_400(client, persona):
    follow_up, _remark = with_board_remark(persona)
    response = as_(client, persona, "serviceleder").post(url("follow_up_close", follow_up))
    assert response.status_code == 400
    assert any("needs an answer" in str(m) for m in response.context["errors"])
    assert fresh(follow_up).state == State.PRESENTED


# --- wrong state → 409 naming the current state ---------------------------------------------

def test_acknowledging_a_scheduled_case_answers_409_naming_its_state(client, persona):
    follow_up = case_of(1)
    response = as_(client, persona, "ab-formand").post(
        url("follow_up_acknowledge", follow_up),
        {"presented_on": "26.02.2026", "meeting_kind": "board_meeting"})
    assert_conflict(response, "scheduled")
    assert fresh(follow_up).state == State.SCHEDULED


def test_saving_a_closed_case_answers_409_naming_its_state(client, persona):
    follow_up = case_of(1, "H1")
    response = as_(client, persona, "serviceleder").post(url("follow_up_save", follow_up),
                                                         save_data(follow_up, progress=90))
    assert_conflict(response, "closed")
    assert 90 not in follow_up.remarks.values_list("progress", flat=True)


def test_marking_a_case_ready_twice_answers_409(client, persona):
    follow_up = ready(persona)
    response = as_(client, persona, "serviceleder").post(url("follow_up_mark_ready", follow_up))
    assert_conflict(response, "ready for the board")


def test_closing_a_case_in_preparation_answers_409(client, persona):
    follow_up = prepared(persona)
    response = as_(client, persona, "serviceleder").post(url("follow_up_close", follow_up))
    assert_conflict(response, "in preparation")
    assert fresh(follow_up).state == State.IN_PREPARATION


# --- the whole walk -----------------------------------------------------------------------

def test_serviceleder_prepares_ab_formand_acknowledges_serviceleder_closes(client, persona):
    follow_up = case_of(1)
    staff = as_(client, persona, "serviceleder")
    response = staff.post(url("follow_up_save", follow_up),
                          save_data(follow_up, progress=60, text="Målerne er sat op."))
    assert response.status_code == 302
    assert response.url == url("follow_up_detail", follow_up)
    follow_up = fresh(follow_up)
    assert follow_up.state == State.IN_PREPARATION
    assert follow_up.summary == "Halvåret er gået efter planen."
    assert set(follow_up.remarks.values_list("progress", "text")) == {(60, "Målerne er sat op.")}
    page = html(staff.get(url("follow_up_detail", follow_up)))
    assert "The follow-up was saved." in page
    assert staff.post(url("follow_up_mark_ready", follow_up)).status_code == 302
    assert fresh(follow_up).state == State.READY_FOR_BOARD

    chair = as_(client, persona, "ab-formand")
    home = html(chair.get(reverse("home")))
    assert f'href="{url("follow_up_detail", follow_up)}"' in home  # the task links to the case
    response = chair.post(url("follow_up_acknowledge", follow_up), {
        "presented_on": "26.02.2026", "meeting_kind": "network_meeting",
        "minutes_reference": "Netværksmøde, pkt. 2"})
    assert response.status_code == 302
    follow_up = fresh(follow_up)
    assert follow_up.state == State.PRESENTED
    assert (follow_up.presented_on, follow_up.meeting_kind, follow_up.minutes_reference,
            follow_up.acknowledged_by) == (MEETING_DAY, MeetingKind.NETWORK_MEETING,
                                           "Netværksmøde, pkt. 2", persona("ab-formand"))
    assert f'href="{url("follow_up_detail", follow_up)}"' not in html(chair.get(reverse("home")))
    response = chair.post(url("follow_up_board_remark", follow_up),
                          {"board-remark-text": "Hvornår er målerne i opgang B klar?"})
    assert response.status_code == 302
    remark = follow_up.board_remarks.get()

    staff = as_(client, persona, "serviceleder")
    page = html(staff.get(url("follow_up_detail", follow_up)))
    assert 'data-testid="close" disabled' in page
    response = staff.post(url("follow_up_board_remark_answer", follow_up, remark.pk), {
        f"answer-{remark.pk}-answer": "will_act", f"answer-{remark.pk}-text": "I maj."})
    assert response.status_code == 302
    remark.refresh_from_db()
    assert (remark.answer, remark.answer_text, remark.answered_by) == (
        BoardRemark.Answer.WILL_ACT, "I maj.", persona("serviceleder"))
    assert staff.post(url("follow_up_close", follow_up)).status_code == 302
    follow_up = fresh(follow_up)
    assert follow_up.state == State.CLOSED
    assert list(follow_up.transitions.values_list("to_state", "actor__username")) == [
        (State.IN_PREPARATION, "serviceleder"), (State.READY_FOR_BOARD, "serviceleder"),
        (State.PRESENTED, "ab-formand"), (State.CLOSED, "serviceleder")]
    assert not open_follow_up_tasks(follow_up=follow_up).exists()
    page = html(staff.get(url("follow_up_detail", follow_up)))
    assert page.split('data-testid="history"')[1].count("<li>") == 4


def test_a_case_sent_back_goes_to_preparation_with_the_reason_logged(client, persona):
    follow_up = ready(persona)
    response = as_(client, persona, "ab-formand").post(url("follow_up_return", follow_up),
                                                       {"reason": "Mangler tal for målerne."})
    assert response.status_code == 302
    follow_up = fresh(follow_up)
    assert follow_up.state == State.IN_PREPARATION
    assert follow_up.transitions.last().reason == "Mangler tal for målerne."
    assert "Mangler tal for målerne." in html(client.get(url("follow_up_detail", follow_up)))


# --- rollout plans ------------------------------------------------------------------------

def rollout_of(number: int, slug: str = DEMO_SLUG) -> RolloutPlan:
    return RolloutPlan.objects.get(plan__organisation__slug=slug, plan__year=2026,
                                   department__number=number)


def rollout_url(name: str, rollout: RolloutPlan) -> str:
    return reverse(f"cycles:{name}", args=[rollout.pk])


@pytest.mark.parametrize(("username", "numbers"), [
    ("ab-formand", [1]), ("ab-anden", [3]), ("serviceleder", [1, 2]),
    ("du-formand", []),
])
def test_rollout_list_shows_the_personas_departments(client, persona, username, numbers):
    response = as_(client, persona, username).get(reverse("cycles:rollout_list"))
    assert response.status_code == 200
    assert [r.department.number for r in response.context["page"].object_list] == numbers
    assert html(response).count('class="rollout-row"') == len(numbers)


def test_the_other_organisation_sees_no_rollout_of_the_demo(client, persona):
    response = as_(client, persona, "anden-org").get(reverse("cycles:rollout_list"))
    assert {r.plan.organisation.slug for r in response.context["page"].object_list} <= {
        OTHER_SLUG}


def test_rollout_list_query_count_does_not_grow_with_rollouts(client, persona,
                                                              django_assert_num_queries):
    client = as_(client, persona, "sekretaer")
    client.get(reverse("cycles:rollout_list"))
    # 1 session, 2 user, 3 the count for the paginator, 4 the page of rollout plans (with
    # plan, department, area and presenter); the visible departments are subqueries.
    with django_assert_num_queries(4):
        response = client.get(reverse("cycles:rollout_list"))
    before = len(response.context["page"].object_list)
    assert before == 6
    publish_2027(persona)
    with django_assert_num_queries(4):
        response = client.get(reverse("cycles:rollout_list"))
    assert len(response.context["page"].object_list) == RolloutPlan.objects.filter(
        plan__organisation__slug=DEMO_SLUG).count() > before


def test_rollout_page_shows_the_initiatives_with_their_timing(client, persona):
    rollout = rollout_of(1)
    response = as_(client, persona, "ab-medlem").get(rollout_url("rollout_detail", rollout))
    assert response.status_code == 200
    page = html(response)
    entries = rollout.entries.count()
    assert entries and page.count('class="entry-row"') == entries
    assert 'data-testid="not-presented"' in page
    assert 'data-testid="register-presentation"' not in page  # the board only takes note


@pytest.mark.parametrize("username", ["ab-anden", "anden-org", "du-formand"])
def test_rollout_page_of_another_department_is_not_found(client, persona, username):
    client = as_(client, persona, username)
    rollout = rollout_of(1)
    assert client.get(rollout_url("rollout_detail", rollout)).status_code == 404
    response = client.post(rollout_url("rollout_presentation", rollout),
                           {"presented_on": "26.02.2026", "meeting_kind": "board_meeting"})
    assert response.status_code == 404
    rollout.refresh_from_db()
    assert rollout.presented_on is None


def test_the_board_cannot_register_the_rollout_presentation(client, persona):
    rollout = rollout_of(1)
    response = as_(client, persona, "ab-formand").post(
        rollout_url("rollout_presentation", rollout),
        {"presented_on": "26.02.2026", "meeting_kind": "board_meeting"})
    assert response.status_code == 403
    rollout.refresh_from_db()
    assert rollout.presented_on is None


@pytest.mark.parametrize(("data", "field"), [
    ({"presented_on": "26.02.2026"}, "meeting_kind"),
    ({"presented_on": "01.04.2026", "meeting_kind": "board_meeting"}, "presented_on"),
])
def test_a_bad_rollout_presentation_answers_400(client, persona, data, field):
    rollout = rollout_of(1)
    response = as_(client, persona, "serviceleder").post(
        rollout_url("rollout_presentation", rollout), data)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert 'role="alert"' in html(response)
    rollout.refresh_from_db()
    assert rollout.presented_on is None


def test_staff_register_the_rollout_presentation_and_coverage_counts_it(client, persona):
    rollout = rollout_of(1)
    client = as_(client, persona, "serviceleder")
    response = client.post(rollout_url("rollout_presentation", rollout), {
        "presented_on": "26.02.2026", "meeting_kind": "board_meeting",
        "board_remarks": "Bestyrelsen tog planen til efterretning."})
    assert response.status_code == 302
    rollout.refresh_from_db()
    assert (rollout.presented_on, rollout.meeting_kind, rollout.presenter) == (
        MEETING_DAY, MeetingKind.BOARD_MEETING, persona("serviceleder"))
    page = html(client.get(rollout_url("rollout_detail", rollout)))
    assert "26.02.2026" in page and "Bestyrelsen tog planen til efterretning." in page

    plan = rollout.plan
    total = RolloutPlan.objects.filter(plan=plan).count()
    response = client.get(reverse("cycles:plan_coverage", args=[plan.pk]))
    assert response.status_code == 200
    page = html(response)
    assert f"Presented in 1 of {total} departments" in page
    assert page.count('class="missing-row"') == total - 1
    assert str(rollout.department) not in page.split('data-testid="missing"')[1]
    assert str(rollout_of(2).department.operations_area) in page


# --- a plan's coverage and aggregates -----------------------------------------------------

def plan_2026() -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2026)


AGGREGATE_VIEWERS = {"sekretaer": 200, "fg-formand": 200, "du-formand": 200,
                     "serviceleder": 200, "ab-formand": 403, "ab-anden": 403, "anden-org": 404}


def test_coverage_and_aggregates_need_the_aggregates_right(client, persona):
    plan = plan_2026()
    for username, status in AGGREGATE_VIEWERS.items():
        client = as_(client, persona, username)
        for name in ("plan_coverage", "plan_aggregates"):
            response = client.get(reverse(f"cycles:{name}", args=[plan.pk]))
            assert response.status_code == status, (username, name)


def test_coverage_lists_every_missing_department_with_its_area(client, persona):
    plan = plan_2026()
    response = as_(client, persona, "fg-formand").get(reverse("cycles:plan_coverage",
                                                              args=[plan.pk]))
    total = RolloutPlan.objects.filter(plan=plan).count()
    page = html(response)
    assert f"Presented in 0 of {total} departments" in page
    assert page.count('class="missing-row"') == total


def test_aggregates_count_cases_per_area_and_state_and_filter_by_half(client, persona):
    plan = plan_2026()
    client = as_(client, persona, "sekretaer")
    response = client.get(reverse("cycles:plan_aggregates", args=[plan.pk]), {"half": "H1"})
    assert response.status_code == 200
    areas = response.context["aggregates"]["areas"]
    first = {state.value: count for state, count in areas[0]["counts"]}
    assert first[State.CLOSED] == 1 and first[State.PRESENTED] == 1
    assert areas[0]["progress"] == 40
    page = html(response)
    assert page.count('class="area-row"') == len(areas) == 3
    assert page.count('class="theme-row"') == plan.programme.themes.count()
    assert 'role="img"' in page and "<desc" in page and "40 %" in page
    response = client.get(reverse("cycles:plan_aggregates", args=[plan.pk]), {"half": "H2"})
    totals = response.context["aggregates"]["totals"]
    assert totals[State.SCHEDULED] == response.context["aggregates"]["total"] == 6
    response = client.get(reverse("cycles:plan_aggregates", args=[plan.pk]), {"half": "H3"})
    assert response.status_code == 400
    assert 'role="alert"' in html(response)


def test_the_plan_page_links_to_coverage_and_aggregates_for_those_who_may_see_them(
        client, persona):
    plan = plan_2026()
    links = 'data-testid="plan-follow-up-links"'
    page = html(as_(client, persona, "sekretaer").get(reverse("cycles:plan_detail",
                                                              args=[plan.pk])))
    assert links in page and reverse("cycles:plan_aggregates", args=[plan.pk]) in page
    draft = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    assert links not in html(client.get(reverse("cycles:plan_detail", args=[draft.pk])))
    page = html(as_(client, persona, "ab-formand").get(reverse("cycles:plan_detail",
                                                               args=[plan.pk])))
    assert links not in page
