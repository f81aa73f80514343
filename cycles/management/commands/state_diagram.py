"""Print the state machines as Mermaid diagrams (docs/state-machines.md is this output).

Read from the models' transitions, so the documentation cannot drift from the code: a test
compares the file with this command's output.
"""

from django.core.management.base import BaseCommand

from cycles.diagrams import state_machines_markdown


class Command(BaseCommand):
    help = "Print the state machines of the cycle as Mermaid state diagrams (Markdown)."

    def handle(self, *args, **options):
        self.stdout.write(state_machines_markdown(), ending="")
