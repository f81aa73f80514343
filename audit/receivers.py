"""Changes made in Django's admin go into the audit trail: every admin log entry (an addition,
a change or a deletion) becomes an ``admin.*`` audit entry in the same transaction.

The admin writes one log entry with ``save()`` (this receiver), but those of a multiple
deletion with ``bulk_create``, which sends no signal: audit.admin wraps the admin's
"delete selected" action for that case.
"""

from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit.services import admin_change_record


@receiver(post_save, sender=LogEntry, dispatch_uid="audit.admin_log_entry")
def audit_admin_log_entry(sender, instance: LogEntry, created: bool, raw: bool = False,
                          **kwargs):
    if created and not raw:
        with transaction.atomic():
            admin_change_record(log_entry=instance)
