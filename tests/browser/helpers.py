"""Helpers shared by the browser tests: logging in, locating header controls, screenshots."""

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from fixtures.demo import DEMO_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "var" / "screenshots"


def login(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form and wait for the landing page."""
    submit_login_form(page, base_url, username, password)
    page.wait_for_url(f"{base_url}/")


def submit_login_form(page: Page, base_url: str, username: str, password: str) -> None:
    """Fill in and submit the login form; does not wait for where the browser lands."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    # The header holds other forms (language, log out); submit the one with the fields.
    with page.expect_navigation():
        page.locator("form:has(#id_username) [type=submit]").click()


def logout_button(page: Page) -> Locator:
    return page.locator("header form[action='/logout/'] button[type=submit]")


def language_button(page: Page, code: str) -> Locator:
    return page.locator(
        f"header form[action='/i18n/setlang/'] button[name=language][value={code}]")


def expect_login_page(page: Page, base_url: str) -> None:
    expect(page).to_have_url(re.compile(rf"^{re.escape(base_url)}/login/(\?.*)?$"))
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("#id_password")).to_be_visible()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as var/screenshots/<name>.png (kept as a CI artefact)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
