"""What a person may see. Every view and API endpoint asks here.

For the governance model the rule is the tenant boundary: a person sees the organisations in
which they hold a mandate today (a membership of one of its bodies, or a staff assignment), and
the areas, departments, bodies and memberships of those organisations. Superusers see all.
The per-object matrix for plans, cases and tasks builds on this.
"""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from governance.models import Body, Department, Membership, OperationsArea, Organisation
from governance.selectors import organisations_of_person_on


def visible_organisations(*, user, day: datetime.date | None = None) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    return organisations_of_person_on(person=user, day=day or timezone.localdate())


def visible_operations_areas(*, user) -> QuerySet[OperationsArea]:
    return OperationsArea.objects.filter(organisation__in=visible_organisations(user=user))


def visible_departments(*, user) -> QuerySet[Department]:
    return Department.objects.filter(organisation__in=visible_organisations(user=user))


def visible_bodies(*, user) -> QuerySet[Body]:
    return Body.objects.filter(organisation__in=visible_organisations(user=user))


def visible_memberships(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(body__organisation__in=visible_organisations(user=user))
