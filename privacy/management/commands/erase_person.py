"""Erase one person: pseudonymise their row, delete what only serves them (privacy.services
.person_erase). Refused while they hold a mandate, open tasks or a running delegation. Asks for
confirmation unless --yes."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations

from governance.models import Person
from privacy.selectors import erased_username
from privacy.services import person_erase


class Command(BaseCommand):
    help = "Erase a person by pseudonymisation (asks for confirmation unless --yes)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true",
                            help="Do not ask for confirmation.")

    @no_translations  # an operator's command: messages in English, like the others
    def handle(self, *args, username: str, yes: bool = False, **options):
        person = Person.objects.filter(username=username).first()
        if person is None:
            raise CommandError(f"No person with the username {username!r}.")
        if not yes:
            answer = input(f"Erase {username} (id {person.pk})? Their name, e-mail address "
                           "and phone number are removed for good. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was erased.")
        try:
            removed = person_erase(actor=None, person=person, via="command")
        except ValidationError as error:
            raise CommandError("Not erased: " + " ".join(error.messages)) from error
        self.stdout.write(f"Erased person {person.pk}; the username is now "
                          f"{erased_username(person.pk)}.")
        for kind, count in removed.items():
            self.stdout.write(f"  {kind}: {count}")
