"""The annual plan's services: who may do what, in which state, and what each leaves behind.

The permission cases are generated from ``permissions.matrix.MATRIX``: every state-changing
service is tried by every persona, and must succeed exactly for the personas whose roles in the
demo organisation meet the matrix entry (each try is rolled back, so all start from the same
plan). Time is frozen on Monday 02.03.2026, before the demo is loaded.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import translation

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import services
from cycles.lib import canonical_json, content_hash
from cycles.models import (
    AnnualPlan,
    Initiative,
    InitiativeEvaluation,
    PlanRevision,
    PlanTransition,
    SignOff,
)
from cycles.selectors import plan_content, plan_get_for_user
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG, PERSONAS
from governance import services as governance_services
from governance.models import Body, Department, Membership, OperationsArea, Organisation
from permissions.matrix import MATRIX, Action
from permissions.selectors import roles_in_organisation
from tests.clock import frozen_before_demo, frozen_on
from workflows.services import plan_act, plan_create_and_route

State = AnnualPlan.State
Decision = SignOff.Decision
Verdict = InitiativeEvaluation.Decision
TODAY = datetime.date(2026, 3, 2)



_frozen_today = frozen_before_demo(TODAY)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- the personas' roles in the demo organisation, written out by hand ----------------------

PERSONA_ROLES: dict[str, frozenset[tuple[str, str]]] = {
    "sekretaer": frozenset({("staff", "operations_secretary")}),
    "driftschef": frozenset({("staff", "operations_manager")}),
    "serviceleder": frozenset({("staff", "service_manager")}),
    "fg-formand": frozenset({("follow_up_group", "chair"), ("department_board", "member")}),
    "fg-medlem": frozenset({("follow_up_group", "member"), ("department_board", "member")}),
    "du-formand": frozenset({("operations_committee", "chair"),
                             ("organisation_board", "member")}),
    "ob-formand": frozenset({("organisation_board", "chair"),
                             ("representative_council", "chair")}),
    "ab-formand": frozenset({("department_board", "chair"),
                             ("representative_council", "member")}),
    "ab-medlem": frozenset({("department_board", "member")}),
    "ab-anden": frozenset({("department_board", "member")}),
    "anden-org": frozenset(),  # a seat in the other organisation only
}


# --- helpers: the demo's plans moved along through plan_act, as the pages do ----------------

def organisation() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def plan_for(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=year)


def body(kind: str) -> Body:
    return Body.objects.get(organisation__slug=DEMO_SLUG, kind=kind)


def fresh(plan: AnnualPlan) -> AnnualPlan:
    return AnnualPlan.objects.get(pk=plan.pk)


def justify_uncovered_themes(plan: AnnualPlan, actor) -> None:
    covered = set(plan.initiatives.values_list("theme__number", flat=True))
    covered |= set(plan.theme_justifications.values_list("theme__number", flat=True))
    for theme in plan.programme.themes.exclude(number__in=covered):
        services.theme_justification_set(actor=actor, plan=plan, theme=theme,
                                         text=f"Intet under tema {theme.number} i år.")


def submit(plan, persona):
    justify_uncovered_themes(plan, persona("sekretaer"))
    plan_act(services.plan_submit, actor=persona("sekretaer"), plan=plan)
    return fresh(plan)


def close_review(plan, persona):
    plan_act(services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Følgegruppen anbefaler planen.")
    return fresh(plan)


def sign(plan, username, persona, decision=Decision.APPROVE, comment="Godkendt.", **kwargs):
    plan_act(services.plan_sign, actor=persona(username), plan=plan, decision=decision,
             comment=comment, password=DEMO_PASSWORD, **kwargs)
    return fresh(plan)


def present(plan, persona):
    plan_act(services.plan_register_presentation, actor=persona("sekretaer"), plan=plan,
             presented_on=TODAY - datetime.timedelta(days=3),
             minutes_reference="Referat af repræsentantskabsmødet, pkt. 4")
    return fresh(plan)


def walk(plan, persona, to: str) -> AnnualPlan:
    """Move a draft forward step by step until it is in state ``to``."""
    steps = [
        (State.FOLLOW_UP_GROUP_REVIEW, lambda p: submit(p, persona)),
        (State.OPERATIONS_COMMITTEE, lambda p: close_review(p, persona)),
        (State.ORGANISATION_BOARD, lambda p: sign(p, "du-formand", persona)),
        (State.PUBLISHED, lambda p: sign(p, "ob-formand", persona)),
        (State.PRESENTED, lambda p: present(p, persona)),
    ]
    order = [State.DRAFT] + [target for target, _step in steps]
    for target, step in steps:
        if order.index(plan.state) >= order.index(to):
            break
        if order.index(plan.state) < order.index(target):
            plan = step(plan)
            assert plan.state == target
    assert plan.state == to
    return plan


def new_plan(year: int, persona, initiatives: int = 2) -> AnnualPlan:
    """A plan of the demo organisation for ``year`` with initiatives under themes 1, 2, ..."""
    sekretaer = persona("sekretaer")
    plan = plan_create_and_route(actor=sekretaer, organisation=organisation(), year=year,
                                 title=f"Årsplan {year}")
    themes = list(plan.programme.themes.order_by("number"))
    for index in range(initiatives):
        services.initiative_create(actor=sekretaer, plan=plan, theme=themes[index % 4],
                                   title=f"Indsats {index + 1} for {year}")
    return fresh(plan)


class _Undo(Exception):
    """Raised to roll a successful try back."""


def allowed(call: Callable[[], object], refused=(PermissionDenied,)) -> bool:
    """True if ``call`` succeeds (its effects are rolled back), False if it is refused."""
    try:
        with transaction.atomic():
            call()
            raise _Undo
    except _Undo:
        return True
    except refused:
        return False


# --- the permission matrix, tried on the services ------------------------------------------

def _draft(persona):
    plan = plan_for(2027)
    justify_uncovered_themes(plan, persona("sekretaer"))
    return fresh(plan)


def _in_review(persona):
    return walk(_draft(persona), persona, State.FOLLOW_UP_GROUP_REVIEW)


def _at_committee(persona):
    return walk(_draft(persona), persona, State.OPERATIONS_COMMITTEE)


def _at_board(persona):
    return walk(_draft(persona), persona, State.ORGANISATION_BOARD)


def _board_approved(persona):
    """At the board with the chair's approval, before the flow publishes it."""
    plan = _at_board(persona)
    services.plan_sign(actor=persona("ob-formand"), plan=plan, decision=Decision.APPROVE,
                       comment="Godkendt.", password=DEMO_PASSWORD)
    return fresh(plan)


def _published(persona):
    return plan_for(2026)


def _presented(persona):
    return present(plan_for(2026), persona)


def _close_all(plan):
    return [{"initiative": i, "decision": Verdict.CLOSE, "reason": "Gennemført."}
            for i in plan.initiatives.all()]


@dataclass(frozen=True)
class Case:
    name: str
    action: Action
    setup: Callable
    call: Callable  # (user, plan) -> anything
    refused: tuple = (PermissionDenied,)


CASES = [
    Case("plan_get_for_user", Action.PLAN_VIEW, _published,
         lambda user, plan: plan_get_for_user(user=user, pk=plan.pk), refused=(Http404,)),
    Case("plan_create", Action.PLAN_EDIT, _published,
         lambda user, plan: services.plan_create(actor=user, organisation=plan.organisation,
                                                 year=2025, title="Årsplan 2025")),
    Case("plan_update", Action.PLAN_EDIT, _draft,
         lambda user, plan: services.plan_update(actor=user, plan=plan, title="Årsplan 2027",
                                                 summary="Rettet.")),
    Case("initiative_create", Action.PLAN_EDIT, _draft,
         lambda user, plan: services.initiative_create(
             actor=user, plan=plan, theme=plan.programme.themes.get(number=2),
             title="Ny indsats")),
    Case("initiative_update", Action.PLAN_EDIT, _draft,
         lambda user, plan: services.initiative_update(
             actor=user, initiative=plan.initiatives.order_by("position").first(),
             title="Energistyring – fase 2 (rettet)")),
    Case("initiative_delete", Action.PLAN_EDIT, _draft,
         lambda user, plan: services.initiative_delete(
             actor=user, initiative=plan.initiatives.order_by("position").last())),
    Case("theme_justification_set", Action.PLAN_EDIT, _draft,
         lambda user, plan: services.theme_justification_set(
             actor=user, plan=plan, theme=plan.programme.themes.get(number=4),
             text="Analyserne venter på benchmark.")),
    Case("plan_submit", Action.PLAN_EDIT, _draft,
         lambda user, plan: services.plan_submit(actor=user, plan=plan)),
    Case("plan_comment", Action.PLAN_COMMENT, _in_review,
         lambda user, plan: services.plan_comment(actor=user, plan=plan, text="Godt.")),
    Case("plan_close_review", Action.PLAN_CLOSE_REVIEW, _in_review,
         lambda user, plan: services.plan_close_review(actor=user, plan=plan,
                                                       recommendation="Anbefales.")),
    Case("plan_return from the review", Action.PLAN_RETURN_FROM_REVIEW, _in_review,
         lambda user, plan: services.plan_return(actor=user, plan=plan, reason="Uklar.")),
    Case("plan_return from the committee", Action.PLAN_RETURN_FROM_COMMITTEE, _at_committee,
         lambda user, plan: services.plan_return(actor=user, plan=plan, reason="Uklar.")),
    Case("plan_return from the board", Action.PLAN_RETURN_FROM_BOARD, _at_board,
         lambda user, plan: services.plan_return(actor=user, plan=plan, reason="Uklar.")),
    Case("plan_sign at the committee", Action.PLAN_SIGN_COMMITTEE, _at_committee,
         lambda user, plan: services.plan_sign(actor=user, plan=plan, decision=Decision.APPROVE,
                                               comment="", password=DEMO_PASSWORD)),
    Case("plan_sign at the board", Action.PLAN_SIGN_BOARD, _at_board,
         lambda user, plan: services.plan_sign(actor=user, plan=plan, decision=Decision.APPROVE,
                                               comment="", password=DEMO_PASSWORD)),
    Case("plan_publish", Action.PLAN_PUBLISH, _board_approved,
         lambda user, plan: services.plan_publish(actor=user, plan=plan)),
    Case("plan_register_presentation", Action.PLAN_REGISTER_PRESENTATION, _published,
         lambda user, plan: services.plan_register_presentation(
             actor=user, plan=plan, presented_on=TODAY, minutes_reference="Referat")),
    Case("plan_evaluate", Action.PLAN_EVALUATE, _presented,
         lambda user, plan: services.plan_evaluate(actor=user, plan=plan,
                                                   verdicts=_close_all(plan))),
]


def test_every_plan_action_of_the_matrix_has_service_cases():
    plan_actions = {action for action in Action if action.value.startswith("plan.")}
    assert {case.action for case in CASES} == plan_actions
    assert set(Action) == set(MATRIX)


def test_persona_roles_written_here_are_the_roles_the_demo_gives_them(persona):
    organisation_id = organisation().pk
    assert set(PERSONA_ROLES) == {p.username for p in PERSONAS}
    for username, roles in PERSONA_ROLES.items():
        held = roles_in_organisation(user=persona(username), organisation_id=organisation_id)
        assert held == roles, username


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_service_is_allowed_for_exactly_the_personas_the_matrix_names(case, persona):
    plan = case.setup(persona)
    state = plan.state
    expected = {username for username, roles in PERSONA_ROLES.items()
                if roles & MATRIX[case.action]}
    assert expected and expected != set(PERSONA_ROLES), "the case must tell roles apart"
    outcome = {p.username for p in PERSONAS
               if allowed(lambda p=p: case.call(persona(p.username), fresh(plan)),
                          refused=case.refused)}
    assert outcome == expected
    assert fresh(plan).state == state  # every try was rolled back


@pytest.mark.parametrize(("setup", "kind"), [(_at_committee, Body.Kind.OPERATIONS_COMMITTEE),
                                             (_at_board, Body.Kind.ORGANISATION_BOARD)])
def test_vice_chair_signs_only_inside_the_period_the_chair_authorised(setup, kind, persona):
    plan = setup(persona)
    the_body = body(kind)
    chair = Membership.objects.current_on(TODAY).get(body=the_body, role="chair").person
    vice = Membership.objects.current_on(TODAY).get(body=the_body, role="vice_chair").person

    def vice_signs():
        return services.plan_sign(actor=vice, plan=fresh(plan), decision=Decision.APPROVE,
                                  comment="For formanden.", password=DEMO_PASSWORD)

    def vice_returns():
        return services.plan_return(actor=vice, plan=fresh(plan), reason="Mangler tal.")

    assert not allowed(vice_signs)  # no authorisation yet
    governance_services.signing_authorisation_grant(
        actor=chair, body=the_body, vice_chair=vice,
        starts_on=datetime.date(2026, 3, 10), ends_on=datetime.date(2026, 3, 20))
    outcome = {}
    for day in (9, 10, 20, 21):
        with frozen_on(datetime.date(2026, 3, day)):
            outcome[day] = (allowed(vice_signs), allowed(vice_returns))
    assert outcome == {9: (False, False), 10: (True, True), 20: (True, True),
                       21: (False, False)}

    with frozen_on(datetime.date(2026, 3, 15)):
        sign_off = vice_signs()
    assert sign_off.mandate == SignOff.Mandate.VICE_CHAIR_FOR_CHAIR
    assert sign_off.on_behalf_of == chair
    assert sign_off.signer == vice


# --- wrong state ------------------------------------------------------------------------------

WRONG_STATE = [
    (2027, "fg-formand", lambda user, plan: services.plan_close_review(
        actor=user, plan=plan, recommendation="Anbefales.")),
    (2027, "fg-medlem", lambda user, plan: services.plan_comment(actor=user, plan=plan,
                                                                 text="Godt.")),
    (2027, "fg-formand", lambda user, plan: services.plan_return(actor=user, plan=plan,
                                                                 reason="Uklar.")),
    (2027, "du-formand", lambda user, plan: services.plan_sign(
        actor=user, plan=plan, decision=Decision.APPROVE, comment="", password=DEMO_PASSWORD)),
    (2027, "sekretaer", lambda user, plan: services.plan_publish(actor=user, plan=plan)),
    (2027, "sekretaer", lambda user, plan: services.plan_register_presentation(
        actor=user, plan=plan, presented_on=TODAY, minutes_reference="Referat")),
    (2027, "fg-formand", lambda user, plan: services.plan_evaluate(actor=user, plan=plan,
                                                                   verdicts=[])),
    (2026, "sekretaer", lambda user, plan: services.plan_submit(actor=user, plan=plan)),
    (2026, "sekretaer", lambda user, plan: services.plan_update(actor=user, plan=plan,
                                                                title="Ny", summary="")),
    (2026, "sekretaer", lambda user, plan: services.initiative_create(
        actor=user, plan=plan, theme=plan.programme.themes.first(), title="Sent")),
    (2026, "ob-formand", lambda user, plan: services.plan_sign(
        actor=user, plan=plan, decision=Decision.APPROVE, comment="", password=DEMO_PASSWORD)),
    (2026, "fg-formand", lambda user, plan: services.plan_evaluate(actor=user, plan=plan,
                                                                   verdicts=[])),
]


@pytest.mark.parametrize(("year", "username", "call"), WRONG_STATE)
def test_action_in_the_wrong_state_is_a_conflict_naming_the_current_state(
        year, username, call, persona):
    plan = plan_for(year)
    with pytest.raises(Conflict) as error:
        call(persona(username), plan)
    assert error.value.current_state == plan.state
    assert error.value.current_state_label == plan.get_state_display()
    assert str(plan.get_state_display()) in str(error.value)
    assert fresh(plan).state == plan.state


# --- submitting -----------------------------------------------------------------------------

def test_submit_explains_every_blocker_in_words(persona):
    sekretaer = persona("sekretaer")
    plan = plan_create_and_route(actor=sekretaer, organisation=organisation(), year=2025,
                                 title="Årsplan 2025")
    themes = {t.number: t for t in plan.programme.themes.all()}

    def blockers():
        with pytest.raises(ValidationError) as error:
            services.plan_submit(actor=sekretaer, plan=plan)
        return error.value.message_dict["plan"]

    assert blockers() == [
        "A plan needs at least one initiative.",
        "The theme “Bæredygtig drift” needs an initiative or a written justification.",
        "The theme “Tilpasset og målrettet service til beboere og beboervalgte” needs an "
        "initiative or a written justification.",
        "The theme “Digital drift og service” needs an initiative or a written justification.",
        "The theme “Driftsanalyser – vejen til effektiv drift” needs an initiative or a "
        "written justification.",
    ]
    services.initiative_create(actor=sekretaer, plan=plan, theme=themes[1], title="Energi")
    services.theme_justification_set(actor=sekretaer, plan=plan, theme=themes[2],
                                     text="Servicestandarden fra 2024 gælder.")
    services.theme_justification_set(actor=sekretaer, plan=plan, theme=themes[3], text="   ")
    assert blockers() == [
        "The theme “Digital drift og service” needs an initiative or a written justification.",
        "The theme “Driftsanalyser – vejen til effektiv drift” needs an initiative or a "
        "written justification.",
    ]
    assert fresh(plan).state == State.DRAFT
    services.theme_justification_set(actor=sekretaer, plan=plan, theme=themes[3],
                                     text="Appen rulles først ud i 2026.")
    services.theme_justification_set(actor=sekretaer, plan=plan, theme=themes[4],
                                     text="Benchmark i 2026.")
    services.plan_submit(actor=sekretaer, plan=plan)
    plan = fresh(plan)
    assert plan.state == State.FOLLOW_UP_GROUP_REVIEW
    assert plan.current_revision.number == 1


# --- revisions and sign-offs ----------------------------------------------------------------

GOLDEN_PLAN_SHA256 = "6c10180dd82161c372382b253084f87ff16490ec49898ee463aaea78f1a2cf36"


def test_revision_hash_of_a_fixed_plan_is_the_same_on_every_database(persona):
    """CI runs this on SQLite and PostgreSQL: the same content must give the same hash."""
    sekretaer = persona("sekretaer")
    org = organisation()
    plan = plan_create_and_route(actor=sekretaer, organisation=org, year=2025,
                                 title="Årsplan 2025 – grøn drift",
                                 summary="Fokus på energi, service og økonomi.")
    themes = {t.number: t for t in plan.programme.themes.all()}
    areas = {a.number: a for a in OperationsArea.objects.filter(organisation=org)}
    departments = {d.number: d for d in Department.objects.filter(organisation=org)}
    origin = plan_for(2026).initiatives.get(position=1)
    services.initiative_create(
        actor=sekretaer, plan=plan, theme=themes[2], title="Fælles servicestandard",
        description="Svar inden for to hverdage.\nRegistrering ét sted.",
        scope=Initiative.Scope.DEPARTMENTS, departments=[departments[5], departments[2],
                                                         departments[4]],
        expected_saving=Decimal("0.05"), planned_start=datetime.date(2025, 2, 1),
        planned_end=datetime.date(2025, 11, 30), owner=persona("serviceleder"))
    services.initiative_create(
        actor=sekretaer, plan=plan, theme=themes[1], title="Varmestyring på Ærøvej",
        scope=Initiative.Scope.AREAS, operations_areas=[areas[3], areas[1]],
        expected_saving=Decimal("1234567.5"), planned_start=datetime.date(2025, 1, 1),
        planned_end=datetime.date(2025, 12, 31), target="Varme pr. m² −5 %",
        owner=persona("driftschef"), origin=origin)
    services.initiative_create(actor=sekretaer, plan=plan, theme=themes[3],
                               title="Digital fejlmelding")
    services.theme_justification_set(actor=sekretaer, plan=plan, theme=themes[4],
                                     text="Ingen analyser i år – afventer benchmark.")
    plan = fresh(plan)
    content = plan_content(plan=plan)

    assert [i["key"] for i in content["initiatives"]] == [2, 1, 3]  # by theme, then position
    assert content["initiatives"][0]["operations_areas"] == [1, 3]
    assert content["initiatives"][0]["expected_saving"] == "1234567.50"
    assert content["initiatives"][0]["origin"] == {"year": 2026, "key": 1}
    assert content["initiatives"][1]["departments"] == [2, 4, 5]
    assert content["initiatives"][1]["expected_saving"] == "0.05"
    assert content["initiatives"][1]["planned_start"] == "2025-02-01"
    assert content_hash(content) == GOLDEN_PLAN_SHA256

    services.plan_submit(actor=sekretaer, plan=plan)
    revision = fresh(plan).current_revision
    assert revision.sha256 == GOLDEN_PLAN_SHA256
    assert revision.canonical.encode("utf-8") == canonical_json(content)
    assert revision.short_hash == GOLDEN_PLAN_SHA256[:10]


def test_content_change_makes_earlier_sign_offs_stale_and_needs_new_signatures(persona):
    plan = walk(_draft(persona), persona, State.ORGANISATION_BOARD)
    first = plan.current_revision
    committee_sign_off = SignOff.objects.get(plan=plan, step=State.OPERATIONS_COMMITTEE)
    assert committee_sign_off.revision == first
    assert not committee_sign_off.is_stale

    plan_act(services.plan_return, actor=persona("ob-formand"), plan=plan,
             reason="Indsatsen om opslagstavler mangler en tidsplan.")
    initiative = plan.initiatives.order_by("position").last()
    services.initiative_update(actor=persona("sekretaer"), initiative=initiative,
                               planned_start=datetime.date(2027, 4, 1))
    plan = submit(fresh(plan), persona)
    second = plan.current_revision
    assert second != first
    assert second.number == first.number + 1
    assert plan.revisions.count() == 2

    committee_sign_off = SignOff.objects.get(pk=committee_sign_off.pk)  # still there
    assert committee_sign_off.is_stale

    plan = close_review(plan, persona)
    with pytest.raises(Conflict) as error:  # signing what the signer read before the change
        services.plan_sign(actor=persona("du-formand"), plan=plan, decision=Decision.APPROVE,
                           comment="", password=DEMO_PASSWORD, expected_sha256=first.sha256)
    assert error.value.current_state == State.OPERATIONS_COMMITTEE
    assert not SignOff.objects.filter(plan=plan, revision=second).exists()

    plan = sign(plan, "du-formand", persona, expected_sha256=second.sha256)
    assert plan.state == State.ORGANISATION_BOARD
    with pytest.raises(Conflict):
        services.plan_publish(actor=persona("sekretaer"), plan=plan)
    assert fresh(plan).state == State.ORGANISATION_BOARD

    plan = sign(plan, "ob-formand", persona, expected_sha256=second.sha256)
    assert plan.state == State.PUBLISHED
    assert plan.approved_revision == second
    stale = {s.step: s.is_stale for s in SignOff.objects.filter(plan=plan, revision=first)}
    assert stale == {State.OPERATIONS_COMMITTEE: True}
    assert [s.is_stale for s in SignOff.objects.filter(plan=plan, revision=second)] == [
        False, False]


def test_a_stale_board_approval_does_not_allow_publication(persona):
    plan = _board_approved(persona)  # approved, not yet published
    services.plan_return(actor=persona("ob-formand"), plan=plan, reason="Vi tager den igen.")
    services.initiative_update(actor=persona("sekretaer"),
                               initiative=plan.initiatives.order_by("position").first(),
                               target="Forbruget falder med 4 %.")
    plan = submit(fresh(plan), persona)
    plan = close_review(plan, persona)
    plan = sign(plan, "du-formand", persona)
    assert plan.state == State.ORGANISATION_BOARD
    assert not plan.has_approved_board_sign_off()
    with pytest.raises(Conflict):
        services.plan_publish(actor=persona("sekretaer"), plan=plan)


def test_plan_sent_back_unchanged_can_be_signed_again_on_the_same_revision(persona):
    plan = walk(_draft(persona), persona, State.ORGANISATION_BOARD)
    revision = plan.current_revision
    plan_act(services.plan_return, actor=persona("ob-formand"), plan=plan,
             reason="Driftsudvalget skal se på økonomien igen.")
    plan = walk(fresh(plan), persona, State.OPERATIONS_COMMITTEE)
    assert plan.current_revision == revision  # nothing changed: the same revision

    plan = sign(plan, "du-formand", persona, comment="Set igen; indstilles.")
    assert plan.state == State.ORGANISATION_BOARD
    approvals = SignOff.objects.filter(plan=plan, step=State.OPERATIONS_COMMITTEE,
                                       decision=Decision.APPROVE)
    assert [s.revision for s in approvals] == [revision, revision]
    assert not plan.has_approved_board_sign_off()  # the board has not signed this round
    plan = sign(plan, "ob-formand", persona)
    assert plan.state == State.PUBLISHED


def test_the_same_step_cannot_be_approved_twice(persona):
    plan = _board_approved(persona)
    with pytest.raises(Conflict) as error:
        services.plan_sign(actor=persona("ob-formand"), plan=plan, decision=Decision.APPROVE,
                           comment="", password=DEMO_PASSWORD)
    assert error.value.current_state == State.ORGANISATION_BOARD
    assert SignOff.objects.filter(plan=plan, step=State.ORGANISATION_BOARD).count() == 1


def test_return_requires_a_reason(persona):
    plan = _in_review(persona)
    with pytest.raises(ValidationError) as error:
        services.plan_return(actor=persona("fg-formand"), plan=plan, reason="  ")
    assert "reason" in error.value.message_dict
    plan = walk(plan, persona, State.OPERATIONS_COMMITTEE)
    with pytest.raises(ValidationError) as error:
        services.plan_sign(actor=persona("du-formand"), plan=plan, decision=Decision.RETURN,
                           comment="", password=DEMO_PASSWORD)
    assert "comment" in error.value.message_dict
    assert fresh(plan).state == State.OPERATIONS_COMMITTEE
    assert not SignOff.objects.filter(plan=plan).exists()


def test_sign_with_a_wrong_password_is_refused_and_records_nothing(persona):
    plan = _at_committee(persona)
    with pytest.raises(ValidationError) as error:
        services.plan_sign(actor=persona("du-formand"), plan=plan, decision=Decision.APPROVE,
                           comment="", password="forkert")
    assert "password" in error.value.message_dict
    assert not SignOff.objects.filter(plan=plan).exists()
    assert fresh(plan).state == State.OPERATIONS_COMMITTEE


def test_abstaining_records_a_sign_off_and_leaves_the_plan_where_it_is(persona):
    plan = _at_committee(persona)
    sign_off = services.plan_sign(actor=persona("du-formand"), plan=plan,
                                  decision=Decision.ABSTAIN, comment="Inhabil.",
                                  password=DEMO_PASSWORD)
    assert sign_off.decision == Decision.ABSTAIN
    assert fresh(plan).state == State.OPERATIONS_COMMITTEE


def test_sign_return_sends_the_plan_back_with_the_comment_as_reason(persona):
    plan = _at_committee(persona)
    plan = sign(plan, "du-formand", persona, decision=Decision.RETURN,
                comment="Økonomien skal belyses.")
    assert plan.state == State.DRAFT
    last = plan.transitions.order_by("pk").last()
    assert (last.from_state, last.to_state, last.reason) == (
        State.OPERATIONS_COMMITTEE, State.DRAFT, "Økonomien skal belyses.")


# --- presentation and evaluation ------------------------------------------------------------

def test_presentation_date_cannot_be_in_the_future(persona):
    plan = plan_for(2026)
    with pytest.raises(ValidationError) as error:
        services.plan_register_presentation(actor=persona("sekretaer"), plan=plan,
                                            presented_on=TODAY + datetime.timedelta(days=1),
                                            minutes_reference="Referat")
    assert "presented_on" in error.value.message_dict
    services.plan_register_presentation(actor=persona("sekretaer"), plan=plan,
                                        presented_on=TODAY, minutes_reference=" Referat 7 ")
    plan = fresh(plan)
    assert (plan.state, plan.presented_on, plan.presentation_minutes_reference) == (
        State.PRESENTED, TODAY, "Referat 7")


def test_evaluation_needs_a_verdict_with_a_reason_for_every_initiative(persona):
    plan = _presented(persona)
    first, second, *rest = list(plan.initiatives.order_by("position"))
    fg = persona("fg-formand")

    def errors(verdicts):
        with pytest.raises(ValidationError) as error:
            services.plan_evaluate(actor=fg, plan=plan, verdicts=verdicts)
        return error.value.message_dict

    everything = [{"initiative": i, "decision": Verdict.CLOSE, "reason": "Færdig."}
                  for i in [first, second, *rest]]
    missing = errors(everything[1:])
    assert first.title in missing["verdicts"][0]
    assert "verdicts[0]" in errors([{**everything[0], "reason": " "}, *everything[1:]])
    assert "verdicts[0]" in errors([{**everything[0], "decision": "later"}, *everything[1:]])
    assert "verdicts[0]" in errors([{**everything[0], "decision": Verdict.MERGE,
                                     "merged_into": first}, *everything[1:]])
    assert "verdicts[1]" in errors([everything[0], everything[0], *everything[1:]])
    assert fresh(plan).state == State.PRESENTED
    assert not InitiativeEvaluation.objects.exists()

    assert services.plan_evaluate(actor=fg, plan=plan, verdicts=everything) is None
    assert fresh(plan).state == State.EVALUATED
    assert InitiativeEvaluation.objects.filter(plan=plan).count() == len(everything)


def test_evaluation_carries_continued_initiatives_into_next_years_draft(persona):
    plan = walk(new_plan(2024, persona, initiatives=4), persona, State.PRESENTED)
    energy, service, app, analysis = list(plan.initiatives.order_by("position"))
    areas = list(OperationsArea.objects.filter(organisation=plan.organisation)[:2])
    assert not AnnualPlan.objects.filter(organisation=plan.organisation, year=2025).exists()

    next_plan = services.plan_evaluate(actor=persona("fg-formand"), plan=plan, verdicts=[
        {"initiative": energy, "decision": Verdict.CONTINUE, "reason": "Fase 2 mangler."},
        {"initiative": service, "decision": Verdict.CLOSE, "reason": "Nået."},
        {"initiative": app, "decision": Verdict.RESCOPE, "reason": "Kun område 1 og 2."},
        {"initiative": analysis, "decision": Verdict.MERGE, "reason": "Samme emne.",
         "merged_into": energy},
    ])
    assert next_plan.year == 2025
    assert next_plan.state == State.DRAFT
    copies = list(next_plan.initiatives.order_by("position"))
    assert [(c.title, c.origin, c.theme.number) for c in copies] == [
        (energy.title, energy, 1), (app.title, app, 3)]
    evaluations = {e.initiative: e for e in InitiativeEvaluation.objects.filter(plan=plan)}
    assert evaluations[energy].successor == copies[0]
    assert evaluations[service].successor is None
    assert evaluations[analysis].merged_into == energy
    assert fresh(plan).state == State.EVALUATED

    # Next year's draft is an ordinary draft: the copy can be re-scoped or deleted.
    services.initiative_update(actor=persona("sekretaer"), initiative=copies[1],
                               scope=Initiative.Scope.AREAS, operations_areas=areas)
    services.initiative_delete(actor=persona("sekretaer"), initiative=copies[0])
    assert InitiativeEvaluation.objects.get(pk=evaluations[energy].pk).successor is None


def test_evaluation_links_a_continuation_next_years_plan_already_has(persona):
    plan = _presented(persona)  # 2026; the 2027 draft already continues its first initiative
    initiatives = list(plan.initiatives.order_by("position"))
    continued = plan_for(2027).initiatives.get(origin=initiatives[0])
    verdicts = _close_all(plan)
    verdicts[0] = {"initiative": initiatives[0], "decision": Verdict.CONTINUE,
                   "reason": "Fase 2."}
    services.plan_evaluate(actor=persona("fg-formand"), plan=plan, verdicts=verdicts)
    assert InitiativeEvaluation.objects.get(initiative=initiatives[0]).successor == continued
    assert plan_for(2027).initiatives.filter(origin=initiatives[0]).count() == 1


def test_continuing_into_a_plan_past_drafting_is_refused_with_a_reason(persona):
    plan = walk(new_plan(2025, persona), persona, State.PRESENTED)  # 2026 is published
    verdicts = _close_all(plan)
    verdicts[0]["decision"] = Verdict.CONTINUE
    with pytest.raises(ValidationError) as error:
        services.plan_evaluate(actor=persona("fg-formand"), plan=plan, verdicts=verdicts)
    assert "2026" in error.value.message_dict["verdicts[0]"][0]
    assert fresh(plan).state == State.PRESENTED


def test_continuing_past_the_programme_names_the_year_no_programme_covers(persona):
    plan = walk(_draft(persona), persona, State.PRESENTED)
    verdicts = _close_all(plan)
    verdicts[0]["decision"] = Verdict.CONTINUE
    with pytest.raises(ValidationError) as error:
        services.plan_evaluate(actor=persona("fg-formand"), plan=plan, verdicts=verdicts)
    assert "No operations programme covers 2028" in error.value.message_dict["verdicts"][0]
    assert fresh(plan).state == State.PRESENTED
    assert not AnnualPlan.objects.filter(year=2028).exists()
    assert not InitiativeEvaluation.objects.exists()

    services.plan_evaluate(actor=persona("fg-formand"), plan=plan, verdicts=_close_all(plan))
    assert fresh(plan).state == State.EVALUATED


# --- content edits --------------------------------------------------------------------------

def test_updating_an_initiative_without_naming_its_scope_keeps_its_areas(persona):
    plan = plan_for(2027)
    boards = plan.initiatives.get(scope=Initiative.Scope.AREAS)
    areas = sorted(boards.operations_areas.values_list("number", flat=True))
    assert areas
    services.initiative_update(actor=persona("sekretaer"), initiative=boards,
                               title="Digitale opslagstavler")
    assert sorted(boards.operations_areas.values_list("number", flat=True)) == areas
    services.initiative_update(actor=persona("sekretaer"), initiative=boards,
                               scope=Initiative.Scope.ORGANISATION)
    assert not boards.operations_areas.exists()


def test_every_content_edit_raises_the_content_version(persona):
    plan = plan_for(2027)
    sekretaer = persona("sekretaer")
    version = plan.content_version
    services.plan_update(actor=sekretaer, plan=plan, title="Årsplan 2027", summary="Ny.")
    initiative = services.initiative_create(actor=sekretaer, plan=plan,
                                            theme=plan.programme.themes.get(number=2),
                                            title="Ny indsats")
    services.initiative_update(actor=sekretaer, initiative=initiative, title="Ny indsats 2")
    services.initiative_delete(actor=sekretaer, initiative=initiative)
    services.theme_justification_set(actor=sekretaer, plan=plan,
                                     theme=plan.programme.themes.get(number=4), text="Ingen.")
    assert fresh(plan).content_version == version + 5


# --- the transition log and the audit trail --------------------------------------------------

def test_every_transition_is_logged_with_actor_mandate_reason_and_revision(persona):
    plan = _in_review(persona)
    plan_act(services.plan_return, actor=persona("fg-formand"), plan=plan,
             reason="Tema 2 mangler en indsats.")
    plan = walk(fresh(plan), persona, State.PRESENTED)
    plan_act(services.plan_evaluate, actor=persona("fg-formand"), plan=plan,
             verdicts=_close_all(plan))

    rows = list(PlanTransition.objects.filter(plan=plan).order_by("pk").select_related(
        "actor", "revision"))
    assert [(r.from_state, r.to_state, r.actor.username if r.actor else None) for r in rows] \
        == [
        (State.DRAFT, State.FOLLOW_UP_GROUP_REVIEW, "sekretaer"),
        (State.FOLLOW_UP_GROUP_REVIEW, State.DRAFT, "fg-formand"),
        (State.DRAFT, State.FOLLOW_UP_GROUP_REVIEW, "sekretaer"),
        (State.FOLLOW_UP_GROUP_REVIEW, State.OPERATIONS_COMMITTEE, "fg-formand"),
        (State.OPERATIONS_COMMITTEE, State.ORGANISATION_BOARD, "du-formand"),
        (State.ORGANISATION_BOARD, State.PUBLISHED, None),  # the flow publishes
        (State.PUBLISHED, State.PRESENTED, "sekretaer"),
        (State.PRESENTED, State.EVALUATED, "fg-formand"),
    ]
    revision = fresh(plan).current_revision
    assert all(r.revision == revision for r in rows)
    # Written in the installation's language (Danish), whatever the actor's language.
    assert [r.acting_as for r in rows] == [
        "driftssekretær, Boligforeningen Søbredden",
        "formand, Følgegruppen",
        "driftssekretær, Boligforeningen Søbredden",
        "formand, Følgegruppen",
        "formand, Driftsudvalget",
        "Årshjul (automatisk trin)",
        "driftssekretær, Boligforeningen Søbredden",
        "formand, Følgegruppen",
    ]
    assert rows[1].reason == "Tema 2 mangler en indsats."
    assert rows[3].reason == "Følgegruppen anbefaler planen."
    assert rows[6].reason == "Referat af repræsentantskabsmødet, pkt. 4"

    actions = list(AuditEntry.objects.filter(object_type="cycles.annualplan",
                                             object_id=str(plan.pk)).order_by("pk")
                   .values_list("action", flat=True))
    assert actions == [
        "plan.create", "plan.justify_theme", "plan.justify_theme", "plan.submit", "plan.return_to_draft",
        "plan.submit", "plan.close_review", "plan.sign", "plan.recommend", "plan.sign",
        "plan.publish", "plan.rollout_generate", "plan.register_presentation", "plan.evaluate",
    ]
    sign_entry = AuditEntry.objects.filter(action="plan.sign", object_id=str(plan.pk)).first()
    assert sign_entry.actor == persona("du-formand")
    assert sign_entry.summary["revision"] == revision.sha256
    assert PlanRevision.objects.filter(plan=plan).count() == 1
