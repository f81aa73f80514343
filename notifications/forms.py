"""Forms of the reminder pages: the preference, and "send again" on the problems page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import NotificationPreference


class PreferenceForm(forms.Form):
    delivery = forms.ChoiceField(
        label=_("How do you want reminder e-mails?"),
        choices=NotificationPreference.Delivery.choices,
        widget=forms.RadioSelect,
        help_text=_("Deadlines within 48 hours and overdue tasks always come as separate "
                    "e-mails, whatever you choose, unless you choose no reminder e-mails."),
        error_messages={"required": _("Choose how you want reminder e-mails."),
                        "invalid_choice": _("Choose one of the ways to get reminders.")},
    )


class ResendForm(forms.Form):
    notification = forms.IntegerField(
        label=_("E-mail"), min_value=1, widget=forms.HiddenInput,
        error_messages={"required": _("Choose the e-mail to send again."),
                        "invalid": _("Choose the e-mail to send again."),
                        "min_value": _("Choose the e-mail to send again.")})
