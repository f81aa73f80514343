from django.core.management.base import BaseCommand

from fixtures.demo import DEMO_PASSWORD, PERSONAS, load_demo


class Command(BaseCommand):
    help = "Load the demo organisations and personas (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        summary = load_demo()
        if summary.created:
            self.stdout.write(self.style.SUCCESS(
                f"Demo loaded: {', '.join(o.name for o in summary.organisations)}; "
                f"{summary.people} people."))
        else:
            self.stdout.write("Demo already loaded; nothing changed.")
        self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD}):")
        for persona in PERSONAS:
            self.stdout.write(f"  {persona.username:<13} {persona.description}")
        self.stdout.write(f"  {'admin':<13} superbruger (administration)")
