"""One reminder pass (cron), or ``--loop`` every ``--interval`` seconds until SIGTERM/SIGINT.

A pass: mark interrupted sends, sweep (decide what is due), build digests, deliver the outbox.
Without a Celery broker this is the whole of background e-mail; with one, beat and the workers
do the same through notifications.tasks.
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from notifications.services import run_pass

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Decide and send due deadline reminders: one pass, or --loop."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Repeat until stopped.")
        parser.add_argument("--interval", type=int, default=60,
                            help="Seconds between passes with --loop (default 60).")
        parser.add_argument("--no-deliver", action="store_true",
                            help="Only decide and record; leave delivery to the workers.")

    def handle(self, *args, loop: bool, interval: int, no_deliver: bool, **options):
        stop = threading.Event()
        if loop:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        while True:
            self.one_pass(deliver=not no_deliver)
            if not loop or stop.wait(interval):
                break

    def one_pass(self, *, deliver: bool) -> None:
        try:
            result = run_pass(deliver=deliver)
        except Exception:  # one bad pass is reported; the loop goes on (CONVENTIONS 6)
            self.stderr.write("reminder pass failed; see the log")
            logger.exception("reminder pass failed")
            return
        skipped = ", ".join(f"{reason}={count}" for reason, count in
                            sorted(result.sweep.skipped.items()))
        delivered = ", ".join(f"{k}={v}" for k, v in sorted(result.delivered.items()))
        self.stdout.write(
            f"decided {result.sweep.decided}, escalated {result.sweep.escalated}, digests "
            f"{result.digests}, interrupted {result.interrupted}; delivered: {delivered or '-'}"
            f"; not sent: {skipped or '-'}")
