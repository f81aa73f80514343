from django.core.management.base import BaseCommand

from workflows.services import reroute_open_tasks


class Command(BaseCommand):
    help = ("Move open tasks to today's holder of the mandate they are routed to "
            "(run nightly: terms end without any write).")

    def handle(self, *args, **options):
        moved = reroute_open_tasks()
        self.stdout.write(f"{len(moved)} task(s) moved to a new holder.")
