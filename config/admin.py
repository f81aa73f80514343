"""Shared pieces of the admin site."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Records the admin shows but never adds, changes or deletes (the audit trail, retention
    runs, sent notifications): they are written by their services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
