"""Forms of the annual-cycle pages. They parse and check input; the services decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cycles.models import AnnualPlan, Initiative, InitiativeEvaluation, SignOff
from governance.models import Person, StaffAssignment

DATE_HELP = _("dd.mm.yyyy")
MAX_ID = 2**63 - 1  # the largest value of a BigAutoField


class DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self, attrs=None):
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off", **(attrs or {})},
                         format="%d.%m.%Y")


def date_field(label, *, required=True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(),
                           input_formats=["%d.%m.%Y"], help_text=DATE_HELP)


def text_area(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def add_service_errors(form: forms.Form, error: ValidationError,
                       fields: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form: on the field it names, else on the form.

    ``fields`` renames service keys to form fields (``{"verdicts[0]": "decision_12"}``).
    """
    fields = fields or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        name = fields.get(key, key)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


# --- the plan -----------------------------------------------------------------------------

class PlanCreateForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None,
                                          empty_label=None)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), required=False, widget=text_area())

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year + 1)


class PlanForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), required=False, widget=text_area(6))


def organisation_staff(organisation_id: int, also=None):
    """The people with a staff role in the organisation today (and ``also``, if given)."""
    staff = StaffAssignment.objects.current_on(timezone.localdate()).filter(
        organisation_id=organisation_id).values("person_id")
    people = Person.objects.filter(pk__in=staff)
    if also is not None:
        people = people | Person.objects.filter(pk=also.pk)
    return people.order_by("first_name", "last_name", "username")


class IdsField(forms.ModelMultipleChoiceField):
    """Several objects by id. A number no id column can hold is an invalid choice like any
    unknown id (SQLite raises OverflowError on it instead of finding nothing)."""

    def _check_values(self, value):
        for pk in value or ():
            text = str(pk).strip()
            if text.lstrip("+-").isdigit() and abs(int(text)) > MAX_ID:
                raise ValidationError(self.error_messages["invalid_choice"],
                                      code="invalid_choice", params={"value": pk})
        return super()._check_values(value)


class InitiativeForm(forms.Form):
    theme = forms.ModelChoiceField(label=_("Theme"), queryset=None, empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=text_area())
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False,
                                   empty_label=_("(no owner yet)"),
                                   help_text=_("A member of the organisation's staff."))
    scope = forms.ChoiceField(label=_("Scope"), choices=Initiative.Scope.choices,
                              widget=forms.RadioSelect,
                              initial=Initiative.Scope.ORGANISATION)
    operations_areas = IdsField(
        label=_("Operations areas"), queryset=None, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only when the scope is chosen operations areas."))
    departments = IdsField(
        label=_("Departments"), queryset=None, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only when the scope is chosen departments."))
    planned_start = date_field(_("Planned start"), required=False)
    planned_end = date_field(_("Planned end"), required=False)
    target = forms.CharField(label=_("Target and indicator"), required=False,
                             widget=text_area(3))
    expected_saving = forms.DecimalField(
        label=_("Expected saving (kr.)"), required=False, max_digits=14, decimal_places=2,
        min_value=0, localize=True, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    status = forms.ChoiceField(label=_("Status"), choices=Initiative.Status.choices)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100,
                                  initial=0)

    SERVICE_FIELDS = ("theme", "title", "description", "owner", "scope", "planned_start",
                      "planned_end", "target", "expected_saving", "status", "progress")

    def __init__(self, *args, plan: AnnualPlan, initiative: Initiative | None = None,
                 **kwargs):
        if initiative is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(initiative, name) for name in self.SERVICE_FIELDS},
                "operations_areas": list(initiative.operations_areas.all()),
                "departments": list(initiative.departments.all()),
            }
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = plan.programme.themes.order_by("number")
        self.fields["owner"].queryset = organisation_staff(
            plan.organisation_id, also=initiative.owner if initiative else None)
        self.fields["operations_areas"].queryset = plan.organisation.operations_areas.order_by(
            "number")
        self.fields["departments"].queryset = plan.organisation.departments.order_by("number")

    def service_kwargs(self) -> dict:
        """The cleaned data as keyword arguments of initiative_create/initiative_update."""
        data = self.cleaned_data
        kwargs = {name: data[name] for name in self.SERVICE_FIELDS}
        for name in ("description", "target"):
            kwargs[name] = kwargs[name] or ""
        kwargs["operations_areas"] = list(data["operations_areas"])
        kwargs["departments"] = list(data["departments"])
        return kwargs


class ThemeJustificationForm(forms.Form):
    text = forms.CharField(
        label=_("Justification"), required=False, widget=text_area(5),
        help_text=_("Why the plan has no initiative under this theme this year. Leave empty "
                    "to remove the justification."))


# --- the steps ----------------------------------------------------------------------------

class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=text_area())
    initiative = forms.TypedChoiceField(label=_("About the initiative"), required=False,
                                        coerce=int, empty_value=None)

    def __init__(self, *args, initiatives, **kwargs):
        super().__init__(*args, **kwargs)
        self._initiatives = {i.pk: i for i in initiatives}
        self.fields["initiative"].choices = [("", _("The plan as a whole"))] + [
            (i.pk, i.title) for i in initiatives]

    def clean_initiative(self):
        pk = self.cleaned_data["initiative"]
        return self._initiatives.get(pk) if pk is not None else None


class CloseReviewForm(forms.Form):
    recommendation = forms.CharField(
        label=_("The follow-up group's recommendation"), widget=text_area(6),
        help_text=_("Sent on to the operations committee with the plan."))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why is the plan sent back?"), widget=text_area(6),
                             help_text=_("Required. The editors see it in the timeline."))


class SignForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=SignOff.Decision.choices,
                                 widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=text_area(4),
        help_text=_("The recommendation or decision text; required when you send the plan "
                    "back."))
    password = forms.CharField(
        label=_("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Re-enter your password to sign."))
    expected_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)


class PresentationForm(forms.Form):
    presented_on = date_field(_("Date of the representatives' meeting"))
    minutes_reference = forms.CharField(label=_("Minutes reference"), max_length=200,
                                        required=False,
                                        help_text=_("E.g. the agenda item in the minutes."))


class EvaluationForm(forms.Form):
    """One row per initiative: decision, reason and (for merge) the initiative merged into."""

    def __init__(self, *args, initiatives, **kwargs):
        super().__init__(*args, **kwargs)
        self.initiatives = list(initiatives)
        self._by_pk = {i.pk: i for i in self.initiatives}
        self.rows = []
        for initiative in self.initiatives:
            pk = initiative.pk
            self.fields[f"decision_{pk}"] = forms.ChoiceField(
                label=_("Decision"),
                choices=[("", "—")] + list(InitiativeEvaluation.Decision.choices))
            self.fields[f"reason_{pk}"] = forms.CharField(label=_("Reason"),
                                                          widget=text_area(2))
            self.fields[f"merged_into_{pk}"] = forms.TypedChoiceField(
                label=_("Merge into"), required=False, coerce=int, empty_value=None,
                choices=[("", "—")] + [(other.pk, other.title) for other in self.initiatives
                                       if other.pk != pk],
                help_text=_("Only for merge."))
            self.rows.append((initiative, self[f"decision_{pk}"], self[f"reason_{pk}"],
                              self[f"merged_into_{pk}"]))

    def verdicts(self) -> list[dict]:
        data = self.cleaned_data
        return [{
            "initiative": initiative,
            "decision": data[f"decision_{initiative.pk}"],
            "reason": data[f"reason_{initiative.pk}"],
            "merged_into": self._by_pk.get(data[f"merged_into_{initiative.pk}"]),
        } for initiative in self.initiatives]

    def service_field_names(self) -> dict[str, str]:
        """The service's ``verdicts[i]`` error keys → this form's decision fields."""
        return {f"verdicts[{index}]": f"decision_{initiative.pk}"
                for index, initiative in enumerate(self.initiatives)}


class RevisionDiffForm(forms.Form):
    # Bounded like the column: SQLite cannot even compare a larger number.
    a = forms.IntegerField(label=_("From revision"), min_value=1, max_value=2**31 - 1)
    b = forms.IntegerField(label=_("To revision"), min_value=1, max_value=2**31 - 1)
