"""The landing page as a task inbox, the task page, the bulk actions, saved filters and the
delegation page.

In the demo (time frozen on Monday 02.03.2026 before it loads) driftschef owns area 1's
follow-up tasks (two "prepare" tasks for the H2 cases of departments 1 and 2, a "close" task
for department 2's presented H1 case), serviceleder sits in the same candidate groups, and
sekretaer owns the plan tasks (the 2026 presentation, the 2027 draft). ab-formand gets the
"acknowledge" task once staff mark department 1's H2 case ready for the board. Pages are
requested in English; the tests go by ids, test ids and the database where they can.
"""

import datetime
import re

import pytest
from django.urls import reverse
from viewflow.workflow.models import Task

from audit.models import AuditEntry
from cycles import services as cycle_services
from cycles.models import AnnualPlan, FollowUp, FollowUpRemark, SignOff
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG, PERSONAS
from governance.models import Department
from tests.clock import frozen_before_demo, frozen_on
from tests.pages import as_, english_pages, html
from workflows import selectors
from workflows import services as workflow_services
from workflows.models import Delegation, SavedTaskFilter, TaskComment, TaskMandate
from workflows.services import OPEN_STATUSES, follow_up_act, open_follow_up_tasks, plan_act

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
HOME = "/"


_frozen_today = frozen_before_demo(TODAY)


_english = english_pages()


# --- helpers ------------------------------------------------------------------------------

def listed(response) -> list[int]:
    """The ids of the tasks in the inbox table, in order."""
    return [int(pk) for pk in re.findall(r'<tr class="task-row" data-task="(\d+)"',
                                         html(response))]


def case_of(number: int, half: str = FollowUp.Half.H2) -> FollowUp:
    return FollowUp.objects.select_related("department").get(
        plan__organisation__slug=DEMO_SLUG, plan__year=2026, department__number=number,
        half=half)


def open_task(follow_up: FollowUp) -> Task:
    tasks = list(open_follow_up_tasks(follow_up=follow_up))
    assert len(tasks) == 1
    return tasks[0]


def ready_for_board(follow_up: FollowUp, actor) -> FollowUp:
    remarks = [{"initiative": r.initiative, "status": FollowUpRemark.Status.ONGOING,
                "progress": 50, "text": "I gang."}
               for r in follow_up.remarks.select_related("initiative")]
    follow_up_act(cycle_services.follow_up_save, actor=actor, follow_up=follow_up,
                  summary="Status.", remarks=remarks)
    follow_up_act(cycle_services.follow_up_mark_ready, actor=actor, follow_up=follow_up)
    return FollowUp.objects.get(pk=follow_up.pk)


def publish_2027(persona) -> AnnualPlan:
    """Walk the demo's 2027 draft to publication: its rollout and follow-ups (and their
    tasks) are made."""
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    secretary = persona("sekretaer")
    covered = set(plan.initiatives.values_list("theme__number", flat=True))
    for theme in plan.programme.themes.exclude(number__in=covered):
        cycle_services.theme_justification_set(actor=secretary, plan=plan, theme=theme,
                                               text="Ikke i år.")
    plan_act(cycle_services.plan_submit, actor=secretary, plan=plan)
    plan_act(cycle_services.plan_close_review, actor=persona("fg-formand"), plan=plan,
             recommendation="Anbefales.")
    for chair in ("du-formand", "ob-formand"):
        plan_act(cycle_services.plan_sign, actor=persona(chair), plan=plan,
                 decision=SignOff.Decision.APPROVE, comment="Godkendt.",
                 password=DEMO_PASSWORD)
    plan = AnnualPlan.objects.get(pk=plan.pk)
    assert plan.state == AnnualPlan.State.PUBLISHED
    return plan


def url(name: str, *args) -> str:
    return reverse(f"workflows:{name}", args=args)


def owner_of(task: Task):
    return Task.objects.select_related("owner").get(pk=task.pk).owner


# --- the landing page per persona ---------------------------------------------------------

@pytest.fixture
def acknowledge_waiting(persona) -> Task:
    """Department 1's H2 case is ready for the board: ab-formand's acknowledge task."""
    task = open_task(ready_for_board(case_of(1), persona("driftschef")))
    assert task.flow_task.name == "acknowledge" and task.owner == persona("ab-formand")
    return task


@pytest.mark.parametrize("username", [p.username for p in PERSONAS])
def test_each_persona_sees_exactly_the_open_tasks_they_own(client, persona, username,
                                                           acknowledge_waiting):
    person = persona(username)
    response = as_(client, persona, username).get(HOME)
    assert response.status_code == 200
    shown = listed(response)
    assert shown == [task.pk for task in selectors.inbox(user=person, view="mine")]
    owned = set(Task.objects.filter(owner=person, status__in=OPEN_STATUSES,
                                    mandate__isnull=False).values_list("pk", flat=True))
    assert set(shown) == owned
    mine_tab = re.search(r'data-testid="tab-mine">[^<]*<span class="count">\((\d+)\)',
                         html(response))
    assert int(mine_tab.group(1)) == len(owned)
    if not owned:
        assert "Nothing is waiting for you." in html(response)


def test_the_landing_page_says_what_each_task_is_for_and_by_when(client, persona,
                                                                 acknowledge_waiting):
    response = as_(client, persona, "ab-formand").get(HOME)
    page = html(response)
    case = case_of(1)
    row = page[page.index(f'data-task="{acknowledge_waiting.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Acknowledge the follow-up presented to the board" in row
    assert f'href="{reverse("cycles:follow_up_detail", args=[case.pk])}"' in row
    assert f'href="{url("task_detail", acknowledge_waiting.pk)}#comments"' in row
    assert "Chair of " in row or "chair of " in row  # the mandate
    assert "15.12.2026" in row  # the case's due date, dd.mm.yyyy
    assert 'data-testid="overdue"' not in row
    assert "Normal" in row
    # The roles section stays below the inbox.
    assert page.index('id="tasks-heading"') < page.index('id="roles-heading"')


def test_an_overdue_task_says_so_in_words(client, persona):
    day = datetime.date(2026, 12, 2)  # the H2 prepare tasks were due 01.12.2026
    with frozen_on(day):
        response = as_(client, persona, "driftschef").get(HOME + "?ready=overdue")
    overdue = set(Task.objects.filter(owner=persona("driftschef"), status__in=OPEN_STATUSES,
                                      mandate__due_on__lt=day).values_list("pk", flat=True))
    assert open_task(case_of(1)).pk in overdue
    assert set(listed(response)) == overdue
    assert html(response).count(
        '<strong class="badge badge-overdue" data-testid="overdue">overdue</strong>'
    ) == len(overdue)


def test_an_empty_inbox_points_to_the_groups_queue(client, persona):
    serviceleder = persona("serviceleder")
    page = html(as_(client, persona, "serviceleder").get(HOME))
    assert 'data-testid="queue-hint"' not in page
    workflow_services.task_release(actor=persona("driftschef"), task=open_task(case_of(1)))
    assert selectors.inbox(user=serviceleder, view="mine").count() == 0
    page = html(as_(client, persona, "serviceleder").get(HOME))
    assert 'data-testid="queue-hint"' in page
    assert 'href="/?view=group"' in page


def test_views_filters_and_sort_are_a_shareable_url(client, persona):
    driftschef = persona("driftschef")
    client = as_(client, persona, "driftschef")
    department = Department.objects.get(organisation__slug=DEMO_SLUG, number=2)
    query = f"?department={department.pk}&sort=-due&step=prepare"
    response = client.get(HOME + query)
    expected = [t.pk for t in selectors.inbox(
        user=driftschef, filters={"department": department.pk, "step": "prepare"},
        sort="-due")]
    assert listed(response) == expected == [open_task(case_of(2)).pk]
    # The tabs keep the filters; the filter form keeps the current view.
    assert f'href="/?department={department.pk}&amp;sort=-due&amp;step=prepare&amp;' \
        'view=group"' in html(response)
    due = dict(TaskMandate.objects.values_list("task_id", "due_on"))
    by_due = [due[pk] for pk in listed(client.get(HOME + "?sort=due"))]
    assert by_due == sorted(by_due) and len(set(by_due)) > 1
    assert [due[pk] for pk in listed(client.get(HOME + "?sort=-due"))] == by_due[::-1]
    assert listed(client.get(HOME + "?due_from=01.07.2026&due_to=31.07.2026")) == [
        open_task(case_of(2, FollowUp.Half.H1)).pk]


@pytest.mark.parametrize("query", ["?view=nobody", "?sort=owner", "?due_from=2026-12-01",
                                   "?department=999999", "?due_from=02.12.2026&due_to=01.12.2026"])
def test_bad_filters_are_a_400_page_with_the_errors(client, persona, query):
    response = as_(client, persona, "driftschef").get(HOME + query)
    assert response.status_code == 400
    assert 'role="alert"' in html(response)
    assert response.context["form"].errors


def test_the_inbox_pages_its_tasks(client, persona, monkeypatch):
    from workflows import views

    assert views.PAGE_SIZE == 25
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = as_(client, persona, "driftschef")
    everything = [t.pk for t in selectors.inbox(user=persona("driftschef"))]
    assert len(everything) == 3
    first = client.get(HOME + "?sort=-due")
    assert 'rel="next"' in html(first)
    assert 'href="/?sort=-due&amp;page=2"' in html(first)  # the filters stay
    second = client.get(HOME + "?sort=-due&page=2")
    assert listed(first) + listed(second) == [
        t.pk for t in selectors.inbox(user=persona("driftschef"), sort="-due")]


# --- claim and release --------------------------------------------------------------------

def test_a_released_task_is_claimed_from_the_group_view(client, persona):
    task = open_task(case_of(1))
    client = as_(client, persona, "driftschef")
    response = client.post(url("task_release", task.pk), {"next": "/?view=mine&sort=-due"})
    assert response.status_code == 302 and response.url == "/?view=mine&sort=-due"
    assert owner_of(task) is None
    assert task.pk not in listed(client.get(HOME))

    client = as_(client, persona, "serviceleder")
    response = client.get(HOME + "?view=group")
    assert task.pk in listed(response)
    assert f'action="{url("task_claim", task.pk)}"' in html(response)
    response = client.post(url("task_claim", task.pk), {"next": "/?view=group"}, follow=True)
    assert response.redirect_chain == [("/?view=group", 302)]
    assert "You claimed the task" in html(response)
    assert owner_of(task) == persona("serviceleder")
    assert task.pk in listed(client.get(HOME))
    assert list(AuditEntry.objects.filter(action__startswith="task.").order_by("pk")
                .values_list("action", "actor__username")) == [
        ("task.release", "driftschef"), ("task.claim", "serviceleder")]


def test_losing_a_claim_race_is_a_409_naming_who_claimed_it(client, persona):
    task = open_task(case_of(1))
    workflow_services.task_release(actor=persona("driftschef"), task=task)
    # driftschef's page still shows the task in the queue; serviceleder claims it first.
    workflow_services.task_claim(actor=persona("serviceleder"), task=task)
    response = as_(client, persona, "driftschef").post(
        url("task_claim", task.pk), {"next": "/?view=group"})
    assert response.status_code == 409
    assert "Lone Brandt has already claimed this task." in response.context["error"]
    assert 'role="alert"' in html(response)
    assert response.context["view"] == "group"  # the page it came from, again
    assert owner_of(task) == persona("serviceleder")


def test_only_the_owner_releases_and_only_the_group_claims(client, persona):
    task = open_task(case_of(1))
    # serviceleder sees the task (same candidate groups) but does not own it.
    assert as_(client, persona, "serviceleder").post(
        url("task_release", task.pk)).status_code == 403
    assert owner_of(task) == persona("driftschef")


@pytest.mark.parametrize("name", ["task_detail", "task_claim", "task_release", "task_snooze",
                                  "task_comment", "task_reassign"])
def test_another_persons_task_is_404(client, persona, name):
    task = open_task(case_of(1))
    client = as_(client, persona, "ab-anden")
    response = client.get(url(name, task.pk)) if name == "task_detail" else client.post(
        url(name, task.pk), {f"snooze-{task.pk}-until": "01.04.2026", "text": "Hej"})
    assert response.status_code == 404
    assert owner_of(task) == persona("driftschef")
    assert not TaskComment.objects.exists()


def test_next_must_be_a_local_url(client, persona):
    task = open_task(case_of(1))
    response = as_(client, persona, "driftschef").post(
        url("task_release", task.pk), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == HOME


# --- snooze -------------------------------------------------------------------------------

def test_a_snoozed_task_waits_under_snoozed_and_wakes_on_request(client, persona):
    task = open_task(case_of(1))
    client = as_(client, persona, "driftschef")
    field = f"snooze-{task.pk}-until"
    response = client.post(url("task_snooze", task.pk), {field: "09.03.2026", "next": HOME})
    assert response.status_code == 302
    assert TaskMandate.objects.get(task=task).follow_up_on == datetime.date(2026, 3, 9)
    assert task.pk not in listed(client.get(HOME))
    response = client.get(HOME + "?view=snoozed")
    assert listed(response) == [task.pk]
    assert "snoozed until 09.03.2026" in html(response)
    response = client.post(url("task_snooze", task.pk),
                           {f"snooze-{task.pk}-wake": "1", "next": "/?view=snoozed"})
    assert response.status_code == 302 and response.url == "/?view=snoozed"
    assert TaskMandate.objects.get(task=task).follow_up_on is None
    assert task.pk in listed(client.get(HOME))


@pytest.mark.parametrize("value", ["", "02.03.2026", "1. april", "2026-04-01"])
def test_a_bad_snooze_date_is_a_400_with_the_error_on_the_task_row(client, persona, value):
    task = open_task(case_of(1))
    response = as_(client, persona, "driftschef").post(
        url("task_snooze", task.pk), {f"snooze-{task.pk}-until": value, "next": HOME})
    assert response.status_code == 400
    page = html(response)
    assert f'id="id_snooze-{task.pk}-until_error"' in page  # on the task's row
    assert f'href="#id_snooze-{task.pk}-until"' in page  # the summary links to it
    assert TaskMandate.objects.get(task=task).follow_up_on is None


# --- the task page: comments and reassignment ---------------------------------------------

def test_the_task_page_shows_the_task_and_takes_comments(client, persona):
    task = open_task(case_of(1))
    client = as_(client, persona, "driftschef")
    response = client.get(url("task_detail", task.pk))
    page = html(response)
    assert response.status_code == 200
    assert "Prepare the department&#x27;s follow-up" in page
    assert f'href="{reverse("cycles:follow_up_detail", args=[case_of(1).pk])}"' in page
    assert "01.12.2026" in page
    assert 'data-testid="reassign-form"' not in page  # driftschef may not reassign

    response = client.post(url("task_comment", task.pk), {"text": "  "})
    assert response.status_code == 400
    assert response.context["comment_form"].errors["text"]
    response = client.post(url("task_comment", task.pk), {"text": "Målerne kommer i maj."})
    assert response.status_code == 302
    assert response.url == url("task_detail", task.pk) + "#comments"
    response = as_(client, persona, "serviceleder").get(url("task_detail", task.pk))
    assert "Målerne kommer i maj." in html(response)
    assert AuditEntry.objects.filter(action="task.comment").count() == 1


def test_the_secretary_reassigns_to_a_member_of_the_tasks_groups(client, persona):
    task = open_task(case_of(1))
    client = as_(client, persona, "sekretaer")
    response = client.get(url("task_detail", task.pk))
    form = response.context["reassign_form"]
    choices = {person.username for person in form.fields["to"].queryset}
    assert {"driftschef", "serviceleder"} <= choices and "ab-medlem" not in choices

    response = client.post(url("task_reassign", task.pk), {"to": persona("ab-medlem").pk})
    assert response.status_code == 400
    assert response.context["reassign_form"].errors["to"]
    assert owner_of(task) == persona("driftschef")

    response = client.post(url("task_reassign", task.pk), {"to": persona("serviceleder").pk})
    assert response.status_code == 302
    assert owner_of(task) == persona("serviceleder")
    assert AuditEntry.objects.get(action="task.reassign").actor == persona("sekretaer")


def test_staff_without_the_mandate_cannot_reassign(client, persona):
    task = open_task(case_of(1))
    response = as_(client, persona, "driftschef").post(
        url("task_reassign", task.pk), {"to": persona("serviceleder").pk})
    assert response.status_code == 403
    assert owner_of(task) == persona("driftschef")


# --- bulk ---------------------------------------------------------------------------------

def test_bulk_release_gives_each_task_back_with_its_own_log_entry(client, persona):
    tasks = [open_task(case_of(1)), open_task(case_of(2))]
    client = as_(client, persona, "driftschef")
    page = html(client.get(HOME))
    assert 'id="bulk-form"' in page and 'form="bulk-form"' in page
    response = client.post(url("task_bulk"), {
        "tasks": [t.pk for t in tasks], "action": "release", "next": HOME})
    assert response.status_code == 302
    assert [owner_of(t) for t in tasks] == [None, None]
    entries = AuditEntry.objects.filter(action="task.release")
    assert sorted(entries.values_list("object_id", flat=True)) == sorted(
        str(t.pk) for t in tasks)
    assert {entry.actor.username for entry in entries} == {"driftschef"}


def test_bulk_snooze_snoozes_every_selected_task(client, persona):
    tasks = [open_task(case_of(1)), open_task(case_of(2))]
    client = as_(client, persona, "driftschef")
    response = client.post(url("task_bulk"), {
        "tasks": [t.pk for t in tasks], "action": "snooze", "until": "16.03.2026",
        "next": HOME})
    assert response.status_code == 302
    assert set(listed(client.get(HOME + "?view=snoozed"))) == {t.pk for t in tasks}


@pytest.mark.parametrize("data", [
    {"action": "release"},  # no task
    {"tasks": ["x"], "action": "release"},
    {"tasks": ["{task}"], "action": "snooze"},  # no date
    {"tasks": ["{task}"], "action": "snooze", "until": "02.03.2026"},  # not after today
    {"tasks": ["{task}"]},  # no action
])
def test_a_bad_bulk_request_is_a_400_and_changes_nothing(client, persona, data):
    task = open_task(case_of(1))
    data = {key: [v.format(task=task.pk) for v in value] if isinstance(value, list) else value
            for key, value in data.items()}
    response = as_(client, persona, "driftschef").post(url("task_bulk"), data)
    assert response.status_code == 400
    assert 'role="alert"' in html(response)
    assert owner_of(task) == persona("driftschef")
    assert TaskMandate.objects.get(task=task).follow_up_on is None


def test_a_bulk_action_is_all_or_nothing(client, persona):
    mine = open_task(case_of(1))
    workflow_services.task_release(actor=persona("driftschef"), task=mine)
    workflow_services.task_claim(actor=persona("serviceleder"), task=mine)
    theirs = open_task(case_of(2))  # driftschef's, visible to serviceleder
    response = as_(client, persona, "serviceleder").post(url("task_bulk"), {
        "tasks": [mine.pk, theirs.pk], "action": "release"})
    assert response.status_code == 403
    assert owner_of(mine) == persona("serviceleder")
    assert owner_of(theirs) == persona("driftschef")


# --- saved filters ------------------------------------------------------------------------

def test_saved_filter_walk(client, persona):
    department = Department.objects.get(organisation__slug=DEMO_SLUG, number=1)
    client = as_(client, persona, "driftschef")
    response = client.post(url("saved_filter_save"), {
        "name": "Pilhuset", "next": HOME,
        "query": f"department={department.pk}&page=3&evil=<script>&sort=-due"})
    saved = SavedTaskFilter.objects.get(person=persona("driftschef"))
    assert saved.query == f"department={department.pk}&sort=-due"
    assert response.status_code == 302 and response.url == f"/?{saved.query}"
    page = html(client.get(HOME))
    assert f'href="/?department={department.pk}&amp;sort=-due"' in page
    assert listed(client.get(f"/?{saved.query}")) == [open_task(case_of(1)).pk]

    # The same name replaces the filter; an empty name is a 400.
    client.post(url("saved_filter_save"), {"name": "Pilhuset", "query": "view=snoozed"})
    assert SavedTaskFilter.objects.get(person=persona("driftschef")).query == "view=snoozed"
    response = client.post(url("saved_filter_save"), {"name": "", "query": "view=done"})
    assert response.status_code == 400
    assert response.context["saved_filter_form"].errors["name"]

    # Nobody else can delete it.
    assert as_(client, persona, "serviceleder").post(
        url("saved_filter_delete", saved.pk)).status_code == 404
    response = as_(client, persona, "driftschef").post(url("saved_filter_delete", saved.pk),
                                                       {"next": "/?view=group"})
    assert response.status_code == 302 and response.url == "/?view=group"
    assert not SavedTaskFilter.objects.exists()


# --- delegation ---------------------------------------------------------------------------

def test_delegation_walk_moves_the_task_and_cancelling_moves_it_back(client, persona,
                                                                     acknowledge_waiting):
    task = acknowledge_waiting
    chair, substitute = persona("ab-formand"), persona("ab-medlem")
    client = as_(client, persona, "ab-formand")
    response = client.get(url("delegation_list"))
    assert response.status_code == 200
    assert substitute in response.context["form"].fields["substitute"].queryset
    assert chair not in response.context["form"].fields["substitute"].queryset
    organisation = chair.memberships.first().body.organisation_id

    response = client.post(url("delegation_list"), {
        "organisation": organisation, "substitute": substitute.pk, "starts_on": "02.03.2026",
        "ends_on": "08.03.2026", "reason": "Ferie"})
    assert response.status_code == 302 and response.url == url("delegation_list")
    delegation = Delegation.objects.get(person=chair)
    assert (delegation.substitute, delegation.starts_on, delegation.ends_on) == (
        substitute, TODAY, datetime.date(2026, 3, 8))
    assert owner_of(task) == substitute
    page = html(client.get(url("delegation_list")))
    assert "Sofie Lykke" in page and "02.03.2026 – 08.03.2026" in page
    assert task.pk not in listed(client.get(HOME))

    client = as_(client, persona, "ab-medlem")
    response = client.get(HOME + "?view=delegated")
    assert listed(response) == [task.pk]
    assert "on behalf of Jonas Friis" in html(response)
    assert task.pk in listed(client.get(HOME))
    assert "Jonas Friis" in html(client.get(url("delegation_list")))  # you stand in for
    # The substitute sees it (the list above) but cannot cancel it.
    assert client.post(url("delegation_cancel", delegation.pk)).status_code == 403

    client = as_(client, persona, "ab-formand")
    response = client.post(url("delegation_cancel", delegation.pk))
    assert response.status_code == 302
    assert Delegation.objects.get(pk=delegation.pk).cancelled_at is not None
    assert owner_of(task) == chair
    assert task.pk in listed(client.get(HOME))


@pytest.mark.parametrize("data, field", [
    ({"starts_on": "08.03.2026", "ends_on": "02.03.2026"}, "ends_on"),
    ({"starts_on": "2026-03-02"}, "starts_on"),
    ({"substitute": ""}, "substitute"),
])
def test_a_bad_delegation_is_a_400_with_field_errors(client, persona, data, field):
    chair = persona("ab-formand")
    post = {"organisation": chair.memberships.first().body.organisation_id,
            "substitute": persona("ab-medlem").pk, "starts_on": "02.03.2026",
            "ends_on": "08.03.2026", **data}
    response = as_(client, persona, "ab-formand").post(url("delegation_list"), post)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert f'href="#id_{field}"' in html(response)
    assert not Delegation.objects.exists()


# --- query counts -------------------------------------------------------------------------

# 1 session, 2 user, 3-6 the filter choices (organisations, bodies, departments with their
# areas, plan years), 7 the counts of my views, 8 the count of my groups' queue, 9 the count
# of tasks escalated to me, 10 the paginator's count, 11 the page of tasks (with mandate,
# plan, case, department, owner), 12 saved filters, 13-14 my roles (memberships, staff
# assignments).
HOME_QUERIES = 14


@pytest.mark.parametrize("username, query", [("driftschef", ""), ("sekretaer", ""),
                                             ("serviceleder", "?view=group")])
def test_the_landing_page_runs_the_same_queries_at_two_sizes(
        client, persona, django_assert_num_queries, username, query):
    driftschef = persona("driftschef")
    workflow_services.task_release(actor=driftschef, task=open_task(case_of(1)))
    client = as_(client, persona, username)
    client.get(HOME + query)  # warm the session (the menu's answers are kept there)
    with django_assert_num_queries(HOME_QUERIES):
        before = listed(client.get(HOME + query))
    tasks_before = Task.objects.count()
    publish_2027(persona)  # 2027's follow-up tasks for area 1, its presentation task
    workflow_services.task_release(actor=driftschef, task=open_task(case_of(2)))
    assert Task.objects.count() > tasks_before
    client = as_(client, persona, username)
    client.get(HOME + query)
    with django_assert_num_queries(HOME_QUERIES):
        after = listed(client.get(HOME + query))
    assert before and after and after != before


def test_the_inbox_exports_the_current_view_as_csv_and_xlsx(client, persona):
    import csv
    import io

    from openpyxl import load_workbook

    from workflows.selectors import inbox

    driftschef = persona("driftschef")
    client.force_login(driftschef)
    expected = list(inbox(user=driftschef, view="mine"))
    assert expected
    response = client.get(HOME + "?view=mine&export=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + len(expected)
    assert [row[2] for row in rows[1:]] == [str(task.mandate.label) for task in expected]
    response = client.get(HOME + "?view=mine&export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 + len(expected)
    assert sheet.cell(row=2, column=5).number_format == "dd.mm.yyyy"
    assert client.get(HOME + "?export=pdf").status_code == 400
    # Only the user's own tasks: ab-anden's export has none of driftschef's.
    client.force_login(persona("ab-anden"))
    rows = list(csv.reader(io.StringIO(
        client.get(HOME + "?export=csv").content.decode("utf-8-sig")), delimiter=";"))
    assert all(row[8] != driftschef.get_full_name() for row in rows[1:])
