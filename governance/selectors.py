"""Reads of the governance model: who holds which mandate on a given day."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from governance.models import (
    Body,
    Membership,
    OperationsArea,
    Organisation,
    Person,
    SigningAuthorisation,
    StaffAssignment,
)


@dataclass(frozen=True)
class Mandate:
    """One role a person holds on a day: a seat in a body or a staff assignment."""

    kind: str  # "membership" or "staff"
    pk: int
    role: str
    role_label: str | Promise
    organisation: Organisation
    body: Body | None
    operations_area: OperationsArea | None
    starts_on: datetime.date
    ends_on: datetime.date | None

    @property
    def scope_label(self) -> str:
        if self.body is not None:
            return str(self.body)
        if self.operations_area is not None:
            return str(self.operations_area)
        return str(self.organisation)


def body_members_on(*, body: Body, day: datetime.date | None = None) -> QuerySet[Membership]:
    day = day or timezone.localdate()
    return (
        Membership.objects.current_on(day)
        .filter(body=body)
        .select_related("person")
        .order_by("role", "person__first_name", "person__last_name")
    )


def body_chair_on(*, body: Body, day: datetime.date | None = None) -> Person | None:
    """The chair of ``body`` on ``day``, or ``None`` while the seat is vacant."""
    membership = (
        body_members_on(body=body, day=day).filter(role=Membership.Role.CHAIR).first()
    )
    return membership.person if membership else None


def person_mandates_on(*, person: Person, day: datetime.date | None = None) -> list[Mandate]:
    """All roles ``person`` holds on ``day``: memberships first, then staff assignments."""
    day = day or timezone.localdate()
    memberships = (
        Membership.objects.current_on(day)
        .filter(person=person)
        .select_related("body__organisation", "body__department__operations_area")
        .order_by("body__organisation__name", "body__kind", "body__name")
    )
    assignments = (
        StaffAssignment.objects.current_on(day)
        .filter(person=person)
        .select_related("organisation", "operations_area")
        .order_by("organisation__name", "operations_area__number")
    )
    mandates = [
        Mandate(
            kind="membership",
            pk=m.pk,
            role=m.role,
            role_label=m.get_role_display(),
            organisation=m.body.organisation,
            body=m.body,
            operations_area=m.body.department.operations_area if m.body.department else None,
            starts_on=m.starts_on,
            ends_on=m.ends_on,
        )
        for m in memberships
    ]
    mandates += [
        Mandate(
            kind="staff",
            pk=a.pk,
            role=a.role,
            role_label=a.get_role_display(),
            organisation=a.organisation,
            body=None,
            operations_area=a.operations_area,
            starts_on=a.starts_on,
            ends_on=a.ends_on,
        )
        for a in assignments
    ]
    return mandates


def department_boards_of_area(*, area: OperationsArea) -> QuerySet[Body]:
    return (
        Body.objects.filter(kind=Body.Kind.DEPARTMENT_BOARD, department__operations_area=area)
        .select_related("department")
        .order_by("department__number")
    )


def organisations_of_person_on(
    *, person: Person, day: datetime.date | None = None
) -> QuerySet[Organisation]:
    """The organisations in which ``person`` holds any mandate on ``day``."""
    day = day or timezone.localdate()
    body_orgs = Membership.objects.current_on(day).filter(person=person).values(
        "body__organisation_id"
    )
    staff_orgs = StaffAssignment.objects.current_on(day).filter(person=person).values(
        "organisation_id"
    )
    return Organisation.objects.filter(Q(pk__in=body_orgs) | Q(pk__in=staff_orgs))


@dataclass(frozen=True)
class SigningMandate:
    """Under which mandate a person signs for a body: as chair, or as vice-chair for the chair."""

    role: str  # "chair" or "vice_chair_for_chair"
    on_behalf_of: Person | None

    @property
    def label(self) -> str:
        """For pages: names the chair a vice-chair signs for."""
        from django.utils.translation import gettext

        if self.on_behalf_of is None:
            return gettext("chair")
        return gettext("vice-chair on behalf of %(chair)s") % {"chair": self.on_behalf_of}

    @property
    def record_label(self) -> str:
        """For the logs (acting-as): the mandate only, never a name; the chair is
        ``on_behalf_of``, stored as an id (privacy: erasure must not touch the audit trail)."""
        from django.utils.translation import gettext

        if self.on_behalf_of is None:
            return gettext("chair")
        return gettext("vice-chair on behalf of the chair")


def signing_mandate_on(*, body: Body, person: Person,
                       day: datetime.date | None = None) -> SigningMandate | None:
    """The chair signs; the vice-chair only inside a period the current chair authorised."""
    day = day or timezone.localdate()
    held = {m.role: m for m in body_members_on(body=body, day=day).filter(
        role__in=[Membership.Role.CHAIR, Membership.Role.VICE_CHAIR])}
    chair = held.get(Membership.Role.CHAIR)
    if chair is not None and chair.person_id == person.pk:
        return SigningMandate(role="chair", on_behalf_of=None)
    vice = held.get(Membership.Role.VICE_CHAIR)
    if chair is None or vice is None or vice.person_id != person.pk:
        return None
    authorised = SigningAuthorisation.objects.current_on(day).filter(
        body=body, chair=chair.person, vice_chair=person).exists()
    if authorised:
        return SigningMandate(role="vice_chair_for_chair", on_behalf_of=chair.person)
    return None
