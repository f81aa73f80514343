"""Serializers of the rollout and follow-up API: read shapes, and an input shape per action.

Input serializers only check types, ids and choices; the rules (states, guards, dates that have
not come yet) live in ``cycles.services``. An initiative id in ``save`` is looked up among the
case's own remarks only, so an id of another case reads as unknown.

Choice sets that already have a name in the schema under the same property (``state`` for the
plan, ``status`` for an initiative) are documented here as strings with their values listed,
so the schema keeps one name per choice set.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cycles.models import (
    AnnualPlan,
    BoardRemark,
    FollowUp,
    FollowUpRemark,
    FollowUpTransition,
    Initiative,
    MeetingKind,
    RolloutEntry,
    RolloutPlan,
    Theme,
)
from cycles.selectors import FOLLOW_UP_ACTION_STEPS
from cycles.serializers import MAX_ID
from governance.models import Department, OperationsArea
from governance.serializers import PersonNameSerializer


def _values(choices) -> str:
    return ", ".join(f"`{value}`" for value in choices.values)


FOLLOW_UP_STATE_HELP = f"The case's state: one of {_values(FollowUp.State)}."
REMARK_STATUS_HELP = f"One of {_values(FollowUpRemark.Status)}."
FOLLOW_UP_ACTION_HELP = ("The actions the caller may take on the case now: "
                         + ", ".join(f"`{name}`" for name in FOLLOW_UP_ACTION_STEPS) + ".")


@extend_schema_field(OpenApiTypes.STR)
class PlainChoiceField(serializers.ChoiceField):
    """A choice validated like any other, documented as a string (values in its help text)."""


def meeting_kind_field() -> serializers.ChoiceField:
    """The meeting a case or rollout plan was presented at: empty until it is (the model
    field is blank; a read-only model field would be documented without the empty value)."""
    return serializers.ChoiceField(choices=MeetingKind.choices, allow_blank=True,
                                   read_only=True, label=_("meeting"))


# --- small references ---------------------------------------------------------------------------

class PlanRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnnualPlan
        fields = ["id", "year"]
        read_only_fields = fields


class AreaRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperationsArea
        fields = ["id", "number", "name"]
        read_only_fields = fields


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "number", "name"]
        read_only_fields = fields


class ThemeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["id", "number", "title"]
        read_only_fields = fields


class InitiativeRefSerializer(serializers.ModelSerializer):
    theme = ThemeRefSerializer(read_only=True)

    class Meta:
        model = Initiative
        fields = ["id", "title", "theme"]
        read_only_fields = fields


# --- follow-up cases ----------------------------------------------------------------------------

class FollowUpSummarySerializer(serializers.ModelSerializer):
    plan = PlanRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    operations_area = AreaRefSerializer(source="department.operations_area", read_only=True)
    half_label = serializers.CharField(source="get_half_display", read_only=True)
    state = serializers.CharField(read_only=True, help_text=FOLLOW_UP_STATE_HELP)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = FollowUp
        fields = ["id", "plan", "department", "operations_area", "half", "half_label", "due_on",
                  "state", "state_label", "presented_on"]
        read_only_fields = fields


class FollowUpRemarkSerializer(serializers.ModelSerializer):
    initiative = InitiativeRefSerializer(read_only=True)
    status = serializers.CharField(read_only=True, help_text=REMARK_STATUS_HELP)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = FollowUpRemark
        fields = ["id", "initiative", "status", "status_label", "progress", "text"]
        read_only_fields = fields


class BoardRemarkSerializer(serializers.ModelSerializer):
    author = PersonNameSerializer(read_only=True)
    # empty until staff answer (see meeting_kind_field)
    answer = serializers.ChoiceField(choices=BoardRemark.Answer.choices, allow_blank=True,
                                     read_only=True, label=_("answer"))
    answer_label = serializers.CharField(source="get_answer_display", read_only=True)
    answered_by = PersonNameSerializer(read_only=True, allow_null=True)

    class Meta:
        model = BoardRemark
        fields = ["id", "text", "author", "created_at", "answer", "answer_label", "answer_text",
                  "answered_by", "answered_at"]
        read_only_fields = fields


class FollowUpTransitionSerializer(serializers.ModelSerializer):
    from_state = serializers.CharField(read_only=True, help_text=FOLLOW_UP_STATE_HELP)
    to_state = serializers.CharField(read_only=True, help_text=FOLLOW_UP_STATE_HELP)
    from_state_label = serializers.CharField(source="get_from_state_display", read_only=True)
    to_state_label = serializers.CharField(source="get_to_state_display", read_only=True)
    actor = PersonNameSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FollowUpTransition
        fields = ["id", "from_state", "from_state_label", "to_state", "to_state_label", "actor",
                  "acting_as", "occurred_at", "reason"]
        read_only_fields = fields


class BlockersSerializer(serializers.Serializer):
    ready = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Why the case cannot go to the board yet (while it is being prepared).")
    close = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Why the case cannot be closed yet (once presented).")


class FollowUpDetailSerializer(FollowUpSummarySerializer):
    meeting_kind = meeting_kind_field()
    meeting_kind_label = serializers.CharField(source="get_meeting_kind_display",
                                               read_only=True)
    acknowledged_by = PersonNameSerializer(read_only=True, allow_null=True)
    remarks = FollowUpRemarkSerializer(source="api_remarks", many=True, read_only=True,
                                       help_text="Staff's remark per initiative of the case.")
    board_remarks = BoardRemarkSerializer(source="api_board_remarks", many=True,
                                          read_only=True)
    transitions = FollowUpTransitionSerializer(source="api_transitions", many=True,
                                               read_only=True, help_text="Oldest first.")
    allowed_actions = serializers.ListField(source="api_allowed_actions",
                                            child=serializers.CharField(), read_only=True,
                                            help_text=FOLLOW_UP_ACTION_HELP)
    blockers = BlockersSerializer(source="api_blockers", read_only=True)

    class Meta(FollowUpSummarySerializer.Meta):
        fields = [*FollowUpSummarySerializer.Meta.fields, "summary", "meeting_kind",
                  "meeting_kind_label", "minutes_reference", "acknowledged_by",
                  "acknowledged_at", "remarks", "board_remarks", "transitions",
                  "allowed_actions", "blockers"]
        read_only_fields = fields


# --- follow-up input ----------------------------------------------------------------------------

def _text(**kwargs) -> serializers.CharField:
    kwargs.setdefault("max_length", 10_000)
    return serializers.CharField(**kwargs)


class RemarkInputSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="An initiative of this follow-up case.")
    status = PlainChoiceField(choices=FollowUpRemark.Status.choices,
                              help_text=REMARK_STATUS_HELP)
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Per cent.")
    text = _text(required=False, allow_blank=True, default="")


class FollowUpSaveSerializer(serializers.Serializer):
    """The summary and remarks; remarks not sent are kept as they are."""

    summary = _text(allow_blank=True, help_text="The summary for the board.")
    remarks = RemarkInputSerializer(many=True, required=False, default=list)

    def validate_remarks(self, remarks):
        """Each initiative once, and only the case's own; read in one query."""
        follow_up: FollowUp = self.context["follow_up"]
        ids = [remark["initiative"] for remark in remarks]
        known = {initiative.pk: initiative for initiative in Initiative.objects.filter(
            pk__in=follow_up.remarks.filter(initiative_id__in=ids).values("initiative_id"))}
        errors, seen = [], set()
        for remark in remarks:
            pk = remark["initiative"]
            if pk not in known:
                errors.append({"initiative": [_("The initiative is not part of this "
                                                "follow-up.")]})
            elif pk in seen:
                errors.append({"initiative": [_("Give one remark per initiative.")]})
            else:
                errors.append({})
            seen.add(pk)
        if any(errors):
            raise serializers.ValidationError(errors)
        return [{**remark, "initiative": known[remark["initiative"]]} for remark in remarks]


class FollowUpReturnSerializer(serializers.Serializer):
    reason = _text(help_text="Why the case goes back to preparation (required).")


class MeetingSerializer(serializers.Serializer):
    presented_on = serializers.DateField(help_text="YYYY-MM-DD, not in the future.")
    meeting_kind = serializers.ChoiceField(choices=MeetingKind.choices)


class AcknowledgeSerializer(MeetingSerializer):
    minutes_reference = serializers.CharField(max_length=200, required=False,
                                              allow_blank=True, default="")


class BoardRemarkInputSerializer(serializers.Serializer):
    text = _text(help_text="The board's remark; staff must answer it.")


class BoardRemarkAnswerSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=BoardRemark.Answer.choices)
    text = _text(required=False, allow_blank=True, default="",
                 help_text="Required with `wont_act`: why nothing will be done.")


# --- rollout plans ------------------------------------------------------------------------------

class RolloutSummarySerializer(serializers.ModelSerializer):
    plan = PlanRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    operations_area = AreaRefSerializer(source="department.operations_area", read_only=True)
    meeting_kind = meeting_kind_field()
    meeting_kind_label = serializers.CharField(source="get_meeting_kind_display",
                                               read_only=True)
    presenter = PersonNameSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RolloutPlan
        fields = ["id", "plan", "department", "operations_area", "presented_on",
                  "meeting_kind", "meeting_kind_label", "presenter"]
        read_only_fields = fields


class RolloutEntrySerializer(serializers.ModelSerializer):
    initiative = InitiativeRefSerializer(read_only=True)

    class Meta:
        model = RolloutEntry
        fields = ["id", "initiative", "planned_start", "planned_end"]
        read_only_fields = fields


class RolloutDetailSerializer(RolloutSummarySerializer):
    entries = RolloutEntrySerializer(source="api_entries", many=True, read_only=True,
                                     help_text="The initiatives with their planned timing.")
    allowed_actions = serializers.ListField(
        source="api_allowed_actions", child=serializers.CharField(), read_only=True,
        help_text="The actions the caller may take now: `register-presentation`.")

    class Meta(RolloutSummarySerializer.Meta):
        fields = [*RolloutSummarySerializer.Meta.fields, "board_remarks", "created_at",
                  "entries", "allowed_actions"]
        read_only_fields = fields


class RolloutPresentationSerializer(MeetingSerializer):
    board_remarks = _text(required=False, allow_blank=True, default="",
                          help_text="The board's remarks (an acknowledgement, not an "
                                    "approval).")


# --- coverage and aggregates of a plan ----------------------------------------------------------

class MissingDepartmentSerializer(DepartmentRefSerializer):
    operations_area = AreaRefSerializer(read_only=True)

    class Meta(DepartmentRefSerializer.Meta):
        fields = [*DepartmentRefSerializer.Meta.fields, "operations_area"]
        read_only_fields = fields


class CoverageSerializer(serializers.Serializer):
    presented = serializers.IntegerField(help_text="Departments whose board has been "
                                                   "presented the rollout plan.")
    total = serializers.IntegerField(help_text="Departments with a rollout plan.")
    missing = MissingDepartmentSerializer(many=True, help_text="Not presented yet.")


def _counts_serializer(name: str, choices, what: str) -> type[serializers.Serializer]:
    """A serializer with one count per choice, so the schema names every key."""
    fields = {value: serializers.IntegerField(help_text=f"{what} “{label}”.")
              for value, label in choices.choices}
    return type(name, (serializers.Serializer,), fields)


StateCountsSerializer = _counts_serializer("StateCountsSerializer", FollowUp.State,
                                           "Cases in state")
StatusCountsSerializer = _counts_serializer("StatusCountsSerializer", FollowUpRemark.Status,
                                            "Remarks with status")


class AreaAggregateSerializer(serializers.Serializer):
    area = AreaRefSerializer()
    counts = StateCountsSerializer()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Open cases past their due date.")
    progress = serializers.IntegerField(allow_null=True,
                                        help_text="Average progress of the remarks, per cent.")


class ThemeAggregateSerializer(serializers.Serializer):
    theme = ThemeRefSerializer()
    counts = StatusCountsSerializer()
    remarks = serializers.IntegerField()
    progress = serializers.IntegerField(allow_null=True,
                                        help_text="Average progress of the remarks, per cent.")


class AggregatesSerializer(serializers.Serializer):
    half = serializers.ChoiceField(choices=FollowUp.Half.choices, allow_null=True,
                                   help_text="The half the figures cover; null for both.")
    areas = AreaAggregateSerializer(many=True, help_text="Operations areas with cases.")
    themes = ThemeAggregateSerializer(many=True)
    totals = StateCountsSerializer()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()


class AggregatesQuerySerializer(serializers.Serializer):
    half = serializers.ChoiceField(choices=FollowUp.Half.choices, required=False,
                                   help_text="Only the first (H1) or second (H2) half.")
