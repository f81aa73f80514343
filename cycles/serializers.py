"""Serializers of the annual-plan API: read shapes, and input shapes for each action.

Input serializers only check types and ids; the rules live in cycles.services. Every id a
client sends is looked up inside the plan's organisation (or the caller's visible
organisations), so an id of another organisation reads as "does not exist", like a missing one.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cycles.models import (
    AnnualPlan,
    Initiative,
    InitiativeEvaluation,
    PlanComment,
    PlanRevision,
    PlanTransition,
    SignOff,
    Theme,
)
from governance.models import Department, OperationsArea, Organisation, Person
from governance.serializers import PersonNameSerializer
from permissions.selectors import visible_organisations

MAX_ID = 2**63 - 1
SHA256_PATTERN = r"^[0-9a-f]{64}$"

# The plan actions of the API, by the name of their endpoint (POST /plans/{id}/<name>/).
# "edit" stands for every content edit of a draft (initiatives, theme justifications, title).
ACTION_NAMES = ("edit", "submit", "comment", "close-review", "return", "recommend", "sign",
                "publish", "register-presentation", "evaluate")


# --- errors (the shape config.api.exception_handler writes), for the schema --------------------

class ApiErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text="Validation errors only: field name → list of messages.")


class ApiConflictSerializer(ApiErrorSerializer):
    current_state = serializers.CharField(
        required=False, help_text="The state the object is in now (for a plan: a `StateEnum`).")


# --- ids scoped to the plan or the caller -------------------------------------------------------

class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up in ``scope()`` only; ids elsewhere read as unknown.

    The id is parsed as a bounded integer first, so wrong types and huge numbers are field
    errors, never database errors.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

    def scope(self):
        raise NotImplementedError

    def get_queryset(self):
        if not self.context:  # schema generation
            return self.model.objects.none()
        return self.scope()

    @property
    def plan(self) -> AnnualPlan:
        return self.context["plan"]


class ThemeField(ScopedPrimaryKeyField):
    model = Theme

    def scope(self):
        return Theme.objects.filter(programme_id=self.plan.programme_id)


class PlanInitiativeField(ScopedPrimaryKeyField):
    model = Initiative

    def scope(self):
        return Initiative.objects.filter(plan_id=self.plan.pk).select_related("theme")


class AreaField(ScopedPrimaryKeyField):
    model = OperationsArea

    def scope(self):
        return OperationsArea.objects.filter(organisation_id=self.plan.organisation_id)


class DepartmentField(ScopedPrimaryKeyField):
    model = Department

    def scope(self):
        return Department.objects.filter(organisation_id=self.plan.organisation_id)


class OwnerField(ScopedPrimaryKeyField):
    """Anyone who holds or held a seat or a staff post in the plan's organisation."""

    model = Person

    def scope(self):
        organisation_id = self.plan.organisation_id
        return Person.objects.filter(
            Q(memberships__body__organisation_id=organisation_id)
            | Q(staff_assignments__organisation_id=organisation_id)).distinct()


class VisibleOrganisationField(ScopedPrimaryKeyField):
    model = Organisation

    def scope(self):
        return visible_organisations(user=self.context["request"].user)


# --- read shapes --------------------------------------------------------------------------------

class RevisionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanRevision
        fields = ["id", "number", "sha256", "short_hash"]


class PlanSummarySerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    state = serializers.ChoiceField(choices=AnnualPlan.State.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    current_revision = RevisionRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AnnualPlan
        fields = ["id", "organisation", "organisation_name", "year", "title", "state",
                  "state_label", "current_revision", "presented_on"]
        read_only_fields = fields


# Choice fields repeated across components are plain strings beside their label, so the schema
# names each choice set once (StateEnum, SignDecisionEnum, VerdictDecisionEnum).

class EvaluationSerializer(serializers.ModelSerializer):
    decision = serializers.CharField(read_only=True, help_text="A `VerdictDecisionEnum` value.")
    decision_label = serializers.CharField(source="get_decision_display", read_only=True)

    class Meta:
        model = InitiativeEvaluation
        fields = ["id", "decision", "decision_label", "reason", "merged_into", "successor",
                  "evaluated_by", "evaluated_at"]


class InitiativeSerializer(serializers.ModelSerializer):
    theme_number = serializers.IntegerField(source="theme.number", read_only=True)
    owner = PersonNameSerializer(read_only=True, allow_null=True)
    scope_label = serializers.CharField(source="get_scope_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    evaluation = EvaluationSerializer(source="api_evaluation", read_only=True, allow_null=True,
                                      help_text="The year-end verdict, once evaluated.")

    class Meta:
        model = Initiative
        fields = ["id", "plan", "theme", "theme_number", "position", "title", "description",
                  "owner", "scope", "scope_label", "operations_areas", "departments",
                  "planned_start", "planned_end", "target", "expected_saving",
                  "realised_saving", "status", "status_label", "progress", "origin",
                  "evaluation"]
        read_only_fields = fields


class ThemeGroupSerializer(serializers.ModelSerializer):
    justification = serializers.CharField(read_only=True,
                                          help_text="Why the theme has no initiative.")
    initiatives = InitiativeSerializer(source="plan_initiatives", many=True, read_only=True)

    class Meta:
        model = Theme
        fields = ["id", "number", "title", "purpose", "justification", "initiatives"]


class PlanDetailSerializer(PlanSummarySerializer):
    approved_revision = RevisionRefSerializer(read_only=True, allow_null=True)
    themes = ThemeGroupSerializer(source="api_themes", many=True, read_only=True,
                                  help_text="The programme's themes with the plan's "
                                            "initiatives under each.")
    submit_blockers = serializers.ListField(
        source="api_submit_blockers", child=serializers.CharField(), read_only=True,
        help_text="Why the draft cannot be submitted yet (empty outside draft).")
    allowed_actions = serializers.ListField(
        source="api_allowed_actions", child=serializers.ChoiceField(choices=ACTION_NAMES),
        read_only=True, help_text="The actions the caller may take on the plan now.")
    last_revision_signed_by_you = RevisionRefSerializer(
        source="api_last_signed", read_only=True, allow_null=True,
        help_text="The revision the caller last signed: diff against it before signing.")

    class Meta(PlanSummarySerializer.Meta):
        fields = [*PlanSummarySerializer.Meta.fields, "programme", "summary",
                  "approved_revision", "follow_up_group_recommendation",
                  "operations_committee_recommendation", "organisation_board_decision",
                  "presentation_minutes_reference", "created_at", "themes",
                  "submit_blockers", "allowed_actions", "last_revision_signed_by_you"]
        read_only_fields = fields


class RevisionSerializer(serializers.ModelSerializer):
    created_by = PersonNameSerializer(read_only=True, allow_null=True)
    is_current = serializers.SerializerMethodField()
    is_approved = serializers.SerializerMethodField()

    class Meta:
        model = PlanRevision
        fields = ["id", "number", "sha256", "short_hash", "content_version", "created_at",
                  "created_by", "is_current", "is_approved"]

    def get_is_current(self, revision) -> bool:
        return revision.pk == self.context["plan"].current_revision_id

    def get_is_approved(self, revision) -> bool:
        return revision.pk == self.context["plan"].approved_revision_id


class RevisionDetailSerializer(RevisionSerializer):
    content = serializers.JSONField(read_only=True)

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "content"]


class ChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["added", "removed", "changed"])
    path = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class DiffSerializer(serializers.Serializer):
    a = RevisionRefSerializer()
    b = RevisionRefSerializer()
    changes = ChangeSerializer(many=True)


class TransitionSerializer(serializers.ModelSerializer):
    from_state = serializers.CharField(read_only=True, help_text="A `StateEnum` value.")
    to_state = serializers.CharField(read_only=True, help_text="A `StateEnum` value.")
    from_state_label = serializers.CharField(source="get_from_state_display", read_only=True)
    to_state_label = serializers.CharField(source="get_to_state_display", read_only=True)
    actor = PersonNameSerializer(read_only=True, allow_null=True)
    revision = RevisionRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PlanTransition
        fields = ["id", "from_state", "from_state_label", "to_state", "to_state_label",
                  "actor", "acting_as", "occurred_at", "reason", "revision"]


class SignOffSerializer(serializers.ModelSerializer):
    step = serializers.CharField(read_only=True, help_text="A `StateEnum` value.")
    decision = serializers.CharField(read_only=True, help_text="A `SignDecisionEnum` value.")
    step_label = serializers.CharField(source="get_step_display", read_only=True)
    body_name = serializers.CharField(source="body.name", read_only=True)
    signer = PersonNameSerializer(read_only=True)
    on_behalf_of = PersonNameSerializer(read_only=True, allow_null=True)
    mandate_label = serializers.CharField(source="get_mandate_display", read_only=True)
    decision_label = serializers.CharField(source="get_decision_display", read_only=True)
    revision = RevisionRefSerializer(read_only=True)
    stale = serializers.BooleanField(
        source="is_stale", read_only=True,
        help_text="The plan's content changed after this sign-off; it is kept, not deleted.")

    class Meta:
        model = SignOff
        fields = ["id", "step", "step_label", "body", "body_name", "signer", "mandate",
                  "mandate_label", "on_behalf_of", "decision", "decision_label", "comment",
                  "revision", "revision_sha256", "round", "signed_at", "stale"]


class CommentSerializer(serializers.ModelSerializer):
    author = PersonNameSerializer(read_only=True)
    revision = RevisionRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PlanComment
        fields = ["id", "author", "initiative", "text", "created_at", "revision"]


# --- input shapes -------------------------------------------------------------------------------

def _text(**kwargs) -> serializers.CharField:
    kwargs.setdefault("max_length", 10_000)
    return serializers.CharField(**kwargs)


class PlanCreateSerializer(serializers.Serializer):
    organisation = VisibleOrganisationField()
    year = serializers.IntegerField(min_value=1900, max_value=2999)
    title = serializers.CharField(max_length=200)
    summary = _text(required=False, allow_blank=True, default="")


class PlanUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    summary = _text(required=False, allow_blank=True)


class InitiativeWriteSerializer(serializers.Serializer):
    """An initiative's fields. On PATCH every field is optional and the rest is kept."""

    theme = ThemeField()
    title = serializers.CharField(max_length=200)
    description = _text(required=False, allow_blank=True)
    owner = OwnerField(required=False, allow_null=True)
    scope = serializers.ChoiceField(choices=Initiative.Scope.choices, required=False)
    operations_areas = AreaField(many=True, required=False,
                                 help_text="With scope `areas`: the operations areas.")
    departments = DepartmentField(many=True, required=False,
                                  help_text="With scope `departments`: the departments.")
    planned_start = serializers.DateField(required=False, allow_null=True)
    planned_end = serializers.DateField(required=False, allow_null=True)
    target = _text(required=False, allow_blank=True)
    expected_saving = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True,
        help_text="Kroner, as a string with at most two decimals.")
    status = serializers.ChoiceField(choices=Initiative.Status.choices, required=False)
    progress = serializers.IntegerField(min_value=0, max_value=100, required=False)

    def validate(self, attrs):
        instance = self.instance
        start = attrs.get("planned_start", instance.planned_start if instance else None)
        end = attrs.get("planned_end", instance.planned_end if instance else None)
        if start and end and end < start:
            raise serializers.ValidationError(
                {"planned_end": _("The end cannot be before the start.")})
        return attrs


class ThemeJustificationSerializer(serializers.Serializer):
    theme = ThemeField()
    text = _text(allow_blank=True, help_text="Empty removes the justification.")


class CommentInputSerializer(serializers.Serializer):
    text = _text()
    initiative = PlanInitiativeField(required=False, allow_null=True)


class CloseReviewSerializer(serializers.Serializer):
    recommendation = _text(help_text="The follow-up group's recommendation.")


class ReturnSerializer(serializers.Serializer):
    reason = _text(help_text="Why the plan is sent back to draft (required).")


class _SignatureSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096,
        style={"input_type": "password"}, help_text="The signer re-enters their password.")
    expected_sha256 = serializers.RegexField(
        SHA256_PATTERN, required=False, allow_null=True,
        help_text="The revision the signer read; 409 if the plan changed since.")


class RecommendSerializer(_SignatureSerializer):
    recommendation = _text(help_text="The operations committee's recommendation.")


class SignSerializer(_SignatureSerializer):
    decision = serializers.ChoiceField(choices=SignOff.Decision.choices)
    comment = _text(required=False, allow_blank=True, default="",
                    help_text="The decision text; required when returning the plan.")


class PresentationSerializer(serializers.Serializer):
    presented_on = serializers.DateField(help_text="YYYY-MM-DD, not in the future.")
    minutes_reference = serializers.CharField(max_length=200)


class VerdictSerializer(serializers.Serializer):
    initiative = PlanInitiativeField()
    decision = serializers.ChoiceField(choices=InitiativeEvaluation.Decision.choices)
    reason = _text()
    merged_into = PlanInitiativeField(required=False, allow_null=True,
                                      help_text="With decision `merge`: the initiative "
                                                "it is merged into.")

    def validate(self, attrs):
        merged_into = attrs.get("merged_into")
        if attrs["decision"] == InitiativeEvaluation.Decision.MERGE and (
                merged_into is None or merged_into.pk == attrs["initiative"].pk):
            raise serializers.ValidationError(
                {"merged_into": _("Choose another initiative of the plan to merge into.")})
        return attrs


class EvaluateSerializer(serializers.Serializer):
    verdicts = VerdictSerializer(many=True, help_text="One verdict for every initiative.")

    def validate_verdicts(self, verdicts):
        seen = set()
        for verdict in verdicts:
            if verdict["initiative"].pk in seen:
                raise serializers.ValidationError(
                    _("Give one verdict per initiative: “%(title)s” has two.")
                    % {"title": verdict["initiative"].title})
            seen.add(verdict["initiative"].pk)
        return verdicts


class DiffQuerySerializer(serializers.Serializer):
    a = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                 help_text="Revision number to compare from.")
    b = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                 help_text="Revision number to compare to.")
