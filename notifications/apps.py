import logging
import os
import sys
import threading

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from django.conf import settings

        seconds = settings.NOTIFICATIONS_IN_PROCESS_SWEEP_SECONDS
        # Only in the demo's serving process: runserver's reloader child (RUN_MAIN), not in
        # migrate, load_demo, tests or the parent process that merely watches files.
        if seconds and "runserver" in sys.argv and os.environ.get("RUN_MAIN") == "true":
            start_in_process_sweep(seconds)


def start_in_process_sweep(seconds: float, *, stop: threading.Event | None = None,
                           first_after: float = 5) -> threading.Thread:
    """The demo's background work without a broker: a reminder pass every ``seconds`` (the
    first after ``first_after``), e-mails written by the file backend under var/mail/."""
    stop = stop or threading.Event()

    def loop():
        from django.db import close_old_connections, connections

        from notifications.services import run_pass

        wait = min(seconds, first_after)  # the first pass soon after start, then every `seconds`
        while not stop.wait(wait):
            wait = seconds
            try:
                result = run_pass()
                if result.sweep.decided or result.delivered:
                    logger.info("reminders: decided %s, delivered %s", result.sweep.decided,
                                dict(result.delivered))
            except Exception:  # the demo keeps serving; the next pass tries again
                logger.exception("in-process reminder pass failed")
            finally:
                close_old_connections()
        connections.close_all()  # this thread's connections: the database can be dropped

    thread = threading.Thread(target=loop, name="reminder-sweep", daemon=True)
    thread.start()
    return thread
