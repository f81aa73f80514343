"""The form of the calendar page: which calendar gets a new address. The services in
notifications/calendar.py decide whether it may."""

from django import forms
from django.utils.translation import gettext_lazy as _

OWN_CALENDAR = "own"  # the value of ``calendar`` that asks for the person's own calendar


class CalendarFeedForm(forms.Form):
    """An address for one of ``bodies`` (the person's own calendar needs no form: the page's
    other button posts ``calendar=own``)."""

    body = forms.ModelChoiceField(
        label=_("Body"), queryset=None, empty_label=None,
        help_text=_("Its meetings and the deadlines of the tasks routed to it."))

    def __init__(self, *args, bodies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].queryset = bodies
