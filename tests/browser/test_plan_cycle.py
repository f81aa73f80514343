"""The annual plan's approval walked in the browser by the personas who do it.

sekretaer completes the 2027 draft and submits it; fg-formand closes the follow-up group's
review; du-formand and ob-formand sign with their passwords (the sign page shows the hash they
sign); the flow publishes the plan. The sign-off is done with the keyboard only.
"""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from cycles.models import AnnualPlan, SignOff
from fixtures.demo import DEMO_PASSWORD
from tests.browser.helpers import login, screenshot

pytestmark = pytest.mark.browser


def as_persona(context: BrowserContext, page: Page, base_url: str, username: str) -> None:
    context.clear_cookies()
    login(page, base_url, username)


def sign(page: Page, base_url: str, plan: AnnualPlan, comment: str) -> None:
    page.goto(f"{base_url}/plans/{plan.pk}/sign/")
    plan.refresh_from_db()
    expect(page.get_by_test_id("sign-hash")).to_have_text(plan.current_revision.short_hash)
    page.locator("input[name=decision][value=approve]").check()
    page.fill("textarea[name=comment]", comment)
    page.fill("input[name=password]", DEMO_PASSWORD)
    # Keyboard only from the password field: Enter submits the form.
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{base_url}/plans/{plan.pk}/")


def test_the_2027_plan_is_approved_and_published_in_the_browser(
        browser_demo, context, page, base_url):
    plan = AnnualPlan.objects.get(organisation__slug="soebredden", year=2027)
    uncovered = [theme for theme in plan.programme.themes.order_by("number")
                 if not plan.initiatives.filter(theme=theme).exists()]
    assert uncovered, "the demo draft leaves themes to justify"

    as_persona(context, page, base_url, "sekretaer")
    page.goto(f"{base_url}/plans/{plan.pk}/")
    for theme in uncovered:
        page.goto(f"{base_url}/plans/{plan.pk}/themes/{theme.pk}/justification/")
        page.fill("textarea[name=text]", "Temaet er dækket af sidste års indsatser.")
        page.locator("main form [type=submit]").click()
        page.wait_for_url(f"{base_url}/plans/{plan.pk}/")
    screenshot(page, "sekretaer-plan-draft")
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"{base_url}/plans/{plan.pk}/")
    plan.refresh_from_db()
    assert plan.state == AnnualPlan.State.FOLLOW_UP_GROUP_REVIEW

    as_persona(context, page, base_url, "fg-formand")
    page.goto(f"{base_url}/plans/{plan.pk}/")
    page.fill("textarea[name=recommendation]", "Følgegruppen anbefaler planen.")
    page.get_by_test_id("close-review").click()
    page.wait_for_url(f"{base_url}/plans/{plan.pk}/")
    plan.refresh_from_db()
    assert plan.state == AnnualPlan.State.OPERATIONS_COMMITTEE

    as_persona(context, page, base_url, "du-formand")
    page.goto(f"{base_url}/plans/{plan.pk}/sign/")
    page.locator("input[name=decision][value=approve]").check()
    page.fill("input[name=password]", "forkert")
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("[role=alert]").first).to_be_visible()
    expect(page.locator("input[name=password][aria-invalid=true]")).to_be_visible()
    plan.refresh_from_db()
    assert plan.state == AnnualPlan.State.OPERATIONS_COMMITTEE
    assert not SignOff.objects.filter(plan=plan).exists()
    sign(page, base_url, plan, "Driftsudvalget indstiller planen.")
    plan.refresh_from_db()
    assert plan.state == AnnualPlan.State.ORGANISATION_BOARD

    as_persona(context, page, base_url, "ob-formand")
    page.goto(f"{base_url}/plans/{plan.pk}/sign/")
    screenshot(page, "ob-formand-sign")
    sign(page, base_url, plan, "Organisationsbestyrelsen godkender planen.")
    plan.refresh_from_db()
    assert plan.state == AnnualPlan.State.PUBLISHED
    assert plan.approved_revision == plan.current_revision
    signed = SignOff.objects.filter(plan=plan, decision="approve").values_list(
        "signer__username", "revision_sha256")
    assert sorted(signed) == [("du-formand", plan.current_revision.sha256),
                              ("ob-formand", plan.current_revision.sha256)]
    screenshot(page, "ob-formand-plan-published")


def test_the_sign_page_of_a_published_plan_answers_409_with_an_alert(
        browser_demo, context, page, base_url):
    plan = AnnualPlan.objects.get(organisation__slug="soebredden", year=2026)
    assert plan.state == AnnualPlan.State.PUBLISHED
    as_persona(context, page, base_url, "ob-formand")
    response = page.goto(f"{base_url}/plans/{plan.pk}/sign/")
    assert response.status == 409  # nothing to sign on a published plan
    expect(page.locator("[role=alert]").first).to_be_visible()
