"""The deadline rules: pure date arithmetic on Danish business days, choosing the meeting a step
counts from, and reading an organisation's rules (cycles/deadlines.py)."""

import datetime

import pytest
from django.utils import translation

from cycles import deadlines
from cycles.deadlines import (
    DEFAULT_RULES,
    MeetingDay,
    OrganisationDeadlines,
    Rule,
    due_date,
    pick_meeting,
    step_due_on,
)
from cycles.models import AnnualPlan, CycleSettings, Meeting, StepDeadline
from fixtures.demo import DEMO_SLUG
from governance.models import Body
from tests.clock import frozen_on

Basis = StepDeadline.Basis
CLOSED = deadlines.closed_days(True)


def d(text: str) -> datetime.date:
    return datetime.datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007


def before(body_kind: str, days: int) -> Rule:
    return Rule(Basis.MEETING, body_kind, -days)


# --- the defaults ---------------------------------------------------------------------------

def test_every_step_of_both_flows_has_a_default_rule():
    from workflows.flows import FOLLOW_UP_NODES, PLAN_NODES

    assert set(DEFAULT_RULES) == set(PLAN_NODES) | set(FOLLOW_UP_NODES) == set(deadlines.STEPS)


@pytest.mark.parametrize(("step", "meeting", "expected"), [
    # The follow-up group meets Monday 14.12.2026: the draft is due two weeks before.
    ("draft", "14.12.2026", "30.11.2026"),
    # The committee meets Tuesday 19.01.2027: the review closes 8 business days before,
    # counting back over New Year's Day and the closing day 31.12 … not reached: 07.01.2027.
    ("review", "19.01.2027", "07.01.2027"),
    ("committee", "19.01.2027", "19.01.2027"),
    ("board", "02.02.2027", "02.02.2027"),
    ("presentation", "22.04.2027", "22.04.2027"),
    ("evaluation", "23.11.2027", "23.11.2027"),
])
def test_plan_steps_count_from_their_bodys_meeting(step, meeting, expected):
    assert due_date(DEFAULT_RULES[step], meeting_day=d(meeting), closed=CLOSED) == d(expected)


@pytest.mark.parametrize(("step", "case_due", "expected"), [
    ("prepare", "15.12.2026", "01.12.2026"),
    ("acknowledge", "15.12.2026", "15.12.2026"),
    # 15 business days after 15.12.2026 skip the Christmas days, 24 and 31 December and
    # New Year's Day.
    ("close", "15.12.2026", "11.01.2027"),
])
def test_follow_up_steps_count_from_the_cases_due_date(step, case_due, expected):
    assert due_date(DEFAULT_RULES[step], follow_up_due=d(case_due), closed=CLOSED) == d(expected)


def test_the_customary_closing_days_count_only_where_the_organisation_keeps_them():
    close = DEFAULT_RULES["close"]
    assert due_date(close, follow_up_due=d("15.12.2026"), closed=()) == d("07.01.2027")


# --- holidays -------------------------------------------------------------------------------

def test_a_meeting_right_after_easter_counts_back_over_the_easter_holidays():
    # Tuesday 30.03.2027, the day after Easter Monday: one business day before it is the
    # Wednesday before Maundy Thursday.
    assert due_date(before("operations_committee", 1), meeting_day=d("30.03.2027")) \
        == d("24.03.2027")
    assert due_date(before("operations_committee", 8), meeting_day=d("30.03.2027")) \
        == d("15.03.2027")


def test_a_meeting_on_a_holiday_or_a_weekend_is_due_the_business_day_before():
    on_the_day = Rule(Basis.MEETING, "organisation_board", 0)
    assert due_date(on_the_day, meeting_day=d("06.04.2026")) == d("01.04.2026")  # Easter Monday
    assert due_date(on_the_day, meeting_day=d("28.11.2026")) == d("27.11.2026")  # Saturday
    assert due_date(on_the_day, meeting_day=d("05.06.2026"), closed=CLOSED) == d("04.06.2026")
    assert due_date(on_the_day, meeting_day=d("05.06.2026"), closed=()) == d("05.06.2026")


def test_business_days_after_a_meeting_skip_ascension_day():
    after = Rule(Basis.MEETING, "follow_up_group", 2)
    # Wednesday 13.05.2026; Thursday 14.05 is Ascension Day.
    assert due_date(after, meeting_day=d("13.05.2026")) == d("18.05.2026")


@pytest.mark.parametrize(("rule", "year", "expected"), [
    (Rule(Basis.FIXED, fixed_day=15, fixed_month=1), 2027, "15.01.2027"),
    # 31.12.2026 is a closing day: the day before.
    (Rule(Basis.FIXED, fixed_day=31, fixed_month=12), 2026, "30.12.2026"),
    # 29 February in a year without it is the month's last day, a Sunday: Friday before.
    (Rule(Basis.FIXED, fixed_day=29, fixed_month=2), 2027, "26.02.2027"),
    (Rule(Basis.FIXED, fixed_day=29, fixed_month=2), 2028, "29.02.2028"),
    # The year before the plan's: Sunday 15.11.2026 → Friday 13.11.2026.
    (Rule(Basis.FIXED, fixed_day=15, fixed_month=11, fixed_year_offset=-1), 2027,
     "13.11.2026"),
])
def test_a_fixed_date_falls_in_the_plans_year_on_a_business_day(rule, year, expected):
    assert due_date(rule, plan_year=year, closed=CLOSED) == d(expected)


def test_without_what_a_rule_counts_from_there_is_no_deadline():
    assert due_date(DEFAULT_RULES["draft"], meeting_day=None) is None
    assert due_date(DEFAULT_RULES["prepare"], follow_up_due=None) is None
    assert due_date(Rule(Basis.FIXED, fixed_day=1, fixed_month=1), plan_year=None) is None
    assert due_date(Rule(Basis.NONE), meeting_day=d("01.12.2026"), plan_year=2027) is None


# --- which meeting ---------------------------------------------------------------------------

PLAN, OTHER_PLAN = 7, 8


def test_the_plans_own_meeting_wins_over_an_earlier_general_one():
    meetings = [MeetingDay(d("01.12.2026"), "follow_up_group", None),
                MeetingDay(d("14.12.2026"), "follow_up_group", PLAN)]
    assert pick_meeting(meetings, body_kind="follow_up_group", plan_id=PLAN,
                        start_day=d("01.11.2026")) == d("14.12.2026")


def test_a_general_meeting_counts_when_the_plan_has_none_of_its_own():
    meetings = [MeetingDay(d("01.12.2026"), "follow_up_group", None),
                MeetingDay(d("14.12.2026"), "follow_up_group", OTHER_PLAN),
                MeetingDay(d("03.12.2026"), "organisation_board", PLAN)]
    assert pick_meeting(meetings, body_kind="follow_up_group", plan_id=PLAN,
                        start_day=d("01.11.2026")) == d("01.12.2026")


def test_meetings_before_the_task_began_and_of_other_plans_do_not_count():
    meetings = [MeetingDay(d("01.10.2026"), "follow_up_group", PLAN),
                MeetingDay(d("14.12.2026"), "follow_up_group", OTHER_PLAN)]
    assert pick_meeting(meetings, body_kind="follow_up_group", plan_id=PLAN,
                        start_day=d("01.11.2026")) is None


def test_of_several_meetings_of_the_plan_the_first_counts():
    meetings = [MeetingDay(d("23.11.2027"), "follow_up_group", PLAN),
                MeetingDay(d("14.12.2026"), "follow_up_group", PLAN)]
    assert pick_meeting(meetings, body_kind="follow_up_group", plan_id=PLAN,
                        start_day=d("14.12.2026")) == d("14.12.2026")


def test_rules_read_as_sentences():
    with translation.override("en"):
        assert deadlines.describe(DEFAULT_RULES["draft"]) == \
            "10 business days before the meeting of follow-up group"
        assert deadlines.describe(DEFAULT_RULES["draft"], {"follow_up_group": "Følgegruppen"}) \
            == "10 business days before the meeting of Følgegruppen"
        assert deadlines.describe(DEFAULT_RULES["board"]) == \
            "On the day of the meeting of organisation board"
        assert deadlines.describe(DEFAULT_RULES["close"]) == \
            "15 business days after the follow-up's due date"
        assert deadlines.describe(Rule(Basis.FIXED, fixed_day=5, fixed_month=1,
                                       fixed_year_offset=0)) == "05.01 of the plan's year"
        assert deadlines.describe(Rule(Basis.NONE)) == "No deadline"


# --- from the database -----------------------------------------------------------------------

@pytest.fixture
def plan_2027(demo):
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)


def meeting(plan, kind: str, day: str, *, with_plan=True, cancelled=False) -> Meeting:
    from django.utils import timezone

    now = timezone.now()
    return Meeting.objects.create(
        organisation=plan.organisation, date=d(day), plan=plan if with_plan else None,
        body=Body.objects.get(organisation=plan.organisation, kind=kind),
        cancelled_at=now if cancelled else None, created_at=now, updated_at=now)


@pytest.fixture
def _no_meetings(plan_2027):
    Meeting.objects.filter(organisation=plan_2027.organisation).delete()


@pytest.mark.usefixtures("_no_meetings")
def test_a_step_has_no_deadline_until_its_body_has_a_meeting(plan_2027,
                                                             django_assert_max_num_queries):
    org = plan_2027.organisation_id
    with django_assert_max_num_queries(2):  # the rule; the meetings (none: no closing days)
        assert step_due_on(step="draft", organisation_id=org, plan=plan_2027,
                           start_day=d("01.11.2026")) is None
    meeting(plan_2027, "follow_up_group", "14.12.2026")
    with django_assert_max_num_queries(3):  # the rule; the meetings; the closing days
        assert step_due_on(step="draft", organisation_id=org, plan=plan_2027,
                           start_day=d("01.11.2026")) == d("30.11.2026")


@pytest.mark.usefixtures("_no_meetings")
def test_a_cancelled_meeting_does_not_count(plan_2027):
    org = plan_2027.organisation_id
    meeting(plan_2027, "organisation_board", "08.12.2026", cancelled=True)
    meeting(plan_2027, "organisation_board", "02.02.2027")
    assert step_due_on(step="board", organisation_id=org, plan=plan_2027,
                       start_day=d("01.11.2026")) == d("02.02.2027")


@pytest.mark.usefixtures("_no_meetings")
def test_the_organisations_own_rule_replaces_the_default(plan_2027):
    org = plan_2027.organisation
    meeting(plan_2027, "follow_up_group", "14.12.2026")
    StepDeadline.objects.create(organisation=org, step="draft", basis=Basis.MEETING,
                                body_kind="follow_up_group", offset_business_days=-5)
    StepDeadline.objects.create(organisation=org, step="review", basis=Basis.FIXED,
                                fixed_day=24, fixed_month=12, fixed_year_offset=-1)
    assert step_due_on(step="draft", organisation_id=org.pk, plan=plan_2027,
                       start_day=d("01.11.2026")) == d("07.12.2026")
    # 24.12.2026 is a closing day in the organisation: the 23rd …
    assert step_due_on(step="review", organisation_id=org.pk, plan=plan_2027,
                       start_day=d("01.11.2026")) == d("23.12.2026")
    # … unless it keeps its office open on the customary days.
    CycleSettings.objects.create(organisation=org, closes_on_customary_days=False)
    assert step_due_on(step="review", organisation_id=org.pk, plan=plan_2027,
                       start_day=d("01.11.2026")) == d("24.12.2026")


def test_follow_up_steps_keep_todays_deadlines_by_default(demo):
    from cycles.models import FollowUp

    case = FollowUp.objects.select_related("plan").filter(
        plan__organisation__slug=DEMO_SLUG, half="H2").first()
    assert case.due_on == d("15.12.2026")
    due = {step: step_due_on(step=step, organisation_id=case.plan.organisation_id,
                             plan=case.plan, follow_up=case, start_day=d("01.03.2026"))
           for step in deadlines.FOLLOW_UP_STEPS}
    assert due == {"prepare": d("01.12.2026"), "acknowledge": d("15.12.2026"),
                   "close": d("11.01.2027")}


def test_the_organisations_deadlines_are_read_once_for_many_tasks(
        plan_2027, django_assert_num_queries):
    with frozen_on(d("02.11.2026")):
        # The stored rules, the closing days, the meetings.
        with django_assert_num_queries(3):
            rules = OrganisationDeadlines(plan_2027.organisation_id)
        with django_assert_num_queries(0):
            plan_steps = rules.plan_calendar(plan_id=plan_2027.pk, plan_year=2027,
                                             start_day=d("02.11.2026"))
            follow_up_steps = [rules.due_on(step=step, plan_id=plan_2027.pk, plan_year=2027,
                                            follow_up_due=d("30.06.2027"),
                                            start_day=d("02.11.2026"))
                               for step in deadlines.FOLLOW_UP_STEPS]
    # The demo's calendar for the 2027 plan: each step counts from the meeting after the step
    # before it, so the evaluation is at the follow-up group's meeting after the council's.
    assert plan_steps == {
        "draft": d("30.11.2026"), "review": d("07.01.2027"), "committee": d("19.01.2027"),
        "board": d("02.02.2027"), "presentation": d("22.04.2027"),
        "evaluation": d("23.11.2027")}
    assert follow_up_steps == [d("16.06.2027"), d("30.06.2027"), d("21.07.2027")]
