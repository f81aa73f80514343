"""The task inbox API: the inbox views, the queue, snooze, comments and delegations, walked by
the demo personas, and every way a request fails.

At the demo's start (time frozen on Monday 02.03.2026 before it loads) driftschef (area 1's
operations manager) holds the "prepare" tasks of departments 1 and 2's second-half cases and the
"close" task of department 2's first-half case; serviceleder is in the same candidate groups but
holds nothing. sekretaer holds the 2026 plan's presentation task and the 2027 draft task.
ab-formand chairs department 1's board (so may reassign its tasks), ab-medlem sits on it,
ab-anden sits on department 3's board, anden-org belongs to another organisation.
"""

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import translation
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from cycles.models import FollowUp, FollowUpRemark
from cycles.services import follow_up_mark_ready, follow_up_save
from fixtures.demo import DEMO_SLUG, OTHER_SLUG
from governance.models import Organisation, StaffAssignment
from tests.clock import frozen_before_demo, frozen_on
from workflows import services as workflow_services
from workflows.models import Delegation, TaskMandate
from workflows.services import follow_up_act, open_follow_up_tasks

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
TASKS = "/api/v1/tasks/"
DELEGATIONS = "/api/v1/delegations/"


_frozen_today = frozen_before_demo(TODAY)


# --- helpers --------------------------------------------------------------------------------

def client_for(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def case_of(number: int, half: str = FollowUp.Half.H2) -> FollowUp:
    return FollowUp.objects.select_related("department").get(
        plan__organisation__slug=DEMO_SLUG, plan__year=2026, department__number=number,
        half=half)


def task_of(number: int, half: str = FollowUp.Half.H2) -> Task:
    """The open task of department ``number``'s follow-up case."""
    [task] = open_follow_up_tasks(follow_up=case_of(number, half))
    return task


def done_task_of(username: str) -> Task:
    return Task.objects.filter(owner__username=username, status=STATUS.DONE,
                               mandate__isnull=False).order_by("pk").first()


def task_url(task: Task, action: str = "") -> str:
    return f"{TASKS}{task.pk}/" + (f"{action}/" if action else "")


def post(client, address: str, data=None):
    return client.post(address, data or {}, format="json")


def fresh(task: Task) -> Task:
    return Task.objects.select_related("owner", "mandate").get(pk=task.pk)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def organisation() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def area_manager(number: int):
    return StaffAssignment.objects.select_related("person").get(
        organisation__slug=DEMO_SLUG, operations_area__number=number,
        role=StaffAssignment.Role.OPERATIONS_MANAGER).person


def ready_for_board(follow_up: FollowUp, actor) -> FollowUp:
    remarks = [{"initiative": remark.initiative, "status": FollowUpRemark.Status.ONGOING,
                "progress": 50, "text": "I gang."}
               for remark in follow_up.remarks.select_related("initiative")]
    follow_up_act(follow_up_save, actor=actor, follow_up=follow_up, summary="Status.",
                  remarks=remarks)
    follow_up_act(follow_up_mark_ready, actor=actor, follow_up=follow_up)
    return FollowUp.objects.get(pk=follow_up.pk)


# --- the inbox ------------------------------------------------------------------------------

def test_my_tasks_show_the_step_mandate_deadline_and_where_to_do_it(demo, persona):
    driftschef = persona("driftschef")
    response = client_for(driftschef).get(TASKS)
    expected = [task_of(1), task_of(2), task_of(2, FollowUp.Half.H1)]
    assert sorted(ids(response)) == sorted(task.pk for task in expected)
    row = next(r for r in response.json()["results"] if r["id"] == task_of(1).pk)
    case = case_of(1)
    assert row["step"] == "prepare" and row["step_label"]
    assert row["status"] == STATUS.ASSIGNED
    assert row["owner"] == {"id": driftschef.pk, "name": driftschef.get_full_name()}
    assert row["mandate"] == str(TaskMandate.objects.get(task_id=row["id"]).label)
    assert row["on_behalf_of"] is None
    assert (row["due_on"], row["priority"], row["follow_up_on"]) == ("2026-12-01", 2, None)
    assert row["plan"] == {"id": case.plan_id, "year": 2026}
    assert row["follow_up"] == {"id": case.pk}
    assert row["department"] == {"id": case.department_id, "number": 1,
                                 "name": case.department.name}
    assert row["links"]["html"] == f"http://testserver/follow-ups/{case.pk}/"
    assert row["links"]["self"] == f"http://testserver{TASKS}{row['id']}/"
    # Sorted by due date: the first half's close task (21.07.2026) before the prepare tasks.
    assert [r["due_on"] for r in response.json()["results"]] == [
        "2026-07-21", "2026-12-01", "2026-12-01"]


def test_plan_tasks_link_to_the_plan_and_have_no_department(demo, persona):
    rows = client_for(persona("sekretaer")).get(f"{TASKS}?year=2027").json()["results"]
    [row] = rows
    plan_id = row["plan"]["id"]
    assert (row["step"], row["plan"]["year"]) == ("draft", 2027)
    assert row["follow_up"] is None and row["department"] is None
    assert row["due_on"] == "2026-11-30"  # 10 business days before the group's meeting
    assert row["links"]["html"] == f"http://testserver/plans/{plan_id}/"


def test_each_view_answers_its_own_tasks(demo, persona):
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    mine, queue = client_for(driftschef), client_for(serviceleder)
    released, snoozed = task_of(1), task_of(2)
    workflow_services.task_release(actor=driftschef, task=released)
    workflow_services.task_snooze(actor=driftschef, task=snoozed,
                                  until=TODAY + datetime.timedelta(days=5))

    assert ids(mine.get(TASKS)) == [task_of(2, FollowUp.Half.H1).pk]
    assert ids(mine.get(f"{TASKS}?view=snoozed")) == [snoozed.pk]
    assert ids(queue.get(f"{TASKS}?view=group")) == [released.pk]
    assert ids(mine.get(f"{TASKS}?view=group")) == [released.pk]
    assert ids(client_for(persona("ab-anden")).get(f"{TASKS}?view=group")) == []
    assert ids(queue.get(TASKS)) == []
    done = ids(mine.get(f"{TASKS}?view=done"))
    assert done and set(Task.objects.filter(pk__in=done).values_list("status", flat=True)) \
        == {STATUS.DONE}


def test_the_delegated_view_shows_on_whose_behalf(demo, persona):
    chair, substitute = persona("ab-formand"), persona("ab-medlem")
    ready_for_board(case_of(1), persona("driftschef"))
    workflow_services.delegation_create(
        actor=chair, person=chair, substitute=substitute,
        organisation_id=organisation().pk, starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=6), reason="Ferie")
    [row] = client_for(substitute).get(f"{TASKS}?view=delegated").json()["results"]
    assert row["step"] == "acknowledge"
    assert row["owner"]["id"] == substitute.pk
    assert row["on_behalf_of"] == {"id": chair.pk, "name": chair.get_full_name()}


def test_filters_ready_made_views_and_sorting(demo, persona):
    client = client_for(persona("driftschef"))
    department_1 = case_of(1).department
    assert ids(client.get(f"{TASKS}?department={department_1.pk}")) == [task_of(1).pk]
    assert ids(client.get(f"{TASKS}?step=close")) == [task_of(2, FollowUp.Half.H1).pk]
    assert ids(client.get(f"{TASKS}?year=2027")) == []
    assert ids(client.get(f"{TASKS}?organisation={organisation().pk}&due_from=2026-08-01"
                          f"&due_to=2026-12-31&operations_area="
                          f"{department_1.operations_area_id}&sort=-created")) == [
        task_of(2).pk, task_of(1).pk]
    other = Organisation.objects.get(slug=OTHER_SLUG)
    assert ids(client.get(f"{TASKS}?organisation={other.pk}")) == []
    assert [r["due_on"] for r in client.get(f"{TASKS}?sort=-due").json()["results"]] == [
        "2026-12-01", "2026-12-01", "2026-07-21"]
    assert ids(client.get(f"{TASKS}?ready=week")) == []
    with frozen_on(datetime.date(2026, 7, 20)):
        assert ids(client.get(f"{TASKS}?ready=week")) == [task_of(2, FollowUp.Half.H1).pk]
        assert ids(client.get(f"{TASKS}?ready=overdue")) == []
    with frozen_on(datetime.date(2026, 7, 21)):
        assert ids(client.get(f"{TASKS}?ready=today")) == [task_of(2, FollowUp.Half.H1).pk]
    with frozen_on(datetime.date(2026, 7, 22)):
        assert ids(client.get(f"{TASKS}?ready=overdue")) == [task_of(2, FollowUp.Half.H1).pk]
    # Empty parameters (a shared inbox URL with blank fields) are ignored.
    assert len(ids(client.get(f"{TASKS}?ready=&organisation=&view=&sort="))) == 3


def test_bad_query_parameters_answer_400_with_field_errors(demo, persona):
    client = client_for(persona("driftschef"))
    response = client.get(f"{TASKS}?view=all&ready=soon&year=abc&body=0&department=x"
                          f"&step=nope&due_from=2026-13-01&sort=owner&organisation={2**64}")
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert set(body["errors"]) == {"view", "ready", "year", "body", "department", "step",
                                   "due_from", "sort", "organisation"}
    response = client.get(f"{TASKS}?due_from=2026-06-01&due_to=2026-05-01")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["due_to"]


def test_counts_per_view(demo, persona):
    driftschef = persona("driftschef")
    workflow_services.task_release(actor=driftschef, task=task_of(1))
    response = client_for(driftschef).get(f"{TASKS}counts/")
    assert response.status_code == 200
    assert response.json() == {"mine": 2, "group": 1, "delegated": 0, "escalated": 0,
                               "snoozed": 0, "overdue": 0, "today": 0, "week": 0}
    assert client_for(persona("serviceleder")).get(f"{TASKS}counts/").json()["group"] == 1


def test_anonymous_callers_get_401(demo):
    anonymous = APIClient()
    for address in (TASKS, f"{TASKS}counts/", DELEGATIONS):
        assert anonymous.get(address).status_code == 401
    assert post(anonymous, DELEGATIONS).status_code == 401


# --- one task -------------------------------------------------------------------------------

def test_a_task_shows_its_comments_and_the_callers_actions(demo, persona):
    driftschef, task = persona("driftschef"), task_of(1)
    workflow_services.task_comment_add(actor=persona("serviceleder"), task=task,
                                       text="Jeg kan tage den.")
    workflow_services.task_comment_add(actor=driftschef, task=task, text="Tak.")
    response = client_for(driftschef).get(task_url(task))
    assert response.status_code == 200
    body = response.json()
    assert [(c["author"]["id"], c["text"]) for c in body["comments"]] == [
        (persona("serviceleder").pk, "Jeg kan tage den."), (driftschef.pk, "Tak.")]
    assert body["allowed_actions"] == ["release", "snooze", "comment"]
    # A member of the queue sees a task someone holds (and can only comment) ...
    assert client_for(persona("serviceleder")).get(task_url(task)).json()[
        "allowed_actions"] == ["comment"]
    # ... the department board's chair and the secretary may reassign it.
    for username in ("ab-formand", "sekretaer"):
        assert client_for(persona(username)).get(task_url(task)).json()[
            "allowed_actions"] == ["reassign", "comment"]


def test_a_task_outside_the_callers_mandates_answers_404(demo, persona):
    task = task_of(1)
    for username in ("ab-medlem", "ab-anden", "anden-org", "fg-formand"):
        assert client_for(persona(username)).get(task_url(task)).status_code == 404
    response = client_for(persona("driftschef")).get(f"{TASKS}{2**62}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    # Every action answers 404 the same way, before reading its input.
    for action in ("claim", "release", "reassign", "snooze", "comments"):
        assert post(client_for(persona("ab-anden")), task_url(task, action)).status_code == 404


# --- the queue: claim and release -----------------------------------------------------------

def test_release_then_claim_moves_the_task_through_the_queue(demo, persona):
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    task = task_of(1)
    assert post(client_for(serviceleder), task_url(task, "release")).status_code == 403

    response = post(client_for(driftschef), task_url(task, "release"))
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["status"]) == (None, STATUS.NEW)
    assert response.json()["allowed_actions"] == ["claim", "comment"]

    response = post(client_for(serviceleder), task_url(task, "claim"))
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == serviceleder.pk
    assert fresh(task).owner == serviceleder
    assert list(AuditEntry.objects.filter(action__startswith="task.").values_list(
        "action", flat=True).order_by("pk")) == ["task.release", "task.claim"]


def test_the_second_of_two_claims_gets_409_naming_the_winner(demo, persona):
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    task = task_of(1)
    workflow_services.task_release(actor=driftschef, task=task)
    first, second = client_for(serviceleder), client_for(driftschef)
    # Both see a claimable task ...
    for client in (first, second):
        assert client.get(task_url(task)).json()["allowed_actions"][0] == "claim"
    # ... and both press "claim".
    won = post(first, task_url(task, "claim"))
    lost = post(second, task_url(task, "claim"))
    assert won.status_code == 200
    assert lost.status_code == 409
    body = lost.json()
    assert (body["code"], body["current_state"]) == ("conflict", STATUS.ASSIGNED)
    assert serviceleder.get_full_name() in body["detail"]
    assert fresh(task).owner == serviceleder
    assert AuditEntry.objects.filter(action="task.claim").count() == 1


def test_claiming_needs_a_candidate_mandate_and_an_open_task(demo, persona):
    task = task_of(1)
    workflow_services.task_release(actor=persona("driftschef"), task=task)
    # The board's chair sees the task (may reassign it) but is not in its queue.
    assert post(client_for(persona("ab-formand")), task_url(task, "claim")).status_code == 403
    done = done_task_of("driftschef")
    response = post(client_for(persona("driftschef")), task_url(done, "claim"))
    assert response.status_code == 409 and response.json()["current_state"] == STATUS.DONE
    response = post(client_for(persona("driftschef")), task_url(done, "release"))
    assert response.status_code == 409
    assert fresh(task).owner is None


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks need PostgreSQL; SQLite serialises every writer")
def test_racing_claims_let_exactly_one_win(transactional_db, persona):
    driftschef, serviceleder = persona("driftschef"), persona("serviceleder")
    task = task_of(1)
    workflow_services.task_release(actor=driftschef, task=task)
    barrier = threading.Barrier(2)
    answers: dict = {}

    def claim(person):
        try:
            with translation.override("en"):
                client = client_for(person)
                barrier.wait(timeout=30)
                answers[person.username] = post(client, task_url(task, "claim"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(person,))
               for person in (driftschef, serviceleder)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(answer.status_code for answer in answers.values()) == [200, 409]
    winner = fresh(task).owner
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert winner.get_full_name() in loser.json()["detail"]
    assert AuditEntry.objects.filter(action="task.claim").count() == 1


# --- reassign -------------------------------------------------------------------------------

def test_the_secretary_and_the_boards_chair_reassign_to_someone_who_may_do_it(demo, persona):
    task = task_of(1)
    response = post(client_for(persona("sekretaer")), task_url(task, "reassign"),
                    {"to": persona("serviceleder").pk})
    assert response.status_code == 200, response.json()
    assert response.json()["owner"]["id"] == persona("serviceleder").pk
    response = post(client_for(persona("ab-formand")), task_url(task, "reassign"),
                    {"to": persona("driftschef").pk})
    assert response.status_code == 200
    assert fresh(task).owner == persona("driftschef")
    assert AuditEntry.objects.filter(action="task.reassign").count() == 2


def test_reassign_answers_403_409_and_400(demo, persona):
    task, secretary = task_of(1), client_for(persona("sekretaer"))
    # The owner and the queue see the task but may not hand it around.
    for username in ("driftschef", "serviceleder"):
        response = post(client_for(persona(username)), task_url(task, "reassign"),
                        {"to": persona("serviceleder").pk})
        assert response.status_code == 403
    # Someone holding none of the task's mandates, someone of another organisation, no one.
    for to, message in ((persona("ab-medlem").pk, "mandater"),
                        (persona("anden-org").pk, ""), (2**62, ""), ("x", ""), (None, "")):
        response = post(secretary, task_url(task, "reassign"), {"to": to})
        assert response.status_code == 400 and list(response.json()["errors"]) == ["to"]
        assert message in str(response.json()["errors"]["to"])
    assert post(secretary, task_url(task, "reassign")).status_code == 400
    done = done_task_of("driftschef")
    response = post(secretary, task_url(done, "reassign"), {"to": "x"})
    assert response.status_code == 409  # the state before the input
    assert fresh(task).owner == persona("driftschef")


# --- snooze ---------------------------------------------------------------------------------

def test_the_owner_snoozes_a_task_and_wakes_it(demo, persona):
    client, task = client_for(persona("driftschef")), task_of(1)
    response = post(client, task_url(task, "snooze"), {"until": "2026-03-09"})
    assert response.status_code == 200
    assert response.json()["follow_up_on"] == "2026-03-09"
    assert task.pk in ids(client.get(f"{TASKS}?view=snoozed"))
    assert task.pk not in ids(client.get(TASKS))
    response = post(client, task_url(task, "snooze"), {"until": None})
    assert response.status_code == 200 and response.json()["follow_up_on"] is None
    assert task.pk in ids(client.get(TASKS))


def test_snooze_answers_403_409_and_400(demo, persona):
    client, task = client_for(persona("driftschef")), task_of(1)
    response = post(client_for(persona("serviceleder")), task_url(task, "snooze"),
                    {"until": "2026-03-09"})
    assert response.status_code == 403
    for data in ({"until": TODAY.isoformat()}, {"until": "09.03.2026"}, {}):
        response = post(client, task_url(task, "snooze"), data)
        assert response.status_code == 400 and list(response.json()["errors"]) == ["until"]
    done = done_task_of("driftschef")
    assert post(client, task_url(done, "snooze"), {"until": "2026-03-09"}).status_code == 409
    assert TaskMandate.objects.get(task=task).follow_up_on is None


# --- comments -------------------------------------------------------------------------------

def test_everyone_who_sees_a_task_comments_on_it(demo, persona):
    task = task_of(1)
    for username in ("driftschef", "serviceleder", "ab-formand"):
        response = post(client_for(persona(username)), task_url(task, "comments"),
                        {"text": f"Fra {username}"})
        assert response.status_code == 201
        assert response.json()["author"]["id"] == persona(username).pk
    done = done_task_of("driftschef")
    assert post(client_for(persona("driftschef")), task_url(done, "comments"),
                {"text": "Afsluttet."}).status_code == 201
    detail = client_for(persona("driftschef")).get(task_url(task)).json()
    assert [c["text"] for c in detail["comments"]] == [
        "Fra driftschef", "Fra serviceleder", "Fra ab-formand"]
    assert AuditEntry.objects.filter(action="task.comment").count() == 4


def test_an_empty_comment_answers_400(demo, persona):
    client, task = client_for(persona("driftschef")), task_of(1)
    for data in ({"text": "   "}, {}, {"text": "x" * 10_001}):
        response = post(client, task_url(task, "comments"), data)
        assert response.status_code == 400 and list(response.json()["errors"]) == ["text"]
    assert not task.comments.exists()


# --- delegations ----------------------------------------------------------------------------

def delegation_input(persona, **changes) -> dict:
    return {"substitute": persona("ab-medlem").pk, "organisation": organisation().pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + datetime.timedelta(days=6)).isoformat(), "reason": "Ferie",
            **changes}


def test_a_chair_names_a_substitute_and_both_see_it(demo, persona):
    chair, substitute = persona("ab-formand"), persona("ab-medlem")
    response = post(client_for(chair), DELEGATIONS, delegation_input(persona))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["person"]["id"] == chair.pk and body["substitute"]["id"] == substitute.pk
    assert (body["state"], body["reason"], body["ends_on"]) == ("active", "Ferie",
                                                                "2026-03-08")
    assert body["organisation"]["id"] == organisation().pk
    for username in ("ab-formand", "ab-medlem"):
        assert ids(client_for(persona(username)).get(DELEGATIONS)) == [body["id"]]
    assert ids(client_for(persona("driftschef")).get(DELEGATIONS)) == []
    with frozen_on(datetime.date(2026, 3, 9)):
        rows = client_for(chair).get(DELEGATIONS).json()["results"]
        assert rows[0]["state"] == "ended"


def test_the_secretary_names_a_substitute_for_someone_else(demo, persona):
    data = delegation_input(persona, person=persona("ab-formand").pk,
                            starts_on="2026-04-01", ends_on="2026-04-14")
    assert post(client_for(persona("ab-medlem")), DELEGATIONS, data).status_code == 403
    response = post(client_for(persona("sekretaer")), DELEGATIONS, data)
    assert response.status_code == 201
    assert (response.json()["state"], response.json()["created_by"]["id"]) == (
        "upcoming", persona("sekretaer").pk)
    assert Delegation.objects.get().person == persona("ab-formand")


def test_bad_delegations_answer_400_with_field_errors(demo, persona):
    client = client_for(persona("ab-formand"))
    other = Organisation.objects.get(slug=OTHER_SLUG)
    cases = [
        ({"ends_on": "2026-03-01"}, {"ends_on"}),
        ({"substitute": persona("anden-org").pk}, {"substitute"}),  # not visible: unknown
        ({"substitute": persona("ab-formand").pk}, {"substitute"}),
        ({"organisation": other.pk}, {"organisation"}),
        ({"starts_on": "02.03.2026", "substitute": "x"}, {"starts_on", "substitute"}),
    ]
    for changes, fields in cases:
        response = post(client, DELEGATIONS, delegation_input(persona, **changes))
        assert response.status_code == 400, changes
        assert set(response.json()["errors"]) == fields, (changes, response.json())
    response = post(client, DELEGATIONS, {})
    assert set(response.json()["errors"]) == {"substitute", "organisation", "starts_on",
                                              "ends_on"}
    assert post(client, DELEGATIONS, delegation_input(persona)).status_code == 201
    overlapping = post(client, DELEGATIONS, delegation_input(persona, starts_on="2026-03-05",
                                                             ends_on="2026-03-20"))
    assert list(overlapping.json()["errors"]) == ["starts_on"]
    assert Delegation.objects.count() == 1


def test_cancelling_a_delegation_answers_200_404_403_and_409(demo, persona):
    chair = persona("ab-formand")
    ready_for_board(case_of(1), persona("driftschef"))
    created = post(client_for(chair), DELEGATIONS, delegation_input(persona)).json()
    assert task_of(1).owner == persona("ab-medlem")
    address = f"{DELEGATIONS}{created['id']}/cancel/"
    for username in ("driftschef", "anden-org"):
        assert post(client_for(persona(username)), address).status_code == 404
    assert post(client_for(chair), f"{DELEGATIONS}{2**62}/cancel/").status_code == 404
    assert post(client_for(persona("ab-medlem")), address).status_code == 403

    response = post(client_for(chair), address)
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled" and response.json()["cancelled_at"]
    assert task_of(1).owner == chair  # the task went back at once
    again = post(client_for(persona("sekretaer")), address)
    assert again.status_code == 409 and again.json()["current_state"] == "cancelled"


def test_an_ended_delegation_cannot_be_cancelled(demo, persona):
    chair = persona("ab-formand")
    created = post(client_for(chair), DELEGATIONS, delegation_input(persona)).json()
    with frozen_on(datetime.date(2026, 3, 9)):
        response = post(client_for(chair), f"{DELEGATIONS}{created['id']}/cancel/")
    assert response.status_code == 409 and response.json()["current_state"] == "ended"
    assert Delegation.objects.get().cancelled_at is None


# --- query counts ---------------------------------------------------------------------------

def delegate_area_to(area: int, substitute) -> None:
    """Area ``area``'s operations manager goes on holiday: their tasks go to ``substitute``."""
    manager = area_manager(area)
    workflow_services.delegation_create(
        actor=manager, person=manager, substitute=substitute,
        organisation_id=organisation().pk, starts_on=TODAY,
        ends_on=TODAY + datetime.timedelta(days=14), reason="Ferie")


@pytest.mark.parametrize("view", ["mine", "group", "delegated", "done"])
def test_the_inbox_runs_the_same_queries_at_two_sizes(demo, persona,
                                                      django_assert_num_queries, view):
    driftschef = persona("driftschef")
    client = client_for(driftschef)
    address = f"{TASKS}?view={view}"
    workflow_services.task_release(actor=driftschef, task=task_of(1))
    delegate_area_to(2, driftschef)
    client.get(address)  # warm caches (content types)
    # 1 the page's count, 2 the page: tasks with owner, mandate and what it points to.
    with django_assert_num_queries(2):
        small = ids(client.get(address))
    workflow_services.task_release(actor=driftschef, task=task_of(2))
    delegate_area_to(3, driftschef)
    for number in (3, 4, 5, 6):
        workflow_services.task_comment_add(actor=driftschef, task=task_of(number),
                                           text="Set.")
    ready_for_board(case_of(3), driftschef)  # one more done task
    with django_assert_num_queries(2):
        large = ids(client.get(address))
    assert 0 < len(small) < len(large)


def test_counts_and_delegations_run_the_same_queries_at_two_sizes(
        demo, persona, django_assert_num_queries):
    driftschef = persona("driftschef")
    client = client_for(driftschef)
    delegate_area_to(2, driftschef)
    client.get(f"{TASKS}counts/")
    # 1 the counts of my tasks, 2 the count of my groups' queue, 3 escalated to me.
    with django_assert_num_queries(3):
        assert client.get(f"{TASKS}counts/").json()["delegated"] == 4
    # 1 the page's count, 2 the page with the people and the organisation.
    with django_assert_num_queries(2):
        assert len(ids(client.get(DELEGATIONS))) == 1
    delegate_area_to(3, driftschef)
    with django_assert_num_queries(3):
        assert client.get(f"{TASKS}counts/").json()["delegated"] == 8
    with django_assert_num_queries(2):
        assert len(ids(client.get(DELEGATIONS))) == 2


# --- the schema -----------------------------------------------------------------------------

def test_the_openapi_schema_validates_and_documents_the_inbox_api(demo, persona):
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())
    schema = client_for(persona("sekretaer")).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    parameters = {p["name"] for p in paths["/api/v1/tasks/"]["get"]["parameters"]}
    assert {"view", "ready", "organisation", "year", "body", "operations_area", "department",
            "step", "due_from", "due_to", "sort", "page"} <= parameters
    for action, codes in (("claim", {"200", "403", "404", "409"}),
                          ("release", {"200", "403", "404", "409"}),
                          ("reassign", {"200", "400", "403", "404", "409"}),
                          ("snooze", {"200", "400", "403", "404", "409"}),
                          ("comments", {"201", "400", "404"})):
        operation = paths[f"/api/v1/tasks/{{id}}/{action}/"]["post"]
        assert codes <= set(operation["responses"])
    conflict = paths["/api/v1/tasks/{id}/claim/"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"]["$ref"].endswith("/ApiConflict")
    for path in ("/api/v1/tasks/{id}/", "/api/v1/tasks/counts/", "/api/v1/delegations/",
                 "/api/v1/delegations/{id}/cancel/"):
        assert path in paths
    assert "post" in paths["/api/v1/delegations/"]
    assert {"Task", "TaskDetail", "Delegation", "DelegationCreateRequest"} <= set(
        schema["components"]["schemas"])
