"""Settings and fixtures shared by every test.

Tests run with DEBUG on SQLite unless DATABASE_URL points elsewhere (CI runs both). Passwords
are hashed with a fast hasher; the demo personas are built by the same loader as `make demo`,
at a smaller size.
"""

import os

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _installation_language(settings):
    """Every test starts in the installation's language (Danish): a page requested in English
    by an earlier test in the same process must not leave its language behind."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def demo(db, request):
    """The demo organisations at test size: 3 areas, 6 departments, every persona.

    Built once per process and minute of the clock, then copied in (tests/demo_snapshot.py);
    tests that commit run the loader itself.
    """
    from django.contrib.auth.hashers import make_password

    from fixtures.demo import DEMO_PASSWORD, load_demo
    from tests.demo_snapshot import SNAPSHOTS

    options = {"area_count": 3, "department_count": 6,
               "password_hash": make_password(DEMO_PASSWORD, hasher="md5", salt="demo")}
    committing = {"transactional_db", "live_server"} & set(request.fixturenames)
    copy = not committing and os.environ.get("AARSHJUL_TEST_DEMO_COPY", "1") == "1"
    return (SNAPSHOTS.load if copy else load_demo)(**options)


@pytest.fixture
def persona(demo):
    """Look up a persona by username: ``persona("ab-formand")``."""
    from governance.models import Person

    def get(username: str) -> Person:
        return Person.objects.get(username=username)

    return get
