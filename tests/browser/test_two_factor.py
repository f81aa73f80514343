"""Two-factor set-up and the step-up before signing, in a real browser: the QR code is inline
SVG and the pages raise no Content-Security-Policy error (the ``page`` fixture fails on one)."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, screenshot

pytestmark = pytest.mark.browser


def code_for(secret: str) -> str:
    """The code an authenticator app shows now for the key on the page (real time: the live
    server's clock)."""
    totp = TOTP(b32decode(secret.replace(" ", "")), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_ob_formand_sets_up_two_factor_and_is_then_verified(browser_demo, page: Page,
                                                            base_url: str):
    from fixtures.demo import DEMO_SLUG
    from governance.models import Organisation

    Organisation.objects.filter(slug=DEMO_SLUG).update(require_two_factor_for_signers=True)
    login(page, base_url, "ob-formand")
    page.locator("header a[href='/two-factor/']").click()
    expect(page.get_by_test_id("required-by")).to_contain_text("Søbredden")
    with page.expect_navigation():
        page.locator("form[action='/two-factor/setup/'] button[type=submit]").click()
    qr = page.locator("svg.qr-code")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 200
    screenshot(page, "two-factor-setup")

    secret = page.get_by_test_id("secret").inner_text()
    page.fill("#id_code", "000000" if code_for(secret) != "000000" else "111111")
    with page.expect_navigation():
        page.locator("form[action='/two-factor/confirm/'] button[type=submit]").click()
    expect(page.locator("#id_code_error")).to_be_visible()  # a wrong code: the field says so

    time.sleep(1.1)  # the device waits a second after a wrong code
    page.fill("#id_code", code_for(secret))
    with page.expect_navigation():
        page.locator("form[action='/two-factor/confirm/'] button[type=submit]").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.goto(f"{base_url}/two-factor/")
    expect(page.get_by_test_id("two-factor-on")).to_be_visible()
    expect(page.locator("a[href='/two-factor/verify/']")).to_have_count(0)  # verified
