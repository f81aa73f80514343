"""Forms of the governance calendar and the deadline settings. They parse input; the services
(cycles.meeting_services, notifications.policy) decide what is valid."""

import datetime

from django import forms
from django.db.models import Case, IntegerField, Value, When
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from cycles import deadlines
from cycles.forms import date_field, text_area
from cycles.models import AnnualPlan, Meeting, StepDeadline
from governance.models import Body

Basis = StepDeadline.Basis


def bodies_in(organisations):
    """The organisations' bodies: the organisation-wide ones first, then the department boards
    by department number."""
    return (Body.objects.filter(organisation__in=organisations)
            .select_related("organisation", "department")
            .annotate(is_board=Case(When(kind=Body.Kind.DEPARTMENT_BOARD, then=Value(1)),
                                    default=Value(0), output_field=IntegerField()))
            .order_by("organisation__name", "is_board", "department__number", "kind", "name"))


class BodyChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, several_organisations: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.several_organisations = several_organisations

    def label_from_instance(self, obj: Body) -> str:
        if self.several_organisations:
            return f"{obj.name} ({obj.organisation.short_name})"
        return obj.name


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AnnualPlan) -> str:
        return obj.title


class MeetingFilterForm(forms.Form):
    """The calendar's filters, read from the query string (a shareable URL)."""

    UPCOMING, PAST, ALL = "upcoming", "past", "all"

    when = forms.ChoiceField(
        label=_("Show"), required=False,
        choices=[(UPCOMING, _("Upcoming meetings")), (PAST, _("Past meetings")),
                 (ALL, _("All meetings"))])
    body = BodyChoiceField(label=_("Body"), required=False, queryset=Body.objects.none(),
                           empty_label=_("Every body"))
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int,
                                  empty_value=None)

    def __init__(self, *args, bodies, years, several_organisations=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].queryset = bodies
        self.fields["body"].several_organisations = several_organisations
        self.fields["year"].choices = [("", _("Every year"))] + [(y, y) for y in years]

    @property
    def when_value(self) -> str:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("when") or self.UPCOMING
        return self.UPCOMING

    def filter(self, meetings, *, today: datetime.date):
        data = self.cleaned_data
        if data.get("body"):
            meetings = meetings.filter(body=data["body"])
        if data.get("year"):
            meetings = meetings.filter(date__year=data["year"])
        when = data.get("when") or self.UPCOMING
        if when == self.UPCOMING:
            return meetings.filter(date__gte=today).order_by("date", "starts_at", "pk")
        if when == self.PAST:
            return meetings.filter(date__lt=today).order_by("-date", "-starts_at", "-pk")
        return meetings.order_by("date", "starts_at", "pk")


class MeetingForm(forms.Form):
    body = BodyChoiceField(label=_("Body"), queryset=Body.objects.none(),
                           empty_label=_("Choose the body"))
    kind = forms.ChoiceField(label=_("Kind of meeting"), choices=Meeting.Kind.choices,
                             initial=Meeting.Kind.ORDINARY, widget=forms.RadioSelect)
    date = date_field(_("Date"))
    starts_at = forms.TimeField(
        label=_("Starts at"), required=False, input_formats=["%H:%M", "%H.%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"inputmode": "numeric",
                                                      "autocomplete": "off"}),
        help_text=_("hh:mm"))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    plan = PlanChoiceField(
        label=_("Annual plan on the agenda"), required=False, queryset=AnnualPlan.objects.none(),
        empty_label=_("None"),
        help_text=_("The steps of this plan count their deadlines from this meeting. Without "
                    "a plan, the meeting counts for any plan that has no meeting of its own."))
    note = forms.CharField(label=_("Note"), required=False, widget=text_area(3))
    # The version the editor saw (edit only): a change saved since answers 409.
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        several = len(organisations) > 1
        self.fields["body"].queryset = bodies_in(organisations)
        self.fields["body"].several_organisations = several
        self.fields["plan"].queryset = (AnnualPlan.objects.filter(organisation__in=organisations)
                                        .order_by("organisation__name", "-year"))

    def clean_version(self) -> datetime.datetime | None:
        raw = self.cleaned_data.get("version") or ""
        if not raw:
            return None
        try:
            return datetime.datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError(_("Reload the page and try again.")) from None

    def changes(self) -> dict:
        """The meeting's fields, as the services take them."""
        return {name: self.cleaned_data[name]
                for name in ("body", "kind", "date", "starts_at", "place", "plan", "note")}


# --- deadline settings --------------------------------------------------------------------

BEFORE, AFTER = "before", "after"
YEAR_CHOICES = [(-1, _("the year before the plan's year")), (0, _("the plan's year")),
                (1, _("the year after the plan's year"))]


def basis_choices(step: str) -> list[tuple[str, str]]:
    if step in deadlines.FOLLOW_UP_STEPS:
        allowed = (Basis.FOLLOW_UP, Basis.FIXED, Basis.NONE)
    else:
        allowed = (Basis.MEETING, Basis.FIXED, Basis.NONE)
    return [(value, label) for value, label in Basis.choices if value in allowed]


class StepDeadlineForm(forms.Form):
    """One step's deadline rule."""

    basis = forms.ChoiceField(label=_("The deadline is"), widget=forms.RadioSelect)
    body_kind = forms.ChoiceField(label=_("Meeting of"), required=False)
    offset_days = forms.IntegerField(label=_("Business days"), required=False, min_value=0,
                                     max_value=deadlines.MAX_OFFSET,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                                     help_text=_("0: on the day itself."))
    direction = forms.ChoiceField(label=_("Before or after"), required=False,
                                  choices=[(BEFORE, _("before")), (AFTER, _("after"))],
                                  widget=forms.RadioSelect)
    fixed_day = forms.IntegerField(label=_("Day"), required=False, min_value=1, max_value=31,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    fixed_month = forms.TypedChoiceField(label=_("Month"), required=False, coerce=int,
                                         empty_value=None,
                                         choices=[("", "—")] + list(MONTHS.items()))
    fixed_year_offset = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int,
                                               empty_value=0, choices=YEAR_CHOICES)

    # The service's error keys → this form's fields.
    SERVICE_FIELDS = {"offset_business_days": "offset_days"}

    def __init__(self, *args, step: str, rule: deadlines.Rule,
                 body_names: dict[str, str] | None = None, **kwargs):
        kwargs.setdefault("prefix", f"deadline-{step}")
        if "initial" not in kwargs:
            kwargs["initial"] = {
                "basis": rule.basis, "body_kind": rule.body_kind,
                "offset_days": abs(rule.offset_business_days),
                "direction": BEFORE if rule.offset_business_days < 0 else AFTER,
                "fixed_day": rule.fixed_day, "fixed_month": rule.fixed_month,
                "fixed_year_offset": rule.fixed_year_offset}
        super().__init__(*args, **kwargs)
        self.step = step
        self.fields["basis"].choices = basis_choices(step)
        self.fields["body_kind"].choices = [("", "—")] + [
            (kind, (body_names or {}).get(kind) or str(label).capitalize())
            for kind, label in Body.Kind.choices if kind in deadlines.MEETING_BODY_KINDS]
        if step in deadlines.FOLLOW_UP_STEPS:
            del self.fields["body_kind"]

    def rule(self) -> dict:
        """The rule as step_deadline_save takes it."""
        data = self.cleaned_data
        days = data.get("offset_days") or 0
        return {
            "basis": data["basis"], "body_kind": data.get("body_kind") or "",
            "offset_business_days": -days if data.get("direction") == BEFORE else days,
            "fixed_day": data.get("fixed_day"), "fixed_month": data.get("fixed_month"),
            "fixed_year_offset": data.get("fixed_year_offset") or 0,
        }


class ReminderPolicyForm(forms.Form):
    """One reminder ladder."""

    on_assignment = forms.BooleanField(label=_("When the task is assigned"), required=False)
    days_before = forms.CharField(
        label=_("Days before the deadline"), required=False, max_length=40,
        help_text=_("Calendar days, separated by commas, e.g. 7,2. Empty: none."))
    on_due_day = forms.BooleanField(label=_("On the due day"), required=False)
    overdue_every_business_days = forms.IntegerField(
        label=_("While overdue, every … business days"), min_value=0, max_value=30,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("0: no reminders once the deadline has passed."))
    escalate_after_business_days = forms.IntegerField(
        label=_("Copy the chair or head of operations after … business days overdue"),
        min_value=0, max_value=30, widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("0: never. The task stays with the person it is assigned to."))

    def __init__(self, *args, step: str, policy, **kwargs):
        kwargs.setdefault("prefix", f"ladder-{step or 'all'}")
        if "initial" not in kwargs:
            kwargs["initial"] = {
                "on_assignment": policy.on_assignment,
                "days_before": ",".join(str(day) for day in policy.days_before),
                "on_due_day": policy.on_due_day,
                "overdue_every_business_days": policy.overdue_every,
                "escalate_after_business_days": policy.escalate_after}
        super().__init__(*args, **kwargs)
        self.step = step
