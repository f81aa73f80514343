"""The Procfile's three processes start against PostgreSQL and Redis with production settings
(DEBUG off) and work together: gunicorn serves the login page, beat sends the reminder sweep,
the worker runs it. Each line is run as a platform would run it (``sh -c``)."""

import os
import secrets
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from notifications.tests.conftest import free_port, wait_for_other_sessions_to_end

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the processes share a PostgreSQL database"),
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(settings.BASE_DIR)


def procfile() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and ":" in line)


def production_env(port: int, queue: str) -> dict[str, str]:
    db = connection.settings_dict
    return os.environ | {
        "PATH": f"{BASE_DIR / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS_PROXY": "1",
        "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
        "DATABASE_URL": (f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}"
                         f":{db.get('PORT') or 5432}/{db['NAME']}"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "NOTIFICATIONS_SWEEP_SECONDS": "1",
        "PORT": str(port),
    }


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_web_worker_and_beat_start_from_the_procfile_and_run_the_reminder_sweep(tmp_path):
    (BASE_DIR / "var").mkdir(exist_ok=True)  # beat's schedule file lives there
    port = free_port()
    env = production_env(port, f"procfile-{uuid.uuid4().hex[:10]}")
    processes, logs = {}, {}
    try:
        for name, command in procfile().items():
            logs[name] = tmp_path / f"{name}.log"
            with logs[name].open("wb") as log:
                processes[name] = subprocess.Popen(  # noqa: S603 - our own Procfile
                    ["/bin/sh", "-c", command], cwd=BASE_DIR, env=env, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)

        def login_page() -> bool:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/login/",
                                             headers={"X-Forwarded-Proto": "https"})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    return response.status == 200 and b'name="password"' in response.read()
            except OSError:
                return False

        def text(name: str) -> str:
            return logs[name].read_text(errors="replace")

        assert set(processes) == {"web", "worker", "beat"}
        assert wait_for(login_page, 60), text("web")
        assert wait_for(lambda: "Sending due task reminders-sweep" in text("beat"), 60), \
            text("beat")
        assert wait_for(lambda: "notifications.sweep" in text("worker")
                        and "succeeded" in text("worker"), 60), text("worker")
        assert all(process.poll() is None for process in processes.values())
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        wait_for_other_sessions_to_end()
