"""The audit trail becomes a hash chain per organisation, and append-only in PostgreSQL.

Three steps: new columns nullable → existing entries chained in the order they were written →
not null with a unique (chain, sequence). Then, on PostgreSQL only, a trigger that refuses
UPDATE and DELETE on the table.
"""

import datetime

from django.db import migrations, models

from audit.chain import GENESIS, chain_of, entry_hash

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_auditentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused on audit_auditentry', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditentry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_auditentry_refuse_change();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_auditentry_refuse_change();
"""


def content(entry) -> dict:
    # The same as AuditEntry.content() at the time of this migration.
    return {
        "chain": entry.chain, "sequence": entry.sequence,
        "occurred_at": entry.occurred_at.astimezone(datetime.UTC).isoformat(),
        "organisation": entry.organisation_id, "actor": entry.actor_id,
        "acting_as": entry.acting_as, "action": entry.action,
        "object_type": entry.object_type, "object_id": entry.object_id,
        "summary": entry.summary, "request_id": entry.request_id,
    }


def chain_existing_entries(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    AuditChain = apps.get_model("audit", "AuditChain")
    heads: dict[str, tuple[int, str]] = {}
    for entry in AuditEntry.objects.order_by("pk").iterator(chunk_size=2000):
        entry.chain = chain_of(entry.organisation_id)
        sequence, previous = heads.get(entry.chain, (0, GENESIS))
        entry.sequence, entry.previous_hash = sequence + 1, previous
        entry.entry_hash = entry_hash(content(entry), previous)
        entry.save(update_fields=["chain", "sequence", "previous_hash", "entry_hash"])
        heads[entry.chain] = (entry.sequence, entry.entry_hash)
    AuditChain.objects.bulk_create(
        AuditChain(chain=chain, sequence=sequence, last_hash=last)
        for chain, (sequence, last) in heads.items())


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry", name="request_id",
            field=models.CharField(blank=True, default="", max_length=64,
                                   verbose_name="request id"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry", name="chain",
            field=models.CharField(max_length=32, null=True, verbose_name="chain"),
        ),
        migrations.AddField(
            model_name="auditentry", name="sequence",
            field=models.PositiveBigIntegerField(null=True, verbose_name="sequence"),
        ),
        migrations.AddField(
            model_name="auditentry", name="previous_hash",
            field=models.CharField(max_length=64, null=True, verbose_name="previous hash"),
        ),
        migrations.AddField(
            model_name="auditentry", name="entry_hash",
            field=models.CharField(max_length=64, null=True, verbose_name="hash"),
        ),
        migrations.CreateModel(
            name="AuditChain",
            fields=[
                ("chain", models.CharField(max_length=32, primary_key=True, serialize=False,
                                           verbose_name="chain")),
                ("sequence", models.PositiveBigIntegerField(default=0, verbose_name="sequence")),
                ("last_hash", models.CharField(max_length=64, verbose_name="last hash")),
            ],
            options={"verbose_name": "audit chain", "verbose_name_plural": "audit chains"},
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry", name="chain",
            field=models.CharField(max_length=32, verbose_name="chain"),
        ),
        migrations.AlterField(
            model_name="auditentry", name="sequence",
            field=models.PositiveBigIntegerField(verbose_name="sequence"),
        ),
        migrations.AlterField(
            model_name="auditentry", name="previous_hash",
            field=models.CharField(max_length=64, verbose_name="previous hash"),
        ),
        migrations.AlterField(
            model_name="auditentry", name="entry_hash",
            field=models.CharField(max_length=64, verbose_name="hash"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(fields=("chain", "sequence"),
                                               name="audit_auditentry_one_per_place_in_chain"),
        ),
        migrations.RunPython(append_only, drop_append_only),
    ]
