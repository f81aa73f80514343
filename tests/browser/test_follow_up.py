"""A half-yearly follow-up walked in the browser by the personas who do it.

serviceleder opens the H2 follow-up of ab-formand's department from the menu (the demo has
closed the H1 one), writes a remark per initiative and the summary, saves and marks it ready
for the board; ab-formand finds it on the landing page and acknowledges it with the date of the
board meeting (today: the date may not be in the future). Pages are in Danish; the test goes
by test ids, form field names and the database, not by the texts.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from cycles.models import FollowUp, FollowUpRemark, MeetingKind
from fixtures.demo import DEMO_SLUG
from governance.models import Membership
from tests.browser.helpers import login, screenshot

pytestmark = pytest.mark.browser


def as_persona(context: BrowserContext, page: Page, base_url: str, username: str) -> None:
    context.clear_cookies()
    login(page, base_url, username)


def test_serviceleder_prepares_a_follow_up_and_ab_formand_acknowledges_it(
        browser_demo, context, page, base_url):
    department = Membership.objects.get(person__username="ab-formand", role="chair",
                                        body__kind="department_board").body.department
    follow_up = FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                     department=department, half=FollowUp.Half.H2)
    assert follow_up.state == FollowUp.State.SCHEDULED
    assert FollowUp.objects.get(plan=follow_up.plan, department=department,
                                half=FollowUp.Half.H1).state == FollowUp.State.CLOSED
    case_url = f"{base_url}/follow-ups/{follow_up.pk}/"

    as_persona(context, page, base_url, "serviceleder")
    page.locator("header nav a[href='/follow-ups/']").click()
    page.wait_for_url(f"{base_url}/follow-ups/")
    screenshot(page, "serviceleder-follow-up-list")
    page.locator("tr.follow-up-row", has_text="H2").locator(
        f"a[href='/follow-ups/{follow_up.pk}/']").click()
    page.wait_for_url(case_url)

    remarks = page.get_by_test_id("remark")
    count = remarks.count()
    assert count == follow_up.remarks.count() > 0
    for index in range(count):
        remark = remarks.nth(index)
        remark.locator("select[name^=status_]").select_option(FollowUpRemark.Status.ONGOING)
        remark.locator("input[name^=progress_]").fill(str(30 + 10 * index))
        remark.locator("textarea[name^=text_]").fill(f"Indsats {index + 1} er i gang.")
    page.fill("textarea[name=summary]", "Andet halvår: målerne er sat op, resten følger.")
    screenshot(page, "serviceleder-follow-up-prepare")
    page.get_by_test_id("save").click()
    page.wait_for_url(case_url)
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUp.State.IN_PREPARATION
    assert follow_up.summary == "Andet halvår: målerne er sat op, resten følger."
    assert sorted(follow_up.remarks.values_list("progress", flat=True)) == [
        30 + 10 * index for index in range(count)]

    expect(page.get_by_test_id("mark-ready")).to_be_enabled()
    page.get_by_test_id("mark-ready").click()
    page.wait_for_url(case_url)
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUp.State.READY_FOR_BOARD
    expect(page.get_by_test_id("mark-ready")).to_have_count(0)
    screenshot(page, "serviceleder-follow-up-ready")

    as_persona(context, page, base_url, "ab-formand")
    task_link = page.locator(f"[data-testid=tasks] a[href='/follow-ups/{follow_up.pk}/']")
    expect(task_link).to_be_visible()
    screenshot(page, "ab-formand-overview-follow-up-task")
    task_link.click()
    page.wait_for_url(case_url)
    expect(page.get_by_test_id("remarks").locator("tr.remark-row")).to_have_count(count)
    today = timezone.localdate()
    page.fill("input[name=presented_on]", today.strftime("%d.%m.%Y"))
    page.locator(f"input[name=meeting_kind][value={MeetingKind.BOARD_MEETING}]").check()
    page.fill("input[name=minutes_reference]", "Bestyrelsesmøde, pkt. 4")
    screenshot(page, "ab-formand-follow-up-acknowledge")
    page.get_by_test_id("acknowledge").click()
    page.wait_for_url(case_url)
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUp.State.PRESENTED
    assert (follow_up.presented_on, follow_up.meeting_kind, follow_up.minutes_reference,
            follow_up.acknowledged_by.username) == (
        today, MeetingKind.BOARD_MEETING, "Bestyrelsesmøde, pkt. 4", "ab-formand")
    expect(page.get_by_test_id("presentation")).to_contain_text(today.strftime("%d.%m.%Y"))
    expect(page.get_by_test_id("acknowledge")).to_have_count(0)
    screenshot(page, "ab-formand-follow-up-presented")

    page.goto(f"{base_url}/")
    expect(page.locator(f"[data-testid=tasks] a[href='/follow-ups/{follow_up.pk}/']")
           ).to_have_count(0)

