import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from audit.chain import GENESIS, chain_of, entry_hash
from audit.context import current_request_id
from audit.models import AuditChain, AuditEntry
from governance.models import Organisation


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


def export_filters(filters) -> dict:
    """A page's query parameters as the entry stores them: one value, or a list of several."""
    if hasattr(filters, "lists"):  # a QueryDict
        return {key: values[0] if len(values) == 1 else values
                for key, values in filters.lists() if key not in ("export", "page")}
    return {key: value for key, value in (filters or {}).items()
            if key not in ("export", "page")}


@transaction.atomic
def export_record(*, actor, what: str, fmt: str, filters, row_counts: dict,
                  obj: models.Model | None = None) -> list[AuditEntry]:
    """Record that ``actor`` downloaded a list as a file: ``export.<what>``, with the format,
    the filters the list was made with and the number of rows.

    ``row_counts`` maps each organisation whose rows are in the file (its id) to how many: one
    entry per organisation, in its chain, so its trail shows every export of its data. A file
    with no rows is recorded once, in the global chain. ``obj`` is what was exported (a plan);
    without it, the organisation (or, for an empty file, the actor).
    """
    counts = {org: rows for org, rows in row_counts.items() if rows} or {None: 0}
    entries = []
    for organisation_id, rows in sorted(counts.items(), key=lambda item: item[0] or 0):
        target = obj
        if target is None:
            target = Organisation(pk=organisation_id) if organisation_id is not None else actor
        entries.append(audit_record(
            actor=actor, action=f"export.{what}", obj=target, organisation=organisation_id,
            summary={"format": fmt, "filters": export_filters(filters), "rows": rows}))
    return entries


@transaction.atomic
def audit_export_record(*, actor, organisation, fmt: str, filters, rows: int,
                        head_sequence: int) -> AuditEntry:
    """Record a download of the organisation's audit trail (``audit.export``): the format,
    the filters, the number of entries in the file and the last sequence number it covers."""
    return audit_record(actor=actor, action="audit.export", obj=organisation,
                        organisation=organisation,
                        summary={"format": fmt, "filters": export_filters(filters), "rows": rows,
                                 "up_to_sequence": head_sequence})


ADMIN_ACTIONS = {1: "admin.addition", 2: "admin.change", 3: "admin.deletion"}


def organisation_of_row(obj) -> int | None:
    """The organisation a row belongs to, for the chain an admin change goes into."""
    if isinstance(obj, Organisation):
        return obj.pk
    for path in ("organisation_id", "body.organisation_id", "plan.organisation_id",
                 "department.organisation_id", "follow_up.department.organisation_id",
                 "programme.organisation_id"):
        value = obj
        for part in path.split("."):
            value = getattr(value, part, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


_UNKNOWN = object()


@transaction.atomic
def admin_change_record(*, log_entry, organisation=_UNKNOWN) -> AuditEntry:
    """An entry in the Django admin's log (an addition, change or deletion) as an audit entry
    ``admin.addition`` / ``admin.change`` / ``admin.deletion``: the admin user, the object, and
    the change message (which fields changed; never their values or the object's name).

    The entry goes into the chain of the object's organisation (read from the object; pass
    ``organisation``, an id or ``None``, when the object is already gone)."""
    model = log_entry.content_type.model_class() if log_entry.content_type_id else None
    obj, organisation_id = log_entry, None
    if model is not None and log_entry.object_id:
        try:
            pk = model._meta.pk.to_python(log_entry.object_id)
        except ValidationError:
            pk = None
        found = model._default_manager.filter(pk=pk).first() if pk is not None else None
        obj = found if found is not None else model(pk=pk)
        organisation_id = organisation_of_row(found) if found is not None else None
    if organisation is not _UNKNOWN:
        organisation_id = organisation
    try:
        change = json.loads(log_entry.change_message or "[]")
    except ValueError:
        change = log_entry.change_message
    return audit_record(actor=log_entry.user, action=ADMIN_ACTIONS[log_entry.action_flag],
                        obj=obj, organisation=organisation_id,
                        summary={"change": change, "log_entry": log_entry.pk})
