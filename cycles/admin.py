"""Admin for the cycle. Plans change only through the services (state machine, revisions,
sign-offs), so the admin shows them read-only; revisions, sign-offs and logs are append-only."""

from django.contrib import admin

from cycles.models import (
    AnnualPlan,
    CycleSettings,
    FollowUp,
    Initiative,
    OperationsProgramme,
    PlanRevision,
    PlanTransition,
    RolloutPlan,
    SignOff,
    Theme,
)


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0


@admin.register(OperationsProgramme)
class OperationsProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "first_year", "last_year"]
    list_filter = ["organisation"]
    inlines = [ThemeInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InitiativeInline(admin.TabularInline):
    model = Initiative
    fields = ["position", "theme", "title", "scope", "status", "progress", "expected_saving"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "year", "state"]
    list_filter = ["organisation", "state", "year"]
    list_select_related = ["organisation"]
    inlines = [InitiativeInline]


@admin.register(PlanRevision)
class PlanRevisionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "number", "sha256", "created_at", "created_by"]
    list_select_related = ["plan", "created_by"]


@admin.register(PlanTransition)
class PlanTransitionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "from_state", "to_state", "actor", "acting_as", "occurred_at"]
    list_select_related = ["plan", "actor"]


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ["plan", "step", "decision", "signer", "mandate", "revision_sha256",
                    "signed_at"]
    list_select_related = ["plan", "signer"]


@admin.register(CycleSettings)
class CycleSettingsAdmin(admin.ModelAdmin):
    list_display = ["organisation", "h1_due_day", "h1_due_month", "h2_due_day", "h2_due_month",
                    "closes_on_customary_days"]


@admin.register(RolloutPlan)
class RolloutPlanAdmin(ReadOnlyAdmin):
    list_display = ["plan", "department", "presented_on", "meeting_kind"]
    list_filter = ["plan__organisation", "plan__year"]
    list_select_related = ["plan", "department"]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["department", "plan", "half", "due_on", "state"]
    list_filter = ["plan__organisation", "plan__year", "half", "state"]
    list_select_related = ["plan", "department"]
