import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from audit.chain import GENESIS, chain_of, entry_hash
from audit.context import current_request_id
from audit.models import AuditChain, AuditEntry


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    organisation=None,
    acting_as: str = "",
    summary: dict | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail, at the end of its organisation's hash chain.

    Call it inside the writing transaction: the entry commits or rolls back with the change it
    records. The chain's head row is locked until then, so concurrent writers in the same
    organisation append one after the other.
    """
    organisation_id = organisation.pk if isinstance(organisation, models.Model) else organisation
    chain = chain_of(organisation_id)
    with transaction.atomic():
        AuditChain.objects.get_or_create(chain=chain, defaults={"last_hash": GENESIS})
        head = AuditChain.objects.select_for_update().get(chain=chain)
        entry = AuditEntry(
            occurred_at=timezone.now(),
            organisation_id=organisation_id,
            actor=actor if actor is not None and actor.is_authenticated else None,
            acting_as=acting_as,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            # As the database gives it back (JSON types only), so the hash verifies later.
            summary=json.loads(json.dumps(summary or {}, cls=DjangoJSONEncoder)),
            request_id=current_request_id(),
            chain=chain,
            sequence=head.sequence + 1,
            previous_hash=head.last_hash,
        )
        entry.entry_hash = entry_hash(entry.content(), entry.previous_hash)
        entry.save(force_insert=True)
        head.sequence, head.last_hash = entry.sequence, entry.entry_hash
        head.save(update_fields=["sequence", "last_hash"])
    return entry
