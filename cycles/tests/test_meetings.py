"""The governance calendar: the meeting services, the pages, and open tasks' deadlines that
follow the meetings.

Time is frozen on Monday 02.11.2026 before the demo loads. The demo's calendar then has most of
the 2026 plan's meetings behind it and the 2027 plan's ahead: the follow-up group on 14.12.2026
(the draft is due ten business days before, 30.11.2026), the operations committee on 19.01.2027,
the organisation board on 02.02.2027, the council on 22.04.2027 and the follow-up group again on
23.11.2027. The follow-up group's meeting on 24.11.2026 treats the 2026 plan, the board's on
08.12.2026 no plan, and the committee's on 01.12.2026 was cancelled. Pages are requested in
English.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.status import STATUS

from audit.models import AuditEntry
from config.errors import Conflict
from cycles import meeting_services
from cycles.models import AnnualPlan, Meeting
from fixtures.demo import DEMO_SLUG, OTHER_SLUG
from governance.models import Body, Organisation
from tests.clock import frozen_before_demo
from tests.pages import as_, english_pages, html
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES, refresh_due_dates

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 2)


def d(text: str) -> datetime.date:
    return datetime.datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007


_frozen_today = frozen_before_demo(TODAY)


_english = english_pages()


def plan(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=year)


def open_task(year: int, step: str) -> TaskMandate:
    return TaskMandate.objects.get(plan=plan(year), task__status__in=OPEN_STATUSES,
                                   task__flow_task__endswith=f".{step}")


def demo_meeting(kind: str, day: str) -> Meeting:
    return Meeting.objects.select_related("body").get(
        organisation__slug=DEMO_SLUG, body__kind=kind, date=d(day))


def form_data(meeting: Meeting, **changes) -> dict:
    data = {"body": meeting.body_id, "kind": meeting.kind,
            "date": meeting.date.strftime("%d.%m.%Y"),
            "starts_at": meeting.starts_at.strftime("%H:%M") if meeting.starts_at else "",
            "place": meeting.place, "plan": meeting.plan_id or "", "note": meeting.note,
            "version": meeting.updated_at.isoformat()}
    data.update(changes)
    return data


def other_organisation_meeting() -> Meeting:
    other = Organisation.objects.get(slug=OTHER_SLUG)
    return meeting_services.meeting_create(
        actor=None, body=other.bodies.get(kind="organisation_board"), date=d("10.12.2026"))


# --- the deadlines follow the meetings --------------------------------------------------------

def test_the_demo_draft_is_due_two_weeks_before_the_follow_up_groups_meeting(demo):
    draft = open_task(2027, "draft")
    assert draft.due_on == d("30.11.2026")
    assert draft.assigned_on == TODAY


def test_the_secretary_moves_a_meeting_and_the_open_tasks_deadline_follows(client, persona):
    draft = open_task(2027, "draft")
    meeting = demo_meeting("follow_up_group", "14.12.2026")
    client = as_(client, persona, "sekretaer")
    url = reverse("cycles:meeting_edit", args=[meeting.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="14.12.2026"' in html(page)

    response = client.post(url, form_data(meeting, date="07.12.2026"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.date, meeting.sequence) == (d("07.12.2026"), 1)
    moved = TaskMandate.objects.get(pk=draft.pk)
    # Ten business days before Monday 07.12.2026.
    assert (moved.due_on, moved.due_sequence) == (d("23.11.2026"), draft.due_sequence + 1)
    entry = AuditEntry.objects.get(action="meeting.update", object_id=str(meeting.pk))
    assert entry.summary["before"] == {"date": "2026-12-14"}
    assert entry.summary["after"] == {"date": "2026-12-07"}
    assert entry.actor.username == "sekretaer"
    calendar = client.get(response["Location"])
    assert "07.12.2026" in html(calendar) and "14.12.2026" not in html(calendar)


def test_a_change_of_note_keeps_the_meetings_revision_and_the_deadlines(persona):
    draft = open_task(2027, "draft")
    meeting = demo_meeting("follow_up_group", "14.12.2026")
    meeting_services.meeting_update(actor=persona("sekretaer"), meeting=meeting,
                                    note="Husk årsplanen.")
    meeting.refresh_from_db()
    assert (meeting.note, meeting.sequence) == ("Husk årsplanen.", 0)
    assert TaskMandate.objects.get(pk=draft.pk).due_sequence == draft.due_sequence


def test_moving_the_time_or_place_raises_the_revision_but_not_the_deadline(persona):
    draft = open_task(2027, "draft")
    meeting = demo_meeting("follow_up_group", "14.12.2026")
    meeting_services.meeting_update(actor=persona("sekretaer"), meeting=meeting,
                                    starts_at=datetime.time(18, 0), place="Kulturhuset")
    meeting.refresh_from_db()
    assert meeting.sequence == 1
    unchanged = TaskMandate.objects.get(pk=draft.pk)
    assert (unchanged.due_on, unchanged.due_sequence) == (draft.due_on, draft.due_sequence)


def test_cancelling_a_meeting_moves_the_deadline_to_the_bodys_next_meeting(client, persona):
    draft = open_task(2027, "draft")
    meeting = demo_meeting("follow_up_group", "14.12.2026")
    client = as_(client, persona, "sekretaer")
    url = reverse("cycles:meeting_cancel", args=[meeting.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Cancel the meeting of" in html(confirm)
    assert Meeting.objects.get(pk=meeting.pk).cancelled_at is None  # GET changes nothing

    assert client.post(url).status_code == 302
    meeting.refresh_from_db()
    assert meeting.is_cancelled and meeting.sequence == 1
    moved = TaskMandate.objects.get(pk=draft.pk)
    # The group's next meeting on the 2027 plan is Tuesday 23.11.2027.
    assert (moved.due_on, moved.due_sequence) == (d("09.11.2027"), draft.due_sequence + 1)
    assert AuditEntry.objects.filter(action="meeting.cancel",
                                     object_id=str(meeting.pk)).count() == 1

    again = client.post(url)
    assert again.status_code == 409
    assert "was cancelled on 02.11.2026" in html(again)
    assert client.get(reverse("cycles:meeting_edit", args=[meeting.pk])).status_code == 409
    assert Meeting.objects.get(pk=meeting.pk).sequence == 1


def test_without_any_meeting_left_the_step_has_no_deadline(persona):
    draft = open_task(2027, "draft")
    for meeting in Meeting.objects.filter(organisation__slug=DEMO_SLUG,
                                          body__kind="follow_up_group", date__gte=TODAY):
        meeting_services.meeting_cancel(actor=persona("sekretaer"), meeting=meeting)
    gone = TaskMandate.objects.get(pk=draft.pk)
    assert gone.due_on is None
    assert gone.due_sequence == draft.due_sequence + 2  # once per moved date


def test_a_new_meeting_on_the_plan_gives_its_open_step_a_deadline(client, persona):
    presentation = open_task(2026, "presentation")
    assert presentation.due_on is None  # the council's meeting on the plan is behind us
    council = Body.objects.get(organisation__slug=DEMO_SLUG, kind="representative_council")
    client = as_(client, persona, "sekretaer")
    response = client.post(reverse("cycles:meeting_create"), {
        "body": council.pk, "kind": Meeting.Kind.EXTRAORDINARY, "date": "10.12.2026",
        "starts_at": "19:00", "place": "Kulturhuset", "plan": plan(2026).pk, "note": ""})
    assert response.status_code == 302
    meeting = Meeting.objects.get(body=council, date=d("10.12.2026"))
    assert (meeting.kind, meeting.starts_at, meeting.sequence) == (
        Meeting.Kind.EXTRAORDINARY, datetime.time(19, 0), 0)
    assert TaskMandate.objects.get(pk=presentation.pk).due_on == d("10.12.2026")
    assert AuditEntry.objects.filter(action="meeting.create",
                                     object_id=str(meeting.pk)).exists()
    listing = html(client.get(response["Location"]))
    assert "10.12.2026" in listing and "Added" not in listing


def test_refreshing_counts_only_the_open_tasks_whose_date_moved(demo):
    organisation = Organisation.objects.get(slug=DEMO_SLUG)
    assert refresh_due_dates(organisation_id=organisation.pk) == 0
    done = TaskMandate.objects.filter(plan=plan(2026)).exclude(
        task__status__in=OPEN_STATUSES).select_related("task")
    assert done.exists()
    before = {m.pk: (m.due_on, m.due_sequence) for m in done}
    Meeting.objects.filter(organisation=organisation, body__kind="follow_up_group",
                           date=d("14.12.2026")).update(date=d("07.12.2026"))
    assert refresh_due_dates(organisation_id=organisation.pk) == 1
    assert {m.pk: (m.due_on, m.due_sequence) for m in done.all()} == before
    assert all(m.task.status == STATUS.DONE for m in done)


# --- who may keep the calendar ------------------------------------------------------------------

@pytest.mark.parametrize("username", ["ob-formand", "du-formand", "driftschef", "ab-formand"])
def test_board_members_and_other_staff_cannot_change_meetings(client, persona, username):
    meeting = demo_meeting("organisation_board", "02.02.2027")
    client = as_(client, persona, username)
    edit = reverse("cycles:meeting_edit", args=[meeting.pk])
    cancel = reverse("cycles:meeting_cancel", args=[meeting.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, form_data(meeting, date="09.02.2027")).status_code == 403
    assert client.get(cancel).status_code == 403
    assert client.post(cancel).status_code == 403
    assert client.get(reverse("cycles:meeting_create")).status_code == 403
    assert client.post(reverse("cycles:meeting_create"), form_data(meeting)).status_code == 403
    meeting.refresh_from_db()
    assert (meeting.date, meeting.cancelled_at, meeting.sequence) == (d("02.02.2027"), None, 0)
    listing = html(client.get(reverse("cycles:meeting_list")))
    assert edit not in listing and reverse("cycles:meeting_create") not in listing


def test_the_services_check_the_permission_too(persona):
    meeting = demo_meeting("organisation_board", "02.02.2027")
    with pytest.raises(PermissionDenied):
        meeting_services.meeting_update(actor=persona("ob-formand"), meeting=meeting,
                                        date=d("09.02.2027"))
    with pytest.raises(PermissionDenied):
        meeting_services.meeting_cancel(actor=persona("ob-formand"), meeting=meeting)
    with pytest.raises(PermissionDenied):
        meeting_services.meeting_create(actor=persona("anden-org"), body=meeting.body,
                                        date=d("09.02.2027"))


def test_another_organisations_meeting_is_not_found(client, persona):
    other = other_organisation_meeting()
    client = as_(client, persona, "sekretaer")
    for name in ("cycles:meeting_edit", "cycles:meeting_cancel"):
        url = reverse(name, args=[other.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, form_data(other)).status_code == 404
    assert Meeting.objects.get(pk=other.pk).cancelled_at is None
    assert "10.12.2026" not in html(client.get(reverse("cycles:meeting_list")))


def test_each_organisation_sees_only_its_own_calendar(client, persona):
    other_organisation_meeting()
    listing = html(as_(client, persona, "anden-org").get(reverse("cycles:meeting_list")))
    assert "10.12.2026" in listing
    assert "14.12.2026" not in listing and "Følgegruppe" not in listing


# --- bad input, lost races --------------------------------------------------------------------

def test_bad_input_answers_400_with_field_errors(client, persona):
    client = as_(client, persona, "sekretaer")
    count = Meeting.objects.count()
    response = client.post(reverse("cycles:meeting_create"), {
        "body": "", "kind": "party", "date": "31.02.2026", "starts_at": "25:00",
        "place": "x" * 201})
    assert response.status_code == 400
    page = html(response)
    assert 'id="error-summary"' in page
    for field in ("body", "kind", "date", "starts_at", "place"):
        assert f'id="id_{field}_error"' in page, field
    assert Meeting.objects.count() == count

    meeting = demo_meeting("follow_up_group", "14.12.2026")
    response = client.post(reverse("cycles:meeting_edit", args=[meeting.pk]),
                           form_data(meeting, date="", version="yesterday"))
    assert response.status_code == 400
    assert 'id="id_date_error"' in html(response)
    assert Meeting.objects.get(pk=meeting.pk).date == d("14.12.2026")


def test_a_meeting_cannot_put_another_organisations_plan_on_its_agenda(persona):
    other = Organisation.objects.get(slug=OTHER_SLUG)
    body = Body.objects.get(organisation=other, kind="organisation_board")
    with pytest.raises(ValidationError) as error:
        meeting_services.meeting_create(actor=None, body=body, date=d("10.12.2026"),
                                        plan=plan(2027))
    assert set(error.value.message_dict) == {"plan"}


def test_a_stale_edit_answers_409_naming_the_meeting_as_it_is_now(client, persona):
    meeting = demo_meeting("organisation_board", "02.02.2027")
    seen = form_data(meeting, place="Mødelokale 3")
    meeting_services.meeting_update(actor=persona("sekretaer"), meeting=meeting,
                                    date=d("09.02.2027"))
    response = as_(client, persona, "sekretaer").post(
        reverse("cycles:meeting_edit", args=[meeting.pk]), seen)
    assert response.status_code == 409
    assert "it is now on 09.02.2027" in html(response)
    meeting.refresh_from_db()
    assert (meeting.date, meeting.place) == (d("09.02.2027"), "Administrationen, mødelokale 1")


def test_cancelling_twice_in_the_services_is_a_conflict(persona):
    meeting = demo_meeting("organisation_board", "02.02.2027")
    meeting_services.meeting_cancel(actor=persona("sekretaer"), meeting=meeting)
    with pytest.raises(Conflict) as error:
        meeting_services.meeting_cancel(actor=persona("sekretaer"), meeting=meeting)
    assert error.value.current_state == "cancelled"
    with pytest.raises(Conflict):
        meeting_services.meeting_update(actor=persona("sekretaer"), meeting=meeting,
                                        date=d("09.02.2027"))


# --- the calendar page --------------------------------------------------------------------------

def rows(page: str) -> list[str]:
    """The dates of the meeting rows, in order."""
    import re

    return re.findall(r'<tr class="meeting-row[^"]*"[^>]*>\s*<th scope="row">\s*<time '
                      r'datetime="[^"]*">(\d\d\.\d\d\.\d{4})', page)


def test_everyone_with_a_mandate_sees_the_upcoming_meetings_first(client, persona):
    client = as_(client, persona, "ab-medlem")
    response = client.get(reverse("cycles:meeting_list"))
    assert response.status_code == 200
    page = html(response)
    assert rows(page) == ["24.11.2026", "01.12.2026", "08.12.2026", "14.12.2026",
                          "19.01.2027", "02.02.2027", "22.04.2027", "23.11.2027"]
    assert page.count('data-testid="cancelled"') == 1
    assert "/edit/" not in page and "/cancel/" not in page
    assert reverse("cycles:meeting_create") not in page
    assert "Årsplan 2027" in page

    past = html(client.get(reverse("cycles:meeting_list"), {"when": "past"}))
    assert rows(past) == ["23.04.2026", "03.02.2026", "13.01.2026", "09.12.2025"]


def test_the_secretary_sees_the_links_to_keep_the_calendar(client, persona):
    page = html(as_(client, persona, "sekretaer").get(reverse("cycles:meeting_list")))
    assert reverse("cycles:meeting_create") in page
    assert reverse("cycles:deadline_settings") in page
    cancelled = demo_meeting("operations_committee", "01.12.2026")
    board = demo_meeting("organisation_board", "02.02.2027")
    assert reverse("cycles:meeting_edit", args=[board.pk]) in page
    assert reverse("cycles:meeting_edit", args=[cancelled.pk]) not in page


def test_the_calendar_filters_by_body_and_year(client, persona):
    client = as_(client, persona, "fg-medlem")
    committee = Body.objects.get(organisation__slug=DEMO_SLUG, kind="operations_committee")
    by_body = html(client.get(reverse("cycles:meeting_list"),
                              {"body": committee.pk, "when": "all"}))
    assert rows(by_body) == ["13.01.2026", "01.12.2026", "19.01.2027"]
    by_year = html(client.get(reverse("cycles:meeting_list"), {"year": 2027, "when": "all"}))
    assert rows(by_year) == ["19.01.2027", "02.02.2027", "22.04.2027", "23.11.2027"]
    assert client.get(reverse("cycles:meeting_list"), {"year": "soon"}).status_code == 400
    assert client.get(reverse("cycles:meeting_list"), {"when": "never"}).status_code == 400


def test_the_menu_links_to_the_calendar_for_everyone_signed_in(client, persona):
    for username in ("ab-medlem", "sekretaer", "anden-org"):
        page = html(as_(client, persona, username).get(reverse("home")))
        assert f'href="{reverse("cycles:meeting_list")}"' in page, username


def test_the_calendar_costs_the_same_queries_however_many_meetings(
        client, persona, django_assert_num_queries):
    client = as_(client, persona, "sekretaer")
    url = reverse("cycles:meeting_list")
    client.get(url)  # the menu's answers settle in the session

    def calendar() -> str:
        # The session and the user (2); the visible organisations (1); the years to filter by
        # (1); the organisations she keeps the calendar of (1) and her roles there (2); the
        # page's count and rows with body, organisation and plan (2); the bodies to filter by
        # (1, rendered with the form).
        with django_assert_num_queries(10):
            response = client.get(url, {"when": "all"})
        assert response.status_code == 200
        return html(response)

    assert len(rows(calendar())) == 12
    board = Body.objects.get(organisation__slug=DEMO_SLUG, kind="organisation_board")
    now = timezone.now()
    Meeting.objects.bulk_create(
        Meeting(organisation=board.organisation, body=body, date=d("01.03.2027")
                + datetime.timedelta(days=index), plan=plan(2027), created_at=now,
                updated_at=now)
        for index, body in enumerate([board] * 20 + list(
            Body.objects.filter(organisation=board.organisation,
                                kind="department_board")[:5])))
    assert len(rows(calendar())) == 37
