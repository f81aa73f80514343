"""The append-only audit trail.

One row per thing that happened to a governance record: who did it (and under which mandate),
when, to what, and a before/after summary. Rows are only ever inserted, through
:func:`audit.services.audit_record`; there is no update or delete path in code or admin.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    organisation = models.ForeignKey(
        "governance.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acting_as = models.CharField(_("acting as"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object_idx"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%d.%m.%Y %H:%M} {self.action} {self.object_type}#{self.object_id}"
