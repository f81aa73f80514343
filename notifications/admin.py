"""Admin for reminders. The outbox (notifications) is read-only: rows are written by the sweep
and the delivery worker only; "send again" goes through the service like the problems page.
Preferences are saved through the service (audited); reminder ladders are plain configuration;
calendar feeds are shown without their secret token."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin import ReadOnlyModelAdmin
from config.errors import Conflict
from notifications.models import (
    CalendarFeed,
    Notification,
    NotificationPreference,
    ReminderPolicy,
)
from notifications.preferences import notification_resend, preference_save


@admin.action(description=_("Send again (failed or interrupted e-mails)"))
def send_again(modeladmin, request, queryset):
    resent, refused = 0, []
    for notification in queryset.select_related("recipient"):
        try:
            notification_resend(actor=request.user, notification=notification)
        except (Conflict, PermissionDenied) as error:
            refused.append(f"{notification.pk}: {getattr(error, 'message', '') or error}")
        else:
            resent += 1
    if resent:
        modeladmin.message_user(request, ngettext(
            "%(count)d e-mail will be sent again.", "%(count)d e-mails will be sent again.",
            resent) % {"count": resent}, messages.SUCCESS)
    if refused:
        modeladmin.message_user(request, _("Not sent again: %(rows)s") % {
            "rows": "; ".join(refused)}, messages.WARNING)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ["pk", "state", "kind", "recipient", "rung", "due_on", "attempts",
                    "short_error", "sent_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["recipient"]
    search_fields = ["key", "recipient__username", "recipient__email", "message_id"]
    date_hierarchy = "created_at"
    actions = [send_again]
    readonly_fields = [field.name for field in Notification._meta.fields]
    raw_id_fields = ["recipient", "task", "copy_to", "digest"]

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:120]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["person", "delivery", "updated_at"]
    list_filter = ["delivery"]
    list_select_related = ["person"]
    search_fields = ["person__username", "person__first_name", "person__last_name"]
    raw_id_fields = ["person"]
    fields = ["person", "delivery", "updated_at"]
    readonly_fields = ["updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["person", "updated_at"] if obj is not None else ["updated_at"]

    def save_model(self, request, obj, form, change):
        # Through the service: validated, audited, one row per person.
        saved = preference_save(actor=request.user, person=obj.person, delivery=obj.delivery,
                                via="admin")
        obj.pk, obj.updated_at = saved.pk, saved.updated_at

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = ["organisation", "step", "on_assignment", "days_before", "on_due_day",
                    "overdue_every_business_days", "escalate_after_business_days"]
    list_filter = ["organisation"]
    list_select_related = ["organisation"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Feeds are made and revoked by their owners (the calendar page); the token is a secret
    and is neither listed nor shown."""

    list_display = ["person", "body", "created_at", "revoked_at", "last_fetched_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["person", "body"]
    search_fields = ["person__username", "person__first_name", "person__last_name"]
    fields = ["person", "body", "created_at", "revoked_at", "last_fetched_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
