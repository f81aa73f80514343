"""The filters of an organisation's audit trail. They parse and check; the selector filters."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.display import action_choices
from governance.models import Person

DATE_HELP = _("dd.mm.yyyy")
EXPORT_FORMATS = ("csv", "xlsx", "jsonl")


class _DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self):
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off"},
                         format="%d.%m.%Y")


def _date(label) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=_DateInput(),
                           input_formats=["%d.%m.%Y"], help_text=DATE_HELP)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        return person.get_full_name() or person.username


class AuditFilterForm(forms.Form):
    since = _date(_("From"))
    until = _date(_("To"))
    action = forms.ChoiceField(label=_("What happened"), required=False)
    actor = PersonChoiceField(label=_("Who did it"), required=False,
                              queryset=Person.objects.none(), empty_label=_("Anyone"))

    def __init__(self, data=None, *, organisation):
        super().__init__(data)
        self.fields["action"].choices = [("", _("Everything")), *action_choices()]
        # Who may have acted in the organisation: everyone who holds or held a mandate in it.
        self.fields["actor"].queryset = (
            Person.objects.filter(Q(memberships__body__organisation=organisation)
                                  | Q(staff_assignments__organisation=organisation))
            .distinct().order_by("first_name", "last_name", "username"))

    def _clean_day(self, name):
        day = self.cleaned_data[name]
        if day is not None and not 2000 <= day.year <= 2999:
            raise forms.ValidationError(_("Give a date between 2000 and 2999."))
        return day

    def clean_since(self):
        return self._clean_day("since")

    def clean_until(self):
        return self._clean_day("until")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day cannot be before the first day."))
        return cleaned

    def selector_arguments(self) -> dict:
        data = self.cleaned_data
        return {"since": data.get("since"), "until": data.get("until"),
                "action": data.get("action") or "", "actor": data.get("actor")}
