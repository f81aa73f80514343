"""Server-rendered pages: login, landing page with roles, language, error pages."""

import pytest
from django.urls import reverse

from fixtures.demo import DEMO_PASSWORD
from governance.selectors import person_mandates_on

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client, demo):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_with_demo_password_lands_on_the_overview(client, demo):
    response = client.post(reverse("login"),
                           {"username": "fg-formand", "password": DEMO_PASSWORD}, follow=True)
    assert response.request["PATH_INFO"] == "/"
    assert response.context["user"].username == "fg-formand"


def test_wrong_password_stays_on_the_login_page_with_an_error(client, demo):
    response = client.post(reverse("login"), {"username": "fg-formand", "password": "nej"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("username", ["ob-formand", "ab-formand", "driftschef", "anden-org"])
def test_overview_lists_every_current_role(client, persona, username):
    person = persona(username)
    client.force_login(person)
    html = client.get("/").content.decode()
    mandates = person_mandates_on(person=person)
    assert mandates, "every persona holds at least one role"
    assert html.count('class="role-row"') == len(mandates)
    for mandate in mandates:
        assert mandate.scope_label in html


def test_other_organisations_names_never_reach_the_overview(client, persona):
    client.force_login(persona("anden-org"))
    html = client.get("/").content.decode()
    assert "Boligselskabet Havnely" in html
    assert "Søbredden" not in html


def test_pages_are_danish_by_default_and_english_on_request(client, persona):
    client.force_login(persona("ab-medlem"))
    assert '<html lang="da">' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()


def test_layout_has_landmarks_and_a_skip_link(client, persona):
    client.force_login(persona("ab-medlem"))
    html = client.get("/").content.decode()
    for landmark in ['<header', '<nav aria-label=', '<main id="main"', '<footer',
                     'class="skip-link" href="#main"']:
        assert landmark in html


def test_unknown_page_answers_404_page_not_500(client, persona, settings):
    settings.DEBUG = False
    client.force_login(persona("ab-medlem"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert '<main id="main"' in response.content.decode()


def test_password_change_needs_the_old_password(client, persona):
    client.force_login(persona("ab-medlem"))
    response = client.post(reverse("password_change"), {
        "old_password": "wrong", "new_password1": "Sommerhus-2026!",
        "new_password2": "Sommerhus-2026!"})
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    response = client.post(reverse("password_change"), {
        "old_password": DEMO_PASSWORD, "new_password1": "Sommerhus-2026!",
        "new_password2": "Sommerhus-2026!"})
    assert response.status_code == 302
    assert persona("ab-medlem").check_password("Sommerhus-2026!")
