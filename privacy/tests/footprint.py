"""A person who has used Årshjul for a while: ab-formand (Jonas Friis, chair of department 1's
board in area 1, member of the representatives' council) signs in (and mistypes once), gets an
API token, sets preferences, a saved filter and a calendar address, sets up two-factor, names a
substitute for a week and cancels it, authorises his vice-chair to sign, writes a comment and a
board remark, acknowledges the follow-up, gets reminder e-mails (one copy failed with his address
in the error), is edited in the admin, and appears by name in a transition written before the
logs held ids only.

Built through the services and the login page, as real use would. Time is frozen on Monday
02.03.2026 (before the demo loads) by the test modules that use it.
"""

import datetime
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.test import Client
from django.utils import timezone

from cycles import services as cycle_services
from cycles.models import FollowUp, FollowUpRemark, FollowUpTransition, MeetingKind
from fixtures.demo import DEMO_PASSWORD, DEMO_SLUG
from governance import services as governance_services
from governance.models import Membership, Person
from notifications.calendar import calendar_feed_create
from notifications.models import Notification
from notifications.preferences import preference_save
from workflows import services as workflow_services
from workflows.services import follow_up_act, open_follow_up_tasks

TODAY = datetime.date(2026, 3, 2)
USERNAME = "ab-formand"


@dataclass
class Footprint:
    person: Person
    follow_up: FollowUp
    calendar_token: str
    api_token: str


def case_of(number: int, half: str = FollowUp.Half.H2) -> FollowUp:
    return FollowUp.objects.select_related("department__board").get(
        plan__organisation__slug=DEMO_SLUG, plan__year=2026, department__number=number,
        half=half)


def sign_in(client: Client, password: str, address: str = "10.0.0.7"):
    return client.post("/login/", {"username": USERNAME, "password": password},
                       REMOTE_ADDR=address, HTTP_USER_AGENT="Firefox/140 (Windows)")


def leave_footprint(persona) -> Footprint:
    chair, member = persona(USERNAME), persona("ab-medlem")
    driftschef = persona("driftschef")
    organisation_id = Membership.objects.filter(person=chair).first().body.organisation_id

    assert sign_in(Client(), "wrong password", address="10.0.0.8").status_code == 200
    assert sign_in(Client(), DEMO_PASSWORD).status_code == 302
    api_token = Client().post("/api/v1/auth/token/", {
        "username": USERNAME, "password": DEMO_PASSWORD}, REMOTE_ADDR="10.0.0.7").json()["token"]

    preference_save(actor=chair, person=chair, delivery="each")
    feed = calendar_feed_create(actor=chair)
    workflow_services.saved_filter_save(person=chair, name="Mine frister", query="view=mine")
    _two_factor_devices(chair)
    delegation = workflow_services.delegation_create(
        actor=chair, person=chair, substitute=member, organisation_id=organisation_id,
        starts_on=TODAY, ends_on=TODAY + datetime.timedelta(days=6),
        reason="Ferie på Mallorca med familien")
    workflow_services.delegation_cancel(actor=chair, delegation=delegation)

    case = case_of(1)
    board = case.department.board
    vice = Membership.objects.get(body=board, role="vice_chair").person
    governance_services.signing_authorisation_grant(
        actor=chair, body=board, vice_chair=vice, starts_on=TODAY - datetime.timedelta(days=30),
        ends_on=TODAY - datetime.timedelta(days=20))

    # Staff prepare the case; the chair comments, remarks and acknowledges it.
    remarks = [{"initiative": r.initiative, "status": "ongoing", "progress": 40,
                "text": "Godt i gang."} for r in FollowUpRemark.objects.filter(follow_up=case)]
    follow_up_act(cycle_services.follow_up_save, actor=driftschef, follow_up=case,
                  summary="Halvåret gik efter planen.", remarks=remarks)
    follow_up_act(cycle_services.follow_up_mark_ready, actor=driftschef, follow_up=case)
    [task] = open_follow_up_tasks(follow_up=case)
    assert task.owner == chair
    from notifications.services import run_pass

    run_pass(now=timezone.now())  # the "new task" e-mail to him (he chose one per reminder)
    assert Notification.objects.filter(recipient=chair).exists()
    workflow_services.task_comment_add(actor=chair, task=task, text="Jeg tager den på mødet.")
    cycle_services.board_remark_add(actor=chair, follow_up=case,
                                    text="Bestyrelsen vil gerne se tallene for vaskeriet.")
    follow_up_act(cycle_services.follow_up_acknowledge, actor=chair, follow_up=case,
                  presented_on=TODAY, meeting_kind=MeetingKind.BOARD_MEETING,
                  minutes_reference="Referat pkt. 3")

    # A reminder to someone else with him copied, whose error quotes his address.
    Notification.objects.create(
        key=f"{driftschef.pk}:-:overdue-3:-", recipient=driftschef, copy_to=chair,
        rung="overdue-3", state=Notification.State.FAILED, created_at=timezone.now(),
        last_error=f"SMTPRecipientsRefused: {{'{chair.email}': (550, b'5.1.1 unknown')}}")
    # The admin changed him (its log keeps his name as the object's description).
    admin = superuser()
    LogEntry.objects.log_actions(user_id=admin.pk, queryset=[chair], action_flag=CHANGE,
                                 change_message="Changed phone.", single_object=True)
    # A transition written before acting-as held ids only (the demo is rebuilt, but a
    # database from before may have these).
    FollowUpTransition.objects.filter(follow_up=case, to_state="presented").update(
        acting_as=f"formand, {board.name}, på vegne af {chair.get_full_name()}")
    Person.objects.filter(pk=chair.pk).update(phone="+45 20 30 40 50")
    return Footprint(Person.objects.get(pk=chair.pk), case, feed.token, api_token)


def superuser() -> Person:
    return (Person.objects.filter(is_superuser=True).order_by("pk").first()
            or Person.objects.create_superuser("gdpr-admin", "gdpr-admin@example.org",
                                               "a long admin password"))


def _two_factor_devices(person: Person) -> None:
    from django.apps import apps

    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=person, name=f"{person.get_full_name()}s telefon",
                              confirmed=True)
    StaticDevice.objects.create(user=person, name="recovery").token_set.create(token="abc123")


def step_down(persona, person: Person) -> None:
    """End all of ``person``'s terms yesterday; a new chair takes department 1's board from
    today and the open tasks move to them."""
    yesterday = TODAY - datetime.timedelta(days=1)
    for membership in Membership.objects.filter(person=person):
        if membership.ends_on is None or membership.ends_on >= TODAY:
            governance_services.membership_end(actor=None, membership=membership,
                                               ends_on=yesterday)
    board = case_of(1).department.board
    successor = governance_services.person_create(
        actor=None, username="ny-formand", first_name="Ny", last_name="Formand",
        email="ny-formand@example.org")
    governance_services.membership_start(actor=None, person=successor, body=board,
                                         role="chair", starts_on=TODAY)
    workflow_services.reroute_open_tasks(organisation_id=board.organisation_id)
