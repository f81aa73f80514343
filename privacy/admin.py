"""Admin: the retention runs (read-only) and "Erase the selected people" on the people list,
for superusers, with a confirmation page.

The action is added by re-registering governance's PersonAdmin with a subclass here, so the
governance app does not depend on privacy.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.admin import ReadOnlyModelAdmin
from governance.admin import PersonAdmin
from governance.models import Person
from privacy import selectors
from privacy.models import RetentionRun
from privacy.services import person_erase


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyModelAdmin):
    list_display = ["ran_at", "counts"]
    readonly_fields = ["ran_at", "periods", "counts"]
    date_hierarchy = "ran_at"


@admin.action(description=gettext_lazy("Erase the selected people (GDPR)"),
              permissions=["erase"])
def erase_people(modeladmin, request, queryset):
    """First a confirmation page naming who can and cannot be erased; then, on "Yes", erase
    each one (a refusal for one does not stop the others)."""
    people = list(queryset.order_by("pk"))
    if request.POST.get("post") == "yes":
        erased = 0
        for person in people:
            try:
                person_erase(actor=request.user, person=person, via="admin")
            except ValidationError as error:
                modeladmin.message_user(
                    request, _("%(name)s was not erased: %(reasons)s")
                    % {"name": person, "reasons": " ".join(error.messages)}, messages.ERROR)
            else:
                erased += 1
        if erased:
            modeladmin.message_user(request, _("Erased %(count)s people.") % {"count": erased},
                                    messages.SUCCESS)
        return None
    rows = []
    for person in people:
        if person.pk == request.user.pk:
            reasons = [_("You cannot erase yourself.")]
        elif selectors.is_erased(person):
            reasons = [_("This person has already been erased.")]
        else:
            reasons = selectors.erase_blockers(person=person)
        rows.append({"person": person, "reasons": reasons})
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Erase people"),
        "opts": modeladmin.model._meta,
        "rows": rows,
        "erasable": [row["person"] for row in rows if not row["reasons"]],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "privacy/erase_confirmation.html", context)


admin.site.unregister(Person)


@admin.register(Person)
class PersonWithErasureAdmin(PersonAdmin):
    actions = [erase_people]

    def has_erase_permission(self, request) -> bool:
        return request.user.is_superuser
