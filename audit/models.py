"""The append-only audit trail.

One row per thing that happened to a governance record: who did it (and under which mandate),
when, to what, and a before/after summary. Rows are only ever inserted, through
:func:`audit.services.audit_record`; there is no update or delete path in code or admin, and on
PostgreSQL a trigger refuses UPDATE and DELETE on the table.

Tamper-evident: the entries form a hash chain per organisation (``audit.chain``); each stores
its sequence number in the chain, the previous entry's hash and its own. ``AuditChain`` holds
each chain's head (locked while an entry is appended, so concurrent writers line up).
``manage.py verify_audit`` walks every chain and names the first broken entry.
"""

import datetime

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
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    chain = models.CharField(_("chain"), max_length=32)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"],
                                    name="audit_auditentry_one_per_place_in_chain"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%d.%m.%Y %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def content(self) -> dict:
        """What the entry's hash covers (JSON types only; ids, not names of related rows)."""
        return {
            "chain": self.chain,
            "sequence": self.sequence,
            "occurred_at": self.occurred_at.astimezone(datetime.UTC).isoformat(),
            "organisation": self.organisation_id,
            "actor": self.actor_id,
            "acting_as": self.acting_as,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "summary": self.summary,
            "request_id": self.request_id,
        }


class AuditChain(models.Model):
    """The head of one chain: its last sequence number and hash."""

    chain = models.CharField(_("chain"), max_length=32, primary_key=True)
    sequence = models.PositiveBigIntegerField(_("sequence"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64)

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")

    def __str__(self):
        return f"{self.chain} #{self.sequence}"
