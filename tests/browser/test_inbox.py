"""The task inbox walked in the browser: the queue and a substitute.

driftschef gives the "prepare" task of ab-formand's department's H2 follow-up back to the
group's queue from the landing page; serviceleder finds it under "My groups' tasks" and claims
it. Then, with the case ready for the board, ab-formand names ab-medlem as substitute on the
delegation page: the acknowledge task moves to ab-medlem, who sees it under "Delegated to me"
on ab-formand's behalf. Pages are in Danish; the test goes by test ids, field names and the
database, not by the texts.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from cycles import services as cycle_services
from cycles.models import FollowUp, FollowUpRemark
from fixtures.demo import DEMO_SLUG
from governance.models import Membership, Person
from tests.browser.helpers import login, screenshot
from workflows.models import Delegation, TaskMandate
from workflows.services import follow_up_act, open_follow_up_tasks

pytestmark = pytest.mark.browser


def as_persona(context: BrowserContext, page: Page, base_url: str, username: str) -> None:
    context.clear_cookies()
    login(page, base_url, username)


def the_open_task(follow_up: FollowUp):
    tasks = list(open_follow_up_tasks(follow_up=follow_up))
    assert len(tasks) == 1
    return tasks[0]


def test_a_task_goes_through_the_queue_and_to_a_substitute(
        browser_demo, context, page, base_url):
    department = Membership.objects.get(person__username="ab-formand", role="chair",
                                        body__kind="department_board").body.department
    follow_up = FollowUp.objects.get(plan__organisation__slug=DEMO_SLUG, plan__year=2026,
                                     department=department, half=FollowUp.Half.H2)
    task = the_open_task(follow_up)
    assert (task.flow_task.name, task.owner.username) == ("prepare", "driftschef")
    row = f"tr.task-row[data-task='{task.pk}']"

    # driftschef gives the task back to the queue.
    as_persona(context, page, base_url, "driftschef")
    expect(page.locator(row)).to_be_visible()
    expect(page.locator(row).locator(f"a[href='/follow-ups/{follow_up.pk}/']")).to_be_visible()
    screenshot(page, "driftschef-inbox")
    page.locator(row).get_by_test_id("release").click()
    page.wait_for_url(f"{base_url}/")
    expect(page.locator(row)).to_have_count(0)
    task.refresh_from_db()
    assert task.owner is None

    # serviceleder claims it from "My groups' tasks".
    as_persona(context, page, base_url, "serviceleder")
    expect(page.get_by_test_id("queue-hint")).to_be_visible()
    page.get_by_test_id("tab-group").click()
    page.wait_for_url(f"{base_url}/?view=group")
    expect(page.get_by_test_id("tab-group")).to_have_attribute("aria-current", "page")
    screenshot(page, "serviceleder-group-queue")
    page.locator(row).get_by_test_id("claim").click()
    page.wait_for_url(f"{base_url}/?view=group")
    expect(page.locator(row)).to_have_count(0)
    task.refresh_from_db()
    assert task.owner.username == "serviceleder"
    page.get_by_test_id("tab-mine").click()
    page.wait_for_url(f"{base_url}/?view=mine")
    expect(page.locator(row)).to_be_visible()
    screenshot(page, "serviceleder-claimed")

    # The case goes to the board: ab-formand's acknowledge task.
    serviceleder = Person.objects.get(username="serviceleder")
    remarks = [{"initiative": r.initiative, "status": FollowUpRemark.Status.ONGOING,
                "progress": 50, "text": "I gang."}
               for r in follow_up.remarks.select_related("initiative")]
    follow_up_act(cycle_services.follow_up_save, actor=serviceleder, follow_up=follow_up,
                  summary="Status.", remarks=remarks)
    follow_up_act(cycle_services.follow_up_mark_ready, actor=serviceleder,
                  follow_up=follow_up)
    acknowledge = the_open_task(follow_up)
    assert (acknowledge.flow_task.name, acknowledge.owner.username) == ("acknowledge",
                                                                         "ab-formand")
    ack_row = f"tr.task-row[data-task='{acknowledge.pk}']"

    # ab-formand names ab-medlem as substitute for a week.
    as_persona(context, page, base_url, "ab-formand")
    expect(page.locator(ack_row)).to_be_visible()
    page.get_by_test_id("delegation-link").click()
    page.wait_for_url(f"{base_url}/delegations/")
    substitute = Person.objects.get(username="ab-medlem")
    today = timezone.localdate()
    last_day = today + datetime.timedelta(days=6)
    page.locator("select[name=substitute]").select_option(str(substitute.pk))
    page.fill("input[name=starts_on]", today.strftime("%d.%m.%Y"))
    page.fill("input[name=ends_on]", last_day.strftime("%d.%m.%Y"))
    page.fill("input[name=reason]", "Sommerferie")
    screenshot(page, "ab-formand-delegation-form")
    page.get_by_test_id("delegate").click()
    page.wait_for_url(f"{base_url}/delegations/")
    delegation = Delegation.objects.get(person__username="ab-formand")
    assert (delegation.substitute, delegation.starts_on, delegation.ends_on,
            delegation.reason) == (substitute, today, last_day, "Sommerferie")
    given = page.get_by_test_id("delegations-given")
    expect(given).to_contain_text(f"{today:%d.%m.%Y} – {last_day:%d.%m.%Y}")
    expect(given.get_by_test_id("cancel-delegation")).to_be_visible()
    screenshot(page, "ab-formand-delegation-named")
    acknowledge.refresh_from_db()
    assert acknowledge.owner == substitute
    assert TaskMandate.objects.get(task=acknowledge).delegated_from.username == "ab-formand"
    page.goto(f"{base_url}/")
    expect(page.locator(ack_row)).to_have_count(0)

    # ab-medlem has the task, on ab-formand's behalf.
    as_persona(context, page, base_url, "ab-medlem")
    page.get_by_test_id("tab-delegated").click()
    page.wait_for_url(f"{base_url}/?view=delegated")
    expect(page.locator(ack_row).get_by_test_id("on-behalf-of")).to_contain_text("Jonas Friis")
    screenshot(page, "ab-medlem-delegated-task")
