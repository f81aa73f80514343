"""Writes to the governance model. Every change goes through one of these functions.

Each takes keyword-only arguments with the acting user as ``actor=``, runs in a transaction,
validates before saving and appends an audit entry. The rule "at most one chair and one
vice-chair per body on any day" is checked here on every database (the body row is locked so two
concurrent starts serialise) and enforced again by an exclusion constraint on PostgreSQL.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from governance.models import (
    Body,
    Department,
    Membership,
    OperationsArea,
    Organisation,
    Person,
    SigningAuthorisation,
    StaffAssignment,
)
from governance.signals import mandates_changed
from permissions import services as permission_services


def _announce_mandate_change(organisation_id: int, *, body_id: int | None = None,
                             staff_role: str | None = None) -> None:
    transaction.on_commit(
        lambda: mandates_changed.send(sender=Membership, organisation_id=organisation_id,
                                      body_id=body_id, staff_role=staff_role))


def _period_summary(starts_on, ends_on) -> dict:
    return {
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat() if ends_on else None,
    }


def _validate_period(starts_on, ends_on) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date cannot be before the start date.")})


@transaction.atomic
def organisation_create(*, actor, name: str, short_name: str, slug: str,
                        administrator: str = "") -> Organisation:
    organisation = Organisation(
        name=name, short_name=short_name, slug=slug, administrator=administrator
    )
    organisation.full_clean()
    organisation.save()
    audit_record(actor=actor, action="organisation.create", obj=organisation,
                 organisation=organisation, summary={"name": name})
    return organisation


@transaction.atomic
def organisation_bodies_create(*, actor, organisation: Organisation) -> list[Body]:
    """Create the organisation-level bodies that do not exist yet (idempotent)."""
    # Body names are data in the organisation's own language (proper names), not UI text.
    names = {
        Body.Kind.REPRESENTATIVE_COUNCIL: "Repræsentantskabet",
        Body.Kind.ORGANISATION_BOARD: "Organisationsbestyrelsen",
        Body.Kind.OPERATIONS_COMMITTEE: "Driftsudvalget",
        Body.Kind.FOLLOW_UP_GROUP: "Følgegruppen",
    }
    existing = set(
        Body.objects.filter(organisation=organisation).values_list("kind", flat=True)
    )
    created = []
    for kind, name in names.items():
        if kind in existing:
            continue
        body = Body.objects.create(organisation=organisation, kind=kind, name=name)
        audit_record(actor=actor, action="body.create", obj=body, organisation=organisation,
                     summary={"kind": kind})
        created.append(body)
    permission_services.organisation_grants(organisation=organisation)
    return created


@transaction.atomic
def operations_area_create(*, actor, organisation: Organisation, number: int,
                           name: str) -> OperationsArea:
    area = OperationsArea(organisation=organisation, number=number, name=name)
    area.full_clean()
    area.save()
    audit_record(actor=actor, action="operations_area.create", obj=area,
                 organisation=organisation, summary={"number": number, "name": name})
    permission_services.organisation_grants(organisation=organisation)
    return area


@transaction.atomic
def department_create(
    *,
    actor,
    operations_area: OperationsArea,
    number: int,
    name: str,
    households: int,
    address: str = "",
    postal_code: str = "",
    city: str = "",
    financial_year_start_month: int = 1,
) -> Department:
    """Create a department in an operations area, together with its department board."""
    department = Department(
        organisation=operations_area.organisation,
        operations_area=operations_area,
        number=number,
        name=name,
        households=households,
        address=address,
        postal_code=postal_code,
        city=city,
        financial_year_start_month=financial_year_start_month,
    )
    department.full_clean()
    department.save()
    board = Body.objects.create(
        organisation=department.organisation,
        kind=Body.Kind.DEPARTMENT_BOARD,
        department=department,
        name=f"Afdelingsbestyrelsen, afd. {number} {name}",
    )
    audit_record(actor=actor, action="department.create", obj=department,
                 organisation=department.organisation,
                 summary={"number": number, "name": name, "board": board.pk})
    permission_services.department_grants(department=department)
    return department


@transaction.atomic
def person_create(*, actor, username: str, first_name: str, last_name: str, email: str = "",
                  phone: str = "", language: str = Person.Language.DANISH,
                  password: str | None = None, password_hash: str | None = None) -> Person:
    """Create a person. ``password_hash`` lets bulk loaders reuse one hash for many people."""
    person = Person(username=username, first_name=first_name, last_name=last_name,
                    email=email, phone=phone, language=language)
    if password_hash is not None:
        person.password = password_hash
    elif password is not None:
        person.set_password(password)
    else:
        person.set_unusable_password()
    person.full_clean()
    person.save()
    audit_record(actor=actor, action="person.create", obj=person)
    return person


def membership_check(*, body: Body, person: Person, role: str,
                     starts_on: datetime.date, ends_on: datetime.date | None,
                     exclude_pk: int | None = None) -> None:
    """Raise ValidationError if the seat would break a rule; forms call it before saving."""
    _validate_period(starts_on, ends_on)
    others = Membership.objects.filter(body=body)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    # Exactly the rows whose inclusive period overlaps [starts_on, ends_on].
    others = others.exclude(ends_on__lt=starts_on)
    if ends_on is not None:
        others = others.exclude(starts_on__gt=ends_on)
    for other in others.select_related("person"):
        if other.person_id == person.pk:
            raise ValidationError({
                "person": _("%(person)s already has a seat in %(body)s in this period.")
                % {"person": person, "body": body}
            })
        if role in Membership.SINGLE_HOLDER_ROLES and other.role == role:
            raise ValidationError({
                "role": _(
                    "%(body)s already has a %(role)s in this period (%(holder)s, from "
                    "%(starts_on)s). End that term first."
                ) % {
                    "body": body,
                    "role": Membership.Role(role).label,
                    "holder": other.person,
                    "starts_on": other.starts_on.strftime("%d.%m.%Y"),
                }
            })


@transaction.atomic
def membership_start(*, actor, person: Person, body: Body, role: str,
                     starts_on: datetime.date, ends_on: datetime.date | None = None) -> Membership:
    """Give ``person`` a seat in ``body`` with ``role`` for the (inclusive) period."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    # Lock the body: concurrent starts for the same body are decided one after the other.
    body = Body.objects.select_for_update().get(pk=body.pk)
    membership_check(body=body, person=person, role=role,
                            starts_on=starts_on, ends_on=ends_on)
    membership = Membership(person=person, body=body, role=role,
                            starts_on=starts_on, ends_on=ends_on)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as error:
        raise ValidationError(
            {"role": _("The body already has a holder of this role in the period.")}
        ) from error
    audit_record(actor=actor, action="membership.start", obj=membership,
                 organisation=body.organisation,
                 summary={"person": person.pk, "body": body.pk, "role": role,
                          **_period_summary(starts_on, ends_on)})
    permission_services.person_groups_sync(person=person)
    _announce_mandate_change(body.organisation_id, body_id=body.pk)
    return membership


def term_end_check(*, starts_on, current_ends_on, ends_on) -> None:
    """A term can be shortened (or given an end), never extended or ended before it starts."""
    if ends_on is None:
        raise ValidationError({"ends_on": _("Give the last day of the term.")})
    _validate_period(starts_on, ends_on)
    if current_ends_on is not None and ends_on > current_ends_on:
        raise ValidationError({
            "ends_on": _("A term can be shortened here, not extended; start a new term instead.")
        })


@transaction.atomic
def membership_end(*, actor, membership: Membership, ends_on: datetime.date) -> Membership:
    """End a term on ``ends_on`` (the last day the seat is held)."""
    membership = Membership.objects.select_for_update().select_related(
        "body__organisation").get(pk=membership.pk)
    term_end_check(starts_on=membership.starts_on, current_ends_on=membership.ends_on,
                   ends_on=ends_on)
    before = membership.ends_on
    membership.ends_on = ends_on
    membership.save(update_fields=["ends_on"])
    audit_record(actor=actor, action="membership.end", obj=membership,
                 organisation=membership.body.organisation,
                 summary={"ends_on": {"before": before.isoformat() if before else None,
                                      "after": ends_on.isoformat()}})
    permission_services.person_groups_sync(person=membership.person)
    _announce_mandate_change(membership.body.organisation_id, body_id=membership.body_id)
    return membership


def staff_assignment_check(*, organisation: Organisation,
                           operations_area: OperationsArea | None,
                           starts_on: datetime.date, ends_on: datetime.date | None) -> None:
    _validate_period(starts_on, ends_on)
    if operations_area is not None and operations_area.organisation_id != organisation.pk:
        raise ValidationError(
            {"operations_area": _("The operations area belongs to another organisation.")}
        )


@transaction.atomic
def staff_assignment_start(*, actor, person: Person, organisation: Organisation, role: str,
                           starts_on: datetime.date, ends_on: datetime.date | None = None,
                           operations_area: OperationsArea | None = None) -> StaffAssignment:
    if role not in StaffAssignment.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    staff_assignment_check(organisation=organisation, operations_area=operations_area,
                           starts_on=starts_on, ends_on=ends_on)
    assignment = StaffAssignment(person=person, organisation=organisation,
                                 operations_area=operations_area, role=role,
                                 starts_on=starts_on, ends_on=ends_on)
    assignment.save()
    audit_record(actor=actor, action="staff_assignment.start", obj=assignment,
                 organisation=organisation,
                 summary={"person": person.pk, "role": role,
                          "operations_area": operations_area.pk if operations_area else None,
                          **_period_summary(starts_on, ends_on)})
    permission_services.person_groups_sync(person=person)
    _announce_mandate_change(organisation.pk, staff_role=role)
    return assignment


@transaction.atomic
def staff_assignment_end(*, actor, assignment: StaffAssignment,
                         ends_on: datetime.date) -> StaffAssignment:
    assignment = StaffAssignment.objects.select_for_update().select_related("organisation").get(
        pk=assignment.pk)
    term_end_check(starts_on=assignment.starts_on, current_ends_on=assignment.ends_on,
                   ends_on=ends_on)
    before = assignment.ends_on
    assignment.ends_on = ends_on
    assignment.save(update_fields=["ends_on"])
    audit_record(actor=actor, action="staff_assignment.end", obj=assignment,
                 organisation=assignment.organisation,
                 summary={"ends_on": {"before": before.isoformat() if before else None,
                                      "after": ends_on.isoformat()}})
    permission_services.person_groups_sync(person=assignment.person)
    _announce_mandate_change(assignment.organisation_id, staff_role=assignment.role)
    return assignment


@transaction.atomic
def signing_authorisation_grant(*, actor: Person, body: Body, vice_chair: Person,
                                starts_on: datetime.date,
                                ends_on: datetime.date) -> SigningAuthorisation:
    """The chair (``actor``) lets the vice-chair sign on their behalf from/to the given days."""
    from governance.selectors import body_members_on

    _validate_period(starts_on, ends_on)
    members = body_members_on(body=body, day=starts_on)
    if not members.filter(person=actor, role=Membership.Role.CHAIR).exists():
        raise ValidationError(
            {"body": _("Only the chair of %(body)s can authorise a deputy.") % {"body": body}})
    if not members.filter(person=vice_chair, role=Membership.Role.VICE_CHAIR).exists():
        raise ValidationError(
            {"vice_chair": _("%(person)s is not the vice-chair of %(body)s.")
             % {"person": vice_chair, "body": body}})
    authorisation = SigningAuthorisation.objects.create(
        body=body, chair=actor, vice_chair=vice_chair, starts_on=starts_on, ends_on=ends_on)
    audit_record(actor=actor, action="signing_authorisation.grant", obj=authorisation,
                 organisation=body.organisation,
                 summary={"vice_chair": vice_chair.pk, **_period_summary(starts_on, ends_on)})
    return authorisation
