"""Walk every audit chain and check each entry's hash, sequence and link to the one before.

Exit code 0 when every chain is intact; 1 with the first broken entry of each broken chain
named (edited, deleted, inserted or reordered entries all break the chain from there on).
"""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditChain, AuditEntry
from audit.selectors import chain_status


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; exit 1 and name the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("--chain", help="Only this chain (e.g. org:3 or global).")

    def handle(self, *args, chain: str | None = None, **options):
        heads = {head.chain: head for head in AuditChain.objects.all()}
        chains = set(heads) | set(AuditEntry.objects.values_list("chain", flat=True).distinct())
        if chain:
            chains &= {chain}
        broken, checked = [], 0
        for name in sorted(chains):
            problem = chain_status(chain=name, head=heads.get(name)).problem
            checked += 1
            if problem is not None:
                where = f"entry {problem.pk}" if problem.pk is not None else "after the last entry"
                broken.append(f"chain {name}: {where} (sequence {problem.sequence}): "
                              f"{problem.reason}")
        if broken:
            raise CommandError("The audit trail is broken:\n" + "\n".join(broken), returncode=1)
        total = AuditEntry.objects.count()
        self.stdout.write(f"The audit trail is intact: {checked} chains, {total} entries.")
