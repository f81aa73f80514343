from django.contrib import admin
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.models import DELETION, LogEntry
from django.db import transaction

from audit.models import AuditEntry
from audit.services import admin_change_record, organisation_of_row
from config.admin import ReadOnlyModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["occurred_at", "organisation", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    list_select_related = ["organisation", "actor"]
    date_hierarchy = "occurred_at"


@admin.action(permissions=["delete"],
              description=django_delete_selected.short_description)
def delete_selected(modeladmin, request, queryset):
    """Django's "delete selected" with an audit entry per deleted object, in one transaction.

    Django logs the deletion of several objects with ``bulk_create``, which sends no
    ``post_save``: their log entries are read back here and recorded (one object's log entry
    is recorded by audit.receivers when it is saved).
    """
    with transaction.atomic():
        confirmed = bool(request.POST.get("post"))
        # The organisation of each object, read while the objects still exist.
        organisations = ({str(obj.pk): organisation_of_row(obj) for obj in queryset}
                         if confirmed else {})
        last_log = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = django_delete_selected(modeladmin, request, queryset)
        if response is None and len(organisations) > 1:
            for log_entry in LogEntry.objects.filter(
                    pk__gt=last_log, user_id=request.user.pk, action_flag=DELETION,
                    object_id__in=list(organisations)).select_related(
                    "user", "content_type").order_by("pk"):
                admin_change_record(log_entry=log_entry,
                                    organisation=organisations.get(log_entry.object_id))
    return response


admin.site.add_action(delete_selected, "delete_selected")
