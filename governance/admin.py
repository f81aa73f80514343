"""Admin for the governance model. Changes to terms go through the services (and their audit)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from governance import services
from governance.models import (
    Body,
    Department,
    Membership,
    OperationsArea,
    Organisation,
    Person,
    SigningAuthorisation,
    StaffAssignment,
)


@admin.register(Person)
class PersonAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + ((_("Årshjul"), {"fields": ("phone", "language")}),)
    list_display = ["username", "first_name", "last_name", "email", "is_staff"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "administrator", "require_two_factor_for_signers"]
    list_filter = ["require_two_factor_for_signers"]
    search_fields = ["name", "short_name"]
    prepopulated_fields = {"slug": ["short_name"]}

    def save_model(self, request, obj, form, change):
        """The two-factor requirement changes through its service (locked, audited)."""
        from governance.two_factor_services import organisation_require_two_factor

        required = obj.require_two_factor_for_signers
        obj.require_two_factor_for_signers = form.initial.get(
            "require_two_factor_for_signers", False)
        super().save_model(request, obj, form, change)
        organisation_require_two_factor(actor=request.user, organisation=obj, required=required)


@admin.register(OperationsArea)
class OperationsAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "organisation"]
    list_filter = ["organisation"]
    list_select_related = ["organisation"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "operations_area", "households", "organisation"]
    list_filter = ["organisation", "operations_area"]
    list_select_related = ["organisation", "operations_area"]
    search_fields = ["name", "number", "city"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["person", "role", "starts_on", "ends_on"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Body)
class BodyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organisation"]
    list_filter = ["organisation", "kind"]
    list_select_related = ["organisation"]
    search_fields = ["name"]
    inlines = [MembershipInline]


class _TermForm(forms.ModelForm):
    """Runs the service's rules as form validation, so the admin shows them as field errors."""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.instance.pk:
            original = type(self.instance).objects.get(pk=self.instance.pk)
            services.term_end_check(starts_on=original.starts_on,
                                    current_ends_on=original.ends_on,
                                    ends_on=cleaned.get("ends_on"))
        else:
            self.check_start(cleaned)
        return cleaned

    def check_start(self, cleaned):
        raise NotImplementedError


class MembershipForm(_TermForm):
    class Meta:
        model = Membership
        fields = ["person", "body", "role", "starts_on", "ends_on"]

    def check_start(self, cleaned):
        services.membership_check(body=cleaned["body"], person=cleaned["person"],
                                  role=cleaned["role"], starts_on=cleaned["starts_on"],
                                  ends_on=cleaned.get("ends_on"))


class StaffAssignmentForm(_TermForm):
    class Meta:
        model = StaffAssignment
        fields = ["person", "organisation", "operations_area", "role", "starts_on", "ends_on"]

    def check_start(self, cleaned):
        services.staff_assignment_check(organisation=cleaned["organisation"],
                                        operations_area=cleaned.get("operations_area"),
                                        starts_on=cleaned["starts_on"],
                                        ends_on=cleaned.get("ends_on"))


class _TermAdmin(admin.ModelAdmin):
    """Terms are started and ended through the services so the rules and audit trail apply."""

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in self.model._meta.fields if f.name != "ends_on"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            self.end(request, obj)
        else:
            obj.pk = self.start(request, obj).pk


@admin.register(Membership)
class MembershipAdmin(_TermAdmin):
    form = MembershipForm
    list_display = ["person", "role", "body", "starts_on", "ends_on"]
    list_filter = ["role", "body__kind", "body__organisation"]
    list_select_related = ["person", "body"]
    search_fields = ["person__first_name", "person__last_name", "body__name"]
    autocomplete_fields = ["person", "body"]

    def start(self, request, obj):
        return services.membership_start(
            actor=request.user, person=obj.person, body=obj.body, role=obj.role,
            starts_on=obj.starts_on, ends_on=obj.ends_on,
        )

    def end(self, request, obj):
        services.membership_end(actor=request.user, membership=obj, ends_on=obj.ends_on)


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(_TermAdmin):
    form = StaffAssignmentForm
    list_display = ["person", "role", "organisation", "operations_area", "starts_on", "ends_on"]
    list_filter = ["role", "organisation"]
    list_select_related = ["person", "organisation", "operations_area"]
    autocomplete_fields = ["person"]

    def start(self, request, obj):
        return services.staff_assignment_start(
            actor=request.user, person=obj.person, organisation=obj.organisation,
            operations_area=obj.operations_area, role=obj.role,
            starts_on=obj.starts_on, ends_on=obj.ends_on,
        )

    def end(self, request, obj):
        services.staff_assignment_end(actor=request.user, assignment=obj, ends_on=obj.ends_on)


@admin.register(SigningAuthorisation)
class SigningAuthorisationAdmin(admin.ModelAdmin):
    """Granted by the chair through the service (with its checks); the admin only shows them."""

    list_display = ["body", "chair", "vice_chair", "starts_on", "ends_on"]
    list_select_related = ["body", "chair", "vice_chair"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
