"""The cycle dashboard (årshjul) in the browser, as the organisation board's chair.

ob-formand opens the dashboard from the menu, reads this year's plan on the year strip, opens
the per-area numbers as a table (a <details>, no JavaScript needed), chooses an operations area
to see its departments, and downloads the per-area table as CSV. Pages are in Danish; the test
goes by test ids, element roles and the database, not by the texts.
"""

import csv
import io

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cycles.models import AnnualPlan, FollowUp
from fixtures.demo import DEMO_SLUG
from governance.models import OperationsArea
from tests.browser.helpers import login, screenshot

pytestmark = pytest.mark.browser


def test_ob_formand_reads_the_dashboard_and_opens_the_table_view(
        browser_demo, context, page, base_url):
    year = timezone.localdate().year
    plan = (AnnualPlan.objects.filter(organisation__slug=DEMO_SLUG, year=year).first()
            or AnnualPlan.objects.filter(organisation__slug=DEMO_SLUG).order_by("-year")
            .first())
    areas = (FollowUp.objects.filter(plan=plan)
             .values("department__operations_area").distinct().count())

    login(page, base_url, "ob-formand")
    page.locator("header nav a[href='/dashboard/']").click()
    page.wait_for_url(f"{base_url}/dashboard/")
    expect(page.locator("header nav a[href='/dashboard/']")).to_have_attribute(
        "aria-current", "page")

    # The year strip and the charts are images with a name and a description.
    for testid in ("year-chart", "areas-chart", "themes-chart"):
        chart = page.get_by_test_id(testid)
        expect(chart).to_have_attribute("role", "img")
        title_id, desc_id = chart.get_attribute("aria-labelledby").split()
        expect(page.locator(f"#{title_id}")).not_to_be_empty()
        expect(page.locator(f"#{desc_id}")).not_to_be_empty()
    expect(page.locator("[data-testid=steps] [aria-current=step]")).to_have_count(1)
    expect(page.get_by_test_id("areas-chart").locator("g.chart-row")).to_have_count(areas)

    # The table view: closed at first, open after a click on its summary.
    table = page.get_by_test_id("areas-table")
    expect(table).to_be_hidden()
    screenshot(page, "ob-formand-dashboard")
    page.get_by_test_id("areas-table-toggle").locator("summary").click()
    expect(table).to_be_visible()
    expect(table.locator("tr.area-row")).to_have_count(areas)
    page.get_by_test_id("areas-table-toggle").scroll_into_view_if_needed()
    screenshot(page, "ob-formand-dashboard-table")

    # The departments of operations area 1.
    first = OperationsArea.objects.get(organisation__slug=DEMO_SLUG, number=1)
    page.get_by_test_id("area-choice").locator("select[name=area]").select_option(
        str(first.pk))
    with page.expect_navigation():
        page.get_by_test_id("area-choice").locator("[type=submit]").click()
    expect(page.get_by_test_id("departments-table").locator("tr.department-row")).to_have_count(
        first.departments.count())

    # The per-area table as CSV, with the same rows as the table on the page.
    with page.expect_download() as download_info:
        page.get_by_test_id("areas-export").locator("a", has_text="CSV").click()
    download = download_info.value
    name = download.suggested_filename
    assert name.startswith(f"{DEMO_SLUG}-{plan.year}-") and name.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read()), delimiter=";"))
    assert len(rows) == 1 + areas
