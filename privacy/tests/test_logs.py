"""No personal data in logs or e-mail subjects: a realistic stretch of use — sign-ins, a
lockout, a reminder pass whose SMTP server refuses a recipient (quoting the address), a missing
page, a crash, an erasure and a retention run — with every log at DEBUG and DEBUG on (Django
then logs each SQL statement with its parameters), and not one persona's name, username or
e-mail address in what was logged."""

import datetime
import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client

from fixtures.demo import DEMO_PASSWORD, PERSONAS
from governance.models import Person
from notifications.models import Notification
from notifications.services import run_pass
from privacy.services import person_erase, retention_apply
from privacy.tests.footprint import TODAY, step_down
from tests.clock import at, frozen_before_demo, frozen_on

pytestmark = pytest.mark.django_db

_frozen_today = frozen_before_demo(TODAY)
REFUSED = "driftschef@example.org"


class RefusingBackend(EmailBackend):
    """The in-memory mailbox, except that one recipient is refused the way SMTP servers do:
    with the address in the error."""

    def send_messages(self, messages):
        for message in messages:
            if REFUSED in " ".join(message.recipients()):
                raise smtplib.SMTPRecipientsRefused(
                    {REFUSED: (550, f"5.1.1 <{REFUSED}>: Recipient address rejected".encode())})
        return super().send_messages(messages)


@pytest.fixture
def everything_logged(caplog, settings):
    """Every logger at DEBUG except those the LOGGING setting holds back on purpose."""
    settings.DEBUG = True  # Django would log SQL with its parameters
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.security", "celery", "audit",
                 "governance", "cycles", "workflows", "notifications", "privacy", "config"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def personal_data_of_personas() -> list[str]:
    people = Person.objects.filter(username__in=[p.username for p in PERSONAS])
    return sorted({value for person in people for value in (
        person.get_full_name(), person.username, person.email) if value})


def test_a_day_of_use_logs_no_personal_data(everything_logged, settings, persona):
    needles = personal_data_of_personas()
    assert len(needles) == 3 * len(PERSONAS)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingBackend"}}
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2

    # Sign-ins: one that works, then wrong passwords until the lockout.
    assert Client().post("/login/", {"username": "ab-formand", "password": DEMO_PASSWORD},
                         REMOTE_ADDR="10.2.0.1").status_code == 302
    stranger = Client()
    statuses = [stranger.post("/login/", {"username": "ab-medlem", "password": "guess"},
                              REMOTE_ADDR="10.2.0.2").status_code for _ in range(6)]
    assert statuses[-1] == 429
    # The reminder pass (digests at 10:00 on a Monday), twice: the refused one fails for good.
    run_pass(now=at(TODAY, 10))
    with frozen_on(TODAY, hour=10):
        run_pass(now=at(TODAY, 10) + datetime.timedelta(minutes=5))
    refused = Notification.objects.get(recipient__email=REFUSED, kind="digest")
    assert refused.state == Notification.State.FAILED and REFUSED in refused.last_error
    assert mail.outbox  # the others went
    # A page that is not there, and a crash.
    client = Client(raise_request_exception=False)
    client.force_login(persona("ab-anden"))
    assert client.get("/plans/999999/").status_code == 404

    def crash(**kwargs):
        raise RuntimeError("the export broke")

    import privacy.views

    privacy.views.person_data_export, original = crash, privacy.views.person_data_export
    try:
        assert client.post("/me/data/").status_code == 500
    finally:
        privacy.views.person_data_export = original
    # An erasure and a retention run.
    step_down(persona, persona("ab-formand"))
    person_erase(actor=None, person=Person.objects.get(pk=persona("ab-formand").pk),
                 via="command")
    with frozen_on(TODAY + datetime.timedelta(days=200), hour=3):
        retention_apply()

    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}"
        for record in everything_logged.records)
    # The stretch was logged (the test would prove nothing otherwise) ...
    for expected in ("Internal Server Error: /me/data/", "Not Found: /plans/999999/",
                     "failed after 2 attempts: SMTPRecipientsRefused", "retention:"):
        assert expected in logged
    # ... and nobody in it.
    lowered = logged.lower()
    assert [needle for needle in needles if needle.lower() in lowered] == []


def test_no_e_mail_subject_names_a_person(settings, persona):
    """The reminder e-mails a real pass writes (notifications' own test checks each kind)."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    for username in ("sekretaer", "driftschef"):
        Person.objects.filter(username=username).update(language="en")
    run_pass(now=at(TODAY, 10))
    assert len(mail.outbox) >= 2
    names = [value for person in Person.objects.all()
             for value in (person.first_name, person.last_name, person.email) if value]
    for message in mail.outbox:
        assert [name for name in names if name in message.subject] == [], message.subject
