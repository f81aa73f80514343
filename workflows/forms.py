"""Forms of the task inbox, the task page and the delegation page.

They parse and check input; the services in workflows/services.py decide.
"""

from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cycles.forms import date_field, text_area
from workflows.selectors import INBOX_VIEWS, READY_VIEWS, SORTS, STEP_LABELS

VIEW_LABELS = {
    "mine": _("My tasks"),
    "group": _("My groups' tasks"),
    "delegated": _("Delegated to me"),
    "escalated": _("Escalated to me"),
    "snoozed": _("Snoozed"),
    "done": _("Done"),
}
READY_LABELS = {
    "overdue": _("Overdue"),
    "today": _("Due today"),
    "week": _("Due within 7 days"),
}
SORT_LABELS = {
    "due": _("Due date, earliest first"),
    "-due": _("Due date, latest first"),
    "priority": _("Priority, highest first"),
    "created": _("Created, oldest first"),
    "-created": _("Created, newest first"),
}
# The inbox's query-string parameters that make up a shareable (and savable) filter.
FILTER_PARAMS = ("view", "ready", "organisation", "year", "body", "operations_area",
                 "department", "step", "due_from", "due_to", "sort")
SELECTOR_FILTERS = ("organisation", "year", "body", "operations_area", "department", "step",
                    "due_from", "due_to")


def person_label(person) -> str:
    """A person in a choice list: the name, and the username (names recur)."""
    name = person.get_full_name()
    return f"{name} ({person.username})" if name else person.username


def _id_choices(rows, empty_label) -> list[tuple]:
    return [("", empty_label)] + [(row.pk, getattr(row, "choice_label", str(row)))
                                  for row in rows]


class InboxFilterForm(forms.Form):
    """The inbox's view, ready-made view, filters and sort order, read from the query string
    (a shareable URL). The choices are built by the view, so checking them costs no query."""

    view = forms.ChoiceField(label=_("View"), required=False,
                             choices=[(v, VIEW_LABELS[v]) for v in INBOX_VIEWS],
                             widget=forms.HiddenInput)
    ready = forms.ChoiceField(label=_("Ready-made view"), required=False,
                              choices=[("", _("All"))] + [(r, READY_LABELS[r])
                                                          for r in READY_VIEWS],
                              widget=forms.HiddenInput)
    organisation = forms.TypedChoiceField(label=_("Organisation"), required=False, coerce=int,
                                          empty_value=None)
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int,
                                  empty_value=None)
    body = forms.TypedChoiceField(label=_("Body"), required=False, coerce=int,
                                  empty_value=None)
    operations_area = forms.TypedChoiceField(label=_("Operations area"), required=False,
                                             coerce=int, empty_value=None)
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int,
                                        empty_value=None)
    step = forms.ChoiceField(label=_("Step"), required=False,
                             choices=[("", _("Every step"))] + list(STEP_LABELS.items()))
    due_from = date_field(_("Due from"), required=False)
    due_to = date_field(_("Due until"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False,
                             choices=[(key, SORT_LABELS[key]) for key in SORTS])

    def __init__(self, *args, organisations, years, bodies, areas, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = _id_choices(organisations,
                                                          _("Every organisation"))
        self.fields["year"].choices = [("", _("Every year"))] + [(y, y) for y in years]
        self.fields["body"].choices = _id_choices(bodies, _("Every body"))
        self.fields["operations_area"].choices = _id_choices(areas, _("Every area"))
        self.fields["department"].choices = _id_choices(departments, _("Every department"))

    def clean(self):
        data = super().clean()
        if data.get("due_from") and data.get("due_to") and data["due_from"] > data["due_to"]:
            self.add_error("due_to", _("The last day cannot be before the first day."))
        return data

    @property
    def current_view(self) -> str:
        return (self.cleaned_data.get("view") if self.is_valid() else None) or "mine"

    def selector_arguments(self) -> dict:
        """The keyword arguments of ``workflows.selectors.inbox``."""
        data = self.cleaned_data
        return {"view": data.get("view") or "mine", "ready": data.get("ready") or None,
                "filters": {name: data.get(name) for name in SELECTOR_FILTERS
                            if data.get(name) not in (None, "")},
                "sort": data.get("sort") or "due"}


def filter_query(params: QueryDict) -> str:
    """The filter part of an inbox query string (no page, no unknown keys), for a saved
    filter or a link: ``view=group&department=12``."""
    return urlencode([(key, value) for key in FILTER_PARAMS
                      for value in params.getlist(key)[:1] if value != ""])


class SnoozeForm(forms.Form):
    """The owner's "snooze until" date; ``wake`` clears it."""

    until = date_field(_("Snooze until"), required=False)
    wake = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("wake") and not data.get("until") and "until" not in self.errors:
            self.add_error("until", _("Choose the day the task should come back."))
        return data

    def until_day(self):
        return None if self.cleaned_data.get("wake") else self.cleaned_data["until"]


class BulkForm(forms.Form):
    """Several of my tasks at once: snooze them or give them back to their queues."""

    SNOOZE, RELEASE = "snooze", "release"

    tasks = forms.TypedMultipleChoiceField(label=_("Tasks"), coerce=int,
                                           error_messages={"required": _("Select the tasks.")})
    action = forms.ChoiceField(label=_("What should happen to the selected tasks?"),
                               choices=[(SNOOZE, _("Snooze until the date below")),
                                        (RELEASE, _("Give back to the group's queue"))],
                               widget=forms.RadioSelect)
    until = date_field(_("Snooze until"), required=False)

    def __init__(self, *args, task_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tasks"].choices = [(pk, pk) for pk in task_ids]

    def clean(self):
        data = super().clean()
        if data.get("action") == self.SNOOZE and not data.get("until") \
                and "until" not in self.errors:
            self.add_error("until", _("Choose the day the tasks should come back."))
        return data


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=text_area(3), max_length=4000)


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(label=_("Give the task to"), queryset=None,
                                empty_label=_("Choose a person"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = people
        self.fields["to"].label_from_instance = person_label


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name of the filter"), max_length=80)
    query = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean_query(self):
        return filter_query(QueryDict(self.cleaned_data["query"].lstrip("?")))


class DelegationForm(forms.Form):
    """Name a substitute for a period: tasks routed to you then go to them."""

    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int)
    substitute = forms.ModelChoiceField(
        label=_("Substitute"), queryset=None, empty_label=_("Choose a person"),
        help_text=_("Someone who holds a mandate in the organisation."))
    starts_on = date_field(_("First day"))
    ends_on = date_field(_("Last day"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False,
                             help_text=_("E.g. “Vacation”. Shown to the substitute."))

    def __init__(self, *args, organisations, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0].pk
        self.fields["substitute"].queryset = people
        self.fields["substitute"].label_from_instance = person_label
