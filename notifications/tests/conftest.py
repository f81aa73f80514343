"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the delivery tests."""

import email
import socket
import threading
import time
from email import policy

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unused_tcp_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections to it are refused)."""
    return free_port()


class Sink:
    """Collects the messages an aiosmtpd server on 127.0.0.1 accepts; can be stopped and
    started again on the same port ("SMTP down for a while") and slowed down per message."""

    def __init__(self, port: int, *, delay: float = 0.0):
        self.port = port
        self.delay = delay
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = None

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def start(self) -> "Sink":
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def wait_for(self, count: int, *, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return True
            time.sleep(0.05)
        return False


@pytest.fixture
def smtp_sink():
    """A started SMTP server on a free port of 127.0.0.1."""
    sink = Sink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_settings(settings):
    """Point Django's default mailer at a given sink: ``smtp_settings(sink)``."""

    def use(sink_or_port) -> None:
        port = getattr(sink_or_port, "port", sink_or_port)
        settings.MAILERS = {"default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5}}}

    return use


def wait_for_other_sessions_to_end(timeout: float = 20.0) -> None:
    """Wait until processes this test started (workers, gunicorn) have closed their
    connections to the test database, so it can be dropped at the end of the run."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.2)
