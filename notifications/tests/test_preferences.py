"""Reminder preferences and unsubscribing: the preferences page, the unsubscribe address of
every e-mail (a GET only asks; a POST — also RFC 8058's one-click POST from a mail program,
without cookies or CSRF token — stops the e-mails), and the service behind both."""

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from notifications.emails import build_message
from notifications.ladder import Delivery
from notifications.models import NotificationPreference
from notifications.preferences import (
    person_for_unsubscribe_token,
    preference_save,
    unsubscribe_token,
)
from notifications.selectors import delivery_for
from notifications.tests.mail_fixtures import (  # noqa: F401 (autouse fixtures)
    SITE,
    _frozen_today,
    _site_url,
    fetched,
    notification,
    open_task,
)
from tests.pages import english_pages

pytestmark = pytest.mark.django_db

PREFERENCES = "/preferences/"


_english = english_pages()


def stored(person) -> str | None:
    return (NotificationPreference.objects.filter(person=person)
            .values_list("delivery", flat=True).first())


def checked(response) -> list[str]:
    """The values of the checked radio buttons."""
    import re

    return re.findall(r'<input type="radio" name="delivery" value="(\w+)"[^>]*checked',
                      response.content.decode())


# --- the preferences page ---------------------------------------------------------------------

def test_staff_see_the_daily_digest_as_their_default(client, persona):
    client.force_login(persona("driftschef"))
    response = client.get(PREFERENCES)

    assert response.status_code == 200
    page = response.content.decode()
    assert "A daily digest</strong> — the default for staff" in page
    assert checked(response) == ["daily"]
    assert "always come as separate e-mails" in page
    assert "E-mails come in Danish" in page
    assert f'href="{reverse("notifications:calendar")}"' in page


def test_board_members_see_the_weekly_digest_as_their_default(client, persona):
    client.force_login(persona("ab-formand"))
    response = client.get(PREFERENCES)

    assert "A weekly digest (first working day of the week)</strong> — the default for board " \
        "members" in \
        response.content.decode()
    assert checked(response) == ["weekly"]


def test_the_menu_links_to_the_preferences(client, persona):
    client.force_login(persona("ab-formand"))
    page = client.get(PREFERENCES).content.decode()
    assert f'<a href="{PREFERENCES}" aria-current="page">Preferences</a>' in page
    assert f'<a href="{PREFERENCES}"' in client.get("/").content.decode()


def test_a_chosen_preference_is_stored_audited_and_used(client, persona):
    member = persona("ab-formand")
    client.force_login(member)
    response = client.post(PREFERENCES, {"delivery": "each"})

    assert response.status_code == 302
    assert stored(member) == "each"
    assert delivery_for(member) == Delivery.EACH  # what the sweep reads
    entry = AuditEntry.objects.get(action="notifications.preference_save")
    assert entry.actor == member
    assert entry.summary == {"person": member.pk, "before": None, "after": "each",
                             "via": "preferences"}
    page = client.get(PREFERENCES)
    assert checked(page) == ["each"]
    assert "An e-mail for each reminder</strong>" in page.content.decode()
    assert "Without a choice of your own you would get a weekly digest" in \
        page.content.decode()


def test_an_unknown_choice_is_refused_with_the_field_error(client, persona):
    member = persona("ab-formand")
    client.force_login(member)
    response = client.post(PREFERENCES, {"delivery": "hourly"})

    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    assert "Choose one of the ways to get reminders." in response.content.decode()
    assert stored(member) is None


def test_the_service_changes_only_ones_own_preference(persona):
    with pytest.raises(PermissionDenied):
        preference_save(actor=persona("ab-anden"), person=persona("ab-formand"),
                        delivery="none")
    assert stored(persona("ab-formand")) is None


def test_saving_the_same_choice_again_writes_nothing(persona):
    member = persona("ab-formand")
    preference_save(actor=member, person=member, delivery="daily")
    preference_save(actor=member, person=member, delivery="daily")
    assert AuditEntry.objects.filter(action="notifications.preference_save").count() == 1


# --- unsubscribe ------------------------------------------------------------------------------

def unsubscribe_path(person) -> str:
    return reverse("notifications:unsubscribe", args=[unsubscribe_token(person)])


def test_opening_the_unsubscribe_link_changes_nothing(client, persona):
    member = persona("ab-formand")
    response = client.get(unsubscribe_path(member))  # not signed in, as from an e-mail

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="unsubscribe-form"' in page
    assert 'method="post"' in page
    assert stored(member) is None
    assert delivery_for(member) == Delivery.WEEKLY


def test_pressing_the_button_stops_the_reminder_emails(client, persona):
    member = persona("ab-formand")
    response = client.post(unsubscribe_path(member), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert 'data-testid="unsubscribed"' in response.content.decode()
    assert stored(member) == "none"
    assert delivery_for(member) == Delivery.NONE
    entry = AuditEntry.objects.get(action="notifications.preference_save")
    assert entry.actor is None
    assert entry.summary["via"] == "unsubscribe"


def test_a_mail_programs_one_click_post_works_without_session_or_csrf(persona):
    """RFC 8058: the mail program POSTs ``List-Unsubscribe=One-Click`` to the address in the
    e-mail's List-Unsubscribe header — no cookies, no CSRF token."""
    manager = persona("driftschef")
    message = build_message(fetched(notification(manager, task=open_task(manager))))
    url = message.message()["List-Unsubscribe"].strip("<>")
    assert url.startswith(SITE)
    mail_program = Client(enforce_csrf_checks=True)

    response = mail_program.post(url.removeprefix(SITE), "List-Unsubscribe=One-Click",
                                 content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert stored(manager) == "none"
    assert not response.cookies.get("sessionid")


def test_an_unknown_or_forged_token_is_404(client, persona):
    member = persona("ab-formand")
    other_salt = signing.Signer(salt="notifications.calendar").sign_object({"p": member.pk})
    token = unsubscribe_token(member)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in ("nonsense", other_salt, tampered, signing.Signer(
            salt="notifications.unsubscribe").sign_object({"p": "x"})):
        path = reverse("notifications:unsubscribe", args=[bad])
        assert client.get(path).status_code == 404
        assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert stored(member) is None


def test_the_token_names_its_person_and_no_other(persona):
    member, other = persona("ab-formand"), persona("ab-anden")
    assert person_for_unsubscribe_token(unsubscribe_token(member)) == member
    assert unsubscribe_token(member) != unsubscribe_token(other)
    assert unsubscribe_token(member) == unsubscribe_token(member)  # same in every e-mail


def test_an_inactive_persons_token_is_404(client, persona):
    member = persona("ab-formand")
    path = unsubscribe_path(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get(path).status_code == 404


def test_the_admin_saves_a_preference_through_the_service(client, persona):
    member = persona("ab-formand")
    client.force_login(persona("admin"))
    response = client.post("/admin/notifications/notificationpreference/add/",
                           {"person": member.pk, "delivery": "none"})

    assert response.status_code == 302
    assert stored(member) == "none"
    entry = AuditEntry.objects.get(action="notifications.preference_save")
    assert entry.summary["via"] == "admin"
    assert entry.actor == persona("admin")
