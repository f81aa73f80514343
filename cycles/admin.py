from django.contrib import admin

from cycles.models import OperationsProgramme, Theme


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0


@admin.register(OperationsProgramme)
class OperationsProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "first_year", "last_year"]
    list_filter = ["organisation"]
    inlines = [ThemeInline]
