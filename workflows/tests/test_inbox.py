"""The task companion (deadline, priority, snooze, queue, delegation) and the inbox views."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import translation
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import services
from cycles.models import AnnualPlan, FollowUp, FollowUpRemark, FollowUpTransition, MeetingKind
from fixtures.demo import DEMO_SLUG
from governance.models import Department
from permissions.matrix import Action
from permissions.selectors import can_in_department
from tests.clock import frozen_on
from workflows import selectors
from workflows import services as workflow_services
from workflows.models import Delegation, TaskMandate
from workflows.services import follow_up_act, open_follow_up_tasks

TODAY = datetime.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen_today():
    with frozen_on(TODAY):
        yield


def case_of(number: int, half: str) -> FollowUp:
    return FollowUp.objects.select_related("department").get(
        plan__organisation__slug=DEMO_SLUG, plan__year=2026, department__number=number,
        half=half)


def open_task(follow_up: FollowUp):
    tasks = list(open_follow_up_tasks(follow_up=follow_up))
    assert len(tasks) == 1
    return tasks[0]


def ready_for_board(follow_up: FollowUp, actor) -> FollowUp:
    remarks = [{"initiative": r.initiative, "status": FollowUpRemark.Status.ONGOING,
                "progress": 50, "text": "I gang."}
               for r in follow_up.remarks.select_related("initiative")]
    follow_up_act(services.follow_up_save, actor=actor, follow_up=follow_up,
                  summary="Status.", remarks=remarks)
    follow_up_act(services.follow_up_mark_ready, actor=actor, follow_up=follow_up)
    return FollowUp.objects.get(pk=follow_up.pk)


# --- the companion ------------------------------------------------------------------------

def test_follow_up_tasks_carry_deadlines_around_the_case_and_a_priority(persona):
    case = case_of(1, "H2")
    assert case.due_on == datetime.date(2026, 12, 15)
    prepare = TaskMandate.objects.get(task=open_task(case))
    # 10 business days before Tuesday 15.12.2026.
    assert (prepare.due_on, prepare.priority) == (datetime.date(2026, 12, 1),
                                                  TaskMandate.Priority.NORMAL)
    ready_for_board(case, persona("driftschef"))
    acknowledge = TaskMandate.objects.get(task=open_task(case))
    assert acknowledge.due_on == datetime.date(2026, 12, 15)


def test_plan_sign_off_tasks_are_high_priority_and_the_draft_is_due_before_the_groups_meeting(
        persona):
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    draft = TaskMandate.objects.get(plan=plan, task__status__in=workflow_services.OPEN_STATUSES)
    # The follow-up group meets on the 2027 plan on 14.12.2026 (demo); the draft is due 10
    # business days before.
    assert (draft.priority, draft.due_on) == (TaskMandate.Priority.NORMAL,
                                              datetime.date(2026, 11, 30))
    assert workflow_services.HIGH_PRIORITY_NODES == {"committee", "board"}


def test_candidate_groups_are_the_mandate_groups_that_may_do_the_step(persona):
    case = case_of(1, "H2")
    mandate = TaskMandate.objects.get(task=open_task(case))
    members = {p.username for g in mandate.candidate_groups.all() for p in g.user_set.all()}
    assert {"driftschef", "serviceleder"} <= members
    assert "ab-formand" not in members and "sekretaer" not in members
    for group in mandate.candidate_groups.select_related("mandate"):
        assert group.mandate.role in ("operations_manager", "service_manager")


# --- queue: release, claim, reassign --------------------------------------------------------

def test_a_released_task_waits_in_the_queue_and_the_first_claim_wins(persona):
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    task = open_task(case_of(1, "H2"))
    assert task.owner == driftschef
    assert task not in selectors.inbox(user=serviceleder, view="group")

    workflow_services.task_release(actor=driftschef, task=task)
    task.refresh_from_db()
    assert (task.owner, task.status) == (None, STATUS.NEW)
    assert task in selectors.inbox(user=serviceleder, view="group")
    assert task in selectors.inbox(user=driftschef, view="group")
    assert task not in selectors.inbox(user=persona("ab-formand"), view="group")

    workflow_services.task_claim(actor=serviceleder, task=task)
    with pytest.raises(Conflict) as lost, translation.override("da"):
        workflow_services.task_claim(actor=driftschef, task=task)
    assert lost.value.message == "Lone Brandt har allerede taget denne opgave."  # Danish first
    task.refresh_from_db()
    assert task.owner == serviceleder
    assert task in selectors.inbox(user=serviceleder, view="mine")
    assert task not in selectors.inbox(user=driftschef, view="group")
    # A claimed task stays with whoever claimed it while they may do it.
    assert workflow_services.reroute_open_tasks() == []
    assert list(AuditEntry.objects.filter(action__in=("task.release", "task.claim"))
                .values_list("action", flat=True).order_by("pk")) == ["task.release",
                                                                       "task.claim"]


def test_only_group_members_claim_and_only_the_owner_releases(persona):
    task = open_task(case_of(1, "H2"))
    with pytest.raises(PermissionDenied):
        workflow_services.task_release(actor=persona("serviceleder"), task=task)
    workflow_services.task_release(actor=persona("driftschef"), task=task)
    with pytest.raises(PermissionDenied):
        workflow_services.task_claim(actor=persona("ab-anden"), task=task)


def test_the_secretary_reassigns_to_someone_who_may_do_the_step(persona):
    task = open_task(case_of(1, "H2"))
    with pytest.raises(ValidationError):
        workflow_services.task_reassign(actor=persona("sekretaer"), task=task,
                                        to=persona("ab-medlem"))
    with pytest.raises(PermissionDenied):
        workflow_services.task_reassign(actor=persona("ab-medlem"), task=task,
                                        to=persona("serviceleder"))
    workflow_services.task_reassign(actor=persona("sekretaer"), task=task,
                                    to=persona("serviceleder"))
    task.refresh_from_db()
    assert task.owner == persona("serviceleder")
    assert AuditEntry.objects.get(action="task.reassign").actor == persona("sekretaer")


# --- snooze and the ready-made views --------------------------------------------------------

def test_a_snoozed_task_leaves_my_tasks_until_its_day(persona):
    driftschef = persona("driftschef")
    task = open_task(case_of(1, "H2"))
    with pytest.raises(ValidationError):
        workflow_services.task_snooze(actor=driftschef, task=task, until=TODAY)
    workflow_services.task_snooze(actor=driftschef, task=task,
                                  until=TODAY + datetime.timedelta(days=3))
    assert task not in selectors.inbox(user=driftschef, view="mine")
    assert task in selectors.inbox(user=driftschef, view="snoozed")
    with frozen_on(TODAY + datetime.timedelta(days=3)):
        assert task in selectors.inbox(user=driftschef, view="mine")
        assert task not in selectors.inbox(user=driftschef, view="snoozed")


def test_overdue_today_and_week_views_follow_the_deadline(persona):
    driftschef = persona("driftschef")
    task = open_task(case_of(1, "H2"))  # prepare due 01.12.2026
    with frozen_on(datetime.date(2026, 12, 1)):
        assert task in selectors.inbox(user=driftschef, ready="today")
        assert task in selectors.inbox(user=driftschef, ready="week")
        assert task not in selectors.inbox(user=driftschef, ready="overdue")
        assert selectors.inbox_counts(user=driftschef)["today"] >= 1
    with frozen_on(datetime.date(2026, 12, 2)):
        assert task in selectors.inbox(user=driftschef, ready="overdue")
    with frozen_on(datetime.date(2026, 11, 20)):
        assert task not in selectors.inbox(user=driftschef, ready="week")


def test_filters_and_sorting(persona):
    driftschef = persona("driftschef")
    department = Department.objects.get(organisation__slug=DEMO_SLUG, number=1)
    tasks = list(selectors.inbox(user=driftschef, filters={"department": department.pk}))
    assert tasks and all(t.mandate.department_id == department.pk for t in tasks)
    prepared = list(selectors.inbox(user=driftschef, filters={"step": "prepare"}))
    assert prepared and all(t.flow_task.name == "prepare" for t in prepared)
    by_due = [t.mandate.due_on for t in selectors.inbox(user=driftschef, sort="due")]
    assert by_due == sorted(by_due, key=lambda d: (d is None, d))[:len(by_due)] or \
        by_due == sorted(d for d in by_due if d) + [None] * by_due.count(None)


@pytest.mark.parametrize("view", selectors.INBOX_VIEWS)
def test_each_inbox_view_is_one_query_at_two_sizes(persona, django_assert_num_queries, view):
    driftschef = persona("driftschef")
    list(selectors.inbox(user=driftschef, view=view))  # warm caches (content types)
    with django_assert_num_queries(1):
        small = len(list(selectors.inbox(user=driftschef, view=view)))
    for number in (1, 2):  # the data changes: two tasks move to the queue, two are done
        workflow_services.task_release(actor=driftschef, task=open_task(case_of(number, "H2")))
    with django_assert_num_queries(1):
        large = list(selectors.inbox(user=driftschef, view=view))
        seen = [(t.mandate.follow_up, t.mandate.due_on, t.owner, t.mandate.plan.organisation)
                for t in large]
    assert len(seen) == len(large)
    assert view != "group" or len(large) == small + 2


# --- delegation ---------------------------------------------------------------------------

def test_a_delegation_moves_open_tasks_to_the_substitute_and_back_when_it_ends(persona):
    chair, substitute = persona("ab-formand"), persona("ab-medlem")
    case = ready_for_board(case_of(1, "H2"), persona("driftschef"))
    task = open_task(case)
    assert task.owner == chair
    assert not can_in_department(user=substitute, action=Action.FOLLOW_UP_ACKNOWLEDGE,
                                 department=case.department)
    last_day = TODAY + datetime.timedelta(days=6)
    delegation = workflow_services.delegation_create(
        actor=chair, person=chair, substitute=substitute,
        organisation_id=case.department.organisation_id, starts_on=TODAY, ends_on=last_day,
        reason="Ferie")
    task.refresh_from_db()
    assert task.owner == substitute
    assert TaskMandate.objects.get(task=task).delegated_from == chair
    assert task in selectors.inbox(user=substitute, view="delegated")
    assert can_in_department(user=substitute, action=Action.FOLLOW_UP_ACKNOWLEDGE,
                             department=case.department)

    # New tasks in the period go to the substitute too.
    assert workflow_services.mandate_holder(
        organisation_id=case.department.organisation_id, node="acknowledge",
        route=workflow_services.Route("chair", "department_board", department=True),
        department=case.department) == substitute

    with frozen_on(last_day + datetime.timedelta(days=1), hour=2):
        assert not can_in_department(user=substitute, action=Action.FOLLOW_UP_ACKNOWLEDGE,
                                     department=case.department)
        call_command("reroute_tasks", stdout=io.StringIO())  # nightly: it ends by itself
        assert open_task(case).owner == chair
        assert TaskMandate.objects.get(task=open_task(case)).delegated_from is None
    assert Delegation.objects.get(pk=delegation.pk).cancelled_at is None


def test_the_substitute_acts_on_behalf_of_the_chair_in_the_log(persona):
    chair, substitute = persona("ab-formand"), persona("ab-medlem")
    case = ready_for_board(case_of(1, "H2"), persona("driftschef"))
    workflow_services.delegation_create(
        actor=chair, person=chair, substitute=substitute,
        organisation_id=case.department.organisation_id, starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=6))
    follow_up_act(services.follow_up_acknowledge, actor=substitute, follow_up=case,
                  presented_on=TODAY, meeting_kind=MeetingKind.BOARD_MEETING)
    entry = FollowUpTransition.objects.filter(follow_up=case).last()
    assert entry.actor == substitute
    # Written in the installation's language, like every log entry: the chair's mandate as a
    # substitute's, never a name (privacy) — whom they stood in for is an id in the audit entry.
    with translation.override("da"):
        substitute_mark = translation.gettext("%(mandate)s (substitute)") % {"mandate": ""}
    assert entry.acting_as.startswith(f"formand, {case.department.board.name}")
    assert entry.acting_as.endswith(substitute_mark.strip())
    assert chair.first_name not in entry.acting_as and chair.last_name not in entry.acting_as
    audit = AuditEntry.objects.filter(action="follow_up.acknowledge",
                                      object_id=str(case.pk)).get()
    assert (audit.acting_as, audit.summary["on_behalf_of"]) == (entry.acting_as, chair.pk)


def test_a_delegation_is_checked(persona):
    chair = persona("ab-formand")
    org_id = case_of(1, "H2").department.organisation_id
    with pytest.raises(ValidationError) as error:
        workflow_services.delegation_create(
            actor=chair, person=chair, substitute=persona("anden-org"), organisation_id=org_id,
            starts_on=TODAY, ends_on=TODAY - datetime.timedelta(days=1))
    assert set(error.value.message_dict) == {"substitute", "ends_on"}
    with pytest.raises(PermissionDenied):
        workflow_services.delegation_create(
            actor=persona("ab-medlem"), person=chair, substitute=persona("ab-medlem"),
            organisation_id=org_id, starts_on=TODAY, ends_on=TODAY)


def test_cancelling_a_delegation_moves_the_tasks_back_at_once(persona):
    chair, substitute = persona("ab-formand"), persona("ab-medlem")
    case = ready_for_board(case_of(1, "H2"), persona("driftschef"))
    delegation = workflow_services.delegation_create(
        actor=chair, person=chair, substitute=substitute,
        organisation_id=case.department.organisation_id, starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=6))
    assert open_task(case).owner == substitute
    workflow_services.delegation_cancel(actor=chair, delegation=delegation)
    assert open_task(case).owner == chair
    assert not substitute.groups.filter(mandate__body=case.department.board,
                                        mandate__role="chair").exists()
