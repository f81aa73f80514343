"""The annual plan's pages: the whole cycle through the HTML views, with the demo personas.

Pages are requested in English (the source language) so the assertions read the texts the
templates hold; the Danish catalogue is tested elsewhere.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cycles import services
from cycles.models import AnnualPlan, Initiative, SignOff
from fixtures.demo import DEMO_PASSWORD
from governance.models import Body, Department, OperationsArea
from governance.services import signing_authorisation_grant
from tests.pages import as_, english_pages, html
from workflows.selectors import tasks_for_user
from workflows.services import open_plan_tasks, plan_act

pytestmark = pytest.mark.django_db

State = AnnualPlan.State


_english = english_pages()


def plan_of(year: int) -> AnnualPlan:
    return AnnualPlan.objects.get(organisation__slug="soebredden", year=year)


def url(name: str, plan: AnnualPlan, *args) -> str:
    return reverse(f"cycles:{name}", args=[plan.pk, *args])


def today_text() -> str:
    return timezone.localdate().strftime("%d.%m.%Y")


def assert_conflict(response, state_label: str) -> None:
    """409, with an alert naming the plan's current state."""
    assert response.status_code == 409
    assert f"“{state_label}”" in response.context["error"]
    assert 'role="alert"' in html(response)


def themes_of(plan: AnnualPlan) -> dict:
    return {t.number: t for t in plan.programme.themes.all()}


def complete_2027_draft(persona) -> AnnualPlan:
    """The demo's 2027 draft covers themes 1 and 3: justify 2 and 4 so it can be submitted."""
    plan, secretary = plan_of(2027), persona("sekretaer")
    themes = themes_of(plan)
    for number in (2, 4):
        services.theme_justification_set(actor=secretary, plan=plan, theme=themes[number],
                                         text="Ikke i år.")
    return plan


def walk_to(plan: AnnualPlan, state: str, persona) -> AnnualPlan:
    """Move a submittable draft through the services up to ``state``."""
    steps = {
        State.DRAFT: lambda: plan_act(services.plan_submit, actor=persona("sekretaer"),
                                      plan=plan),
        State.FOLLOW_UP_GROUP_REVIEW: lambda: plan_act(
            services.plan_close_review, actor=persona("fg-formand"), plan=plan,
            recommendation="Anbefales."),
        State.OPERATIONS_COMMITTEE: lambda: plan_act(
            services.plan_sign, actor=persona("du-formand"), plan=plan,
            decision=SignOff.Decision.APPROVE, comment="Indstilles.", password=DEMO_PASSWORD),
    }
    plan.refresh_from_db()
    while plan.state != state:
        steps[plan.state]()
        plan.refresh_from_db()
    return plan


def initiative_data(plan: AnnualPlan, **overrides) -> dict:
    departments = Department.objects.filter(organisation=plan.organisation).order_by("number")
    data = {
        "theme": themes_of(plan)[2].pk,
        "title": "Telefontid hver dag",
        "description": "Driften kan træffes hver dag kl. 8–10.",
        "target": "Ventetid under 5 minutter.",
        "owner": "",
        "scope": Initiative.Scope.DEPARTMENTS,
        "departments": [d.pk for d in departments[:2]],
        "planned_start": "01.02.2027",
        "planned_end": "15.12.2027",
        "expected_saving": "125000.50",
        "status": Initiative.Status.PLANNED,
        "progress": "0",
    }
    data.update(overrides)
    return data


def sign_data(plan: AnnualPlan, decision="approve", password=DEMO_PASSWORD, comment="OK",
              sha256=None) -> dict:
    plan.refresh_from_db()
    return {"decision": decision, "comment": comment, "password": password,
            "expected_sha256": sha256 or plan.current_revision.sha256}


# --- lists and creation ---------------------------------------------------------------------

def test_plan_list_shows_each_plan_by_year_with_its_state(client, persona):
    page = html(as_(client, persona, "sekretaer").get(reverse("cycles:plan_list")))
    assert page.count('class="plan-row"') == 2
    assert "Published" in page and "Draft" in page
    assert page.index(">2027<") < page.index(">2026<")
    assert reverse("cycles:plan_create") in page


def test_board_member_sees_the_plans_but_no_new_plan_button(client, persona):
    page = html(as_(client, persona, "ab-anden").get(reverse("cycles:plan_list")))
    assert page.count('class="plan-row"') == 2
    assert reverse("cycles:plan_create") not in page
    assert client.get(reverse("cycles:plan_create")).status_code == 403


def test_secretary_creates_a_draft_for_a_year_the_programme_covers(client, persona):
    client = as_(client, persona, "sekretaer")
    form = client.get(reverse("cycles:plan_create")).context["form"]
    organisation = form.fields["organisation"].queryset.get()
    assert organisation.slug == "soebredden"
    response = client.post(reverse("cycles:plan_create"), {
        "organisation": organisation.pk, "year": "2025", "title": "Årsplan 2025",
        "summary": ""})
    plan = plan_of(2025)
    assert response.status_code == 302
    assert response["Location"] == url("plan_detail", plan)
    assert plan.state == State.DRAFT
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == ["draft"]


@pytest.mark.parametrize(("year", "message"), [
    ("2028", "No operations programme covers 2028."),
    ("2027", "There is already a plan for 2027."),
])
def test_plan_for_an_uncovered_or_taken_year_is_a_field_error(client, persona, year, message):
    client = as_(client, persona, "sekretaer")
    organisation = plan_of(2027).organisation
    response = client.post(reverse("cycles:plan_create"), {
        "organisation": organisation.pk, "year": year, "title": "Årsplan", "summary": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["year"] == [message]
    assert 'role="alert"' in html(response)
    assert 'aria-describedby="id_year_error"' in html(response)


# --- the whole cycle --------------------------------------------------------------------------

def test_the_2027_plan_goes_the_whole_cycle_through_the_pages(client, persona):
    plan = plan_of(2027)
    themes = themes_of(plan)

    # The secretary sees what blocks the submission, adds an initiative and a justification.
    client = as_(client, persona, "sekretaer")
    page = html(client.get(url("plan_detail", plan)))
    assert 'data-testid="blockers"' in page
    assert themes[2].title in page and themes[4].title in page
    response = client.post(url("initiative_create", plan), initiative_data(plan))
    assert response.status_code == 302
    added = plan.initiatives.get(title="Telefontid hver dag")
    assert added.planned_start == datetime.date(2027, 2, 1)
    assert str(added.expected_saving) == "125000.50"
    assert added.departments.count() == 2
    response = client.post(url("theme_justification", plan, themes[4].pk),
                           {"text": "Driftsanalysen fra 2026 følges op først."})
    assert response.status_code == 302
    page = html(client.get(url("plan_detail", plan)))
    assert 'data-testid="blockers"' not in page
    assert "Driftsanalysen fra 2026 følges op først." in page
    assert client.post(url("plan_submit", plan)).status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.FOLLOW_UP_GROUP_REVIEW

    # A member of the follow-up group comments; the chair closes the review.
    client = as_(client, persona, "fg-medlem")
    response = client.post(url("plan_comment", plan),
                           {"text": "Husk weekender.", "initiative": added.pk})
    assert response.status_code == 302
    page = html(client.get(url("plan_detail", plan)))
    assert "Husk weekender." in page and "Comment by Bashir Rahimi" in page
    client = as_(client, persona, "fg-formand")
    response = client.post(url("plan_close_review", plan),
                           {"recommendation": "Følgegruppen anbefaler planen."})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.OPERATIONS_COMMITTEE

    # The committee's chair reads the sign page and signs, first with a wrong password.
    client = as_(client, persona, "du-formand")
    page = html(client.get(url("plan_sign", plan)))
    assert plan.current_revision.short_hash in page
    assert 'data-testid="first-time"' in page
    response = client.post(url("plan_sign", plan), sign_data(plan, password="forkert"))
    assert response.status_code == 400
    assert response.context["form"].errors["password"] == ["The password is not correct."]
    assert 'aria-describedby="id_password_helptext id_password_error"' in html(response)
    assert plan.sign_offs.count() == 0
    response = client.post(url("plan_sign", plan), sign_data(plan, comment="Indstilles."))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.ORGANISATION_BOARD

    # The board's chair signs: the flow publishes at once and routes the presentation.
    client = as_(client, persona, "ob-formand")
    response = client.post(url("plan_sign", plan), sign_data(plan, comment="Godkendt."))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.PUBLISHED
    assert plan.approved_revision_id == plan.current_revision_id
    tasks = list(open_plan_tasks(plan=plan))
    assert [(t.flow_task.name, t.owner.username) for t in tasks] == [
        ("presentation", "sekretaer")]

    # The secretary finds the task on the overview and registers the presentation.
    client = as_(client, persona, "sekretaer")
    tasks = [t for t in tasks_for_user(user=persona("sekretaer"))
             if t.mandate.plan_id == plan.pk and t.mandate.follow_up_id is None]
    assert [t.flow_task.name for t in tasks] == ["presentation"]
    assert url("plan_detail", plan) in html(client.get(reverse("home")))
    response = client.post(url("plan_presentation", plan), {
        "presented_on": today_text(), "minutes_reference": "Referat pkt. 4"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.PRESENTED
    assert plan.presented_on == timezone.localdate()

    # The follow-up group's chair evaluates. "Continue" needs a 2028 plan, which no programme
    # covers: a clear 400, nothing recorded. Closing every initiative ends the cycle.
    client = as_(client, persona, "fg-formand")
    initiatives = list(plan.initiatives.order_by("theme__number", "position"))
    verdicts = {}
    for initiative in initiatives:
        verdicts[f"decision_{initiative.pk}"] = "close"
        verdicts[f"reason_{initiative.pk}"] = "Gennemført."
    verdicts[f"decision_{initiatives[0].pk}"] = "continue"
    response = client.post(url("plan_evaluate", plan), verdicts)
    assert response.status_code == 400
    assert "No operations programme covers 2028" in html(response)
    assert 'role="alert"' in html(response)
    plan.refresh_from_db()
    assert plan.state == State.PRESENTED and not plan.evaluations.exists()
    verdicts[f"decision_{initiatives[0].pk}"] = "close"
    response = client.post(url("plan_evaluate", plan), verdicts)
    assert response.status_code == 302
    assert response["Location"] == url("plan_detail", plan)
    plan.refresh_from_db()
    assert plan.state == State.EVALUATED
    assert plan.evaluations.count() == len(initiatives)
    assert not AnnualPlan.objects.filter(year=2028).exists()


def test_continued_initiative_lands_in_next_years_draft(client, persona):
    plan = plan_of(2026)
    as_(client, persona, "sekretaer").post(url("plan_presentation", plan), {
        "presented_on": today_text(), "minutes_reference": ""})
    client = as_(client, persona, "fg-formand")
    initiatives = list(plan.initiatives.order_by("theme__number", "position"))
    continued = initiatives[1]  # the first one already continues in the 2027 draft
    form = {}
    for initiative in initiatives:
        form[f"decision_{initiative.pk}"] = "continue" if initiative == continued else "close"
        form[f"reason_{initiative.pk}"] = "Begrundelse."
    response = client.post(url("plan_evaluate", plan), form)
    next_plan = plan_of(2027)
    assert response.status_code == 302
    assert response["Location"] == url("plan_detail", next_plan)
    copy = next_plan.initiatives.get(origin=continued)
    assert copy.title == continued.title
    assert "Continues an initiative from 2026" in html(client.get(url("plan_detail", next_plan)))


def test_merge_without_a_target_is_an_error_on_that_initiatives_row(client, persona):
    plan = plan_of(2026)
    plan_act(services.plan_register_presentation, actor=persona("sekretaer"), plan=plan,
             presented_on=timezone.localdate(), minutes_reference="")
    initiatives = list(plan.initiatives.order_by("theme__number", "position"))
    form = {}
    for initiative in initiatives:
        form[f"decision_{initiative.pk}"] = "close"
        form[f"reason_{initiative.pk}"] = "Begrundelse."
    form[f"decision_{initiatives[2].pk}"] = "merge"
    response = as_(client, persona, "fg-formand").post(url("plan_evaluate", plan), form)
    assert response.status_code == 400
    assert response.context["form"].errors[f"decision_{initiatives[2].pk}"] == [
        "Choose another initiative of the plan to merge into."]


# --- returns ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "username"), [
    (State.FOLLOW_UP_GROUP_REVIEW, "fg-formand"),
    (State.OPERATIONS_COMMITTEE, "du-formand"),
    (State.ORGANISATION_BOARD, "ob-formand"),
])
def test_each_review_step_can_return_the_plan_with_a_reason(client, persona, state, username):
    plan = walk_to(complete_2027_draft(persona), state, persona)
    client = as_(client, persona, username)
    page = html(client.get(url("plan_detail", plan)))
    assert url("plan_return", plan) in page
    response = client.post(url("plan_return", plan), {"reason": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    response = client.post(url("plan_return", plan), {"reason": "Mangler tal for energi."})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.DRAFT
    assert plan.transitions.last().reason == "Mangler tal for energi."
    assert "Mangler tal for energi." in html(client.get(url("plan_detail", plan)))
    assert [t.flow_task.name for t in open_plan_tasks(plan=plan)] == ["draft"]


def test_only_the_steps_own_chair_may_return_it(client, persona):
    plan = walk_to(complete_2027_draft(persona), State.OPERATIONS_COMMITTEE, persona)
    client = as_(client, persona, "fg-formand")  # may return from the review, not from here
    assert client.get(url("plan_return", plan)).status_code == 403
    assert client.post(url("plan_return", plan), {"reason": "Nej."}).status_code == 403
    plan.refresh_from_db()
    assert plan.state == State.OPERATIONS_COMMITTEE


def test_return_from_a_draft_is_a_conflict_naming_the_state(client, persona):
    plan = plan_of(2027)
    response = as_(client, persona, "fg-formand").post(url("plan_return", plan),
                                                       {"reason": "Nej."})
    assert_conflict(response, "draft")


# --- who may do what --------------------------------------------------------------------------

def test_board_member_of_another_department_can_view_but_every_action_is_403(client, persona):
    plan = plan_of(2027)
    client = as_(client, persona, "ab-anden")
    page = html(client.get(url("plan_detail", plan)))
    assert "There is nothing for you to do on this plan now." in page
    assert url("plan_submit", plan) not in page
    assert client.get(url("revision_list", plan)).status_code == 200
    initiative = plan.initiatives.first()
    theme = themes_of(plan)[2]
    for target in [url("plan_submit", plan), url("plan_comment", plan),
                   url("plan_close_review", plan), url("plan_return", plan),
                   url("plan_sign", plan), url("plan_publish", plan),
                   url("plan_presentation", plan), url("plan_evaluate", plan),
                   url("plan_edit", plan), url("initiative_create", plan),
                   url("initiative_edit", plan, initiative.pk),
                   url("initiative_delete", plan, initiative.pk),
                   url("theme_justification", plan, theme.pk)]:
        assert client.post(target, {"text": "x", "reason": "x"}).status_code == 403, target
    plan.refresh_from_db()
    assert plan.state == State.DRAFT and plan.initiatives.count() == 2


def test_other_organisation_gets_404_on_every_plan_url(client, persona):
    client = as_(client, persona, "anden-org")
    for plan in (plan_of(2026), plan_of(2027)):
        initiative = plan.initiatives.first()
        theme = themes_of(plan)[1]
        targets = [url(name, plan) for name in (
            "plan_detail", "plan_edit", "initiative_create", "plan_submit", "plan_comment",
            "plan_close_review", "plan_return", "plan_sign", "plan_publish",
            "plan_presentation", "plan_evaluate", "revision_list")]
        targets += [url("initiative_edit", plan, initiative.pk),
                    url("initiative_delete", plan, initiative.pk),
                    url("theme_justification", plan, theme.pk),
                    url("revision_diff", plan) + "?a=1&b=1"]
        for target in targets:
            assert client.get(target).status_code in (404, 405), target
            assert client.post(target, {}).status_code == 404, target
    page = html(client.get(reverse("cycles:plan_list")))
    assert "Søbredden" not in page


def test_get_never_changes_a_plan(client, persona):
    plan = complete_2027_draft(persona)
    client = as_(client, persona, "sekretaer")
    assert client.get(url("plan_submit", plan)).status_code == 405
    assert client.get(url("plan_publish", plan)).status_code == 405
    plan.refresh_from_db()
    assert plan.state == State.DRAFT


def test_initiative_editor_refuses_with_409_when_the_plan_is_not_a_draft(client, persona):
    plan = plan_of(2026)
    initiative = plan.initiatives.first()
    client = as_(client, persona, "sekretaer")
    for response in [
        client.get(url("initiative_create", plan)),
        client.post(url("initiative_create", plan), initiative_data(plan)),
        client.post(url("initiative_edit", plan, initiative.pk),
                    initiative_data(plan, title="Ændret")),
        client.post(url("initiative_delete", plan, initiative.pk)),
        client.post(url("plan_edit", plan), {"title": "Ændret", "summary": ""}),
    ]:
        assert_conflict(response, "published")
    initiative.refresh_from_db()
    assert initiative.title != "Ændret"
    assert plan.initiatives.count() == 7


def test_submitting_an_incomplete_draft_lists_what_is_missing(client, persona):
    plan = plan_of(2027)
    response = as_(client, persona, "sekretaer").post(url("plan_submit", plan))
    assert response.status_code == 400
    assert 'role="alert"' in html(response)
    assert "needs an initiative or a written justification" in html(response)
    plan.refresh_from_db()
    assert plan.state == State.DRAFT


def test_submitting_a_plan_that_is_no_longer_a_draft_is_409(client, persona):
    response = as_(client, persona, "sekretaer").post(url("plan_submit", plan_of(2026)))
    assert_conflict(response, "published")


def test_initiative_form_shows_field_errors_from_the_service(client, persona):
    plan = plan_of(2027)
    client = as_(client, persona, "sekretaer")
    response = client.post(url("initiative_create", plan),
                           initiative_data(plan, departments=[], planned_start="1/2/2027"))
    assert response.status_code == 400
    assert response.context["form"].errors["planned_start"]
    response = client.post(url("initiative_create", plan), initiative_data(plan, departments=[]))
    assert response.status_code == 400
    assert response.context["form"].errors["departments"] == ["Choose at least one department."]
    page = html(response)
    assert "<legend>Departments</legend>" in page and "<legend>Scope</legend>" in page
    assert plan.initiatives.count() == 2


def test_initiative_owner_is_chosen_among_the_organisations_staff(client, persona):
    plan = plan_of(2027)
    form = as_(client, persona, "sekretaer").get(url("initiative_create", plan)).context["form"]
    owners = set(form.fields["owner"].queryset.values_list("username", flat=True))
    assert {"sekretaer", "driftschef", "serviceleder"} <= owners
    assert not owners & {"ab-formand", "fg-formand", "anden-org"}
    areas = form.fields["operations_areas"].queryset
    assert set(areas) == set(OperationsArea.objects.filter(organisation=plan.organisation))


def test_editor_edits_and_deletes_an_initiative_in_the_draft(client, persona):
    plan = plan_of(2027)
    initiative = plan.initiatives.get(scope=Initiative.Scope.AREAS)
    client = as_(client, persona, "sekretaer")
    form = client.get(url("initiative_edit", plan, initiative.pk)).context["form"]
    assert len(form.initial["operations_areas"]) == 2
    response = client.post(url("initiative_edit", plan, initiative.pk), initiative_data(
        plan, title="Digitale opslagstavler", scope="organisation", departments=[]))
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "Digitale opslagstavler"
    assert initiative.operations_areas.count() == 0
    assert "Do you want to delete" in html(client.get(url("initiative_delete", plan,
                                                          initiative.pk)))
    assert client.post(url("initiative_delete", plan, initiative.pk)).status_code == 302
    assert not plan.initiatives.filter(pk=initiative.pk).exists()


def test_secretary_publishes_by_hand_when_the_board_approved_but_the_flow_did_not(client,
                                                                                  persona):
    """Normally the flow publishes; the button is there when it has not (e.g. a flow bug)."""
    plan = walk_to(complete_2027_draft(persona), State.ORGANISATION_BOARD, persona)
    # Sign the board's approval directly, without the flow catching up.
    services.plan_sign(actor=persona("ob-formand"), plan=plan, decision="approve",
                       comment="Godkendt.", password=DEMO_PASSWORD)
    client = as_(client, persona, "sekretaer")
    assert url("plan_publish", plan) in html(client.get(url("plan_detail", plan)))
    assert client.post(url("plan_publish", plan)).status_code == 302
    plan.refresh_from_db()
    assert plan.state == State.PUBLISHED
    response = client.post(url("plan_publish", plan))
    assert_conflict(response, "published")


# --- sign-offs, revisions and staleness ------------------------------------------------------

def test_sign_page_shows_the_mandate_and_the_short_hash(client, persona):
    plan = walk_to(complete_2027_draft(persona), State.OPERATIONS_COMMITTEE, persona)
    response = as_(client, persona, "du-formand").get(url("plan_sign", plan))
    page = html(response)
    assert response.context["revision"] == plan.current_revision
    assert f'data-testid="sign-hash">{plan.current_revision.short_hash}<' in page
    assert 'data-testid="mandate">Chair<' in page
    assert '<legend>Decision</legend>' in page
    assert f'value="{plan.current_revision.sha256}"' in page


def test_only_the_chair_of_the_step_sees_the_sign_page(client, persona):
    plan = walk_to(complete_2027_draft(persona), State.OPERATIONS_COMMITTEE, persona)
    assert as_(client, persona, "ob-formand").get(url("plan_sign", plan)).status_code == 403
    assert as_(client, persona, "sekretaer").get(url("plan_sign", plan)).status_code == 403


def test_sign_page_in_a_state_without_a_signature_is_409(client, persona):
    response = as_(client, persona, "du-formand").get(url("plan_sign", plan_of(2027)))
    assert_conflict(response, "draft")


def test_authorised_vice_chair_signs_on_behalf_of_the_chair(client, persona):
    plan = walk_to(complete_2027_draft(persona), State.OPERATIONS_COMMITTEE, persona)
    committee = Body.objects.get(organisation=plan.organisation,
                                 kind=Body.Kind.OPERATIONS_COMMITTEE)
    vice = committee.memberships.get(role="vice_chair").person
    today = timezone.localdate()
    signing_authorisation_grant(actor=persona("du-formand"), body=committee, vice_chair=vice,
                                starts_on=today, ends_on=today + datetime.timedelta(days=7))
    client.force_login(vice)
    assert "on behalf of Poul Eskildsen" in html(client.get(url("plan_sign", plan)))
    vice.set_password(DEMO_PASSWORD)
    vice.save()
    client.force_login(vice)
    assert client.post(url("plan_sign", plan), sign_data(plan)).status_code == 302
    page = html(client.get(url("plan_detail", plan)))
    assert "on behalf of Poul Eskildsen" in page


def test_signature_on_a_revision_that_changed_meanwhile_is_409(client, persona):
    plan = walk_to(complete_2027_draft(persona), State.OPERATIONS_COMMITTEE, persona)
    response = as_(client, persona, "du-formand").post(
        url("plan_sign", plan), sign_data(plan, sha256="0" * 64))
    assert response.status_code == 409
    page = html(response)
    assert "The plan changed after you opened it" in page
    assert_conflict(response, "with the operations committee")
    assert f'value="{plan.current_revision.sha256}"' in page  # the form now carries the new one
    assert plan.sign_offs.count() == 0


def stale_scenario(persona) -> tuple[AnnualPlan, SignOff]:
    """DU approves, the board's chair returns it, an initiative changes, it is resubmitted."""
    plan = walk_to(complete_2027_draft(persona), State.ORGANISATION_BOARD, persona)
    committee_sign_off = plan.sign_offs.get(step=State.OPERATIONS_COMMITTEE)
    plan_act(services.plan_sign, actor=persona("ob-formand"), plan=plan, decision="return",
             comment="Energimålet skal skærpes.", password=DEMO_PASSWORD)
    initiative = plan.initiatives.order_by("position").first()
    services.initiative_update(actor=persona("sekretaer"), initiative=initiative,
                               title="Energistyring – fase 2 med skærpet mål")
    plan = walk_to(plan, State.OPERATIONS_COMMITTEE, persona)
    return plan, committee_sign_off


def test_sign_page_shows_the_diff_against_the_revision_the_signer_last_signed(client,
                                                                               persona):
    plan, earlier = stale_scenario(persona)
    page = html(as_(client, persona, "du-formand").get(url("plan_sign", plan)))
    assert plan.current_revision.short_hash in page
    assert earlier.revision.short_hash in page
    assert 'data-testid="diff"' in page
    assert "initiatives[1].title" in page
    assert "Initiative “Energistyring – fase 2 med skærpet mål” › title" in page
    assert "Energistyring – fase 2 med skærpet mål" in page


def test_stale_sign_off_is_shown_with_a_badge_and_kept(client, persona):
    plan, earlier = stale_scenario(persona)
    page = html(as_(client, persona, "ab-medlem").get(url("plan_detail", plan)))
    assert earlier.is_stale
    # The committee's approval and the board's return were both given on the old revision.
    assert page.count('data-testid="stale"') == 2
    assert "Energimålet skal skærpes." in page


def test_revision_list_and_diff_between_any_two_revisions(client, persona):
    plan, _earlier = stale_scenario(persona)
    client = as_(client, persona, "ab-anden")
    page = html(client.get(url("revision_list", plan)))
    assert page.count('class="revision-row"') == 2
    response = client.get(url("revision_diff", plan) + "?a=1&b=2")
    assert response.status_code == 200
    assert [c["path"] for c in response.context["changes"]] == ["initiatives[1].title"]
    response = client.get(url("revision_diff", plan) + "?a=2&b=2")
    assert 'data-testid="no-changes"' in html(response)


@pytest.mark.parametrize("query", ["", "?a=x&b=2", "?a=1", "?a=1&b=99", "?a=-1&b=2"])
def test_bad_revision_numbers_are_a_400_page(client, persona, query):
    plan = plan_of(2026)
    response = as_(client, persona, "ab-anden").get(url("revision_diff", plan) + query)
    assert response.status_code == 400
    assert 'role="alert"' in html(response)


# --- the overview and query counts -----------------------------------------------------------

def test_overview_lists_the_tasks_waiting_for_the_user(client, persona):
    page = html(as_(client, persona, "sekretaer").get(reverse("home")))
    assert "Waiting for you" in page
    # The published 2026 plan waits for its presentation, the 2027 draft for submission.
    assert page.count('class="task-row"') == 2
    assert "Register the presentation to the representatives&#x27; council" in page
    assert "Prepare the draft and submit it" in page
    assert url("plan_detail", plan_of(2026)) in page and url("plan_detail", plan_of(2027)) in page
    assert "operations secretary, Boligforeningen Søbredden" in page
    page = html(as_(client, persona, "ab-anden").get(reverse("home")))
    assert "Nothing is waiting for you." in page


def test_tasks_for_user_is_one_query(persona, django_assert_num_queries):
    secretary = persona("sekretaer")
    # One query: the tasks joined with their process, plan, organisation and mandate.
    with django_assert_num_queries(1), translation.override("en"):
        tasks = list(tasks_for_user(user=secretary))
        labels = [(t.mandate.plan.title, t.mandate.label) for t in tasks]
    assert labels == [("Årsplan 2026", "operations secretary, Boligforeningen Søbredden"),
                      ("Årsplan 2027", "operations secretary, Boligforeningen Søbredden")]


def add_initiatives(plan: AnnualPlan, actor, count: int) -> None:
    areas = list(OperationsArea.objects.filter(organisation=plan.organisation))
    departments = list(Department.objects.filter(organisation=plan.organisation))
    for index in range(count):
        services.initiative_create(
            actor=actor, plan=plan, theme=themes_of(plan)[1 + index % 4],
            title=f"Ekstra indsats {index}", owner=actor,
            scope=Initiative.Scope.AREAS if index % 2 else Initiative.Scope.DEPARTMENTS,
            operations_areas=areas[:2], departments=departments[:3])


def test_plan_detail_query_count_does_not_grow_with_initiatives(client, persona,
                                                                django_assert_num_queries):
    plan = plan_of(2027)
    secretary = persona("sekretaer")
    client = as_(client, persona, "sekretaer")
    client.get(url("plan_detail", plan))  # warm the session and content types
    # 1 session, 2 user,
    # 3 plan (with organisation, programme, revisions), 4 the programme's themes,
    # 5-6 the roles seen by plan_get_for_user (seats, staff),
    # 7-8 the roles again for the buttons (seats, staff),
    # 9 initiatives (with theme, owner, origin plan), 10 their areas, 11 their departments,
    # 12 the theme justifications,
    # 13 transitions, 14 sign-offs, 15 comments,
    # 16-18 the submit blockers (covered themes, justified themes, themes).
    with django_assert_num_queries(18):
        response = client.get(url("plan_detail", plan))
    assert response.context["initiative_count"] == 2
    add_initiatives(plan, secretary, 6)
    with django_assert_num_queries(18):
        response = client.get(url("plan_detail", plan))
    assert response.context["initiative_count"] == 8
    assert html(response).count('class="initiative-row"') == 8


def test_plan_list_query_count_does_not_grow_with_plans(client, persona,
                                                        django_assert_num_queries):
    client = as_(client, persona, "sekretaer")
    client.get(reverse("cycles:plan_list"))
    # 1 session, 2 user, 3 the plans (with organisation and current revision),
    # 4 the visible organisations, 5-6 the secretary's roles there (seats, staff),
    # 7 whether any of them may have a new plan.
    with django_assert_num_queries(7):
        response = client.get(reverse("cycles:plan_list"))
    assert html(response).count('class="plan-row"') == 2
    services.plan_create(actor=persona("sekretaer"), organisation=plan_of(2027).organisation,
                         year=2025, title="Årsplan 2025")
    with django_assert_num_queries(7):
        response = client.get(reverse("cycles:plan_list"))
    assert html(response).count('class="plan-row"') == 3


def test_an_empty_post_is_validated_not_ignored(client, persona):
    plan = walk_to(complete_2027_draft(persona), State.FOLLOW_UP_GROUP_REVIEW, persona)
    response = as_(client, persona, "fg-formand").post(url("plan_close_review", plan))
    assert response.status_code == 400
    assert response.context["form"].errors["recommendation"]
    plan.refresh_from_db()
    assert plan.state == State.FOLLOW_UP_GROUP_REVIEW
