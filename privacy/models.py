"""The record of each retention run (privacy.services.retention_apply): when, with which
periods, what went.

A run is the object of its ``retention.apply`` audit entry; the rows it removes are not personal
records of their own (sent e-mails, sign-in attempts, expired sessions), so the run's counts are
what remains of them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionRun(models.Model):
    ran_at = models.DateTimeField(_("ran at"))
    periods = models.JSONField(_("retention periods"), default=dict,
                               help_text=_("The RETENTION_* settings the run applied."))
    counts = models.JSONField(_("counts"), default=dict,
                              help_text=_("What was removed or pseudonymised, per kind."))

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-ran_at", "-pk"]

    def __str__(self):
        return f"{self.ran_at:%d.%m.%Y %H:%M}"
