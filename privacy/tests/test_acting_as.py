"""The logs name mandates, never people: an authorised vice-chair's signature and a substitute's
step are written as "vice-chair on behalf of the chair" and "… (substitute)", with the person
acted for as an id in the audit summary (and the sign-off's foreign key); pages still show the
name, drawn from the person's row. So erasure never has to touch the hash-chained trail."""

import datetime

import pytest
from django.utils import timezone, translation

from audit.models import AuditEntry
from cycles import services
from cycles.models import AnnualPlan, PlanTransition, SignOff
from cycles.tests.test_views import complete_2027_draft, walk_to
from fixtures.demo import DEMO_PASSWORD
from governance.models import Body, Person
from governance.services import signing_authorisation_grant
from tests.pages import as_, html
from workflows import services as workflow_services
from workflows.services import plan_act

pytestmark = pytest.mark.django_db
State = AnnualPlan.State


def names_in_the_trail(person: Person) -> list[str]:
    """Audit entries whose acting-as or summary holds the person's name."""
    name = person.get_full_name()
    return [f"{e.action}: {e.acting_as} {e.summary}" for e in AuditEntry.objects.all()
            if name in e.acting_as or name in str(e.summary)]


def test_an_authorised_vice_chairs_signature_names_the_mandate_and_the_chair_by_id(
        client, persona):
    plan = walk_to(complete_2027_draft(persona), State.OPERATIONS_COMMITTEE, persona)
    committee = Body.objects.get(organisation=plan.organisation,
                                 kind=Body.Kind.OPERATIONS_COMMITTEE)
    chair, vice = persona("du-formand"), committee.memberships.get(role="vice_chair").person
    today = timezone.localdate()
    signing_authorisation_grant(actor=chair, body=committee, vice_chair=vice, starts_on=today,
                                ends_on=today + datetime.timedelta(days=7))
    vice.set_password(DEMO_PASSWORD)
    vice.save()

    plan_act(services.plan_sign, actor=vice, plan=plan, decision=SignOff.Decision.APPROVE,
             comment="Indstilles.", password=DEMO_PASSWORD)

    mandate = "næstformand på vegne af formanden, Driftsudvalget"
    assert PlanTransition.objects.filter(plan=plan).latest("pk").acting_as == mandate
    for action in ("plan.sign", "plan.recommend"):
        entry = AuditEntry.objects.filter(action=action, object_id=str(plan.pk)).latest("pk")
        assert (entry.actor, entry.acting_as, entry.summary["on_behalf_of"]) == (
            vice, mandate, chair.pk)
    assert SignOff.objects.filter(plan=plan).latest("pk").on_behalf_of == chair
    assert names_in_the_trail(chair) == []
    # The page still says on whose behalf, from the sign-off's foreign key.
    page = html(as_(client, persona, "sekretaer").get(f"/plans/{plan.pk}/",
                                                      HTTP_ACCEPT_LANGUAGE="en"))
    assert "on behalf of Poul Eskildsen" in page


def test_a_chair_signing_in_person_has_no_on_behalf_of(persona):
    plan = walk_to(complete_2027_draft(persona), State.ORGANISATION_BOARD, persona)
    entry = AuditEntry.objects.filter(action="plan.sign", object_id=str(plan.pk)).get()
    assert entry.acting_as == "formand, Driftsudvalget"
    assert "on_behalf_of" not in entry.summary


def test_a_staff_substitutes_step_is_logged_as_the_substitute_of_the_mandate(persona):
    secretary, substitute = persona("sekretaer"), persona("serviceleder")
    plan = complete_2027_draft(persona)
    today = timezone.localdate()
    workflow_services.delegation_create(
        actor=secretary, person=secretary, substitute=substitute,
        organisation_id=plan.organisation_id, starts_on=today,
        ends_on=today + datetime.timedelta(days=6), reason="Ferie")

    plan_act(services.plan_submit, actor=substitute, plan=plan)

    with translation.override("da"):
        expected = translation.gettext("%(mandate)s (substitute)") % {
            "mandate": "driftssekretær, Boligforeningen Søbredden"}
    transition = PlanTransition.objects.filter(plan=plan).latest("pk")
    assert (transition.actor, transition.acting_as) == (substitute, expected)
    entry = AuditEntry.objects.filter(action="plan.submit", object_id=str(plan.pk)).get()
    assert (entry.acting_as, entry.summary["on_behalf_of"]) == (expected, secretary.pk)
    assert names_in_the_trail(secretary) == []


def test_an_initiatives_new_owner_is_an_id_in_the_audit_summary(persona):
    plan = complete_2027_draft(persona)
    initiative = plan.initiatives.order_by("position").first()
    before = initiative.owner
    services.initiative_update(actor=persona("sekretaer"), initiative=initiative,
                               owner=persona("serviceleder"), title="Ny titel")
    entry = AuditEntry.objects.filter(action="initiative.update").latest("pk")
    assert entry.summary["after"] == {"owner": persona("serviceleder").pk, "title": "Ny titel"}
    assert before is not None and entry.summary["before"]["owner"] == before.pk
    assert names_in_the_trail(persona("serviceleder")) == []
