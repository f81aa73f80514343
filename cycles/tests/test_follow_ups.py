"""The rollout and the half-yearly follow-ups: what publication creates, the due dates, the case's
state machine walked by the right people, and the department-scope permission matrix.

The demo's 2026 plan is published, so its rollout plans and follow-up cases exist. Department 1
(area 1) has ab-formand as chair and ab-medlem as member, with driftschef and serviceleder as the
area's staff; department 3 (area 2) has ab-anden as member. Time is frozen on Monday 02.03.2026,
before the demo (whose terms are relative to today) is loaded.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import services
from cycles.models import (
    AnnualPlan,
    BoardRemark,
    CycleSettings,
    FollowUp,
    FollowUpRemark,
    FollowUpTransition,
    Initiative,
    MeetingKind,
    RolloutEntry,
    RolloutPlan,
    SignOff,
)
from cycles.selectors import initiatives_by_department
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG, OTHER_SLUG, PERSONAS
from governance import services as governance_services
from governance.models import Department, Membership, OperationsArea, Organisation, StaffAssignment
from permissions.matrix import DEPARTMENT_ACTIONS, MATRIX, Action
from permissions.selectors import can_in_department, departments_for, roles_in_department
from tests.clock import frozen_before_demo
from workflows.services import plan_act, plan_create_and_route

State = FollowUp.State
Half = FollowUp.Half
TODAY = datetime.date(2026, 3, 2)
MEETING_DAY = datetime.date(2026, 2, 26)  # the board met last Thursday
# The demo moves area 1's first-half cases along to show every step; the second half's cases
# are all scheduled, so the tests walk those.
HALF = Half.H2


_frozen_today = frozen_before_demo(TODAY)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- the personas' roles in two departments' scope, written out by hand ---------------------

STAFF_SECRETARY = ("staff", "operations_secretary")
NOBODY: frozenset = frozenset()

# Department 1, in operations area 1.
AREA_1_ROLES: dict[str, frozenset[tuple[str, str]]] = {
    "sekretaer": frozenset({STAFF_SECRETARY}),
    "driftschef": frozenset({("staff", "operations_manager")}),
    "serviceleder": frozenset({("staff", "service_manager")}),
    "fg-formand": NOBODY,  # a member of department 4's board, not of this one
    "fg-medlem": NOBODY,
    "du-formand": NOBODY,
    "ob-formand": NOBODY,
    "ab-formand": frozenset({("department_board", "chair")}),
    "ab-medlem": frozenset({("department_board", "member")}),
    "ab-anden": NOBODY,
    "anden-org": NOBODY,
}
# Department 3, in operations area 2.
AREA_2_ROLES: dict[str, frozenset[tuple[str, str]]] = {
    **{username: NOBODY for username in AREA_1_ROLES},
    "sekretaer": frozenset({STAFF_SECRETARY}),
    "ab-anden": frozenset({("department_board", "member")}),
}
ROLES_BY_DEPARTMENT = {1: AREA_1_ROLES, 3: AREA_2_ROLES}


# --- helpers ------------------------------------------------------------------------------

def organisation(slug: str = DEMO_SLUG) -> Organisation:
    return Organisation.objects.get(slug=slug)


def plan_for(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=year)


def department(number: int, slug: str = DEMO_SLUG) -> Department:
    return Department.objects.select_related("operations_area").get(
        organisation__slug=slug, number=number)


def case_of(number: int, half: str = HALF, year: int = 2026) -> FollowUp:
    return FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=year,
                                department__number=number, half=half)


def fresh(follow_up: FollowUp) -> FollowUp:
    return FollowUp.objects.get(pk=follow_up.pk)


def area_manager(number: int):
    """The head of operations of the department's area (driftschef for area 1)."""
    return (StaffAssignment.objects.current_on(TODAY)
            .get(operations_area=department(number).operations_area,
                 role=StaffAssignment.Role.OPERATIONS_MANAGER).person)


def board_chair(number: int):
    return (Membership.objects.current_on(TODAY)
            .get(body__department=department(number), role=Membership.Role.CHAIR).person)


def remarks_for(follow_up: FollowUp, *, without_text: int = 0) -> list[dict]:
    """A remark per initiative of the case; the first ``without_text`` are left without text."""
    rows = follow_up.remarks.select_related("initiative").order_by("initiative__position")
    return [{"initiative": row.initiative, "status": FollowUpRemark.Status.ONGOING,
             "progress": 40, "text": "" if index < without_text else f"I gang: {row.initiative}."}
            for index, row in enumerate(rows)]


def prepared(number: int, half: str = HALF) -> FollowUp:
    follow_up = case_of(number, half)
    services.follow_up_save(actor=area_manager(number), follow_up=follow_up,
                            summary="Halvåret er gået efter planen.",
                            remarks=remarks_for(follow_up))
    return fresh(follow_up)


def ready(number: int, half: str = HALF) -> FollowUp:
    follow_up = prepared(number, half)
    services.follow_up_mark_ready(actor=area_manager(number), follow_up=follow_up)
    return fresh(follow_up)


def presented(number: int, half: str = HALF) -> FollowUp:
    follow_up = ready(number, half)
    services.follow_up_acknowledge(actor=board_chair(number), follow_up=follow_up,
                                   presented_on=MEETING_DAY,
                                   meeting_kind=MeetingKind.BOARD_MEETING,
                                   minutes_reference="Referat af bestyrelsesmødet, pkt. 3")
    return fresh(follow_up)


def with_board_remark(number: int, half: str = HALF) -> FollowUp:
    follow_up = presented(number, half)
    services.board_remark_add(actor=board_chair(number), follow_up=follow_up,
                              text="Hvornår kommer målerne i opgang B?")
    return fresh(follow_up)


def closed(number: int, half: str = HALF) -> FollowUp:
    follow_up = with_board_remark(number, half)
    services.board_remark_answer(actor=area_manager(number),
                                 remark=follow_up.board_remarks.get(),
                                 answer=BoardRemark.Answer.WILL_ACT, text="I maj.")
    services.follow_up_close(actor=area_manager(number), follow_up=follow_up)
    return fresh(follow_up)


def scheduled(number: int, half: str = HALF) -> FollowUp:
    return case_of(number, half)


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}


def justify_uncovered_themes(plan: AnnualPlan, actor) -> None:
    covered = set(plan.initiatives.values_list("theme__number", flat=True))
    for theme in plan.programme.themes.exclude(number__in=covered):
        services.theme_justification_set(actor=actor, plan=plan, theme=theme,
                                         text=f"Intet under tema {theme.number} i år.")


def publish(plan: AnnualPlan, persona) -> AnnualPlan:
    """Walk a draft through review and both sign-offs; the flow publishes and rolls it out."""
    justify_uncovered_themes(plan, persona("sekretaer"))
    plan_act(services.plan_submit, actor=persona("sekretaer"), plan=plan)
    plan_act(services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Anbefales.")
    for chair in ("du-formand", "ob-formand"):
        plan_act(services.plan_sign, actor=persona(chair), plan=plan,
                 decision=SignOff.Decision.APPROVE, comment="Godkendt.", password=DEMO_PASSWORD)
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == AnnualPlan.State.PUBLISHED
    return plan


def rollout_of(plan: AnnualPlan) -> dict[int, set[str]]:
    """Department number → the titles of the initiatives in its rollout plan."""
    result: dict[int, set[str]] = {}
    for number, title in RolloutEntry.objects.filter(rollout__plan=plan).values_list(
            "rollout__department__number", "initiative__title"):
        result.setdefault(number, set()).add(title)
    return result


def remarks_of(plan: AnnualPlan) -> dict[tuple[int, str], set[str]]:
    """(department number, half) → the titles of the initiatives the case has remarks on."""
    result: dict[tuple[int, str], set[str]] = {
        (number, half): set() for number, half in plan.follow_ups.values_list(
            "department__number", "half")}
    for number, half, title in FollowUpRemark.objects.filter(follow_up__plan=plan).values_list(
            "follow_up__department__number", "follow_up__half", "initiative__title"):
        result[(number, half)].add(title)
    return result


def row_counts(plan: AnnualPlan) -> tuple[int, int, int, int]:
    return (RolloutPlan.objects.filter(plan=plan).count(),
            RolloutEntry.objects.filter(rollout__plan=plan).count(),
            FollowUp.objects.filter(plan=plan).count(),
            FollowUpRemark.objects.filter(follow_up__plan=plan).count())


# --- what publication rolls out -------------------------------------------------------------

def test_publication_made_one_rollout_plan_per_department_with_its_initiatives(persona):
    plan = plan_for(2026)
    applying = initiatives_by_department(plan=plan)
    demo_departments = set(Department.objects.filter(organisation__slug=DEMO_SLUG)
                           .values_list("pk", flat=True))
    assert set(applying) == demo_departments  # organisation-wide initiatives reach everyone

    rollouts = list(RolloutPlan.objects.filter(plan=plan))
    assert sorted(r.department_id for r in rollouts) == sorted(applying)
    for rollout in rollouts:
        entries = {e.initiative_id: e for e in rollout.entries.all()}
        assert set(entries) == {i.pk for i in applying[rollout.department_id]}
        for initiative in applying[rollout.department_id]:
            entry = entries[initiative.pk]
            assert (entry.planned_start, entry.planned_end) == (initiative.planned_start,
                                                                initiative.planned_end)
        assert rollout.presented_on is None


def test_publication_made_a_first_and_second_half_case_per_department_with_a_remark_each(
        persona):
    plan = plan_for(2026)
    applying = initiatives_by_department(plan=plan)
    cases = list(FollowUp.objects.filter(plan=plan))
    assert sorted((c.department_id, c.half) for c in cases) == sorted(
        (pk, half) for pk in applying for half in (Half.H1, Half.H2))
    for case in cases:
        assert case.due_on == {Half.H1: datetime.date(2026, 6, 30),
                               Half.H2: datetime.date(2026, 12, 15)}[case.half]
        remarks = list(case.remarks.all())
        assert sorted(r.initiative_id for r in remarks) == sorted(
            i.pk for i in applying[case.department_id])
        if case.half == Half.H2:  # as generated (the demo moves some first-half cases on)
            assert case.state == State.SCHEDULED
            assert {(r.status, r.progress, r.text) for r in remarks} == {
                (FollowUpRemark.Status.NOT_STARTED, 0, "")}
    # The other organisation has nothing of this plan.
    assert not FollowUp.objects.filter(plan=plan, department__organisation__slug=OTHER_SLUG)


def test_each_department_gets_exactly_the_initiatives_whose_scope_reaches_it(persona):
    """Organisation-wide, area-scoped and department-scoped initiatives, and a department that
    no initiative reaches (it gets no rollout plan and no follow-ups)."""
    sekretaer = persona("sekretaer")
    plan = plan_create_and_route(actor=sekretaer, organisation=organisation(), year=2025,
                                 title="Årsplan 2025")
    themes = {t.number: t for t in plan.programme.themes.all()}
    area_3 = OperationsArea.objects.get(organisation__slug=DEMO_SLUG, number=3)
    services.initiative_create(actor=sekretaer, plan=plan, theme=themes[1],
                               title="Kun i område 3", scope=Initiative.Scope.AREAS,
                               operations_areas=[area_3])
    services.initiative_create(actor=sekretaer, plan=plan, theme=themes[3],
                               title="Kun i afd. 2 og 5", scope=Initiative.Scope.DEPARTMENTS,
                               departments=[department(2), department(5)])
    plan = publish(plan, persona)

    expected = {2: {"Kun i afd. 2 og 5"},
                5: {"Kun i område 3", "Kun i afd. 2 og 5"},
                6: {"Kun i område 3"}}
    numbers = dict(Department.objects.values_list("pk", "number"))
    assert {numbers[pk]: {i.title for i in initiatives}
            for pk, initiatives in initiatives_by_department(plan=plan).items()} == expected
    assert rollout_of(plan) == expected
    assert remarks_of(plan) == {(number, half): titles for number, titles in expected.items()
                                for half in (Half.H1, Half.H2)}

    # Now an organisation-wide initiative in another published plan: every department.
    plan_2026 = plan_for(2026)
    titles = dict(plan_2026.initiatives.values_list("title", "scope"))
    everywhere = {t for t, scope in titles.items() if scope == Initiative.Scope.ORGANISATION}
    area_scoped = {t for t, scope in titles.items() if scope == Initiative.Scope.AREAS}
    department_scoped = {t for t, scope in titles.items()
                         if scope == Initiative.Scope.DEPARTMENTS}
    assert len(everywhere) == 5 and len(area_scoped) == 1 and len(department_scoped) == 1
    # The demo scopes its area initiative to areas 1–2 and its department initiative to
    # departments 1–4.
    assert rollout_of(plan_2026) == {
        1: everywhere | area_scoped | department_scoped,
        2: everywhere | area_scoped | department_scoped,
        3: everywhere | area_scoped | department_scoped,
        4: everywhere | area_scoped | department_scoped,
        5: everywhere,
        6: everywhere,
    }


def test_generating_the_rollout_again_creates_nothing(persona):
    plan = plan_for(2026)
    before = row_counts(plan)
    assert before == (6, 4 * 7 + 2 * 5, 12, 2 * (4 * 7 + 2 * 5))
    assert services.rollout_generate(actor=None, plan=plan) == (0, 0)
    assert row_counts(plan) == before
    entry = AuditEntry.objects.filter(action="plan.rollout_generate").latest("pk")
    assert entry.summary == {"rollout_plans": 0, "follow_ups": 0}


def test_a_new_department_gets_only_its_own_missing_rows_and_nothing_else_changes(persona):
    plan = plan_for(2026)
    prepared(1)  # work already done on a case must survive the second run
    remarks_before = {r.pk: (r.status, r.progress, r.text)
                      for r in FollowUpRemark.objects.filter(follow_up__plan=plan)}
    cases_before = dict(FollowUp.objects.filter(plan=plan).values_list("pk", "state"))
    rollouts_before = set(RolloutPlan.objects.filter(plan=plan).values_list("pk", flat=True))

    area_1 = OperationsArea.objects.get(organisation__slug=DEMO_SLUG, number=1)
    new = governance_services.department_create(actor=None, operations_area=area_1, number=7,
                                                name="Nyhuset", households=120)
    assert services.rollout_generate(actor=None, plan=plan) == (1, 2)

    assert set(RolloutPlan.objects.filter(plan=plan).exclude(pk__in=rollouts_before)
               .values_list("department", flat=True)) == {new.pk}
    assert sorted(FollowUp.objects.filter(plan=plan).exclude(pk__in=cases_before)
                  .values_list("department", "half")) == [(new.pk, Half.H1), (new.pk, Half.H2)]
    titles = dict(plan.initiatives.values_list("title", "scope"))
    reaching_area_1 = {t for t, scope in titles.items() if scope != Initiative.Scope.DEPARTMENTS}
    assert rollout_of(plan)[7] == reaching_area_1
    assert remarks_of(plan)[(7, Half.H1)] == remarks_of(plan)[(7, Half.H2)] == reaching_area_1
    # Nothing that existed was touched.
    assert {r.pk: (r.status, r.progress, r.text) for r in FollowUpRemark.objects.filter(
        follow_up__plan=plan, pk__in=remarks_before)} == remarks_before
    assert dict(FollowUp.objects.filter(pk__in=cases_before).values_list(
        "pk", "state")) == cases_before
    assert cases_before[case_of(1).pk] == State.IN_PREPARATION
    assert services.rollout_generate(actor=None, plan=plan) == (0, 0)


def test_a_plan_that_is_not_published_is_not_rolled_out(persona):
    plan = plan_for(2027)
    with pytest.raises(Conflict) as error:
        services.rollout_generate(actor=None, plan=plan)
    assert error.value.current_state == AnnualPlan.State.DRAFT
    assert row_counts(plan) == (0, 0, 0, 0)


# --- due dates ----------------------------------------------------------------------------

def new_organisation(slug: str) -> Organisation:
    return governance_services.organisation_create(actor=None, name=slug.title(),
                                                   short_name=slug.title(), slug=slug)


@pytest.mark.parametrize(("year", "h1", "h2"), [
    (2023, datetime.date(2023, 6, 30), datetime.date(2023, 12, 15)),  # Friday, Friday
    (2024, datetime.date(2024, 6, 28), datetime.date(2024, 12, 13)),  # Sunday → Friday (both)
    (2026, datetime.date(2026, 6, 30), datetime.date(2026, 12, 15)),  # Tuesday, Tuesday
    (2029, datetime.date(2029, 6, 29), datetime.date(2029, 12, 14)),  # Saturday → Friday
    (2030, datetime.date(2030, 6, 28), datetime.date(2030, 12, 13)),  # Sunday → Friday
])
def test_default_due_dates_move_back_from_a_weekend_to_the_friday(year, h1, h2, db):
    organisation_ = new_organisation("vestervang")
    assert services.follow_up_due_on(organisation=organisation_, year=year, half=Half.H1) == h1
    assert services.follow_up_due_on(organisation=organisation_, year=year, half=Half.H2) == h2


@pytest.mark.parametrize(("h1_day", "h2_day", "closes", "h1", "h2"), [
    # Whit Monday 25.05.2026 (Sunday, Saturday before) → Friday 22.05; Christmas Eve is closed.
    ((5, 25), (12, 24), True, datetime.date(2026, 5, 22), datetime.date(2026, 12, 23)),
    # Constitution Day (5 June) is closed; 26.12 is a Saturday and a holiday, 25.12 a holiday.
    ((6, 5), (12, 26), True, datetime.date(2026, 6, 4), datetime.date(2026, 12, 23)),
    # ... unless the organisation is open on the customary closing days.
    ((6, 5), (12, 26), False, datetime.date(2026, 6, 5), datetime.date(2026, 12, 24)),
    # Ascension Day 14.05.2026; 31 February is the last day of February (a Saturday).
    ((5, 14), (2, 31), True, datetime.date(2026, 5, 13), datetime.date(2026, 2, 27)),
    # New Year's Eve (a Thursday) is closed, or not.
    ((6, 30), (12, 31), True, datetime.date(2026, 6, 30), datetime.date(2026, 12, 30)),
    ((6, 30), (12, 31), False, datetime.date(2026, 6, 30), datetime.date(2026, 12, 31)),
])
def test_an_organisations_own_due_dates_move_back_to_the_previous_business_day(
        h1_day, h2_day, closes, h1, h2, db):
    organisation_ = new_organisation("vestervang")
    CycleSettings.objects.create(organisation=organisation_, h1_due_month=h1_day[0],
                                 h1_due_day=h1_day[1], h2_due_month=h2_day[0],
                                 h2_due_day=h2_day[1], closes_on_customary_days=closes)
    assert services.follow_up_due_on(organisation=organisation_, year=2026, half=Half.H1) == h1
    assert services.follow_up_due_on(organisation=organisation_, year=2026, half=Half.H2) == h2
    # Another organisation's settings are its own.
    other = new_organisation("oestervang")
    assert services.follow_up_due_on(organisation=other, year=2026, half=Half.H2) == (
        datetime.date(2026, 12, 15))


def test_published_cases_carry_the_organisations_own_due_dates(persona):
    CycleSettings.objects.create(organisation=organisation(), h1_due_month=6, h1_due_day=5,
                                 h2_due_month=12, h2_due_day=24)
    plan = publish(plan_for(2027), persona)
    due = set(plan.follow_ups.values_list("half", "due_on"))
    # 05.06.2027 is a Saturday; 24.12.2027 a Friday the organisation is closed.
    assert due == {(Half.H1, datetime.date(2027, 6, 4)), (Half.H2, datetime.date(2027, 12, 23))}


# --- the case, walked by the people who do it ----------------------------------------------

def transitions_of(follow_up: FollowUp) -> list[tuple[str, str, str | None, str, str]]:
    return [(t.from_state, t.to_state, t.actor.username if t.actor else None, t.acting_as,
             t.reason)
            for t in FollowUpTransition.objects.filter(follow_up=follow_up)
            .select_related("actor").order_by("occurred_at", "pk")]


def test_a_case_walks_from_scheduled_to_closed_with_the_right_people(persona):
    driftschef, chair, member = persona("driftschef"), persona("ab-formand"), persona("ab-medlem")
    follow_up = case_of(1)
    others = dict(FollowUp.objects.exclude(pk=follow_up.pk).values_list("pk", "state"))
    dept = department(1)
    staff_mandate = f"driftschef, {dept.operations_area.name}"
    chair_mandate = f"formand, {dept.board.name}"

    # Staff write part of it: the case goes into preparation.
    services.follow_up_save(actor=driftschef, follow_up=follow_up, summary="  ",
                            remarks=remarks_for(follow_up, without_text=2))
    follow_up = fresh(follow_up)
    assert follow_up.state == State.IN_PREPARATION

    with pytest.raises(ValidationError) as error:
        services.follow_up_mark_ready(actor=driftschef, follow_up=follow_up)
    assert field_errors(error.value) == {"follow_up": [
        "Write a summary for the board.", "Every initiative needs a remark."]}

    services.follow_up_save(actor=driftschef, follow_up=follow_up, summary="Status for 1. halvår.",
                            remarks=remarks_for(follow_up, without_text=1))
    with pytest.raises(ValidationError) as error:
        services.follow_up_mark_ready(actor=driftschef, follow_up=fresh(follow_up))
    assert field_errors(error.value) == {"follow_up": ["Every initiative needs a remark."]}
    assert fresh(follow_up).state == State.IN_PREPARATION

    services.follow_up_save(actor=driftschef, follow_up=follow_up, summary="Status for 1. halvår.",
                            remarks=remarks_for(follow_up))
    services.follow_up_mark_ready(actor=driftschef, follow_up=fresh(follow_up))
    follow_up = fresh(follow_up)
    assert follow_up.state == State.READY_FOR_BOARD
    assert follow_up.summary == "Status for 1. halvår."
    assert not follow_up.remarks.filter(text="").exists()

    # The chair acknowledges it after the meeting: not a meeting in the future, a known kind.
    with pytest.raises(ValidationError) as error:
        services.follow_up_acknowledge(actor=chair, follow_up=follow_up,
                                       presented_on=TODAY + datetime.timedelta(days=1),
                                       meeting_kind=MeetingKind.BOARD_MEETING)
    assert field_errors(error.value) == {"presented_on": ["The meeting cannot be in the future."]}
    with pytest.raises(ValidationError) as error:
        services.follow_up_acknowledge(actor=chair, follow_up=follow_up,
                                       presented_on=MEETING_DAY, meeting_kind="garden_party")
    assert field_errors(error.value) == {
        "meeting_kind": ["Choose a board meeting or a network meeting."]}
    assert fresh(follow_up).state == State.READY_FOR_BOARD
    services.follow_up_acknowledge(actor=chair, follow_up=follow_up, presented_on=MEETING_DAY,
                                   meeting_kind=MeetingKind.NETWORK_MEETING,
                                   minutes_reference=" Referat, netværksmøde 26.02. ")
    follow_up = fresh(follow_up)
    assert follow_up.state == State.PRESENTED
    assert (follow_up.presented_on, follow_up.meeting_kind, follow_up.minutes_reference,
            follow_up.acknowledged_by) == (MEETING_DAY, MeetingKind.NETWORK_MEETING,
                                           "Referat, netværksmøde 26.02.", chair)

    # A board member has a remark; the case cannot close before staff answer it.
    remark = services.board_remark_add(actor=member, follow_up=follow_up,
                                       text="Vi vil gerne have målerne før sommer.")
    assert (remark.author, remark.answer) == (member, "")
    with pytest.raises(ValidationError) as error:
        services.follow_up_close(actor=driftschef, follow_up=follow_up)
    assert field_errors(error.value) == {"follow_up": [
        "Every remark from the board needs an answer before the case is closed."]}
    with pytest.raises(ValidationError) as error:
        services.board_remark_answer(actor=driftschef, remark=remark,
                                     answer=BoardRemark.Answer.WONT_ACT, text="   ")
    assert field_errors(error.value) == {"text": ["Say why nothing will be done."]}
    with pytest.raises(ValidationError):
        services.board_remark_answer(actor=driftschef, remark=remark, answer="maybe")
    services.board_remark_answer(actor=driftschef, remark=remark,
                                 answer=BoardRemark.Answer.WONT_ACT,
                                 text="Leverandøren kan først i september.")
    remark.refresh_from_db()
    assert (remark.answer, remark.answer_text, remark.answered_by) == (
        BoardRemark.Answer.WONT_ACT, "Leverandøren kan først i september.", driftschef)

    services.follow_up_close(actor=driftschef, follow_up=follow_up)
    assert fresh(follow_up).state == State.CLOSED

    assert transitions_of(follow_up) == [
        (State.SCHEDULED, State.IN_PREPARATION, "driftschef", staff_mandate, ""),
        (State.IN_PREPARATION, State.READY_FOR_BOARD, "driftschef", staff_mandate, ""),
        (State.READY_FOR_BOARD, State.PRESENTED, "ab-formand", chair_mandate,
         "Referat, netværksmøde 26.02."),
        (State.PRESENTED, State.CLOSED, "driftschef", staff_mandate, ""),
    ]
    # No other case moved, the other half year's of the same department included.
    assert dict(FollowUp.objects.exclude(pk=follow_up.pk).values_list("pk", "state")) == others


def test_saving_remarks_checks_every_row_and_saves_nothing_on_an_error(persona):
    follow_up = case_of(1)
    foreign = plan_for(2027).initiatives.first()
    rows = remarks_for(follow_up)
    rows[0] = {**rows[0], "progress": 101}
    rows[1] = {**rows[1], "status": "finished"}
    rows.append({"initiative": foreign, "status": FollowUpRemark.Status.DONE, "progress": 100,
                 "text": "Ikke vores."})
    with pytest.raises(ValidationError) as error:
        services.follow_up_save(actor=persona("driftschef"), follow_up=follow_up,
                                summary="Status.", remarks=rows)
    assert field_errors(error.value) == {
        "remarks[0]": ["Progress is a whole number from 0 to 100."],
        "remarks[1]": ["Choose a status."],
        f"remarks[{len(rows) - 1}]": ["The initiative is not part of this follow-up."],
    }
    follow_up = fresh(follow_up)
    assert (follow_up.state, follow_up.summary) == (State.SCHEDULED, "")
    assert not follow_up.remarks.exclude(text="").exists()
    assert not FollowUpTransition.objects.filter(follow_up=follow_up).exists()


def test_starting_the_preparation_explicitly_is_logged_once(persona):
    follow_up = case_of(2)
    services.follow_up_start_preparation(actor=persona("serviceleder"), follow_up=follow_up)
    assert fresh(follow_up).state == State.IN_PREPARATION
    # Saving afterwards does not log a second start.
    services.follow_up_save(actor=persona("driftschef"), follow_up=follow_up,
                            summary="Status.", remarks=remarks_for(follow_up))
    assert [(f, t, who) for f, t, who, _as, _reason in transitions_of(follow_up)] == [
        (State.SCHEDULED, State.IN_PREPARATION, "serviceleder")]


def test_returning_from_the_board_needs_a_reason_and_the_case_goes_back_to_staff(persona):
    follow_up = ready(1)
    chair = persona("ab-formand")
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error:
            services.follow_up_return(actor=chair, follow_up=follow_up, reason=reason)
        assert field_errors(error.value) == {
            "reason": ["Say why the follow-up goes back to preparation."]}
    assert fresh(follow_up).state == State.READY_FOR_BOARD

    services.follow_up_return(actor=chair, follow_up=follow_up,
                              reason=" Tallene for vand mangler. ")
    assert fresh(follow_up).state == State.IN_PREPARATION
    assert transitions_of(follow_up)[-1] == (
        State.READY_FOR_BOARD, State.IN_PREPARATION, "ab-formand",
        f"formand, {department(1).board.name}", "Tallene for vand mangler.")

    # Staff can send it again; a return by staff is logged with their mandate.
    services.follow_up_mark_ready(actor=persona("driftschef"), follow_up=fresh(follow_up))
    services.follow_up_return(actor=persona("serviceleder"), follow_up=fresh(follow_up),
                              reason="Rettelse i resuméet.")
    assert transitions_of(follow_up)[-1] == (
        State.READY_FOR_BOARD, State.IN_PREPARATION, "serviceleder",
        f"serviceleder, {department(1).operations_area.name}", "Rettelse i resuméet.")
    assert len(transitions_of(follow_up)) == 5


def test_the_log_names_the_staff_mandate_that_entitles_the_step_in_the_departments_area(
        persona):
    areas = {a.number: a for a in OperationsArea.objects.filter(organisation__slug=DEMO_SLUG)}
    start = datetime.date(2020, 1, 1)

    def staff(username, *assignments):
        person = governance_services.person_create(actor=None, username=username,
                                                   first_name=username.title(), last_name="Ø")
        for role, area in assignments:
            governance_services.staff_assignment_start(
                actor=None, person=person, organisation=organisation(), role=role,
                operations_area=area, starts_on=start)
        return person

    # A service worker in area 1 who is head of operations in area 2 prepares an area-2 case.
    cover = staff("vikar", ("service_worker", areas[1]), ("operations_manager", areas[2]))
    services.follow_up_start_preparation(actor=cover, follow_up=case_of(3))
    # The organisation's secretary who is also area 1's service manager prepares an area-1 case.
    double = staff("dobbelt", ("operations_secretary", None), ("service_manager", areas[1]))
    services.follow_up_start_preparation(actor=double, follow_up=case_of(1))

    assert [transitions_of(case_of(n))[-1][3] for n in (3, 1)] == [
        f"driftschef, {areas[2].name}", f"serviceleder, {areas[1].name}"]


def test_the_state_is_changed_only_by_the_transitions(persona):
    follow_up = case_of(1)
    with pytest.raises(AttributeError):
        follow_up.state = State.CLOSED


# --- wrong state --------------------------------------------------------------------------

def _save(user, follow_up):
    return services.follow_up_save(actor=user, follow_up=follow_up, summary="Status.",
                                   remarks=remarks_for(follow_up))


def _acknowledge(user, follow_up):
    return services.follow_up_acknowledge(actor=user, follow_up=follow_up,
                                          presented_on=MEETING_DAY,
                                          meeting_kind=MeetingKind.BOARD_MEETING)


def _remark(user, follow_up):
    return services.board_remark_add(actor=user, follow_up=follow_up, text="Et spørgsmål.")


def _answer(user, follow_up):
    return services.board_remark_answer(actor=user, remark=follow_up.board_remarks.get(),
                                        answer=BoardRemark.Answer.NOTED)


def _return(user, follow_up):
    return services.follow_up_return(actor=user, follow_up=follow_up, reason="Mangler tal.")


def _start(user, follow_up):
    return services.follow_up_start_preparation(actor=user, follow_up=follow_up)


def _mark_ready(user, follow_up):
    return services.follow_up_mark_ready(actor=user, follow_up=follow_up)


def _close(user, follow_up):
    return services.follow_up_close(actor=user, follow_up=follow_up)


WRONG_STATE = [
    (scheduled, "driftschef", _mark_ready),
    (scheduled, "ab-formand", _acknowledge),
    (scheduled, "ab-formand", _return),
    (scheduled, "ab-medlem", _remark),
    (scheduled, "driftschef", _close),
    (prepared, "driftschef", _start),
    (prepared, "ab-formand", _acknowledge),
    (ready, "driftschef", _save),
    (ready, "driftschef", _mark_ready),
    (ready, "driftschef", _close),
    (presented, "ab-formand", _acknowledge),
    (presented, "ab-formand", _return),
    (presented, "driftschef", _save),
    (closed, "ab-medlem", _remark),
    (closed, "driftschef", _answer),
    (closed, "driftschef", _close),
    (closed, "driftschef", _save),
]


@pytest.mark.parametrize(("setup", "username", "call"), WRONG_STATE,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_action_in_the_wrong_state_is_a_conflict_naming_the_current_state(
        setup, username, call, persona):
    follow_up = setup(1)
    logged = FollowUpTransition.objects.filter(follow_up=follow_up).count()
    with pytest.raises(Conflict) as error:
        call(persona(username), follow_up)
    assert error.value.current_state == follow_up.state
    assert error.value.current_state_label == follow_up.get_state_display()
    assert f"“{follow_up.get_state_display()}”" in str(error.value)
    assert fresh(follow_up).state == follow_up.state
    assert FollowUpTransition.objects.filter(follow_up=follow_up).count() == logged


# --- the department-scope permission matrix, tried on the services --------------------------

class _Undo(Exception):
    """Raised to roll a successful try back."""


def allowed(call: Callable[[], object]) -> bool:
    """True if ``call`` succeeds (its effects are rolled back), False if it is refused."""
    try:
        with transaction.atomic():
            call()
            raise _Undo
    except _Undo:
        return True
    except PermissionDenied:
        return False


def _may(action: Action):
    """The read actions have no service yet: the department check the pages will ask."""
    def check(user, follow_up):
        if not can_in_department(user=user, action=action, department=follow_up.department):
            raise PermissionDenied
    return check


@dataclass(frozen=True)
class Case:
    name: str
    action: Action
    setup: Callable[[int], FollowUp]
    call: Callable  # (user, follow_up) -> anything


CASES = [
    Case("view the rollout plan", Action.ROLLOUT_VIEW, scheduled, _may(Action.ROLLOUT_VIEW)),
    Case("rollout_register_presentation", Action.ROLLOUT_REGISTER_PRESENTATION, scheduled,
         lambda u, f: services.rollout_register_presentation(
             actor=u, rollout=RolloutPlan.objects.get(plan=f.plan, department=f.department),
             presented_on=MEETING_DAY, meeting_kind=MeetingKind.BOARD_MEETING)),
    Case("view the follow-up", Action.FOLLOW_UP_VIEW, scheduled, _may(Action.FOLLOW_UP_VIEW)),
    Case("follow_up_start_preparation", Action.FOLLOW_UP_PREPARE, scheduled, _start),
    Case("follow_up_save", Action.FOLLOW_UP_PREPARE, scheduled, _save),
    Case("follow_up_mark_ready", Action.FOLLOW_UP_PREPARE, prepared,
         _mark_ready),
    Case("follow_up_return", Action.FOLLOW_UP_RETURN, ready, _return),
    Case("follow_up_acknowledge", Action.FOLLOW_UP_ACKNOWLEDGE, ready, _acknowledge),
    Case("board_remark_add before the meeting", Action.FOLLOW_UP_BOARD_REMARK, ready, _remark),
    Case("board_remark_add after the meeting", Action.FOLLOW_UP_BOARD_REMARK, presented,
         _remark),
    Case("board_remark_answer", Action.FOLLOW_UP_ANSWER, with_board_remark, _answer),
    Case("follow_up_close", Action.FOLLOW_UP_CLOSE, presented,
         _close),
]


def test_every_department_action_of_the_matrix_has_cases():
    assert {case.action for case in CASES} == DEPARTMENT_ACTIONS


@pytest.mark.parametrize("number", sorted(ROLES_BY_DEPARTMENT))
def test_department_roles_written_here_are_the_roles_the_demo_gives(number, persona):
    roles = ROLES_BY_DEPARTMENT[number]
    assert set(roles) == {p.username for p in PERSONAS}
    for username, expected in roles.items():
        assert roles_in_department(user=persona(username),
                                   department=department(number)) == expected, username


@pytest.mark.parametrize("number", sorted(ROLES_BY_DEPARTMENT), ids=lambda n: f"department {n}")
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_service_is_allowed_for_exactly_the_personas_the_matrix_names(case, number, persona):
    follow_up = case.setup(number)
    state = follow_up.state
    expected = {username for username, roles in ROLES_BY_DEPARTMENT[number].items()
                if roles & MATRIX[case.action]}
    outcome = {p.username for p in PERSONAS
               if allowed(lambda p=p: case.call(persona(p.username), fresh(follow_up)))}
    assert outcome == expected
    assert fresh(follow_up).state == state  # every try was rolled back


def test_outsiders_are_refused_every_department_action_on_an_area_1_case(persona):
    area_1 = department(1)
    for username in ("ab-anden", "fg-formand", "fg-medlem", "du-formand", "ob-formand",
                     "anden-org"):
        user = persona(username)
        assert [a for a in DEPARTMENT_ACTIONS
                if can_in_department(user=user, action=a, department=area_1)] == [], username


def test_area_1_staff_have_no_say_in_area_2_and_the_secretary_sees_but_does_not_prepare(
        persona):
    area_2 = department(3)
    for username in ("driftschef", "serviceleder"):
        assert not any(can_in_department(user=persona(username), action=a, department=area_2)
                       for a in DEPARTMENT_ACTIONS), username
    with pytest.raises(PermissionDenied):
        services.follow_up_save(actor=persona("driftschef"), follow_up=case_of(3),
                                summary="Status.", remarks=remarks_for(case_of(3)))
    sekretaer = persona("sekretaer")
    for number in (1, 3):
        assert can_in_department(user=sekretaer, action=Action.FOLLOW_UP_VIEW,
                                 department=department(number))
        with pytest.raises(PermissionDenied):
            services.follow_up_start_preparation(actor=sekretaer, follow_up=case_of(number))
    assert case_of(3).state == case_of(1).state == State.SCHEDULED


def test_area_2_cases_are_prepared_and_acknowledged_by_area_2s_own_people(persona):
    follow_up = presented(3)
    assert area_manager(3).username not in {p.username for p in PERSONAS}
    assert [who for _f, _t, who, _as, _reason in transitions_of(follow_up)] == [
        area_manager(3).username, area_manager(3).username, board_chair(3).username]


# --- which departments a person sees --------------------------------------------------------

# (organisation, department number) of the departments each persona may see the follow-ups of.
SOEBREDDEN = {(DEMO_SLUG, number) for number in range(1, 7)}
FOLLOW_UP_VIEWERS = {
    "sekretaer": SOEBREDDEN,
    "driftschef": {(DEMO_SLUG, 1), (DEMO_SLUG, 2)},
    "serviceleder": {(DEMO_SLUG, 1), (DEMO_SLUG, 2)},
    "fg-formand": {(DEMO_SLUG, 4)},
    "fg-medlem": {(DEMO_SLUG, 5)},
    "du-formand": set(),
    "ob-formand": set(),
    "ab-formand": {(DEMO_SLUG, 1)},
    "ab-medlem": {(DEMO_SLUG, 1)},
    "ab-anden": {(DEMO_SLUG, 3)},
    "anden-org": {(OTHER_SLUG, 1)},
}


@pytest.mark.parametrize("username", sorted(FOLLOW_UP_VIEWERS))
def test_departments_for_lists_exactly_the_departments_a_persona_may_see(
        username, persona, django_assert_num_queries):
    user = persona(username)
    names = {d.pk: (d.organisation.slug, d.number)
             for d in Department.objects.select_related("organisation")}
    # One query: the departments, with the seats and staff assignments as subqueries.
    with django_assert_num_queries(1):
        found = [names[d.pk] for d in departments_for(user=user, action=Action.FOLLOW_UP_VIEW)]
    assert len(found) == len(set(found))
    assert set(found) == FOLLOW_UP_VIEWERS[username]


@pytest.mark.parametrize("action", sorted(DEPARTMENT_ACTIONS))
def test_departments_for_agrees_with_the_check_on_every_department(action, persona):
    everywhere = list(Department.objects.all())
    for p in PERSONAS:
        user = persona(p.username)
        listed = set(departments_for(user=user, action=action).values_list("pk", flat=True))
        assert listed == {d.pk for d in everywhere
                          if can_in_department(user=user, action=action, department=d)}, (
            p.username)


def test_a_former_chair_sees_the_department_only_on_days_of_her_term(demo):
    membership = (Membership.objects.filter(body__department=department(1),
                                            role=Membership.Role.CHAIR, ends_on__isnull=False)
                  .select_related("person").get())
    former = membership.person
    assert list(departments_for(user=former, action=Action.FOLLOW_UP_VIEW)) == []
    assert list(departments_for(user=former, action=Action.FOLLOW_UP_ACKNOWLEDGE,
                                day=membership.ends_on)) == [department(1)]
    assert list(departments_for(user=former, action=Action.FOLLOW_UP_ACKNOWLEDGE,
                                day=membership.ends_on + datetime.timedelta(days=1))) == []
    with pytest.raises(PermissionDenied):
        _acknowledge(former, ready(1))

