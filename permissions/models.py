"""Mandate groups and their object permissions (django-guardian).

The permission matrix (permissions/matrix.py) is the source of truth. It is materialised as
django-guardian object permissions held by **groups**, one group per mandate:

* ``(body, role)`` — a seat in a body, e.g. the chair of the department board of afd. 12;
* ``(operations area, staff role)`` — e.g. the service manager of operations area 1;
* ``(organisation, staff role)`` — a staff role held organisation-wide (no area).

A person is in a group while they hold the mandate today. Only ``permissions.services`` writes
these tables (and the group memberships); ``reconcile_permissions`` recomputes them and repairs
drift. Grants use guardian's direct foreign-key tables (measured: see docs/architecture.md).
"""

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase

from governance.models import Body, Department, OperationsArea, Organisation


class MandateGroup(models.Model):
    """The auth group that stands for one mandate (see the module docstring)."""

    class Kind(models.TextChoices):
        BODY = "body", _("seat in a body")
        AREA = "area", _("staff role in an operations area")
        ORGANISATION = "organisation", _("staff role in the organisation")

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="mandate")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="mandate_groups")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    body = models.ForeignKey(Body, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="mandate_groups")
    operations_area = models.ForeignKey(OperationsArea, on_delete=models.CASCADE, null=True,
                                        blank=True, related_name="mandate_groups")
    role = models.CharField(_("role"), max_length=32)

    class Meta:
        verbose_name = _("mandate group")
        verbose_name_plural = _("mandate groups")
        constraints = [
            models.UniqueConstraint(fields=["body", "role"], condition=Q(kind="body"),
                                    name="permissions_mandategroup_one_per_seat"),
            models.UniqueConstraint(fields=["operations_area", "role"], condition=Q(kind="area"),
                                    name="permissions_mandategroup_one_per_area_role"),
            models.UniqueConstraint(fields=["organisation", "role"],
                                    condition=Q(kind="organisation"),
                                    name="permissions_mandategroup_one_per_org_role"),
            models.CheckConstraint(
                condition=(Q(kind="body", body__isnull=False, operations_area__isnull=True)
                           | Q(kind="area", body__isnull=True, operations_area__isnull=False)
                           | Q(kind="organisation", body__isnull=True,
                               operations_area__isnull=True)),
                name="permissions_mandategroup_kind_fields"),
        ]

    def __str__(self):
        return self.group.name

    @property
    def key(self) -> tuple:
        return mandate_key(self.kind, self.body_id, self.operations_area_id,
                           self.organisation_id, self.role)


def mandate_key(kind: str, body_id: int | None, area_id: int | None, organisation_id: int,
                role: str) -> tuple:
    """A hashable identity of a mandate group, the same for rows and for expectations."""
    if kind == MandateGroup.Kind.BODY:
        return ("body", body_id, role)
    if kind == MandateGroup.Kind.AREA:
        return ("area", area_id, role)
    return ("organisation", organisation_id, role)


class DepartmentGroupObjectPermission(GroupObjectPermissionBase):
    """guardian's direct foreign-key table for permissions on departments."""

    content_object = models.ForeignKey(Department, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class OrganisationGroupObjectPermission(GroupObjectPermissionBase):
    """guardian's direct foreign-key table for permissions on organisations."""

    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
