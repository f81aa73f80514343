"""Measure guardian's two storages for the mandate groups' grants on this database.

Times ``get_objects_for_user(..., accept_global_perms=False)`` (the list views' query) for a
few users, first with the direct foreign-key tables the project uses, then with the same rows
copied into guardian's generic table (inside a transaction that is rolled back, so nothing
stays). Reports p50/p95 in milliseconds and the ratio generic/direct. Used to choose the
storage (docs/architecture.md); run it against PostgreSQL with a loaded demo or benchmark data.
"""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from guardian.models import GroupObjectPermission
from guardian.shortcuts import get_objects_for_user

from governance.models import Department, Person
from permissions.matrix import Action, permission_name
from permissions.models import DepartmentGroupObjectPermission


class _Rollback(Exception):
    pass


def _time(user, repeat: int) -> tuple[float, float, int]:
    samples, rows = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = len(list(get_objects_for_user(
            user, permission_name(Action.FOLLOW_UP_VIEW), Department,
            accept_global_perms=False, with_superuser=False).values_list("pk", flat=True)))
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], rows


class Command(BaseCommand):
    help = "Compare guardian's direct and generic permission tables for the list query."

    def add_arguments(self, parser):
        parser.add_argument("--users", nargs="+",
                            default=["ab-formand", "serviceleder", "sekretaer"])
        parser.add_argument("--repeat", type=int, default=200)

    def handle(self, *args, users, repeat, **options):
        people = list(Person.objects.filter(username__in=users))
        rows = DepartmentGroupObjectPermission.objects.count()
        self.stdout.write(f"{connection.vendor}, {rows} department grants, "
                          f"{Department.objects.count()} departments, {repeat} runs each")
        direct = {p.username: _time(p, repeat) for p in people}
        generic = {}
        try:
            with transaction.atomic():
                GroupObjectPermission.objects.bulk_create(
                    [GroupObjectPermission(group_id=g, permission_id=perm,
                                           content_type_id=ct, object_pk=str(obj))
                     for g, perm, ct, obj in DepartmentGroupObjectPermission.objects.values_list(
                         "group_id", "permission_id", "permission__content_type_id",
                         "content_object_id").iterator()], batch_size=5000)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE guardian_groupobjectpermission")
                DepartmentGroupObjectPermission.enabled = False
                try:
                    generic = {p.username: _time(p, repeat) for p in people}
                finally:
                    DepartmentGroupObjectPermission.enabled = True
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(f"{'user':<14}{'rows':>6}{'direct p50':>12}{'p95':>8}"
                          f"{'generic p50':>13}{'p95':>8}{'generic/direct':>16}")
        for name in direct:
            d50, d95, n = direct[name]
            g50, g95, _n = generic[name]
            self.stdout.write(f"{name:<14}{n:>6}{d50:>12.2f}{d95:>8.2f}{g50:>13.2f}{g95:>8.2f}"
                              f"{g50 / d50:>16.2f}")
