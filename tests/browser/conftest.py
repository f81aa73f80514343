"""The browser-test harness: a live server on 127.0.0.1, Debian's chromium, a page per test.

Playwright's own browser downloads are not used: the tests launch Debian's chromium
(``apt-get install -y chromium``) and are skipped, with that hint, where it is missing.
Every test here is marked ``browser``, so ``pytest -m "not browser"`` leaves them out.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCALE = "da-DK"
TIMEZONE = "Europe/Copenhagen"
TIMEOUT_MS = 10_000

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest):
    """pytest-django's live server, bound to 127.0.0.1 rather than ``localhost``.

    ``--liveserver`` and DJANGO_LIVE_TEST_SERVER_ADDRESS still win. Static files are served
    by django.contrib.staticfiles' handler (from STATICFILES_DIRS, no collectstatic needed).
    """
    from pytest_django.live_server_helper import LiveServer

    addr = (request.config.getvalue("liveserver")
            or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
            or "127.0.0.1")
    server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    """A fresh browser context (no cookies) per test, Danish locale, Copenhagen time.

    Requests to anything but the live server are aborted and fail the test: pages must not
    load third-party resources.
    """
    context = browser.new_context(locale=LOCALE, timezone_id=TIMEZONE)
    context.set_default_timeout(TIMEOUT_MS)
    origin = urlsplit(base_url).netloc
    foreign: list[str] = []

    def guard(route: Route, request: Request) -> None:
        if urlsplit(request.url).netloc == origin or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            foreign.append(request.url)
            route.abort()

    context.route("**/*", guard)
    yield context
    context.close()
    assert not foreign, f"the pages requested other hosts than the live server: {foreign}"


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The Content-Security-Policy forbids inline script and style: a page that needs them
    # shows up here as a console error from chromium.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    yield page
    assert not errors, f"JavaScript or Content-Security-Policy errors on the page: {errors}"


@pytest.fixture
def browser_demo(transactional_db, live_server):
    """The demo organisations at test size, committed so the live server's thread sees them.

    The root ``demo`` fixture uses ``db`` (a transaction the server cannot see); this one
    builds the same data under ``transactional_db``, which empties the tables after the test.
    """
    from django.contrib.auth.hashers import make_password

    from fixtures.demo import DEMO_PASSWORD, load_demo

    return load_demo(area_count=3, department_count=6,
                     password_hash=make_password(DEMO_PASSWORD, hasher="md5"))
