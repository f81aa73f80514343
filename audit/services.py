from django.db import models
from django.utils import timezone

from audit.models import AuditEntry


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    organisation=None,
    acting_as: str = "",
    summary: dict | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail. Call it inside the writing transaction."""
    return AuditEntry.objects.create(
        occurred_at=timezone.now(),
        organisation=organisation,
        actor=actor if actor is not None and actor.is_authenticated else None,
        acting_as=acting_as,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary or {},
    )
