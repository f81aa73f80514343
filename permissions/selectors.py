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
from permissions.matrix import CHAIR_ACTIONS, MATRIX, Action, Scope, scope_of


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


def acting_for(*, user, day: datetime.date, organisation_id: int | None = None):
    """The people ``user`` stands in for on ``day`` (active delegations to them), as a
    subquery of person ids: a substitute holds the delegator's roles in that organisation."""
    from workflows.models import Delegation

    delegations = Delegation.objects.filter(substitute=user, starts_on__lte=day,
                                            ends_on__gte=day, cancelled_at__isnull=True)
    if organisation_id is not None:
        delegations = delegations.filter(organisation_id=organisation_id)
    return delegations.values("person_id")


def _self_or_delegators(user, day: datetime.date, organisation_id: int | None = None):
    from django.db.models import Q

    return Q(person=user) | Q(person_id__in=acting_for(user=user, day=day,
                                                      organisation_id=organisation_id))


def roles_in_organisation(*, user, organisation_id: int,
                          day: datetime.date | None = None) -> frozenset[tuple[str, str]]:
    """The (where, role) pairs ``user`` holds in the organisation on ``day``: two queries."""
    from governance.models import StaffAssignment

    if not user.is_authenticated:
        return frozenset()
    day = day or timezone.localdate()
    who = _self_or_delegators(user, day, organisation_id)
    seats = Membership.objects.current_on(day).filter(
        who, body__organisation_id=organisation_id).values_list("body__kind", "role")
    staff = StaffAssignment.objects.current_on(day).filter(
        who, organisation_id=organisation_id).values_list("role", flat=True)
    return frozenset(seats) | frozenset(("staff", role) for role in staff)


def permitted_actions(*, user, organisation_id: int,
                      day: datetime.date | None = None) -> frozenset[Action]:
    """Every matrix action the user's roles in the organisation allow (before state checks).

    Chair actions count for an authorised vice-chair too (see signing_mandate_on).
    """
    from governance.selectors import signing_mandate_on

    day = day or timezone.localdate()
    roles = roles_in_organisation(user=user, organisation_id=organisation_id, day=day)
    allowed = {action for action, holders in MATRIX.items()
               if scope_of(action) == Scope.ORGANISATION and roles & holders}
    for action, body_kind in CHAIR_ACTIONS.items():
        if action in allowed or (body_kind, "vice_chair") not in roles:
            continue
        body = Body.objects.filter(organisation_id=organisation_id, kind=body_kind).first()
        if body and signing_mandate_on(body=body, person=user, day=day):
            allowed.add(action)
    return frozenset(allowed)


def can(*, user, action: Action, organisation_id: int,
        day: datetime.date | None = None) -> bool:
    return action in permitted_actions(user=user, organisation_id=organisation_id, day=day)


def roles_in_department(*, user, department, day: datetime.date | None = None
                        ) -> frozenset[tuple[str, str]]:
    """The roles that count in a department's scope: a seat on its board, and a staff role in
    its operations area or organisation-wide. Two queries."""
    from django.db.models import Q

    from governance.models import StaffAssignment

    if not user.is_authenticated:
        return frozenset()
    day = day or timezone.localdate()
    who = _self_or_delegators(user, day, department.organisation_id)
    seats = Membership.objects.current_on(day).filter(
        who, body__department=department).values_list("body__kind", "role")
    staff = StaffAssignment.objects.current_on(day).filter(
        Q(operations_area_id=department.operations_area_id) | Q(operations_area__isnull=True),
        who, organisation_id=department.organisation_id,
    ).values_list("role", flat=True)
    return frozenset(seats) | frozenset(("staff", role) for role in staff)


def permitted_department_actions(*, user, department,
                                 day: datetime.date | None = None) -> frozenset[Action]:
    roles = roles_in_department(user=user, department=department, day=day)
    return frozenset(action for action, holders in MATRIX.items()
                     if scope_of(action) == Scope.DEPARTMENT and roles & holders)


def can_in_department(*, user, action: Action, department,
                      day: datetime.date | None = None) -> bool:
    return action in permitted_department_actions(user=user, department=department, day=day)


def departments_for(*, user, action: Action, day: datetime.date | None = None
                    ) -> QuerySet[Department]:
    """The departments in which ``user`` may take the department-scope ``action``: one SQL
    query built from the matrix (seats on their boards; staff roles in their area or
    organisation-wide)."""
    from django.db.models import OuterRef, Q

    from governance.models import StaffAssignment

    if not user.is_authenticated:
        return Department.objects.none()
    day = day or timezone.localdate()
    holders = MATRIX[action]
    board_roles = [role for where, role in holders if where == "department_board"]
    staff_roles = [role for where, role in holders if where == "staff"]
    # A substitute acts in the delegator's departments, within the delegation's organisation.
    from workflows.models import Delegation

    delegated = Delegation.objects.filter(substitute=user, starts_on__lte=day, ends_on__gte=day,
                                          cancelled_at__isnull=True)
    mine = Q(person=user)
    seat_who = mine | Q(person_id__in=delegated.filter(
        organisation_id=OuterRef("body__organisation_id")).values("person_id"))
    staff_who = mine | Q(person_id__in=delegated.filter(
        organisation_id=OuterRef("organisation_id")).values("person_id"))
    seats = Membership.objects.current_on(day).filter(
        seat_who, body__kind="department_board", role__in=board_roles
    ).values("body__department_id")
    staff = StaffAssignment.objects.current_on(day).filter(staff_who, role__in=staff_roles)
    area_ids = staff.filter(operations_area__isnull=False).values("operations_area_id")
    org_ids = staff.filter(operations_area__isnull=True).values("organisation_id")
    return Department.objects.filter(
        Q(pk__in=seats) | Q(operations_area_id__in=area_ids) | Q(organisation_id__in=org_ids))


def departments_granted(*, user, action: Action, day: datetime.date | None = None
                        ) -> QuerySet[Department]:
    """The departments in which ``user`` may take the department-scope ``action`` on ``day``,
    for list views: guardian's object permissions (the user's mandate groups) intersected with
    the dated matrix (:func:`departments_for`), so a group membership that the nightly
    reconcile has not yet caught up with never widens access. Superusers: every department.
    One SQL query (subqueries), whatever the number of departments.
    """
    from guardian.shortcuts import get_objects_for_user

    from permissions.matrix import permission_name

    if not user.is_authenticated:
        return Department.objects.none()
    if user.is_superuser:
        return Department.objects.all()
    granted = get_objects_for_user(user, permission_name(action), Department,
                                   accept_global_perms=False, with_superuser=False)
    return departments_for(user=user, action=action, day=day).filter(pk__in=granted.values("pk"))


def groups_holding(*, action: Action, organisation_id: int, department=None) -> list[int]:
    """The ids of the mandate groups that hold ``action`` on the department (department-scope
    actions) or the organisation, read from the guardian grants. One query."""
    from permissions.matrix import codename
    from permissions.models import (
        DepartmentGroupObjectPermission,
        OrganisationGroupObjectPermission,
    )

    if scope_of(action) == Scope.DEPARTMENT:
        grants = DepartmentGroupObjectPermission.objects.filter(content_object=department)
    else:
        grants = OrganisationGroupObjectPermission.objects.filter(
            content_object_id=organisation_id)
    return list(grants.filter(permission__codename=codename(action))
                .values_list("group_id", flat=True))
