"""The demo outbox: the e-mails the file backend wrote, for superusers, newest first."""

import datetime

import pytest
import time_machine
from django.core.mail import mailers

from notifications.emails import build_message
from notifications.tests.mail_fixtures import (  # noqa: F401 (autouse fixtures)
    TODAY,
    _frozen_today,
    _site_url,
    fetched,
    notification,
    open_task,
    set_due,
)
from tests.clock import at
from tests.pages import english_pages

pytestmark = pytest.mark.django_db

OUTBOX = "/outbox/"


_english = english_pages()


@pytest.fixture
def file_backend(settings, tmp_path):
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(tmp_path / "mail")}}}
    return tmp_path / "mail"


def send(message, *, when: datetime.datetime) -> None:
    """Send through the configured backend at ``when`` (one connection: one file)."""
    with time_machine.travel(when):
        backend = mailers.default
        backend.send_messages([message])
        backend.close()


@pytest.fixture
def two_emails(persona):
    """A reminder at 08:00 and an escalated one (Cc the operations manager) at 11:00."""
    manager, secretary = persona("driftschef"), persona("sekretaer")
    task = open_task(manager)
    set_due(task, TODAY + datetime.timedelta(days=7))
    plan_task = open_task(secretary, follow_up=False)
    set_due(plan_task, datetime.date(2026, 2, 25))
    earlier = build_message(fetched(notification(manager, task=task)))
    later = build_message(fetched(notification(secretary, task=plan_task, rung="overdue-3",
                                               copy_to=manager)))
    return earlier, later


def test_the_outbox_shows_the_written_emails_newest_first(client, persona, file_backend,
                                                           two_emails):
    earlier, later = two_emails
    send(earlier, when=at(TODAY, 8))
    send(later, when=at(TODAY, 11))
    assert len(list(file_backend.glob("*.log"))) == 2
    client.force_login(persona("admin"))

    response = client.get(OUTBOX)

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 e-mails." in page
    first, second = page.index(later.subject), page.index(earlier.subject)
    assert first < second  # newest first
    assert "02.03.2026 11:00" in page[:second] and "02.03.2026 08:00" in page[second:]
    assert "Mette Skovgaard &lt;sekretaer@example.org&gt;" in page  # To
    assert '<dd data-testid="outbox-cc">Henrik Kjærsgaard &lt;driftschef@example.org&gt;' \
        in page
    assert "aarshjul-task-" in page and "(text/calendar; method=PUBLISH" in page
    assert page.count('data-testid="outbox-text"') == 2  # the text bodies
    assert page.count("https://aarshjul.example.org/tasks/") >= 2


def test_several_emails_in_one_file_are_each_shown(client, persona, file_backend,
                                                   two_emails):
    with time_machine.travel(at(TODAY, 9)):
        backend = mailers.default
        backend.send_messages(list(two_emails))
        backend.close()
    client.force_login(persona("admin"))

    page = client.get(OUTBOX).content.decode()

    assert page.count('data-testid="outbox-message"') == 2
    for message in two_emails:
        assert message.subject in page


def test_an_empty_outbox_says_so(client, persona, file_backend):
    client.force_login(persona("admin"))
    response = client.get(OUTBOX)
    assert response.status_code == 200
    assert 'data-testid="outbox-empty"' in response.content.decode()


def test_without_the_file_backend_there_is_no_outbox(client, persona):
    """Tests run with the in-memory backend, as production runs with SMTP."""
    client.force_login(persona("admin"))
    assert client.get(OUTBOX).status_code == 404


@pytest.mark.parametrize("username", ["sekretaer", "ab-formand"])
def test_only_superusers_read_the_outbox(client, persona, file_backend, username):
    client.force_login(persona(username))
    assert client.get(OUTBOX).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, file_backend):
    response = client.get(OUTBOX)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
