"""Remove or pseudonymise personal data past its retention period (RETENTION_* settings,
docs/security.md). Beat runs it daily (privacy.apply_retention); run it from cron where there is
no beat. --dry-run counts and changes nothing."""

from django.core.management.base import BaseCommand

from privacy.services import retention_apply


class Command(BaseCommand):
    help = "Apply the personal-data retention periods (--dry-run: only count)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would be removed; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        counts = retention_apply(dry_run=dry_run)
        width = max(len(kind) for kind in counts)
        for kind, count in counts.items():
            self.stdout.write(f"{kind.ljust(width)}  {count}")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
