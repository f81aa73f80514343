from django.core.management.base import BaseCommand, CommandError

from governance.models import Organisation
from permissions.services import reconcile


class Command(BaseCommand):
    help = ("Recompute mandate groups, their object permissions and their members from the "
            "permission matrix and today's mandates; repair and report any drift. Run nightly "
            "after midnight (terms begin and end by date without any write).")

    def add_arguments(self, parser):
        parser.add_argument("--organisation", metavar="SLUG",
                            help="Only this organisation (default: all).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Report drift without repairing it; exit status 1 if any.")

    def handle(self, *args, organisation=None, dry_run=False, **options):
        org = None
        if organisation:
            org = Organisation.objects.filter(slug=organisation).first()
            if org is None:
                raise CommandError(f"No organisation with the slug {organisation!r}.")
        drift = reconcile(organisation=org, repair=not dry_run)
        verb = "found" if dry_run else "repaired"
        for line in drift.details:
            self.stdout.write(f"  {line}")
        self.stdout.write(
            f"Drift {verb}: {drift.grants_added} grants missing, {drift.grants_removed} grants "
            f"not in the matrix, {drift.members_added} members missing, "
            f"{drift.members_removed} members without the mandate; "
            f"{drift.groups_created} groups {'missing' if dry_run else 'created'}.")
        if dry_run and (drift.total or drift.groups_created):
            raise SystemExit(1)
