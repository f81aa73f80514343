"""Everything Årshjul holds about one person, as JSON (the same file as the /me/data/ page),
for a request the person sends another way. Recorded in the audit trail (``person.export``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.models import Person
from privacy.selectors import person_data_json
from privacy.services import person_data_export


class Command(BaseCommand):
    help = "Write everything about one person as JSON (stdout, or --output PATH)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--output", help="Write the JSON to this file.")

    def handle(self, *args, username: str, output: str | None = None, **options):
        person = Person.objects.filter(username=username).first()
        if person is None:
            raise CommandError(f"No person with the username {username!r}.")
        content = person_data_json(person_data_export(actor=None, person=person, via="command"))
        if output:
            Path(output).write_bytes(content)
            self.stderr.write(f"Written to {output}.")
        else:
            self.stdout.write(content.decode("utf-8"))
