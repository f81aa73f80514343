"""Delivery through real parts: Celery workers on this machine's Redis, a real SMTP server on
127.0.0.1 (aiosmtpd), PostgreSQL. The workers are separate processes (``celery -A config
worker``), so the data is committed (transactional tests) and the clock is the real one; the
workers get quiet hours switched off so the tests do not depend on the time of day.

* SMTP down for a while → every reminder is delivered exactly once after it returns.
* A worker killed (SIGKILL) mid-batch → no e-mail twice; the one it was sending is marked
  interrupted, the rest delivered by the next worker.
* Two workers each with their own beat (two sweeps at once, by mistake) → no duplicates.
"""

import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from notifications.tests.conftest import Sink, free_port, wait_for_other_sessions_to_end
from workflows.models import TaskMandate
from workflows.services import OPEN_STATUSES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="separate worker processes share the database: PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]

BROKER = "redis://127.0.0.1:6379/14"
BASE_DIR = Path(django_settings.BASE_DIR)
_names = itertools.count()


def database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class Worker:
    """``celery -A config worker`` in its own process group, optionally with an embedded beat
    that sweeps every second."""

    def __init__(self, *, queue: str, smtp_port: int, tmp_path: Path, beat: bool = False):
        name = f"w{next(_names)}"
        self.log = tmp_path / f"{name}.log"
        env = os.environ | {
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": BROKER,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "NOTIFICATIONS_QUIET_HOURS": "",
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
            "NOTIFICATIONS_MAX_ATTEMPTS": "40",
            "NOTIFICATIONS_SWEEP_SECONDS": "1",
            "NOTIFICATIONS_SENDING_TIMEOUT_SECONDS": "10",
            "NOTIFICATIONS_BATCH_SIZE": "5",
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
                   "-Q", queue, "-n", f"{name}.{queue}@%h", "--without-gossip",
                   "--without-mingle", "--without-heartbeat", "-l", "info"]
        if beat:
            command += ["-B", "-s", str(tmp_path / f"{name}-beat-schedule")]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log,  # noqa: S603
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: no chance to finish the message it is sending or to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []
    queue = f"test-{uuid.uuid4().hex[:12]}"

    def start(smtp_port: int, *, beat: bool = False) -> Worker:
        worker = Worker(queue=queue, smtp_port=smtp_port, tmp_path=tmp_path, beat=beat)
        started.append(worker)
        return worker

    start.queue = queue
    yield start
    for worker in started:
        worker.stop()
    wait_for_other_sessions_to_end()


def send_task(queue: str, name: str) -> None:
    from celery import Celery

    app = Celery(broker=BROKER)
    try:
        app.send_task(name, queue=queue)
    finally:
        app.close()


@pytest.fixture
def due_today(demo, settings):
    """Every open task is due today (a due-day reminder goes out on any day), nothing is
    quiet; the owners have e-mail addresses. Returns the number of reminders to expect."""
    settings.NOTIFICATIONS_QUIET_HOURS = ""
    today = timezone.localdate()
    open_tasks = TaskMandate.objects.filter(task__status__in=OPEN_STATUSES,
                                            task__owner__isnull=False)
    open_tasks.update(due_on=today, assigned_on=today)
    expected = open_tasks.exclude(task__owner__email="").count()
    assert expected >= 10
    return expected


def wait_until(predicate, *, timeout: float, what: str, workers=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    logs = "\n".join(w.output() for w in workers)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def states() -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in Notification.objects.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def assert_each_sent_row_arrived_exactly_once(sink: Sink) -> None:
    received = sink.message_ids()
    assert len(received) == len(set(received)), "an e-mail arrived twice"
    sent = list(Notification.objects.filter(state=Notification.State.SENT)
                .values_list("message_id", flat=True))
    assert sorted(sent) == sorted(set(sent))
    assert set(sent) <= set(received)


def test_smtp_down_for_a_while_then_every_reminder_arrives_exactly_once(due_today, workers):
    port = free_port()
    sink = Sink(port)  # not started: connections are refused
    worker = workers(port, beat=True)
    wait_until(lambda: Notification.objects.filter(attempts__gte=2).count() >= due_today,
               timeout=60, what="failed attempts while SMTP is down", workers=[worker])
    assert Notification.objects.count() == due_today
    assert not Notification.objects.filter(state=Notification.State.SENT).exists()
    assert Notification.objects.exclude(last_error="").count() == due_today
    sink.start()
    try:
        wait_until(lambda: states() == {"sent": due_today}, timeout=90,
                   what="every reminder sent after SMTP returned", workers=[worker])
        time.sleep(2)  # a few more sweeps: nothing new may go out
        assert len(sink.message_ids()) == due_today
        assert_each_sent_row_arrived_exactly_once(sink)
    finally:
        sink.stop()


def test_a_worker_killed_mid_batch_sends_nothing_twice(due_today, workers):
    sink = Sink(free_port(), delay=0.4).start()  # slow enough to kill a worker mid-batch
    try:
        assert services.sweep().decided == due_today
        first = workers(sink.port)
        send_task(workers.queue, "notifications.deliver")
        assert sink.wait_for(3, timeout=60), first.output()
        first.kill()
        killed_at = states()
        # The third may have reached the server but not yet be marked sent when the kill lands.
        assert killed_at.get("sent", 0) >= 2 and killed_at.get("pending", 0) >= 1, killed_at
        second = workers(sink.port, beat=True)
        # Rows the dead worker had claimed but not started go back to pending once their
        # claim is stale (NOTIFICATIONS_SENDING_TIMEOUT_SECONDS): wait for those too.
        wait_until(lambda: not {"pending", "claimed", "sending"} & set(states()), timeout=90,
                   what="the rest delivered by the next worker", workers=[second])
        final = states()
        assert set(final) <= {"sent", "interrupted"}, final
        assert final.get("interrupted", 0) <= 1  # at most the one being sent at the kill
        assert final["sent"] + final.get("interrupted", 0) == due_today
        assert_each_sent_row_arrived_exactly_once(sink)
        # The interrupted one may or may not have reached the server; never twice.
        assert final["sent"] <= len(sink.message_ids()) <= due_today
    finally:
        sink.stop()


def test_two_beats_and_two_workers_at_once_send_each_reminder_once(due_today, workers):
    sink = Sink(free_port()).start()
    try:
        both = [workers(sink.port, beat=True), workers(sink.port, beat=True)]
        wait_until(lambda: states() == {"sent": due_today}, timeout=90,
                   what="every reminder sent", workers=both)
        time.sleep(3)  # several more sweeps from both beats
        assert Notification.objects.count() == due_today
        assert len(sink.message_ids()) == due_today
        assert_each_sent_row_arrived_exactly_once(sink)
    finally:
        sink.stop()
