"""Optional two-factor for signers: an organisation that requires it gets a code from an
authenticator app before anyone signs, approves, returns or publishes on a body's behalf.

The demo organisation (Søbredden) does not require it; the tests switch it on. Codes are real
TOTP codes computed from the device's key (django_otp.oath.TOTP) at the frozen time; the clock
moves on (``clock.shift``) where a fresh code or the end of a throttle delay is needed. The day
is frozen on 20.04.2027 before the demo loads; the 2027 draft is walked to the organisation
board, where ob-formand signs. Pages are requested in English.
"""

import datetime
import re
import time
from base64 import b32encode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit.models import AuditEntry
from cycles import services as cycles
from cycles.models import AnnualPlan, FollowUp, MeetingKind, SignOff
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG, OTHER_SLUG
from governance import two_factor_services
from governance.models import Organisation
from permissions.matrix import MATRIX, Action
from permissions.two_factor import (
    SIGNER_ACTIONS,
    organisations_requiring_two_factor_of,
    two_factor_required_for,
)
from tests.pages import as_, english_pages, html
from tests.test_plan_api import walk_to
from workflows.services import follow_up_act

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2027, 4, 20, 10, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))


@pytest.fixture(autouse=True)
def clock():
    """Stopped on 20.04.2027 10:00 (before the demo loads); ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


_english = english_pages()


# --- helpers ------------------------------------------------------------------------------

def demo_organisation() -> Organisation:
    return Organisation.objects.get(slug=DEMO_SLUG)


def require_two_factor(required: bool = True) -> Organisation:
    return two_factor_services.organisation_require_two_factor(
        actor=None, organisation=demo_organisation(), required=required)


def board_plan(persona) -> AnnualPlan:
    """The demo's 2027 plan, waiting for the organisation board's (ob-formand's) signature."""
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    return walk_to(plan, AnnualPlan.State.ORGANISATION_BOARD, persona)


def code_now(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def with_authenticator(person) -> tuple[TOTPDevice, list[str]]:
    """Two-factor set up for ``person`` through the services, as the pages do."""
    pending = two_factor_services.two_factor_setup_start(actor=person)
    enabled = two_factor_services.two_factor_enable(actor=person, code=code_now(pending))
    return TOTPDevice.objects.get(pk=enabled.device.pk), enabled.recovery_codes


def sign_url(plan) -> str:
    return reverse("cycles:plan_sign", args=[plan.pk])


def sign_data(plan) -> dict:
    return {"decision": SignOff.Decision.APPROVE, "comment": "Godkendt.",
            "password": DEMO_PASSWORD, "expected_sha256": plan.current_revision.sha256}


def api_sign(client, plan):
    return client.post(f"/api/v1/plans/{plan.pk}/sign/",
                       {**sign_data(plan), "decision": "approve"}, format="json")


def verify(client, code: str, next_url: str = ""):
    return client.post(reverse("two_factor:verify"), {"code": code, "next": next_url})


def entries(action: str, person) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_id=str(person.pk),
                                          object_type="governance.person").order_by("pk"))


def field_error(response) -> str:
    return " ".join(response.context["form"].errors.get("code", []))


# --- the rule -----------------------------------------------------------------------------

def test_the_demo_organisation_does_not_require_two_factor(demo):
    assert not demo_organisation().require_two_factor_for_signers
    assert not Organisation.objects.filter(require_two_factor_for_signers=True).exists()


def test_signer_actions_are_the_sign_off_and_approval_steps_of_the_matrix():
    assert SIGNER_ACTIONS == {
        Action.PLAN_SIGN_COMMITTEE, Action.PLAN_SIGN_BOARD, Action.PLAN_RETURN_FROM_REVIEW,
        Action.PLAN_RETURN_FROM_COMMITTEE, Action.PLAN_RETURN_FROM_BOARD,
        Action.PLAN_CLOSE_REVIEW, Action.PLAN_PUBLISH, Action.PLAN_EVALUATE,
        Action.FOLLOW_UP_ACKNOWLEDGE}
    assert SIGNER_ACTIONS <= set(MATRIX)


def test_two_factor_is_required_only_for_signer_actions_where_the_organisation_asks(
        demo, persona):
    chair = persona("ob-formand")
    organisation = demo_organisation()
    assert not two_factor_required_for(person=chair, organisation=organisation,
                                       action=Action.PLAN_SIGN_BOARD)
    organisation = require_two_factor()
    assert two_factor_required_for(person=chair, organisation=organisation,
                                   action=Action.PLAN_SIGN_BOARD)
    assert not two_factor_required_for(person=chair, organisation=organisation,
                                       action=Action.PLAN_VIEW)
    assert not two_factor_required_for(person=persona("sekretaer"), organisation=organisation,
                                       action=Action.PLAN_EDIT)


def test_the_signers_of_a_requiring_organisation_are_told_so_and_nobody_else(demo, persona):
    require_two_factor()
    for signer in ("ob-formand", "du-formand", "fg-formand", "ab-formand", "sekretaer"):
        assert [o.slug for o in organisations_requiring_two_factor_of(
            person=persona(signer))] == [DEMO_SLUG], signer
    for other in ("ab-medlem", "fg-medlem", "serviceleder", "anden-org"):
        assert organisations_requiring_two_factor_of(person=persona(other)) == [], other


def test_changing_the_requirement_is_audited_in_the_organisations_chain(demo):
    organisation = require_two_factor()
    entry = AuditEntry.objects.get(action="organisation.two_factor_requirement")
    assert entry.organisation_id == organisation.pk
    assert entry.summary == {"before": False, "after": True}
    require_two_factor()  # no change, no entry
    assert AuditEntry.objects.filter(action="organisation.two_factor_requirement").count() == 1


def test_the_requirement_is_switched_on_in_the_admin_and_audited(demo, client):
    from governance.models import Person

    admin = Person.objects.create_superuser("admin2fa", "admin@example.org", "x" * 12)
    client.force_login(admin)
    organisation = demo_organisation()
    address = reverse("admin:governance_organisation_change", args=[organisation.pk])
    page = client.get(address)
    assert 'name="require_two_factor_for_signers"' in html(page)
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["require_two_factor_for_signers"] = "on"
    response = client.post(address, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert demo_organisation().require_two_factor_for_signers
    entry = AuditEntry.objects.get(action="organisation.two_factor_requirement")
    assert (entry.actor_id, entry.organisation_id) == (admin.pk, organisation.pk)


# --- organisations that do not require it -----------------------------------------------

def test_without_the_requirement_ob_formand_signs_without_a_second_factor(
        demo, persona, client):
    plan = board_plan(persona)
    chair = as_(client, persona, "ob-formand")
    assert chair.get(sign_url(plan)).status_code == 200
    response = chair.post(sign_url(plan), sign_data(plan))
    assert response.status_code == 302
    assert response.url == reverse("cycles:plan_detail", args=[plan.pk])
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.PUBLISHED


def test_another_organisations_requirement_does_not_reach_this_one(demo, persona):
    Organisation.objects.filter(slug=OTHER_SLUG).update(require_two_factor_for_signers=True)
    plan = board_plan(persona)
    client = APIClient()
    client.force_authenticate(persona("ob-formand"))
    assert api_sign(client, plan).status_code == 200
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.PUBLISHED


# --- the sign-off page when it is required ----------------------------------------------

def test_ob_formand_without_an_authenticator_is_sent_to_set_it_up_and_nothing_is_signed(
        demo, persona, client):
    plan = board_plan(persona)
    require_two_factor()
    chair = as_(client, persona, "ob-formand")
    for response in (chair.get(sign_url(plan)), chair.post(sign_url(plan), sign_data(plan))):
        assert response.status_code == 302
        assert response.url == f"{reverse('two_factor:status')}?next=%2Fplans%2F{plan.pk}%2Fsign%2F"
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.ORGANISATION_BOARD
    assert not SignOff.objects.filter(plan=plan, step="organisation_board").exists()
    page = html(chair.get(f"{reverse('two_factor:status')}?next={sign_url(plan)}"))
    assert "requires a code from your authenticator app" in page  # the message says why
    assert "Two-factor is off" in page


def test_ob_formand_with_an_authenticator_is_asked_for_a_code_first(demo, persona, client):
    plan = board_plan(persona)
    require_two_factor()
    with_authenticator(persona("ob-formand"))
    chair = as_(client, persona, "ob-formand")  # a new session: not verified
    response = chair.post(sign_url(plan), sign_data(plan))
    assert response.status_code == 302
    assert response.url == f"{reverse('two_factor:verify')}?next=%2Fplans%2F{plan.pk}%2Fsign%2F"
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.ORGANISATION_BOARD


def test_the_api_answers_403_two_factor_required_and_signs_nothing(demo, persona, client):
    plan = board_plan(persona)
    require_two_factor()
    with_authenticator(persona("ob-formand"))
    token_client = APIClient()
    token_client.force_authenticate(persona("ob-formand"))
    session_client = APIClient()
    session_client.force_login(persona("ob-formand"))
    for api in (token_client, session_client):
        response = api_sign(api, plan)
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "two_factor_required"
        assert "/two-factor/verify/" in body["detail"]
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.ORGANISATION_BOARD


def test_the_answers_for_people_who_may_not_sign_stay_403_and_404(demo, persona, client):
    plan = board_plan(persona)
    require_two_factor()
    # ab-formand sees the plan but does not sign for the board; anden-org cannot see it.
    assert as_(client, persona, "ab-formand").get(sign_url(plan)).status_code == 403
    assert as_(client, persona, "anden-org").get(sign_url(plan)).status_code == 404
    api = APIClient()
    api.force_authenticate(persona("ab-formand"))
    assert api_sign(api, plan).json()["code"] == "permission_denied"


def test_a_step_that_is_not_a_sign_off_needs_no_second_factor(demo, persona, client):
    require_two_factor()
    plan = AnnualPlan.objects.get(organisation__slug=DEMO_SLUG, year=2027)
    walk_to(plan, AnnualPlan.State.FOLLOW_UP_GROUP_REVIEW, persona)
    response = as_(client, persona, "fg-medlem").post(
        reverse("cycles:plan_comment", args=[plan.pk]), {"text": "Fint."})
    assert response.status_code == 302
    assert plan.comments.filter(text="Fint.").exists()
    # ...while the follow-up group's chair must verify before closing the review.
    response = as_(client, persona, "fg-formand").get(
        reverse("cycles:plan_close_review", args=[plan.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor:status"))


# --- set up, verify, sign -----------------------------------------------------------------

def test_ob_formand_sets_up_two_factor_and_then_signs(demo, persona, client):
    plan = board_plan(persona)
    require_two_factor()
    chair_person = persona("ob-formand")
    chair = as_(client, persona, "ob-formand")
    status_url = f"{reverse('two_factor:status')}?next=%2Fplans%2F{plan.pk}%2Fsign%2F"
    response = chair.post(reverse("two_factor:setup"), {"next": sign_url(plan)})
    assert response.status_code == 302 and response.url == status_url
    page = html(chair.get(status_url))
    # The QR code is inline SVG markup: no image file, no style attribute, no script.
    qr = re.search(r'<svg class="qr-code" role="img"[^>]*>.*?</svg>', page, re.S)
    assert qr and "<path" in qr.group(0)
    assert "style=" not in page and "<script" not in page
    pending = TOTPDevice.objects.get(user=chair_person, confirmed=False)
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page).group(1)
    assert secret.replace(" ", "") == b32encode(pending.bin_key).decode()

    response = chair.post(reverse("two_factor:confirm"),
                          {"code": code_now(pending), "next": sign_url(plan)})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", html(response))
    assert len(codes) == 10 == StaticToken.objects.filter(device__user=chair_person).count()
    assert TOTPDevice.objects.get(pk=pending.pk).confirmed

    # Confirming verified this session: the sign-off page opens and the signature is taken.
    assert chair.get(sign_url(plan)).status_code == 200
    assert chair.post(sign_url(plan), sign_data(plan)).status_code == 302
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.PUBLISHED
    assert [e.action for e in AuditEntry.objects.filter(
        object_type="governance.person", object_id=str(chair_person.pk),
        action__startswith="two_factor.")] == ["two_factor.setup_start", "two_factor.enable"]
    assert set(AuditEntry.objects.filter(action__startswith="two_factor.")
               .values_list("organisation_id", flat=True)) == {None}  # the global chain


def test_a_wrong_set_up_code_is_400_and_two_factor_stays_off(demo, persona, client):
    chair = as_(client, persona, "ob-formand")
    chair.post(reverse("two_factor:setup"))
    pending = TOTPDevice.objects.get(user=persona("ob-formand"))
    wrong = f"{(int(code_now(pending)) + 1) % 1_000_000:06d}"
    response = chair.post(reverse("two_factor:confirm"), {"code": wrong})
    assert response.status_code == 400
    assert "The code is not correct" in html(response)
    assert not TOTPDevice.objects.get(pk=pending.pk).confirmed
    assert [e.summary for e in entries("two_factor.verify_failed", persona("ob-formand"))] == [
        {"stage": "setup", "method": "totp", "reason": "wrong_code"}]


def test_verifying_with_a_code_lets_ob_formand_sign_by_page_and_by_api(
        demo, persona, client, clock):
    plan = board_plan(persona)
    require_two_factor()
    device, _codes = with_authenticator(persona("ob-formand"))
    chair = as_(client, persona, "ob-formand")
    assert html(chair.get(reverse("two_factor:verify"))).count('name="code"') == 1
    clock.shift(30)  # the code used at set-up cannot be used again
    response = verify(chair, code_now(device), sign_url(plan))
    assert response.status_code == 302 and response.url == sign_url(plan)
    assert chair.get(sign_url(plan)).status_code == 200
    # The verified browser session also signs through the API.
    response = chair.post(f"/api/v1/plans/{plan.pk}/sign/",
                          {**sign_data(plan), "decision": "approve"},
                          content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == AnnualPlan.State.PUBLISHED
    assert entries("two_factor.verify", persona("ob-formand"))[-1].summary == {"method": "totp"}


def test_a_wrong_code_is_400_with_a_field_error_and_then_throttled(
        demo, persona, client, clock):
    plan = board_plan(persona)
    require_two_factor()
    device, _codes = with_authenticator(persona("ob-formand"))
    chair = as_(client, persona, "ob-formand")
    clock.shift(30)
    right = code_now(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = verify(chair, wrong, sign_url(plan))
    assert response.status_code == 400
    assert "The code is not correct" in field_error(response)
    # At once, even the right code is refused: the device waits 1 s after a failure...
    response = verify(chair, right, sign_url(plan))
    assert response.status_code == 429
    assert "Wait 1 second" in field_error(response)
    assert chair.post(sign_url(plan), sign_data(plan)).status_code == 302  # to verify
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.ORGANISATION_BOARD
    # ...and twice as long after each further failure.
    clock.shift(1)
    assert verify(chair, wrong).status_code == 400
    response = verify(chair, right)
    assert response.status_code == 429 and "Wait 2 seconds" in field_error(response)
    clock.shift(2)
    assert verify(chair, right, sign_url(plan)).status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0
    failed = entries("two_factor.verify_failed", persona("ob-formand"))
    assert [e.summary["reason"] for e in failed] == [
        "wrong_code", "throttled", "wrong_code", "throttled"]
    assert {e.organisation_id for e in failed} == {None}


def test_a_malformed_code_is_a_400_field_error_and_not_counted(demo, persona, client):
    device, _codes = with_authenticator(persona("ob-formand"))
    chair = as_(client, persona, "ob-formand")
    for code in ("", "12345", "1234567", "abc", "x" * 30):
        response = verify(chair, code)
        assert response.status_code == 400, code
        assert field_error(response)
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0


def test_a_recovery_code_verifies_once(demo, persona, client):
    plan = board_plan(persona)
    require_two_factor()
    chair_person = persona("ob-formand")
    _device, codes = with_authenticator(chair_person)
    chair = as_(client, persona, "ob-formand")
    response = verify(chair, codes[0].upper()[:4] + "-" + codes[0][4:], sign_url(plan))
    assert response.status_code == 302 and response.url == sign_url(plan)
    assert "9 are left" in html(chair.get(sign_url(plan)))
    assert StaticToken.objects.filter(device__user=chair_person).count() == 9
    assert entries("two_factor.verify", chair_person)[-1].summary == {
        "method": "recovery", "recovery_codes_left": 9}

    again = as_(Client(HTTP_ACCEPT_LANGUAGE="en"), persona, "ob-formand")  # another session
    response = verify(again, codes[0])
    assert response.status_code == 400
    assert again.post(sign_url(plan), sign_data(plan)).status_code == 302
    assert AnnualPlan.objects.get(pk=plan.pk).state == AnnualPlan.State.ORGANISATION_BOARD


def test_new_recovery_codes_replace_the_old_ones(demo, persona, client, clock):
    person = persona("ob-formand")
    device, old = with_authenticator(person)
    clock.shift(30)
    response = as_(client, persona, "ob-formand").post(
        reverse("two_factor:recovery_codes"), {"code": code_now(device)})
    assert response.status_code == 200
    new = [c.replace("-", "") for c in re.findall(r"<li>([a-z2-7-]{9})</li>", html(response))]
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=person).values_list(
        "token", flat=True)) == set(new)
    assert entries("two_factor.recovery_codes_renew", person)


def test_turning_two_factor_off_needs_a_current_code_and_ends_the_verification(
        demo, persona, client, clock):
    plan = board_plan(persona)
    require_two_factor()
    person = persona("ob-formand")
    device, _codes = with_authenticator(person)
    chair = as_(client, persona, "ob-formand")
    clock.shift(30)
    assert verify(chair, code_now(device)).status_code == 302
    page = html(chair.get(reverse("two_factor:disable")))
    assert "cannot sign, approve or return" in page  # required by Søbredden: the warning
    clock.shift(30)
    wrong = f"{(int(code_now(device)) + 1) % 1_000_000:06d}"
    response = chair.post(reverse("two_factor:disable"), {"code": wrong})
    assert response.status_code == 400 and TOTPDevice.objects.filter(user=person).exists()
    clock.shift(30)
    response = chair.post(reverse("two_factor:disable"), {"code": code_now(device)})
    assert response.status_code == 302 and response.url == reverse("two_factor:status")
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    assert entries("two_factor.disable", person)[0].summary == {"method": "totp"}
    # The session is no longer verified, and without an authenticator: set it up again.
    response = chair.get(sign_url(plan))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor:status"))


def test_set_up_cannot_start_again_while_two_factor_is_on(demo, persona, client):
    with_authenticator(persona("ob-formand"))
    response = as_(client, persona, "ob-formand").post(reverse("two_factor:setup"))
    assert response.status_code == 400
    assert "already on" in html(response)
    assert TOTPDevice.objects.filter(user=persona("ob-formand")).count() == 1


def test_verify_without_an_authenticator_goes_to_set_up_and_keeps_next(demo, persona, client):
    response = as_(client, persona, "ob-formand").get(
        reverse("two_factor:verify"), {"next": "/plans/"})
    assert response.status_code == 302
    assert response.url == f"{reverse('two_factor:status')}?next=%2Fplans%2F"


def test_a_next_address_on_another_site_is_ignored(demo, persona, client, clock):
    device, _codes = with_authenticator(persona("ob-formand"))
    clock.shift(30)
    response = verify(as_(client, persona, "ob-formand"), code_now(device),
                      "https://evil.example/plans/")
    assert response.status_code == 302 and response.url == reverse("two_factor:status")


def test_the_two_factor_pages_are_in_the_menu_and_never_cached(demo, persona, client):
    chair = as_(client, persona, "ob-formand")
    response = chair.get(reverse("home"))
    assert f'href="{reverse("two_factor:status")}"' in html(response)
    response = chair.get(reverse("two_factor:status"))
    assert "no-store" in response["Cache-Control"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


# --- the follow-up acknowledgement ----------------------------------------------------------

def ready_case(persona) -> FollowUp:
    """Department 1's H2 2026 case, prepared by serviceleder and sent to ab-formand's board."""
    case = FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                department__number=1, half=FollowUp.Half.H2)
    remarks = [{"initiative": r.initiative, "status": "ongoing", "progress": 40,
                "text": "I gang."} for r in case.remarks.select_related("initiative")]
    follow_up_act(cycles.follow_up_save, actor=persona("serviceleder"), follow_up=case,
                  summary="Efter planen.", remarks=remarks)
    follow_up_act(cycles.follow_up_mark_ready, actor=persona("serviceleder"),
                  follow_up=FollowUp.objects.get(pk=case.pk))
    return FollowUp.objects.get(pk=case.pk)


def test_ab_formand_verifies_before_acknowledging_a_follow_up(demo, persona, client, clock):
    case = ready_case(persona)
    require_two_factor()
    person = persona("ab-formand")
    address = reverse("cycles:follow_up_acknowledge", args=[case.pk])
    data = {"presented_on": "20.04.2027", "meeting_kind": MeetingKind.BOARD_MEETING,
            "minutes_reference": "Pkt. 3"}
    chair = as_(client, persona, "ab-formand")
    response = chair.post(address, data)
    case_page = reverse("cycles:follow_up_detail", args=[case.pk])
    assert response.status_code == 302
    assert response.url == f"{reverse('two_factor:status')}?next={case_page.replace('/', '%2F')}"
    api = APIClient()
    api.force_authenticate(person)
    response = api.post(f"/api/v1/follow-ups/{case.pk}/acknowledge/",
                        {"presented_on": "2027-04-20", "meeting_kind": "board_meeting"},
                        format="json")
    assert response.status_code == 403 and response.json()["code"] == "two_factor_required"
    assert FollowUp.objects.get(pk=case.pk).state == FollowUp.State.READY_FOR_BOARD

    device, _codes = with_authenticator(person)
    clock.shift(30)
    assert verify(chair, code_now(device), case_page).url == case_page
    assert chair.post(address, data).status_code == 302
    assert FollowUp.objects.get(pk=case.pk).state == FollowUp.State.PRESENTED
    # Staff preparing the case never need the second factor.
    assert "follow_up.prepare" not in {a.value for a in SIGNER_ACTIONS}
