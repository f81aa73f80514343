"""Logging in, seeing one's roles, logging out, switching language – in a real browser."""

import re
from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from fixtures.demo import PERSONAS
from tests.browser.helpers import (
    expect_login_page,
    language_button,
    login,
    logout_button,
    screenshot,
    submit_login_form,
)

pytestmark = pytest.mark.browser

USERNAMES = [p.username for p in PERSONAS] + ["admin"]

# What each persona's "where" column must mention, from the demo's description of them. This
# guards the comparison with person_mandates_on below against the selector itself going wrong.
SOEBREDDEN = "Boligforeningen Søbredden"
HAVNELY = "Boligselskabet Havnely"
EXPECTED_PLACES = {
    "sekretaer": [SOEBREDDEN],
    "driftschef": ["Driftsområde 1 – Nørrebro"],
    "serviceleder": ["Driftsområde 1 – Nørrebro"],
    "fg-formand": ["Følgegruppen", "Afdelingsbestyrelsen"],
    "fg-medlem": ["Følgegruppen", "Afdelingsbestyrelsen"],
    "du-formand": ["Driftsudvalget", "Organisationsbestyrelsen"],
    "ob-formand": ["Organisationsbestyrelsen", "Repræsentantskabet"],
    "ab-formand": ["Afdelingsbestyrelsen, afd. 1 ", "Repræsentantskabet"],
    "ab-medlem": ["Afdelingsbestyrelsen, afd. 1 "],
    "ab-anden": ["Afdelingsbestyrelsen"],
    "anden-org": ["Afdelingsbestyrelsen"],
    "admin": [],
}
EXPECTED_ORGANISATIONS = {username: [SOEBREDDEN] for username in USERNAMES}
EXPECTED_ORGANISATIONS.update({"anden-org": [HAVNELY], "admin": []})


def expected_rows(username: str) -> Counter:
    """(organisation, role, where, start) for every mandate the person holds today."""
    from django.utils import translation
    from django.utils.text import capfirst

    from governance.models import Person
    from governance.selectors import person_mandates_on

    person = Person.objects.get(username=username)
    with translation.override("da"):
        return Counter(
            (m.organisation.name, str(capfirst(m.role_label)), m.scope_label,
             m.starts_on.strftime("%d.%m.%Y"))
            for m in person_mandates_on(person=person)
        )


def shown_rows(page: Page) -> Counter:
    """The same tuples as read off the landing page's role tables."""
    rows = page.locator("table[data-testid=roles]").evaluate_all("""tables => tables.flatMap(
        table => [...table.querySelectorAll("tr.role-row")].map(row => [
            table.caption.innerText.trim(),
            ...[...row.cells].map(cell => cell.innerText.trim()),
        ]))""")
    # The "where" cell's first line is the place; a chair's cell adds a link below it.
    return Counter((org, role, where.splitlines()[0], period.split(" – ")[0])
                   for org, role, where, period in rows)


@pytest.mark.parametrize("username", USERNAMES)
def test_persona_logs_in_and_sees_their_roles(page: Page, base_url, browser_demo, username):
    login(page, base_url, username)

    expected = expected_rows(username)
    role_rows = page.locator("tr.role-row")
    expect(role_rows).to_have_count(expected.total())
    for organisation, _role, where, _start in expected:
        expect(page.locator("table[data-testid=roles]", has_text=organisation)
               .locator("tr.role-row td:nth-child(2)", has_text=where).first).to_be_visible()
    assert shown_rows(page) == expected

    # The demo's own account of each persona, independent of the selector.
    places = [where for _org, _role, where, _start in expected]
    for fragment in EXPECTED_PLACES[username]:
        assert any(fragment in where for where in places), (fragment, places)
    for organisation in EXPECTED_ORGANISATIONS[username]:
        expect(page.locator("table[data-testid=roles] caption", has_text=organisation)
               ).to_be_visible()
    if username != "admin":
        assert expected, f"{username} holds no role in the demo"

    screenshot(page, f"{username}-home")


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(
        page: Page, base_url, browser_demo):
    submit_login_form(page, base_url, "ab-formand", "not-the-password")

    expect_login_page(page, base_url)
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"\S"))
    expect(page.locator("#id_password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_username")).to_have_value("ab-formand")
    expect(page.locator("tr.role-row")).to_have_count(0)
    expect(logout_button(page)).to_have_count(0)


def test_logging_out_returns_to_the_login_page(page: Page, base_url, browser_demo):
    login(page, base_url, "ab-medlem")
    expect(page.locator("tr.role-row").first).to_be_visible()

    with page.expect_navigation():
        logout_button(page).click()

    expect_login_page(page, base_url)
    expect(logout_button(page)).to_have_count(0)
    # The session is gone: the landing page sends the browser back to the login form.
    page.goto(f"{base_url}/")
    expect_login_page(page, base_url)


def test_language_switch_changes_the_page_language(page: Page, base_url, browser_demo):
    login(page, base_url, "ab-formand")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "da")
    rows = page.locator("tr.role-row").count()
    assert rows > 0

    with page.expect_navigation():
        language_button(page, "en").click()

    expect(page).to_have_url(f"{base_url}/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("tr.role-row")).to_have_count(rows)

    with page.expect_navigation():
        language_button(page, "da").click()

    expect(html).to_have_attribute("lang", "da")


def test_stylesheet_is_served(page: Page, base_url, live_server):
    with page.expect_response(lambda r: r.url.endswith("/static/css/app.css")) as css:
        page.goto(f"{base_url}/login/")
    assert css.value.status == 200
    assert "text/css" in css.value.headers["content-type"]
    # A rule from app.css is in force: the skip link is moved off-screen.
    expect(page.locator(".skip-link")).to_have_css("position", "absolute")
