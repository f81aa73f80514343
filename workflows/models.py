"""Processes of the flows and the routing record of every human task."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task


class AnnualPlanProcess(Process):
    """The viewflow process that routes the human work of one annual plan."""

    plan = models.OneToOneField("cycles.AnnualPlan", verbose_name=_("annual plan"),
                                on_delete=models.PROTECT, related_name="workflow_process")

    class Meta:
        verbose_name = _("annual plan process")
        verbose_name_plural = _("annual plan processes")


class FollowUpProcess(Process):
    """The viewflow process that routes the work of one department's half-yearly follow-up."""

    follow_up = models.OneToOneField("cycles.FollowUp", verbose_name=_("follow-up"),
                                     on_delete=models.PROTECT, related_name="workflow_process")

    class Meta:
        verbose_name = _("follow-up process")
        verbose_name_plural = _("follow-up processes")


class TaskMandate(models.Model):
    """The mandate a human task is routed to, resolved to a person when the task is created.

    When a term ends, open tasks move to the mandate's new holder (workflows.services).
    """

    class Kind(models.TextChoices):
        BODY = "body", _("seat in a body")
        STAFF = "staff", _("staff role")

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="mandate",
                                primary_key=True)
    organisation = models.ForeignKey("governance.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    body = models.ForeignKey("governance.Body", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    operations_area = models.ForeignKey("governance.OperationsArea", on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+")
    role = models.CharField(_("role"), max_length=32)
    plan = models.ForeignKey("cycles.AnnualPlan", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    department = models.ForeignKey("governance.Department", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    follow_up = models.ForeignKey("cycles.FollowUp", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")

    class Meta:
        verbose_name = _("task mandate")
        verbose_name_plural = _("task mandates")
        indexes = [models.Index(fields=["organisation", "kind", "role"],
                                name="workflows_taskmandate_lookup")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        from governance.models import Membership, StaffAssignment

        if self.kind == self.Kind.BODY:
            role = Membership.Role(self.role).label
            return _("%(role)s of %(where)s") % {"role": role, "where": self.body}
        role = StaffAssignment.Role(self.role).label
        where = self.operations_area or self.organisation
        return _("%(role)s, %(where)s") % {"role": role, "where": where}
