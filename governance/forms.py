from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DATE_INPUT = forms.DateInput(format="%d.%m.%Y", attrs={"inputmode": "numeric",
                                                        "placeholder": "dd.mm.åååå"})


class SigningAuthorisationForm(forms.Form):
    starts_on = forms.DateField(label=_("From"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=_("To and including"), widget=DATE_INPUT)

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise ValidationError({"ends_on": _("The end date cannot be before the start date.")})
        return cleaned
