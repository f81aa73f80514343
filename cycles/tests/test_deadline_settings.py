"""/settings/deadlines/: the operations secretary's step deadlines and reminder ladders, and the
services behind them (cycles.meeting_services.step_deadline_*, notifications.policy).

Time is frozen on Monday 02.11.2026 before the demo loads; the 2027 plan is the draft being
prepared, with the demo's meetings (see test_meetings.py). Pages are requested in English.
"""

import datetime
import html as html_module
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from cycles import meeting_services
from cycles.models import AnnualPlan, StepDeadline
from fixtures.demo import DEMO_SLUG, OTHER_SLUG
from governance.models import Organisation
from notifications import policy
from notifications.models import ReminderPolicy
from tests.clock import frozen_on
from tests.pages import english_pages, html
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 2)
URL = "/settings/deadlines/"


def d(text: str) -> datetime.date:
    return datetime.datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007


@pytest.fixture(autouse=True)
def _frozen_today():
    with frozen_on(TODAY):
        yield


_english = english_pages()


@pytest.fixture
def secretary(client, persona):
    client.force_login(persona("sekretaer"))
    return client


def row(page: str, testid: str) -> str:
    """The text of one table row, tags removed."""
    match = re.search(rf'<tr data-testid="{testid}">(.*?)</tr>', page, re.S)
    assert match, testid
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def draft_task() -> TaskMandate:
    return TaskMandate.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2027,
                                   task__status__in=OPEN_STATUSES)


def organisation() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def test_the_url_is_the_one_the_calendar_links_to():
    assert reverse("cycles:deadline_settings") == URL


# --- the page -------------------------------------------------------------------------------

def test_the_secretary_sees_the_defaults_and_the_dates_they_give_the_draft(secretary):
    response = secretary.get(URL)
    assert response.status_code == 200
    page = html(response)
    assert "Årsplan 2027" in page
    expected = {
        "draft": ("10 business days before the meeting of Følgegruppen", "30.11.2026"),
        "review": ("8 business days before the meeting of Driftsudvalget", "07.01.2027"),
        "committee": ("On the day of the meeting of Driftsudvalget", "19.01.2027"),
        "board": ("On the day of the meeting of Organisationsbestyrelsen", "02.02.2027"),
        "presentation": ("On the day of the meeting of Repræsentantskabet", "22.04.2027"),
        # Counted from the follow-up group's meeting after the council's, not the draft's.
        "evaluation": ("On the day of the meeting of Følgegruppen", "23.11.2027"),
        "prepare": ("10 business days before the follow-up's due date", "16.06.2027"),
        "acknowledge": ("On the follow-up's due date", "30.06.2027"),
        "close": ("15 business days after the follow-up's due date", "21.07.2027"),
    }
    for step, (rule, day) in expected.items():
        text = row(page, f"deadline-{step}")
        assert rule in text and "default" in text and day in text, (step, text)
    assert "First half (due 30.06.2027): 16.06.2027" in row(page, "deadline-prepare")
    assert "Second half (due 15.12.2027): 01.12.2027" in row(page, "deadline-prepare")
    general = row(page, "ladder-all")
    for rung in ("When the task is assigned", "7 days before the deadline",
                 "2 days before the deadline", "On the due day",
                 "Every 3 business days while overdue", "copied after 3 business days overdue",
                 "The default"):
        assert rung in general, rung


def test_a_step_without_a_meeting_in_the_calendar_says_so(secretary):
    from cycles.models import Meeting

    Meeting.objects.filter(organisation=organisation(), body__kind="organisation_board",
                           date__gte=TODAY).delete()
    text = row(html(secretary.get(URL)), "deadline-board")
    assert "no meeting in the calendar yet" in text


# --- saving a step's deadline -----------------------------------------------------------------

def test_a_saved_deadline_moves_the_open_tasks_and_can_go_back_to_the_default(secretary):
    draft = draft_task()
    assert draft.due_on == d("30.11.2026")
    response = secretary.post(URL, {
        "form": "deadline", "step": "draft", "action": "save",
        "deadline-draft-basis": "meeting", "deadline-draft-body_kind": "follow_up_group",
        "deadline-draft-offset_days": "5", "deadline-draft-direction": "before"})
    assert response.status_code == 302
    assert response["Location"].endswith("#deadline-draft")
    stored = StepDeadline.objects.get(organisation=organisation(), step="draft")
    assert (stored.basis, stored.body_kind, stored.offset_business_days) == (
        "meeting", "follow_up_group", -5)
    moved = TaskMandate.objects.get(pk=draft.pk)
    assert (moved.due_on, moved.due_sequence) == (d("07.12.2026"), draft.due_sequence + 1)
    entry = AuditEntry.objects.get(action="step_deadline.save")
    assert entry.summary["before"]["offset_business_days"] == -10
    assert entry.summary["after"]["offset_business_days"] == -5

    page = html(secretary.get(response["Location"]))
    text = row(page, "deadline-draft")
    assert "5 business days before the meeting of Følgegruppen" in text
    assert "default" not in text and "07.12.2026" in text
    assert "saved; open tasks follow it" in page

    back = secretary.post(URL, {"form": "deadline", "step": "draft", "action": "reset"})
    assert back.status_code == 302
    assert not StepDeadline.objects.filter(organisation=organisation(), step="draft").exists()
    again = TaskMandate.objects.get(pk=draft.pk)
    assert (again.due_on, again.due_sequence) == (d("30.11.2026"), draft.due_sequence + 2)


def test_a_fixed_date_or_no_deadline(secretary):
    response = secretary.post(URL, {
        "form": "deadline", "step": "draft", "action": "save",
        "deadline-draft-basis": "fixed", "deadline-draft-fixed_day": "20",
        "deadline-draft-fixed_month": "11", "deadline-draft-fixed_year_offset": "-1",
        # left over from the meeting fields: ignored for a fixed date
        "deadline-draft-body_kind": "follow_up_group", "deadline-draft-offset_days": "3"})
    assert response.status_code == 302
    stored = StepDeadline.objects.get(organisation=organisation(), step="draft")
    assert (stored.fixed_day, stored.fixed_month, stored.fixed_year_offset, stored.body_kind,
            stored.offset_business_days) == (20, 11, -1, "", 0)
    assert draft_task().due_on == d("20.11.2026")
    assert "20.11 of the year before the plan's year" in row(html(secretary.get(URL)),
                                                              "deadline-draft")
    secretary.post(URL, {"form": "deadline", "step": "draft", "action": "save",
                         "deadline-draft-basis": "none"})
    assert draft_task().due_on is None


@pytest.mark.parametrize(("step", "data", "field"), [
    ("draft", {"basis": "fixed", "fixed_day": "31", "fixed_month": "2"}, "fixed_day"),
    ("draft", {"basis": "fixed", "fixed_day": "", "fixed_month": ""}, "fixed_month"),
    ("draft", {"basis": "meeting", "body_kind": ""}, "body_kind"),
    ("draft", {"basis": "meeting", "body_kind": "department_board"}, "body_kind"),
    ("review", {"basis": "meeting", "body_kind": "operations_committee",
                "offset_days": "61", "direction": "before"}, "offset_days"),
    ("review", {"basis": "follow_up"}, "basis"),  # not offered for a plan step
    ("prepare", {"basis": "meeting"}, "basis"),  # nor a meeting for a follow-up step
    ("prepare", {}, "basis"),
])
def test_a_bad_rule_answers_400_with_the_field_named(secretary, step, data, field):
    draft = draft_task()
    response = secretary.post(URL, {"form": "deadline", "step": step, "action": "save",
                                    **{f"deadline-{step}-{k}": v for k, v in data.items()}})
    assert response.status_code == 400
    page = html(response)
    assert 'id="error-summary"' in page
    assert f'id="id_deadline-{step}-{field}_error"' in page
    assert re.search(rf'<details id="deadline-{step}" class="panel" open>', page)
    assert not StepDeadline.objects.exists()
    assert TaskMandate.objects.get(pk=draft.pk).due_sequence == draft.due_sequence


def test_an_unknown_form_or_step_answers_400(secretary):
    assert secretary.post(URL, {}).status_code == 400
    assert secretary.post(URL, {"form": "deadline", "step": "lunch"}).status_code == 400
    assert secretary.post(URL, {"form": "deadline", "step": "", "action": "save"}) \
        .status_code == 400
    assert secretary.post(URL, {"form": "ladder", "step": "draft", "action": "burn"}) \
        .status_code == 400


def test_the_rule_services_validate_on_their_own(persona):
    with pytest.raises(ValidationError) as error:
        meeting_services.step_deadline_save(actor=None, organisation=organisation(),
                                            step="prepare", basis="meeting",
                                            body_kind="follow_up_group")
    assert set(error.value.message_dict) == {"basis"}
    with pytest.raises(ValidationError):
        meeting_services.step_deadline_save(actor=None, organisation=organisation(),
                                            step="lunch", basis="none")
    with pytest.raises(PermissionDenied):
        meeting_services.step_deadline_save(actor=persona("ob-formand"),
                                            organisation=organisation(), step="draft",
                                            basis="none")


# --- reminder ladders -------------------------------------------------------------------------

def ladder(step: str, **fields) -> dict:
    key = step or "all"
    data = {"form": "ladder", "step": step, "action": "save"}
    data.update({f"ladder-{key}-{name}": value for name, value in fields.items()})
    return data


def test_the_secretary_sets_the_general_ladder_and_one_for_a_step(secretary):
    response = secretary.post(URL, ladder("", on_assignment="on", days_before="14, 7,7",
                                          overdue_every_business_days="2",
                                          escalate_after_business_days="5"))
    assert response.status_code == 302
    general = ReminderPolicy.objects.get(organisation=organisation(), step="")
    assert (general.on_assignment, general.days_before, general.on_due_day,
            general.overdue_every_business_days, general.escalate_after_business_days) == (
        True, "14,7", False, 2, 5)
    page = html(secretary.get(URL))
    text = row(page, "ladder-board")
    assert "14 days before the deadline" in text and "The general ladder" in text
    assert "On the due day" not in text

    secretary.post(URL, ladder("board", on_due_day="on", days_before="",
                               overdue_every_business_days="0",
                               escalate_after_business_days="0"))
    own = ReminderPolicy.objects.get(organisation=organisation(), step="board")
    assert (own.days_before, own.on_due_day, own.on_assignment) == ("", True, False)
    text = row(html(secretary.get(URL)), "ladder-board")
    assert text.endswith("On the due day Its own")
    assert AuditEntry.objects.filter(action="reminder_policy.save").count() == 2

    secretary.post(URL, {"form": "ladder", "step": "board", "action": "reset"})
    assert not ReminderPolicy.objects.filter(step="board").exists()
    assert "The general ladder" in row(html(secretary.get(URL)), "ladder-board")


@pytest.mark.parametrize(("days", "message"), [
    ("7,x", "“x” is not a number of days"),
    ("61", "“61” is not a number of days from 1 to 60"),
    ("0,2", "“0” is not a number of days"),
    ("-2", "“-2” is not a number of days"),
])
def test_a_bad_ladder_answers_400(secretary, days, message):
    response = secretary.post(URL, ladder("review", days_before=days,
                                          overdue_every_business_days="3",
                                          escalate_after_business_days="3"))
    assert response.status_code == 400
    page = html(response)
    assert message in page
    assert 'id="id_ladder-review-days_before_error"' in page
    assert not ReminderPolicy.objects.exists()


def test_a_ladder_needs_its_numbers(secretary):
    response = secretary.post(URL, ladder("review", days_before="7",
                                          overdue_every_business_days="31"))
    assert response.status_code == 400
    page = html(response)
    assert 'id="id_ladder-review-overdue_every_business_days_error"' in page
    assert 'id="id_ladder-review-escalate_after_business_days_error"' in page


def test_days_before_are_distinct_whole_days_up_to_sixty():
    assert policy.parse_days_before("7,2") == (7, 2)
    assert policy.parse_days_before(" 2; 14 ,7, 2 ") == (14, 7, 2)
    assert policy.parse_days_before("") == ()
    assert policy.parse_days_before("60") == (60,)
    for bad in ("61", "0", "1.5", "x", "٣"):
        with pytest.raises(ValidationError):
            policy.parse_days_before(bad)


def test_the_ladder_service_checks_the_permission_and_the_step(persona):
    with pytest.raises(PermissionDenied):
        policy.reminder_policy_save(actor=persona("ob-formand"), organisation=organisation(),
                                    step="board")
    with pytest.raises(ValidationError):
        policy.reminder_policy_save(actor=persona("sekretaer"), organisation=organisation(),
                                    step="lunch")
    saved = policy.reminder_policy_save(actor=persona("sekretaer"),
                                        organisation=organisation(), step="board",
                                        days_before="2,7")
    assert saved.days_before == "7,2"


# --- who may see the page ---------------------------------------------------------------------

@pytest.mark.parametrize("username", ["ob-formand", "driftschef", "ab-formand", "anden-org"])
def test_only_the_operations_secretary_keeps_the_settings(client, persona, username):
    client.force_login(persona(username))
    assert client.get(URL).status_code == 403
    response = client.post(URL, {"form": "deadline", "step": "draft", "action": "save",
                                 "deadline-draft-basis": "none"})
    assert response.status_code == 403
    assert not StepDeadline.objects.exists()


def test_another_organisations_settings_are_not_found(client, persona, secretary):
    other = Organisation.objects.get(slug=OTHER_SLUG)
    assert secretary.get(URL, {"organisation": other.pk}).status_code == 404
    assert secretary.get(URL, {"organisation": "first"}).status_code == 404
    assert secretary.get(URL, {"organisation": organisation().pk}).status_code == 200
    client.force_login(persona("anden-org"))
    assert client.get(URL, {"organisation": organisation().pk}).status_code == 404
    assert client.get(URL, {"organisation": other.pk}).status_code == 403


def test_the_page_shows_the_newest_plan_when_none_is_being_prepared(secretary):
    AnnualPlan.objects.filter(organisation=organisation(), year=2027).update(
        state=AnnualPlan.State.PUBLISHED)
    response = secretary.get(URL)
    assert response.status_code == 200
    assert "The dates are those of Årsplan 2027" in html(response)
