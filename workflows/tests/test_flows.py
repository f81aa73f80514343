"""AnnualPlanFlow against the plan's state machine: every node, every return, every reroute.

The flow routes work; the plan's state lives in cycles. At every human task the plan must be
in the state PLAN_NODES names for the node, and the task must sit with today's holder of the
node's mandate. Time is frozen on Monday 02.03.2026, before the demo is loaded.
"""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import services
from cycles.models import AnnualPlan, InitiativeEvaluation, SignOff
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
from governance import services as governance_services
from governance.models import Body, Membership, OperationsArea, Organisation
from permissions.matrix import EVERY_ROLE, MATRIX, Action
from tests.clock import frozen_on
from workflows import services as workflow_services
from workflows.flows import PLAN_NODES, AnnualPlanFlow
from workflows.models import AnnualPlanProcess, TaskMandate
from workflows.services import mandate_holder, open_plan_tasks, plan_act, plan_create_and_route

State = AnnualPlan.State
Decision = SignOff.Decision
TODAY = datetime.date(2026, 3, 2)

# Who holds each node's mandate in the demo, and the matrix action the node's work needs.
NODE_HOLDER = {
    "draft": "sekretaer",
    "review": "fg-formand",
    "committee": "du-formand",
    "board": "ob-formand",
    "presentation": "sekretaer",
    "evaluation": "fg-formand",
}
NODE_ACTION = {
    "draft": Action.PLAN_EDIT,
    "review": Action.PLAN_CLOSE_REVIEW,
    "committee": Action.PLAN_SIGN_COMMITTEE,
    "board": Action.PLAN_SIGN_BOARD,
    "presentation": Action.PLAN_REGISTER_PRESENTATION,
    "evaluation": Action.PLAN_EVALUATE,
}
NOT_HUMAN = {"START", "END", "EXCLUSIVE_GATEWAY", "FUNCTION"}



@pytest.fixture(autouse=True)
def _frozen_today():
    with frozen_on(TODAY):
        yield


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def organisation() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def plan_for(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=year)


def fresh(plan: AnnualPlan) -> AnnualPlan:
    return AnnualPlan.objects.get(pk=plan.pk)


def the_open_task(plan: AnnualPlan, persona, holder: str | None = None) -> Task:
    """The plan's one open task, checked against PLAN_NODES and the mandate's holder."""
    tasks = list(open_plan_tasks(plan=plan))
    assert len(tasks) == 1, tasks
    task = tasks[0]
    node = task.flow_task.name
    expected_state, route = PLAN_NODES[node]
    plan = fresh(plan)
    assert plan.state == expected_state, node
    assert task.status == STATUS.ASSIGNED
    assert task.owner == persona(holder or NODE_HOLDER[node]), node
    assert task.owner == mandate_holder(organisation_id=plan.organisation_id, route=route)
    mandate = TaskMandate.objects.get(task=task)
    assert (mandate.role, mandate.body.kind if mandate.body else None) == (
        route.role, route.body_kind)
    return task


def submit(plan, persona):
    plan_act(services.plan_submit, actor=persona("sekretaer"), plan=plan)


def close_review(plan, persona, chair="fg-formand"):
    plan_act(services.plan_close_review, actor=persona(chair), plan=plan,
             recommendation="Følgegruppen anbefaler planen.")


def sign(plan, username, persona, decision=Decision.APPROVE, comment="Godkendt."):
    plan_act(services.plan_sign, actor=persona(username), plan=plan, decision=decision,
             comment=comment, password=DEMO_PASSWORD)


def draft_in_review(persona) -> AnnualPlan:
    """The demo's 2027 draft, justified where it has no initiative, with the follow-up group."""
    plan = plan_for(2027)
    for number in (2, 4):
        services.theme_justification_set(actor=persona("sekretaer"), plan=plan,
                                         theme=plan.programme.themes.get(number=number),
                                         text="Intet i år.")
    submit(plan, persona)
    return fresh(plan)


# --- the shape of the flow ------------------------------------------------------------------

def test_every_human_node_has_a_plan_nodes_entry_and_every_other_node_is_automatic():
    nodes = {node.name: node.task_type for node in AnnualPlanFlow.instance.nodes()}
    human = {name for name, kind in nodes.items() if kind == "HUMAN"}
    assert human == set(PLAN_NODES)
    assert {kind for name, kind in nodes.items() if name not in human} <= NOT_HUMAN


def test_every_node_is_routed_to_a_role_that_may_do_its_work():
    assert set(NODE_ACTION) == set(PLAN_NODES)
    for node, (_state, route) in PLAN_NODES.items():
        role = (route.body_kind or "staff", route.role)
        assert role in EVERY_ROLE, node
        assert role in MATRIX[NODE_ACTION[node]], node


def test_the_flow_locks_the_process_row():
    from viewflow.workflow import lock

    assert AnnualPlanFlow.lock_impl is lock.select_for_update_lock


def _urls(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield prefix + str(entry.pattern), entry.urlconf_module
            yield from _urls(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_url_reaches_a_viewflow_view():
    def module_of(target):
        target = getattr(target, "view_class", None) or getattr(target, "cls", None) or target
        return getattr(target, "__module__", None) or getattr(target, "__name__", "")

    found = list(_urls(get_resolver().url_patterns))
    assert len(found) > 10
    assert [(url, module_of(target)) for url, target in found
            if module_of(target).startswith("viewflow")] == []


# --- a full cycle, with a return from every step --------------------------------------------

def test_a_plan_walks_every_node_and_every_return_with_the_mandate_holders(persona):
    sekretaer = persona("sekretaer")
    plan = plan_create_and_route(actor=sekretaer, organisation=organisation(), year=2025,
                                 title="Årsplan 2025")
    for theme in plan.programme.themes.all():
        services.initiative_create(actor=sekretaer, plan=plan, theme=theme,
                                   title=f"Indsats under tema {theme.number}")
    visited = []

    def step(expected_node):
        task = the_open_task(plan, persona)
        assert task.flow_task.name == expected_node
        visited.append(expected_node)

    step("draft")
    submit(plan, persona)
    step("review")
    plan_act(services.plan_return, actor=persona("fg-formand"), plan=plan,
             reason="Tema 3 er for vagt.")
    step("draft")
    submit(plan, persona)
    step("review")
    close_review(plan, persona)
    step("committee")
    plan_act(services.plan_return, actor=persona("du-formand"), plan=plan,
             reason="Økonomien mangler.")
    step("draft")
    submit(plan, persona)
    close_review(plan, persona)
    step("committee")
    sign(plan, "du-formand", persona)
    step("board")
    sign(plan, "ob-formand", persona, decision=Decision.RETURN, comment="Vent på budgettet.")
    step("draft")
    submit(plan, persona)
    close_review(plan, persona)
    sign(plan, "du-formand", persona)
    step("board")
    sign(plan, "ob-formand", persona)
    step("presentation")
    assert fresh(plan).state == State.PUBLISHED
    plan_act(services.plan_register_presentation, actor=sekretaer, plan=plan,
             presented_on=TODAY, minutes_reference="Referat 2025-4")
    step("evaluation")
    plan_act(services.plan_evaluate, actor=persona("fg-formand"), plan=plan, verdicts=[
        {"initiative": i, "decision": InitiativeEvaluation.Decision.CLOSE, "reason": "Nået."}
        for i in plan.initiatives.all()])

    assert fresh(plan).state == State.EVALUATED
    assert list(open_plan_tasks(plan=plan)) == []
    process = AnnualPlanProcess.objects.get(plan=plan)
    assert process.status == STATUS.DONE
    done = Task.objects.filter(process=process)
    assert {task.flow_task.name for task in done} == {
        node.name for node in AnnualPlanFlow.instance.nodes()}
    assert all(task.status == STATUS.DONE for task in done)
    assert visited.count("draft") == 4  # the first draft and one after each return
    assert {"review", "committee", "board", "presentation", "evaluation"} <= set(visited)


def test_the_published_demo_plan_waits_for_the_presentation_with_the_secretary(persona):
    task = the_open_task(plan_for(2026), persona)
    assert task.flow_task.name == "presentation"


def test_the_flow_publishes_the_plan_as_soon_as_the_board_approves(persona):
    plan = draft_in_review(persona)
    close_review(plan, persona)
    sign(plan, "du-formand", persona)
    sign(plan, "ob-formand", persona)
    plan = fresh(plan)
    assert plan.state == State.PUBLISHED
    publication = plan.transitions.get(to_state=State.PUBLISHED)
    assert publication.actor is None
    assert the_open_task(plan, persona).flow_task.name == "presentation"


def test_the_vice_chair_who_signs_for_the_chair_completes_the_chairs_task(persona):
    plan = draft_in_review(persona)
    close_review(plan, persona)
    committee = Body.objects.get(organisation=plan.organisation,
                                 kind=Body.Kind.OPERATIONS_COMMITTEE)
    vice = Membership.objects.current_on(TODAY).get(body=committee, role="vice_chair").person
    governance_services.signing_authorisation_grant(
        actor=persona("du-formand"), body=committee, vice_chair=vice, starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=14))
    task = the_open_task(plan, persona)
    plan_act(services.plan_sign, actor=vice, plan=plan, decision=Decision.APPROVE,
             comment="For formanden.", password=DEMO_PASSWORD)
    task = Task.objects.get(pk=task.pk)
    assert (task.status, task.owner) == (STATUS.DONE, vice)
    assert the_open_task(plan, persona).flow_task.name == "board"


def test_next_years_draft_made_by_the_evaluation_is_routed_to_the_secretary(persona):
    sekretaer = persona("sekretaer")
    plan = plan_create_and_route(actor=sekretaer, organisation=organisation(), year=2024,
                                 title="Årsplan 2024")
    for theme in plan.programme.themes.all():
        services.initiative_create(actor=sekretaer, plan=plan, theme=theme,
                                   title=f"Indsats {theme.number}")
    submit(plan, persona)
    close_review(plan, persona)
    sign(plan, "du-formand", persona)
    sign(plan, "ob-formand", persona)
    plan_act(services.plan_register_presentation, actor=sekretaer, plan=plan,
             presented_on=TODAY, minutes_reference="Referat")
    verdicts = [{"initiative": i, "decision": InitiativeEvaluation.Decision.CONTINUE,
                 "reason": "Fortsætter."} for i in plan.initiatives.all()]
    next_plan = plan_act(services.plan_evaluate, actor=persona("fg-formand"), plan=plan,
                         verdicts=verdicts)
    assert (next_plan.year, next_plan.state) == (2025, State.DRAFT)
    assert the_open_task(next_plan, persona).flow_task.name == "draft"


def test_organisation_wide_secretary_gets_the_draft_before_an_area_secretary(persona):
    area = OperationsArea.objects.get(organisation=organisation(), number=1)
    other = governance_services.person_create(actor=None, username="omraadesekretaer",
                                              first_name="Åse", last_name="Ørum")
    governance_services.staff_assignment_start(
        actor=None, person=other, organisation=organisation(), operations_area=area,
        role="operations_secretary", starts_on=datetime.date(2020, 1, 1))
    plan = plan_create_and_route(actor=persona("sekretaer"), organisation=organisation(),
                                 year=2025, title="Årsplan 2025")
    assert the_open_task(plan, persona).owner == persona("sekretaer")


def test_a_lost_flow_lock_is_a_conflict_and_saves_nothing(persona, monkeypatch):
    plan = draft_in_review(persona)

    def locked(**kwargs):
        raise FlowLockFailed("Lock failed for AnnualPlanFlow")

    monkeypatch.setattr(workflow_services, "sync_plan_tasks", locked)
    with pytest.raises(Conflict) as error:
        close_review(plan, persona)
    assert error.value.current_state == State.FOLLOW_UP_GROUP_REVIEW
    assert "review by the follow-up group" in str(error.value)
    plan = fresh(plan)
    assert plan.state == State.FOLLOW_UP_GROUP_REVIEW
    assert plan.follow_up_group_recommendation == ""


# --- election day: open work follows the mandate --------------------------------------------

def _follow_up_group_chair_membership(persona) -> Membership:
    return Membership.objects.get(person=persona("fg-formand"), role="chair",
                                  body__kind=Body.Kind.FOLLOW_UP_GROUP,
                                  body__organisation__slug=DEMO_SLUG)


def _new_person():
    return governance_services.person_create(actor=None, username="ny-formand",
                                             first_name="Nanna", last_name="Bøgh",
                                             password=DEMO_PASSWORD)


def test_open_review_moves_to_the_new_chair_on_election_day(
        persona, django_capture_on_commit_callbacks):
    plan = draft_in_review(persona)
    task = the_open_task(plan, persona)
    old = _follow_up_group_chair_membership(persona)
    new_chair = _new_person()
    with django_capture_on_commit_callbacks(execute=True):
        governance_services.membership_end(actor=None, membership=old,
                                           ends_on=TODAY - datetime.timedelta(days=1))
        governance_services.membership_start(actor=None, person=new_chair, body=old.body,
                                             role="chair", starts_on=TODAY)

    task = Task.objects.get(pk=task.pk)
    assert task.owner == new_chair
    assert the_open_task(plan, persona, holder="ny-formand") == task
    entry = AuditEntry.objects.get(action="task.reroute", object_id=str(task.pk))
    assert entry.summary["from"] == persona("fg-formand").pk
    assert entry.summary["to"] == new_chair.pk

    close_review(plan, persona, chair="ny-formand")
    assert fresh(plan).state == State.OPERATIONS_COMMITTEE
    assert Task.objects.get(pk=task.pk).status == STATUS.DONE


def test_open_review_moves_when_the_term_ends_by_date_and_the_nightly_command_runs(
        persona, django_capture_on_commit_callbacks):
    plan = draft_in_review(persona)
    task = the_open_task(plan, persona)
    old = _follow_up_group_chair_membership(persona)
    new_chair = _new_person()
    with django_capture_on_commit_callbacks(execute=True):
        governance_services.membership_end(actor=None, membership=old,
                                           ends_on=datetime.date(2026, 3, 31))
        governance_services.membership_start(actor=None, person=new_chair, body=old.body,
                                             role="chair", starts_on=datetime.date(2026, 4, 1))
    assert Task.objects.get(pk=task.pk).owner == persona("fg-formand")  # still her term
    assert not AuditEntry.objects.filter(action="task.reroute").exists()

    with frozen_on(datetime.date(2026, 4, 1), hour=2):
        out = io.StringIO()
        call_command("reroute_tasks", stdout=out)
        assert "1 task(s) moved" in out.getvalue()
        assert Task.objects.get(pk=task.pk).owner == new_chair
        assert AuditEntry.objects.filter(action="task.reroute",
                                         object_id=str(task.pk)).count() == 1
        call_command("reroute_tasks", stdout=io.StringIO())  # nothing more to move
        assert AuditEntry.objects.filter(action="task.reroute").count() == 1
