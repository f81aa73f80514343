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
    """The companion of every human task: the mandate it is routed to (resolved to a person
    when the task is created), its deadline, priority, the owner's snooze date, and whether it
    went to a substitute. viewflow's task table has none of these; they are real, indexed
    columns here so the inbox filters and sorts in SQL.

    When a term ends or a delegation starts or ends, open tasks move (workflows.services).
    """

    class Priority(models.IntegerChoices):
        HIGH = 1, _("high")
        NORMAL = 2, _("normal")
        LOW = 3, _("low")

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
    due_on = models.DateField(_("due"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices,
                                                default=Priority.NORMAL)
    follow_up_on = models.DateField(
        _("snoozed until"), null=True, blank=True,
        help_text=_("The owner's own follow-up date: the task waits under “Snoozed” until then."))
    delegated_from = models.ForeignKey(
        "governance.Person", verbose_name=_("on behalf of"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
        help_text=_("The mandate's holder, when the task went to their substitute."))
    routed = models.BooleanField(
        _("routed"), default=True,
        help_text=_("The owner is the one routing chose; false once the task was claimed or "
                    "reassigned (then a change of mandate holder does not move it)."))
    due_sequence = models.PositiveIntegerField(
        _("deadline revision"), default=0,
        help_text=_("Raised whenever the due date moves (calendar SEQUENCE)."))
    assigned_on = models.DateField(
        _("assigned on"), null=True, blank=True,
        help_text=_("When the current owner got the task (the first reminder counts from it)."))
    escalated_to = models.ForeignKey(
        "governance.Person", verbose_name=_("escalated to"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
        help_text=_("The chair or operations manager copied on the overdue reminders."))
    escalated_on = models.DateField(_("escalated on"), null=True, blank=True)
    candidate_groups = models.ManyToManyField(
        "auth.Group", verbose_name=_("candidate groups"), blank=True, related_name="+",
        help_text=_("Members of these mandate groups may claim the task."))

    class Meta:
        verbose_name = _("task mandate")
        verbose_name_plural = _("task mandates")
        indexes = [
            models.Index(fields=["organisation", "kind", "role"],
                         name="workflows_taskmandate_lookup"),
            models.Index(fields=["due_on", "priority"], name="workflows_taskmandate_due"),
            models.Index(fields=["follow_up_on"], name="workflows_taskmandate_snooze"),
            models.Index(fields=["delegated_from"], name="workflows_taskmandate_deleg"),
            models.Index(fields=["escalated_to"], name="workflows_taskmandate_escal"),
        ]

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


class TaskComment(models.Model):
    """A comment on a task, visible to everyone who may see the task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey("governance.Person", verbose_name=_("author"),
                               on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("task comment")
        verbose_name_plural = _("task comments")
        ordering = ["task_id", "created_at", "pk"]

    def __str__(self):
        return self.text[:40]


class Delegation(models.Model):
    """A holder of mandates names a substitute for a period (e.g. a vacation): tasks routed to
    the holder in that period go to the substitute, who acts on the holder's behalf."""

    person = models.ForeignKey("governance.Person", verbose_name=_("on behalf of"),
                               on_delete=models.PROTECT, related_name="delegations_given")
    substitute = models.ForeignKey("governance.Person", verbose_name=_("substitute"),
                                   on_delete=models.PROTECT, related_name="delegations_taken")
    organisation = models.ForeignKey("governance.Organisation",
                                     verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="+")
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey("governance.Person", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                   name="workflows_delegation_period_order"),
            models.CheckConstraint(condition=~models.Q(person=models.F("substitute")),
                                   name="workflows_delegation_not_to_self"),
        ]
        indexes = [models.Index(fields=["person", "starts_on", "ends_on"],
                                name="workflows_delegation_active")]

    def __str__(self):
        return f"{self.person} → {self.substitute} ({self.starts_on}–{self.ends_on})"


class SavedTaskFilter(models.Model):
    """A person's named inbox filter (the query string of the inbox page)."""

    person = models.ForeignKey("governance.Person", on_delete=models.CASCADE,
                               related_name="saved_task_filters")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filter"), max_length=500)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["person", "name"],
                                               name="workflows_savedtaskfilter_unique_name")]

    def __str__(self):
        return self.name
