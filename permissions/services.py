"""Writes of the materialised permission matrix: mandate groups, their object permissions and
who is in them. The only module that grants or revokes a django-guardian permission.

* Grants depend on the organisation's structure (bodies, areas, departments) and the matrix,
  never on people: a group per mandate holds the matrix's actions for that mandate on the
  department(s) or organisation in its scope. They are written when the structure is created
  (``organisation_grants``, ``department_grants``) and recomputed by ``reconcile``.
* Group membership follows the people: a person is in a mandate's group while they hold the
  mandate today. Every governance service that starts or ends a term calls
  :func:`person_groups_sync` in its own transaction; terms that begin or end by date alone are
  caught by the nightly ``reconcile_permissions`` run.

The authoritative check is still the dated matrix (permissions.selectors): lists intersect
guardian's answer with it, so a stale group never widens access.
"""

import datetime
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from audit.services import audit_record
from governance.models import (
    Body,
    Department,
    Membership,
    OperationsArea,
    Organisation,
    Person,
    StaffAssignment,
)
from permissions.matrix import (
    BOARD_ROLES,
    MATRIX,
    STAFF_ROLES,
    Action,
    Scope,
    codename,
    scope_of,
)
from permissions.models import (
    DepartmentGroupObjectPermission,
    MandateGroup,
    OrganisationGroupObjectPermission,
    mandate_key,
)

DEPARTMENT_ACTIONS = [a for a in Action if scope_of(a) == Scope.DEPARTMENT]
ORGANISATION_ACTIONS = [a for a in Action if scope_of(a) == Scope.ORGANISATION]

# A grant: (mandate key, permission codename, object id). Department grants and organisation
# grants are kept in two sets because they live in two tables.
Grant = tuple[tuple, str, int]


def _actions_for(where: str, role: str, actions: list[Action]) -> list[str]:
    return [codename(a) for a in actions if (where, role) in MATRIX[a]]


def _group_spec(key: tuple, organisation_id: int) -> dict:
    kind, ident, role = key
    return {"kind": kind, "organisation_id": organisation_id, "role": role,
            "body_id": ident if kind == "body" else None,
            "operations_area_id": ident if kind == "area" else None}


def _group_name(key: tuple) -> str:
    kind, ident, role = key
    return f"mandate:{kind}:{ident}:{role}"


def expected_grants(*, organisation_id: int, department_ids: set[int] | None = None
                    ) -> tuple[set[Grant], set[Grant], dict[tuple, dict]]:
    """What the matrix says the organisation's mandate groups hold: (department grants,
    organisation grants, every mandate group's spec). Three queries.

    ``department_ids`` limits the department grants to those departments.
    """
    bodies = Body.objects.filter(organisation_id=organisation_id)
    areas = OperationsArea.objects.filter(organisation_id=organisation_id)
    departments = Department.objects.filter(organisation_id=organisation_id)
    if department_ids is not None:
        # Only what concerns these departments: their boards, their areas, the organisation.
        bodies = bodies.filter(department_id__in=department_ids)
        departments = departments.filter(pk__in=department_ids)
        areas = areas.filter(departments__in=department_ids).distinct()
    bodies = list(bodies.values_list("pk", "kind", "department_id"))
    area_ids = list(areas.values_list("pk", flat=True))
    departments = list(departments.values_list("pk", "operations_area_id"))
    on_department: set[Grant] = set()
    on_organisation: set[Grant] = set()
    groups: dict[tuple, dict] = {}
    for body_id, kind, department_id in bodies:
        for role in BOARD_ROLES:
            key = ("body", body_id, role)
            groups[key] = _group_spec(key, organisation_id)
            on_organisation |= {(key, c, organisation_id)
                                for c in _actions_for(kind, role, ORGANISATION_ACTIONS)}
            if department_id is not None and (department_ids is None
                                              or department_id in department_ids):
                on_department |= {(key, c, department_id)
                                  for c in _actions_for(kind, role, DEPARTMENT_ACTIONS)}
    for role in STAFF_ROLES:
        org_codes = _actions_for("staff", role, ORGANISATION_ACTIONS)
        dept_codes = _actions_for("staff", role, DEPARTMENT_ACTIONS)
        wide = ("organisation", organisation_id, role)
        groups[wide] = _group_spec(wide, organisation_id)
        on_organisation |= {(wide, c, organisation_id) for c in org_codes}
        for area_id in area_ids:
            key = ("area", area_id, role)
            groups[key] = _group_spec(key, organisation_id)
            on_organisation |= {(key, c, organisation_id) for c in org_codes}
        for department_id, area_id in departments:
            for key in (wide, ("area", area_id, role)):
                on_department |= {(key, c, department_id) for c in dept_codes}
    return on_department, on_organisation, groups


def _permission_ids(model) -> dict[str, int]:
    content_type = ContentType.objects.get_for_model(model)
    return dict(Permission.objects.filter(content_type=content_type)
                .values_list("codename", "pk"))


def _existing_groups(organisation_ids, keys=None) -> dict[tuple, int]:
    """Mandate key → group id of the organisations' groups (only ``keys``, if given)."""
    from django.db.models import Q

    groups = MandateGroup.objects.filter(organisation_id__in=organisation_ids)
    if keys is not None:
        groups = groups.filter(
            Q(kind="body", body_id__in={i for k, i, _r in keys if k == "body"})
            | Q(kind="area", operations_area_id__in={i for k, i, _r in keys if k == "area"})
            | Q(kind="organisation"))
    return {mandate_key(kind, body_id, area_id, org_id, role): group_id
            for kind, body_id, area_id, org_id, role, group_id in
            groups.values_list("kind", "body_id", "operations_area_id", "organisation_id",
                               "role", "group_id")}


def _ensure_groups(specs: dict[tuple, dict]) -> dict[tuple, int]:
    """Mandate key → auth group id, creating the groups that are missing (bulk)."""
    existing = _existing_groups({s["organisation_id"] for s in specs.values()}, keys=specs)
    missing = [key for key in specs if key not in existing]
    if missing:
        Group.objects.bulk_create([Group(name=_group_name(key)) for key in missing],
                                  ignore_conflicts=True)
        group_ids = dict(Group.objects.filter(name__in=[_group_name(k) for k in missing])
                         .values_list("name", "pk"))
        MandateGroup.objects.bulk_create(
            [MandateGroup(group_id=group_ids[_group_name(key)], **specs[key])
             for key in missing], ignore_conflicts=True)
        existing.update({key: group_ids[_group_name(key)] for key in missing})
    return existing


def _current_grants(model, group_ids: dict[tuple, int], object_ids=None) -> set[Grant]:
    by_group = {group_id: key for key, group_id in group_ids.items()}
    rows = model.objects.filter(group_id__in=list(by_group))
    if object_ids is not None:
        rows = rows.filter(content_object_id__in=list(object_ids))
    return {(by_group[g], c, o) for g, c, o in
            rows.values_list("group_id", "permission__codename", "content_object_id")}


def _write_grants(model, add: set[Grant], remove: set[Grant],
                  group_ids: dict[tuple, int]) -> None:
    permission_ids = _permission_ids(Department if model is DepartmentGroupObjectPermission
                                     else Organisation)
    model.objects.bulk_create(
        [model(group_id=group_ids[key], permission_id=permission_ids[code],
               content_object_id=object_id) for key, code, object_id in add],
        ignore_conflicts=True, batch_size=2000)
    by_object = defaultdict(list)
    for key, code, object_id in remove:
        by_object[(key, code)].append(object_id)
    for (key, code), object_ids in by_object.items():
        model.objects.filter(group_id=group_ids[key], permission_id=permission_ids[code],
                             content_object_id__in=object_ids).delete()


@dataclass
class Drift:
    """What ``reconcile`` found different from the matrix (and repaired unless dry-run)."""

    groups_created: int = 0
    grants_added: int = 0
    grants_removed: int = 0
    members_added: int = 0
    members_removed: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (self.grants_added + self.grants_removed + self.members_added
                + self.members_removed)

    def __iadd__(self, other: "Drift") -> "Drift":
        for name in ("groups_created", "grants_added", "grants_removed", "members_added",
                     "members_removed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.details += other.details
        return self


# How many grants an audit entry lists by name (the counts are always complete).
AUDITED_GRANTS = 50


def _grant_names(grants: set[Grant], model) -> list[list]:
    where = "department" if model is DepartmentGroupObjectPermission else "organisation"
    return [[_group_name(key), code, where, object_id]
            for key, code, object_id in sorted(grants)[:AUDITED_GRANTS]]


@transaction.atomic
def organisation_grants(*, organisation: Organisation, repair: bool = True,
                        actor=None) -> Drift:
    """Bring the organisation's mandate groups and their grants in line with the matrix;
    what was granted and revoked goes into the organisation's audit trail."""
    return _organisation_grants(organisation=organisation, repair=repair, actor=actor,
                                audit=True)


def _organisation_grants(*, organisation: Organisation, repair: bool, actor=None,
                         audit: bool) -> Drift:
    on_department, on_organisation, specs = expected_grants(organisation_id=organisation.pk)
    existing = _existing_groups({organisation.pk})
    group_ids = _ensure_groups(specs) if repair else existing
    drift = Drift(groups_created=len(set(specs) - set(existing)))
    granted, revoked = [], []
    for model, expected in ((DepartmentGroupObjectPermission, on_department),
                            (OrganisationGroupObjectPermission, on_organisation)):
        current = _current_grants(model, group_ids)
        add, remove = expected - current, current - expected
        drift.grants_added += len(add)
        drift.grants_removed += len(remove)
        granted += _grant_names(add, model)
        revoked += _grant_names(remove, model)
        drift.details += [f"grant missing: {_group_name(k)} {c} on {model.__name__[:-21]} {o}"
                          for k, c, o in sorted(add)[:20]]
        drift.details += [f"grant not in the matrix: {_group_name(k)} {c} on "
                          f"{model.__name__[:-21]} {o}" for k, c, o in sorted(remove)[:20]]
        if repair:
            _write_grants(model, add, remove, group_ids)
    if audit and repair and (drift.groups_created or drift.grants_added
                             or drift.grants_removed):
        audit_record(actor=actor, action="permissions.grants_update", obj=organisation,
                     organisation=organisation.pk,
                     summary={"groups_created": drift.groups_created,
                              "grants_added": drift.grants_added,
                              "grants_removed": drift.grants_removed,
                              "granted": granted, "revoked": revoked})
    return drift


@transaction.atomic
def department_grants(*, department: Department, actor=None) -> None:
    """Groups and grants for a new department (its board's seats, and the staff of its area
    and organisation on it). Runs inside department_create's transaction."""
    on_department, on_organisation, specs = expected_grants(
        organisation_id=department.organisation_id, department_ids={department.pk})
    existing = _existing_groups({department.organisation_id}, keys=specs)
    group_ids = _ensure_groups(specs)
    new_department = on_department - _current_grants(DepartmentGroupObjectPermission,
                                                     group_ids, {department.pk})
    new_organisation = on_organisation - _current_grants(
        OrganisationGroupObjectPermission, group_ids, {department.organisation_id})
    _write_grants(DepartmentGroupObjectPermission, new_department, set(), group_ids)
    _write_grants(OrganisationGroupObjectPermission, new_organisation, set(), group_ids)
    if new_department or new_organisation:
        audit_record(actor=actor, action="permissions.grants_update", obj=department,
                     organisation=department.organisation_id,
                     summary={"groups_created": len(set(specs) - set(existing)),
                              "grants_added": len(new_department) + len(new_organisation),
                              "grants_removed": 0,
                              "granted": (_grant_names(new_department,
                                                       DepartmentGroupObjectPermission)
                                          + _grant_names(new_organisation,
                                                         OrganisationGroupObjectPermission)
                                          )[:AUDITED_GRANTS],
                              "revoked": []})


def _grant_target(obj) -> tuple[int, str]:
    if isinstance(obj, Department):
        return obj.organisation_id, "department"
    return obj.pk, "organisation"


@transaction.atomic
def grant(*, action: Action, group: Group, obj, actor=None) -> None:
    """One grant outside the matrix's bulk paths (admin repairs, tests of the machinery),
    recorded in the organisation's audit trail."""
    assign_perm(codename(action), group, obj)
    organisation_id, where = _grant_target(obj)
    audit_record(actor=actor, action="permissions.grant", obj=obj, organisation=organisation_id,
                 summary={"group": group.pk, "permission": codename(action), "on": where})


@transaction.atomic
def revoke(*, action: Action, group: Group, obj, actor=None) -> None:
    """Take one grant back (see :func:`grant`), recorded in the organisation's audit trail."""
    remove_perm(codename(action), group, obj)
    organisation_id, where = _grant_target(obj)
    audit_record(actor=actor, action="permissions.revoke", obj=obj,
                 organisation=organisation_id,
                 summary={"group": group.pk, "permission": codename(action), "on": where})


# --- who is in the groups -------------------------------------------------------------------

def _mandate_keys_on(day: datetime.date, *, person_ids=None, organisation_id=None,
                     direct_only: bool = False) -> set[tuple[int, tuple]]:
    """(person id, mandate key) for every mandate held on ``day`` — in person or, unless
    ``direct_only``, as a substitute under a delegation."""
    seats = Membership.objects.current_on(day)
    staff = StaffAssignment.objects.current_on(day)
    if person_ids is not None:
        seats, staff = seats.filter(person_id__in=person_ids), staff.filter(
            person_id__in=person_ids)
    if organisation_id is not None:
        seats = seats.filter(body__organisation_id=organisation_id)
        staff = staff.filter(organisation_id=organisation_id)
    held = {(p, ("body", b, r)) for p, b, r in seats.values_list("person_id", "body_id", "role")}
    for p, org, area, role in staff.values_list("person_id", "organisation_id",
                                                "operations_area_id", "role"):
        held.add((p, ("area", area, role) if area else ("organisation", org, role)))
    if direct_only:
        return held
    return held | _delegated_keys_on(day, person_ids=person_ids, organisation_id=organisation_id)


def _delegated_keys_on(day: datetime.date, *, person_ids=None, organisation_id=None
                       ) -> set[tuple[int, tuple]]:
    """(substitute id, mandate key) for the delegators' mandates in the delegation's
    organisation, for every delegation active on ``day``."""
    from workflows.models import Delegation

    delegations = Delegation.objects.filter(starts_on__lte=day, ends_on__gte=day,
                                            cancelled_at__isnull=True)
    if person_ids is not None:
        delegations = delegations.filter(substitute_id__in=person_ids)
    if organisation_id is not None:
        delegations = delegations.filter(organisation_id=organisation_id)
    pairs = list(delegations.values_list("substitute_id", "person_id", "organisation_id"))
    if not pairs:
        return set()
    held = _mandate_keys_on(day, person_ids={p for _s, p, _o in pairs}, direct_only=True)
    orgs = _organisation_of_keys({key for _p, key in held})
    return {(substitute, key) for substitute, person, org in pairs
            for holder, key in held if holder == person and orgs.get(key) == org}


def _organisation_of_keys(keys: set[tuple]) -> dict[tuple, int]:
    bodies = dict(Body.objects.filter(pk__in=[i for k, i, _r in keys if k == "body"])
                  .values_list("pk", "organisation_id"))
    areas = dict(OperationsArea.objects.filter(pk__in=[i for k, i, _r in keys if k == "area"])
                 .values_list("pk", "organisation_id"))
    return {key: (bodies.get(key[1]) if key[0] == "body" else areas.get(key[1])
                  if key[0] == "area" else key[1]) for key in keys}


def _sync_members(*, day: datetime.date, organisation_id: int | None,
                  person_ids: list[int] | None, repair: bool) -> Drift:
    expected = _mandate_keys_on(day, person_ids=person_ids, organisation_id=organisation_id)
    groups = MandateGroup.objects.all()
    if organisation_id is not None:
        groups = groups.filter(organisation_id=organisation_id)
    key_of = {}
    for kind, body_id, area_id, org_id, role, group_id in groups.values_list(
            "kind", "body_id", "operations_area_id", "organisation_id", "role", "group_id"):
        key_of[group_id] = mandate_key(kind, body_id, area_id, org_id, role)
    group_of = {key: gid for gid, key in key_of.items()}
    missing_groups = {key for _p, key in expected if key not in group_of}
    if missing_groups and repair:
        organisations = {organisation_id} if organisation_id else None
        for org_id in organisations or _organisations_of(missing_groups):
            organisation_grants(organisation=Organisation(pk=org_id))
        return _sync_members(day=day, organisation_id=organisation_id, person_ids=person_ids,
                             repair=repair)
    through = Person.groups.through
    current_rows = through.objects.filter(group_id__in=list(key_of))
    if person_ids is not None:
        current_rows = current_rows.filter(person_id__in=person_ids)
    current = {(p, key_of[g]) for p, g in current_rows.values_list("person_id", "group_id")}
    expected = {(p, key) for p, key in expected if key in group_of}
    add, remove = expected - current, current - expected
    drift = Drift(members_added=len(add), members_removed=len(remove))
    drift.details += [f"member missing: person {p} in {_group_name(k)}" for p, k in sorted(add)[:20]]
    drift.details += [f"member without the mandate today: person {p} in {_group_name(k)}"
                      for p, k in sorted(remove)[:20]]
    if repair:
        through.objects.bulk_create([through(person_id=p, group_id=group_of[k]) for p, k in add],
                                    ignore_conflicts=True, batch_size=2000)
        for p, k in remove:
            through.objects.filter(person_id=p, group_id=group_of[k]).delete()
    return drift


def _organisations_of(keys: set[tuple]) -> set[int]:
    org_ids = {ident for kind, ident, _role in keys if kind == "organisation"}
    org_ids |= set(Body.objects.filter(pk__in=[i for k, i, _r in keys if k == "body"])
                   .values_list("organisation_id", flat=True))
    org_ids |= set(OperationsArea.objects.filter(pk__in=[i for k, i, _r in keys if k == "area"])
                   .values_list("organisation_id", flat=True))
    return org_ids


_deferred_people: ContextVar[set[int] | None] = ContextVar("deferred_group_sync", default=None)


@contextmanager
def groups_sync_deferred():
    """For bulk loads (the demo, imports): collect the people whose terms change inside the
    block and put them in their groups once, at its end, in bulk."""
    token = _deferred_people.set(set())
    try:
        yield
        people = _deferred_people.get()
    finally:
        _deferred_people.reset(token)
    if people:
        _sync_members(day=timezone.localdate(), organisation_id=None,
                      person_ids=sorted(people), repair=True)


@transaction.atomic
def person_groups_sync(*, person: Person, day: datetime.date | None = None) -> Drift:
    """Put ``person`` in exactly the mandate groups of the mandates they hold on ``day``.

    Called by every governance service that starts or ends a term, in its transaction.
    Five queries: the person's mandates (two), the candidate groups, and the two writes.
    """
    from django.db.models import Q

    deferred = _deferred_people.get()
    if deferred is not None and day is None:
        deferred.add(person.pk)
        return Drift()
    day = day or timezone.localdate()
    expected = {key for _p, key in _mandate_keys_on(day, person_ids=[person.pk])}
    by_kind = defaultdict(set)
    for kind, ident, _role in expected:
        by_kind[kind].add(ident)
    candidates = MandateGroup.objects.filter(
        Q(kind="body", body_id__in=by_kind["body"])
        | Q(kind="area", operations_area_id__in=by_kind["area"])
        | Q(kind="organisation", organisation_id__in=by_kind["organisation"])
        | Q(group__user=person))
    group_of, current, organisation_of = {}, set(), {}
    for kind, body_id, area_id, org_id, role, group_id, member in candidates.annotate(
            member=Exists(Person.groups.through.objects.filter(
                person_id=person.pk, group_id=OuterRef("group_id")))).values_list(
            "kind", "body_id", "operations_area_id", "organisation_id", "role", "group_id",
            "member").distinct():
        key = mandate_key(kind, body_id, area_id, org_id, role)
        group_of[key] = group_id
        organisation_of[key] = org_id
        if member:
            current.add(key)
    missing_groups = expected - set(group_of)
    if missing_groups:
        # Structure created outside the services (or before grants existed): repair it.
        for org_id in _organisations_of(missing_groups):
            organisation_grants(organisation=Organisation(pk=org_id))
        return person_groups_sync(person=person, day=day)
    add, remove = expected - current, current - expected
    through = Person.groups.through
    through.objects.bulk_create([through(person_id=person.pk, group_id=group_of[k])
                                 for k in add], ignore_conflicts=True)
    if remove:
        through.objects.filter(person_id=person.pk,
                               group_id__in=[group_of[k] for k in remove]).delete()
    # One entry per organisation whose groups changed, in its chain (its trail shows who got or
    # lost which of its mandate groups).
    for org_id in sorted({organisation_of[k] for k in add | remove}):
        audit_record(actor=None, action="permissions.groups_sync", obj=person,
                     organisation=org_id,
                     summary={"added": sorted(_group_name(k) for k in add
                                              if organisation_of[k] == org_id),
                              "removed": sorted(_group_name(k) for k in remove
                                                if organisation_of[k] == org_id),
                              "day": day.isoformat()})
    return Drift(members_added=len(add), members_removed=len(remove))


def reconcile(*, organisation: Organisation | None = None, day: datetime.date | None = None,
              repair: bool = True) -> Drift:
    """Recompute groups, grants and group membership from the matrix and today's mandates;
    repair what differs unless ``repair`` is false. Returns what differed."""
    day = day or timezone.localdate()
    organisations = [organisation] if organisation else list(Organisation.objects.order_by("pk"))
    drift = Drift()
    for org in organisations:
        with transaction.atomic():
            found = _organisation_grants(organisation=org, repair=repair, audit=False)
            found += _sync_members(day=day, organisation_id=org.pk, person_ids=None,
                                   repair=repair)
            if repair and found.total:
                audit_record(actor=None, action="permissions.reconcile", obj=org,
                             organisation=org,
                             summary={"grants_added": found.grants_added,
                                      "grants_removed": found.grants_removed,
                                      "members_added": found.members_added,
                                      "members_removed": found.members_removed,
                                      "day": day.isoformat()})
        drift += found
    return drift
