"""The settings module refuses bad configuration at start-up, with a message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]


def start(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DEBUG", "SECRET_KEY", "EMAIL_URL", "ALLOWED_HOSTS"}}
    environment.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT, env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize(("env", "message"), [
    ({"DEBUG": "0"}, "SECRET_KEY must be set"),
    ({"DEBUG": "0", "SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS must be set"),
    ({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.dk"}, "EMAIL_URL must be set"),
    ({"DEBUG": "1", "EMAIL_URL": "pigeon://coop"}, "EMAIL_URL scheme 'pigeon'"),
    ({"DEBUG": "perhaps"}, "DEBUG='perhaps' is not a boolean"),
])
def test_bad_configuration_stops_the_start_with_a_clear_message(env, message):
    result = start(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_commands_that_serve_nothing_run_without_production_settings():
    """A fresh clone can run `makemigrations --check` without any environment."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DEBUG", "SECRET_KEY", "EMAIL_URL", "ALLOWED_HOSTS",
                                "DATABASE_URL"}}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT, env={**environment, "AARSHJUL_VAR_DIR": str(ROOT / "var" / "no-env-check")},
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_production_configuration_starts():
    result = start(DEBUG="0", SECRET_KEY="x" * 50, ALLOWED_HOSTS="a.dk",
                   EMAIL_URL="smtp+tls://user:pw@mail.example.org:587")
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_own_system_checks_flag_a_missing_object_permission_backend(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    ids = {message.id for message in run_checks()}
    assert "AARSHJUL.E001" in ids


@pytest.mark.django_db
def test_own_system_checks_flag_guardians_anonymous_user(settings):
    settings.ANONYMOUS_USER_NAME = "AnonymousUser"
    assert "AARSHJUL.E002" in {message.id for message in run_checks()}


@pytest.mark.django_db
def test_system_checks_pass_as_configured():
    assert [m.id for m in run_checks() if m.id.startswith("AARSHJUL")] == []
