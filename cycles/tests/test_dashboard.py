"""The cycle dashboard (årshjul) at /dashboard/ and the CSV/XLSX exports of its tables and of the
follow-up list.

Time is frozen on Tuesday 01.09.2026 before the demo loads: the demo's 2026 plan is published
(so its transitions are dated today), the first half's deadline (30.06.2026) has passed and the
second's (15.12.2026) has not. In the demo, operations area 1's first-half cases are moved on
(department 1's closed, department 2's presented); every other case is scheduled, so the
first-half cases of areas 2 and 3 are overdue. The 2027 plan is a draft. Pages are requested in
English.
"""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cycles.models import AnnualPlan, FollowUp, RolloutPlan
from cycles.templatetags.charts import STATE_COLOURS, contrast_ratio
from fixtures.demo import DEMO_SLUG, OTHER_SLUG
from governance.models import Membership, OperationsArea, Organisation, Person
from tests.clock import frozen_before_demo
from tests.pages import as_, english_pages, html

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 9, 1)
DASHBOARD = reverse("cycles:dashboard")
ALLOWED = ["sekretaer", "fg-formand", "du-formand", "ob-formand", "driftschef"]
States = FollowUp.State


_frozen_today = frozen_before_demo(TODAY)


_english = english_pages()


def soebredden() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def area(number: int) -> OperationsArea:
    return OperationsArea.objects.get(organisation__slug=DEMO_SLUG, number=number)


def plan_2026() -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2026)


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "Danish Excel needs the byte-order mark"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def xlsx_sheet(response):
    return load_workbook(io.BytesIO(response.content)).active


def expected_area_counts(plan: AnnualPlan) -> dict[str, dict[str, int]]:
    """Area name → state → cases, and "overdue", straight from the database."""
    counts: dict[str, dict[str, int]] = {}
    for case in FollowUp.objects.filter(plan=plan).select_related("department__operations_area"):
        row = counts.setdefault(str(case.department.operations_area),
                                {state.value: 0 for state in States} | {"overdue": 0})
        row[case.state] += 1
        if case.due_on < TODAY and case.state in (States.SCHEDULED, States.IN_PREPARATION,
                                                  States.READY_FOR_BOARD):
            row["overdue"] += 1
    return counts


# --- who may see it -----------------------------------------------------------------------

@pytest.mark.parametrize("username", ALLOWED)
def test_the_bodies_and_staff_see_the_dashboard_of_this_years_plan(client, persona, username):
    response = as_(client, persona, username).get(DASHBOARD)
    assert response.status_code == 200
    assert response.context["organisation"] == soebredden()
    # This year's plan, not the newest (the 2027 draft).
    assert response.context["plan"] == plan_2026()
    assert "Current step: <strong>published</strong>" in html(response)


def test_a_department_board_member_may_not_see_the_dashboard(client, persona):
    client = as_(client, persona, "ab-medlem")
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(DASHBOARD, {"organisation": soebredden().pk}).status_code == 403


def test_another_organisations_member_gets_not_found_for_soebredden(client, persona):
    client = as_(client, persona, "anden-org")
    assert client.get(DASHBOARD, {"organisation": soebredden().pk}).status_code == 404
    assert client.get(DASHBOARD, {"organisation": "999999"}).status_code == 404
    assert client.get(DASHBOARD, {"organisation": "søbredden"}).status_code == 404
    assert client.get(DASHBOARD, {"organisation": "²"}).status_code == 404
    # Their own organisation: a department board seat does not open the aggregates.
    own = Organisation.objects.get(slug=OTHER_SLUG)
    assert client.get(DASHBOARD, {"organisation": own.pk}).status_code == 403
    assert client.get(DASHBOARD).status_code == 403


def test_the_dashboard_needs_a_login(client, demo):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_menu_links_to_the_dashboard_only_for_those_who_may_see_it(client, persona):
    link = f'href="{DASHBOARD}"'
    assert link in html(as_(client, persona, "ob-formand").get(reverse("home")))
    assert link not in html(as_(client, persona, "ab-medlem").get(reverse("home")))
    assert link not in html(as_(client, persona, "anden-org").get(reverse("home")))


# --- what it shows ------------------------------------------------------------------------

def test_the_year_strip_marks_the_plans_events_the_deadlines_and_today(client, persona):
    response = as_(client, persona, "ob-formand").get(DASHBOARD)
    events = response.context["events"]
    assert [(event["day"], event["kind"]) for event in events] == [
        (datetime.date(2026, 6, 30), "deadline"), (TODAY, "plan"),
        (datetime.date(2026, 12, 15), "deadline")]
    assert any("Published" in item for item in events[1]["items"])
    page = html(response)
    strip = svg(page, "year-chart")
    assert strip.count('class="chart-mark ') == 3
    assert 'class="chart-today"' in strip and ">Today<" in strip
    # The text list says the same in words, numbered like the marks.
    assert re.search(r'<li value="3"[^>]*><time datetime="2026-12-15">15.12.2026</time>: '
                     r"Follow-up deadline, second half", page)
    steps = re.findall(r'<li class="step[^"]*"( aria-current="step")?>([^<]+)', page)
    assert [label.strip() for current, label in steps if current] == ["Published"]


def test_a_draft_year_shows_its_step_and_says_it_has_no_follow_ups_yet(client, persona):
    response = as_(client, persona, "sekretaer").get(DASHBOARD, {"year": 2027})
    assert response.status_code == 200
    page = html(response)
    assert "Current step: <strong>draft</strong>" in page
    assert 'data-testid="no-follow-ups"' in page and 'data-testid="no-rollout"' in page


def test_cases_per_area_are_counted_by_state_with_overdue_in_words(client, persona):
    plan = plan_2026()
    expected = expected_area_counts(plan)
    assert expected["Driftsområde 2 – Vesterbro"]["overdue"] == 2
    response = as_(client, persona, "fg-formand").get(DASHBOARD)
    page = html(response)
    chart = svg(page, "areas-chart")
    for row in response.context["area_rows"]:
        counts = {segment["key"]: segment["count"] for segment in row["segments"]}
        assert counts == {state: n for state, n in expected[row["label"]].items()
                          if state != "overdue"}
        overdue = expected[row["label"]]["overdue"]
        assert row["note"] == (f"{overdue} overdue" if overdue else "none overdue")
        assert f">{row['note']}</text>" in chart
    # The same numbers as a table, inside a <details> that opens without JavaScript.
    table = re.search(r'<details class="chart-table".*?</details>', page, re.S).group(0)
    assert table.count('class="area-row"') == len(expected)
    assert "<summary>Show as table</summary>" in table


def test_the_charts_have_accessible_names_and_descriptions(client, persona):
    response = as_(client, persona, "du-formand").get(DASHBOARD)
    page = html(response)
    charts = [figure.split("</figure>")[0]
              for figure in page.split('<figure class="chart')[1:]]
    assert len(charts) == 3
    for chart in charts:
        assert chart.count('role="img"') == 1
        title_id, desc_id = re.search(r'aria-labelledby="([^" ]+) ([^"]+)"', chart).groups()
        title = re.search(rf'<title id="{title_id}">([^<]+)</title>', chart).group(1)
        desc = re.search(rf'<desc id="{desc_id}">([^<]+)</desc>', chart).group(1)
        assert title.strip() and desc.strip()
    areas_desc = re.search(r'<desc id="areas-chart-desc">([^<]+)', page).group(1)
    assert "Driftsområde 2 – Vesterbro: 4 scheduled; 2 overdue" in areas_desc
    themes_desc = re.search(r'<desc id="themes-chart-desc">([^<]+)', page).group(1)
    themes = svg(page, "themes-chart")
    rows = response.context["theme_rows"]
    assert len(rows) == 4 and all(row["percent"] for row in rows)
    for row in rows:
        assert f"{row['label']}: {row['percent']} %" in themes_desc
        assert f">{row['percent']} %</text>" in themes


def test_state_colours_contrast_with_their_text_and_the_page():
    for fill, ink in STATE_COLOURS.values():
        assert contrast_ratio(fill, ink) >= 4.5
        assert contrast_ratio(fill, "#ffffff") >= 3
    assert len({fill for fill, _ink in STATE_COLOURS.values()}) == len(States)


def test_rollout_coverage_links_to_the_rollout_page(client, persona):
    plan = plan_2026()
    page = html(as_(client, persona, "ob-formand").get(DASHBOARD))
    total = RolloutPlan.objects.filter(plan=plan).count()
    assert total == 6 and f"Presented in 0 of {total} departments" in page
    assert f'href="{reverse("cycles:plan_coverage", args=[plan.pk])}"' in page


def test_the_departments_of_a_chosen_area_are_counted_by_state(client, persona):
    client = as_(client, persona, "driftschef")
    response = client.get(DASHBOARD, {"area": area(1).pk})
    rows = response.context["departments"]
    assert [(row["department"].number, dict((s.value, n) for s, n in row["counts"]),
             row["overdue"]) for row in rows] == [
        (1, {**zero(), States.CLOSED: 1, States.SCHEDULED: 1}, 0),
        (2, {**zero(), States.PRESENTED: 1, States.SCHEDULED: 1}, 0),
    ]
    response = client.get(DASHBOARD, {"area": area(2).pk})
    assert [row["overdue"] for row in response.context["departments"]] == [1, 1]
    assert html(response).count('class="department-row"') == 2


def zero() -> dict[str, int]:
    return {state.value: 0 for state in States}


@pytest.mark.parametrize("params", [
    {"year": "1999"}, {"year": "next"}, {"area": "abc"}, {"export": "pdf"},
    {"export": "csv", "table": "departments"}, {"table": "everything"},
])
def test_bad_choices_answer_400_with_the_problem_named(client, persona, params):
    response = as_(client, persona, "sekretaer").get(DASHBOARD, params)
    assert response.status_code == 400
    assert 'class="error-summary"' in html(response)


def test_an_area_of_another_organisation_is_not_a_choice(client, persona):
    other = OperationsArea.objects.get(organisation__slug=OTHER_SLUG)
    response = as_(client, persona, "sekretaer").get(DASHBOARD, {"area": other.pk})
    assert response.status_code == 400


# --- a constant number of queries ---------------------------------------------------------

@pytest.fixture(params=[(3, 6), (4, 12)], ids=["small", "large"])
def sized_demo(request, db):
    from django.contrib.auth.hashers import make_password

    from fixtures.demo import DEMO_PASSWORD, load_demo

    areas, departments = request.param
    load_demo(area_count=areas, department_count=departments,
              password_hash=make_password(DEMO_PASSWORD, hasher="md5"))
    return departments


def test_the_dashboard_runs_the_same_queries_at_any_size(client, sized_demo,
                                                          django_assert_num_queries):
    assert FollowUp.objects.filter(plan__organisation__slug=DEMO_SLUG,
                                   plan__year=2026).count() == 2 * sized_demo
    client.force_login(Person.objects.get(username="ob-formand"))
    params = {"area": area(1).pk}
    client.get(DASHBOARD, params)  # the menu's answer goes into the session
    # 1 session, 2 user, 3 the user's organisations, 4-5 their seats and staff roles there
    # (cycle.aggregates.view), 6 the organisation's plans, 7 its operations areas;
    # follow_up_aggregates: 8 cases per area and state, 9 progress per area, 10 the areas,
    # 11 remarks per theme, 12 the themes; 13 transitions, 14 sign-offs, 15 the deadline of
    # each half; 16 rollout coverage; 17 the chosen area's departments with their counts.
    with django_assert_num_queries(17):
        response = client.get(DASHBOARD, params)
    assert response.status_code == 200
    assert len(response.context["departments"]) == len(
        OperationsArea.objects.get(pk=params["area"]).departments.all())
    assert sum(row["total"] for row in response.context["aggregates"]["areas"]) == \
        2 * sized_demo
    # The export of the per-area table: 1 session, 2 user, 3-5 organisations and roles,
    # 6 plans, 7 areas, 8-12 follow_up_aggregates; 13-20 its audit entry (export.dashboard:
    # two savepoints, the chain's head read and locked, the entry, the head moved on, the
    # two savepoints released).
    with django_assert_num_queries(20):
        response = client.get(DASHBOARD, {"export": "csv"})
    assert len(csv_rows(response)) == 1 + (3 if sized_demo == 6 else 4)


def test_the_follow_up_list_export_runs_the_same_queries_at_any_size(
        client, sized_demo, django_assert_num_queries):
    client.force_login(Person.objects.get(username="sekretaer"))
    client.get(reverse("cycles:follow_up_list"))
    # 1 session, 2 user, 3 the years of the visible cases, 4 their operations areas, 5 every
    # case the filters select (with plan, department, area and organisation); 6-13 the
    # download's audit entry (export.follow_ups, one organisation: two savepoints, the
    # chain's head read and locked, the entry, the head moved on, the savepoints released).
    with django_assert_num_queries(13):
        response = client.get(reverse("cycles:follow_up_list"), {"export": "csv"})
    assert len(csv_rows(response)) == 1 + 2 * sized_demo


# --- exports ------------------------------------------------------------------------------

def test_the_area_table_exports_as_csv_and_xlsx_with_the_pages_numbers(client, persona):
    client = as_(client, persona, "sekretaer")
    expected = expected_area_counts(plan_2026())
    response = client.get(DASHBOARD, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="soebredden-2026-follow-ups-per-area.csv"' == \
        response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["Operations area", "Scheduled", "In preparation", "Ready for the board",
                       "Presented to the board", "Closed", "Total", "Overdue",
                       "Average progress (%)"]
    states = [state.value for state in States]
    for row in rows[1:]:
        counts = expected[row[0]]
        assert row[1:6] == [str(counts[state]) for state in states]
        assert row[6] == str(sum(counts[state] for state in states))
        assert row[7] == str(counts["overdue"])
    assert rows[1][8] == "20"  # area 1: H1 remarks at 40 %, H2 at 0 %

    sheet = xlsx_sheet(client.get(DASHBOARD, {"export": "xlsx"}))
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [str(value) for value in values[0]] == rows[0]
    assert all(cell.font.b for cell in sheet[1])
    assert values[2][:8] == ["Driftsområde 2 – Vesterbro", 4, 0, 0, 0, 0, 4, 2]


def test_the_department_table_exports_the_chosen_area(client, persona):
    client = as_(client, persona, "ob-formand")
    params = {"area": area(2).pk, "table": "departments"}
    rows = csv_rows(client.get(DASHBOARD, {**params, "export": "csv"}))
    assert rows[0][0] == "Department" and rows[0][-2:] == ["Total", "Overdue"]
    assert [row[0] for row in rows[1:]] == [str(d) for d in area(2).departments.order_by(
        "number")]
    assert [row[-2:] for row in rows[1:]] == [["2", "1"], ["2", "1"]]
    sheet = xlsx_sheet(client.get(DASHBOARD, {**params, "export": "xlsx"}))
    assert [row[-2:] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        (2, 1), (2, 1)]


def test_the_follow_up_list_exports_only_the_cases_the_user_may_see(client, persona):
    client = as_(client, persona, "ab-formand")
    response = client.get(reverse("cycles:follow_up_list"), {"export": "csv"})
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0] == ["Department", "Operations area", "Half year", "Year", "Due", "State",
                       "Overdue"]
    department = Membership.objects.get(person__username="ab-formand", role="chair",
                                        body__kind="department_board").body.department
    assert [row[0] for row in rows[1:]] == [str(department)] * 2
    assert [(row[2], row[4], row[5], row[6]) for row in rows[1:]] == [
        ("H1", "30.06.2026", "Closed", "no"), ("H2", "15.12.2026", "Scheduled", "no")]
    sheet = xlsx_sheet(client.get(reverse("cycles:follow_up_list"), {"export": "xlsx"}))
    due = sheet["E2"]
    assert due.value.date() == datetime.date(2026, 6, 30) and due.number_format == "dd.mm.yyyy"
    assert sheet.max_row == 3


def test_the_follow_up_list_export_keeps_the_filters_and_every_page(client, persona):
    client = as_(client, persona, "sekretaer")
    params = {"half": "H1", "state": States.SCHEDULED}
    rows = csv_rows(client.get(reverse("cycles:follow_up_list"), {**params, "export": "csv"}))
    expected = FollowUp.objects.filter(plan__organisation__slug=DEMO_SLUG, half="H1",
                                       state=States.SCHEDULED).count()
    assert len(rows) - 1 == expected == 4
    assert {row[6] for row in rows[1:]} == {"yes"}  # due 30.06, still scheduled
    page = html(client.get(reverse("cycles:follow_up_list"), params))
    assert 'data-testid="follow-ups-export"' in page
    assert "?half=H1&amp;state=scheduled&amp;export=csv" in page


def test_the_follow_up_list_refuses_an_unknown_export_format(client, persona):
    response = as_(client, persona, "sekretaer").get(reverse("cycles:follow_up_list"),
                                                     {"export": "pdf"})
    assert response.status_code == 400


def svg(page: str, testid: str) -> str:
    """The chart figure whose image has the test id."""
    return next(figure.split("</figure>")[0] for figure in page.split("<figure")[1:]
                if f'data-testid="{testid}"' in figure)
