"""Forms of the rollout and follow-up pages. They parse and check input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cycles.forms import date_field, text_area
from cycles.models import BoardRemark, FollowUp, FollowUpRemark, MeetingKind


class FollowUpFilterForm(forms.Form):
    """The list's filters, read from the query string (a shareable URL)."""

    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int,
                                  empty_value=None)
    half = forms.ChoiceField(label=_("Half year"), required=False,
                             choices=[("", _("Both halves"))] + list(FollowUp.Half.choices))
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Every state"))] + list(FollowUp.State.choices))
    area = forms.TypedChoiceField(label=_("Operations area"), required=False, coerce=int,
                                  empty_value=None)

    def __init__(self, *args, years, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("Every year"))] + [(y, y) for y in years]
        self.fields["area"].choices = [("", _("Every area"))] + [(a.pk, str(a)) for a in areas]

    def filter(self, cases):
        data = self.cleaned_data
        if data.get("year"):
            cases = cases.filter(plan__year=data["year"])
        if data.get("half"):
            cases = cases.filter(half=data["half"])
        if data.get("state"):
            cases = cases.filter(state=data["state"])
        if data.get("area"):
            cases = cases.filter(department__operations_area_id=data["area"])
        return cases


class FollowUpSaveForm(forms.Form):
    """The summary and, per initiative, status, progress and remark: one form, one POST."""

    summary = forms.CharField(
        label=_("Summary for the board"), required=False, widget=text_area(5),
        help_text=_("Required before the follow-up can go to the board."))

    def __init__(self, *args, follow_up: FollowUp, remarks: list[FollowUpRemark], **kwargs):
        if "initial" not in kwargs:
            initial = {"summary": follow_up.summary}
            for remark in remarks:
                pk = remark.initiative_id
                initial.update({f"status_{pk}": remark.status, f"progress_{pk}": remark.progress,
                                f"text_{pk}": remark.text})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.remark_rows = list(remarks)
        self.rows = []
        for remark in self.remark_rows:
            pk = remark.initiative_id
            self.fields[f"status_{pk}"] = forms.ChoiceField(
                label=_("Status"), choices=FollowUpRemark.Status.choices)
            self.fields[f"progress_{pk}"] = forms.IntegerField(
                label=_("Progress (%)"), min_value=0, max_value=100,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
            self.fields[f"text_{pk}"] = forms.CharField(
                label=_("Remark"), required=False, widget=text_area(3))
            self.rows.append((remark, self[f"status_{pk}"], self[f"progress_{pk}"],
                              self[f"text_{pk}"]))

    def remarks(self) -> list[dict]:
        """The remarks as follow_up_save takes them."""
        data = self.cleaned_data
        return [{"initiative": remark.initiative,
                 "status": data[f"status_{remark.initiative_id}"],
                 "progress": data[f"progress_{remark.initiative_id}"],
                 "text": data[f"text_{remark.initiative_id}"]}
                for remark in self.remark_rows]

    def service_field_names(self) -> dict[str, str]:
        """The service's ``remarks[i]`` error keys → this form's status fields."""
        return {f"remarks[{index}]": f"status_{remark.initiative_id}"
                for index, remark in enumerate(self.remark_rows)}


class FollowUpReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the follow-up go back to preparation?"), widget=text_area(4),
        help_text=_("Required. Staff see it in the case's log."))


class MeetingForm(forms.Form):
    """When and where something was presented to the department board."""

    presented_on = date_field(_("Date of the meeting"))
    meeting_kind = forms.ChoiceField(label=_("Meeting"), choices=MeetingKind.choices,
                                     widget=forms.RadioSelect)


class AcknowledgeForm(MeetingForm):
    minutes_reference = forms.CharField(
        label=_("Minutes reference"), max_length=200, required=False,
        help_text=_("E.g. the agenda item in the minutes."))


class RolloutPresentationForm(MeetingForm):
    board_remarks = forms.CharField(label=_("The board's remarks"), required=False,
                                    widget=text_area(4))


class BoardRemarkForm(forms.Form):
    prefix = "board-remark"

    text = forms.CharField(label=_("The board's remark"), widget=text_area(4),
                           help_text=_("Staff answer every remark before the case is closed."))


class BoardRemarkAnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("Answer"), choices=BoardRemark.Answer.choices,
                               widget=forms.RadioSelect)
    text = forms.CharField(label=_("Explanation"), required=False, widget=text_area(3),
                           help_text=_("Required when nothing will be done."))

    def __init__(self, *args, remark: BoardRemark, **kwargs):
        kwargs.setdefault("prefix", f"answer-{remark.pk}")
        super().__init__(*args, **kwargs)
        self.remark = remark
