"""Serializers of the task inbox API: tasks, their comments, the queue actions and delegations.

Read shapes take a ``Task`` fetched by ``workflows.selectors`` (owner, mandate and everything
the mandate points to selected in the same query), so serializing a page costs no query.
Input serializers only check types and ids; the rules (who may claim, reassign, snooze,
delegate) live in ``workflows.services``. Ids of people and organisations are looked up among
those the caller can see, so an id elsewhere reads as "does not exist", like a missing one.
"""

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cycles.follow_up_serializers import DepartmentRefSerializer, PlanRefSerializer
from cycles.serializers import MAX_ID
from governance.models import Organisation, Person
from governance.serializers import PersonNameSerializer
from permissions.selectors import visible_organisations
from workflows.models import Delegation, TaskComment, TaskMandate
from workflows.selectors import INBOX_VIEWS, READY_VIEWS, SORTS, STEP_LABELS, task_step_label


def _values(values) -> str:
    return ", ".join(f"`{value}`" for value in values)


TASK_STATUS_HELP = (f"viewflow's task status: one of {_values(STATUS.values)} (open tasks are "
                    "`NEW` in a queue, `ASSIGNED` or `STARTED`).")
PRIORITY_HELP = "1 high, 2 normal, 3 low."
TASK_ACTIONS = ("claim", "release", "reassign", "snooze", "comment")
TASK_ACTION_HELP = ("The actions the caller may take on the task now: "
                    + _values(TASK_ACTIONS) + ".")
DELEGATION_STATES = ("upcoming", "active", "ended", "cancelled")


# --- tasks --------------------------------------------------------------------------------

class TaskFollowUpRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)


class TaskLinksSerializer(serializers.Serializer):
    html = serializers.CharField(
        read_only=True,
        help_text="The page where the work is done: the follow-up case, else the plan.")
    self = serializers.CharField(read_only=True, help_text="This task in the API.")


class TaskSerializer(serializers.Serializer):
    """One row of an inbox view."""

    id = serializers.IntegerField(read_only=True)
    step = serializers.CharField(source="flow_task.name", read_only=True,
                                 help_text=f"The flow's step: one of {_values(STEP_LABELS)}.")
    step_label = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True, help_text=TASK_STATUS_HELP)
    owner = PersonNameSerializer(read_only=True, allow_null=True,
                                 help_text="Null while the task waits in its queue.")
    mandate = serializers.CharField(source="mandate.label", read_only=True,
                                    help_text="The mandate the task is routed to.")
    on_behalf_of = PersonNameSerializer(
        source="mandate.delegated_from", read_only=True, allow_null=True,
        help_text="The mandate's holder, when the task went to their substitute.")
    due_on = serializers.DateField(source="mandate.due_on", read_only=True, allow_null=True)
    priority = serializers.IntegerField(source="mandate.priority", read_only=True,
                                        help_text=PRIORITY_HELP)
    priority_label = serializers.CharField(source="mandate.get_priority_display",
                                           read_only=True)
    follow_up_on = serializers.DateField(
        source="mandate.follow_up_on", read_only=True, allow_null=True,
        help_text="The owner's own follow-up date (\"snoozed until\").")
    escalated_to = PersonNameSerializer(
        source="mandate.escalated_to", read_only=True, allow_null=True,
        help_text="Whom the overdue reminders copy (the body's chair or operations manager).")
    escalated_on = serializers.DateField(source="mandate.escalated_on", read_only=True,
                                         allow_null=True)
    created = serializers.DateTimeField(read_only=True)
    plan = PlanRefSerializer(source="mandate.plan", read_only=True, allow_null=True)
    follow_up = TaskFollowUpRefSerializer(source="mandate.follow_up", read_only=True,
                                          allow_null=True)
    department = DepartmentRefSerializer(source="mandate.department", read_only=True,
                                         allow_null=True)
    links = serializers.SerializerMethodField()

    def get_step_label(self, task: Task) -> str:
        return str(task_step_label(task))

    @extend_schema_field(TaskLinksSerializer)
    def get_links(self, task: Task) -> dict:
        mandate: TaskMandate = task.mandate
        if mandate.follow_up_id is not None:
            html = reverse("cycles:follow_up_detail", kwargs={"pk": mandate.follow_up_id})
        elif mandate.plan_id is not None:
            html = reverse("cycles:plan_detail", kwargs={"pk": mandate.plan_id})
        else:
            html = reverse("home")
        api = reverse("v1:task-detail", kwargs={"pk": task.pk})
        request = self.context.get("request")
        if request is not None:
            html, api = request.build_absolute_uri(html), request.build_absolute_uri(api)
        return {"html": html, "self": api}


class TaskCommentSerializer(serializers.ModelSerializer):
    author = PersonNameSerializer(read_only=True)

    class Meta:
        model = TaskComment
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = fields


class TaskDetailSerializer(TaskSerializer):
    comments = TaskCommentSerializer(source="api_comments", many=True, read_only=True,
                                     help_text="Oldest first.")
    allowed_actions = serializers.ListField(source="api_allowed_actions",
                                            child=serializers.CharField(), read_only=True,
                                            help_text=TASK_ACTION_HELP)


class TaskCountsSerializer(serializers.Serializer):
    mine = serializers.IntegerField(help_text="My open tasks, not snoozed.")
    group = serializers.IntegerField(help_text="Unclaimed tasks in my groups' queues.")
    delegated = serializers.IntegerField(help_text="My open tasks as someone's substitute.")
    escalated = serializers.IntegerField(
        help_text="Others' overdue tasks escalated to me (I am copied on their reminders).")
    snoozed = serializers.IntegerField(help_text="My open tasks waiting for their date.")
    overdue = serializers.IntegerField(help_text="My tasks (not snoozed) past their due date.")
    today = serializers.IntegerField(help_text="My tasks (not snoozed) due today.")
    week = serializers.IntegerField(help_text="My tasks (not snoozed) due within 7 days.")


# --- the inbox's query string ---------------------------------------------------------------

def _id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                    help_text=help_text)


class TaskQuerySerializer(serializers.Serializer):
    """The inbox's view, ready-made view, filters and sort: the same query string as the
    inbox page, so a filter can be shared as a URL. Ids outside the caller's tasks simply
    match nothing."""

    view = serializers.ChoiceField(
        choices=INBOX_VIEWS, required=False, default="mine",
        help_text="`mine` (assigned to me, not snoozed), `group` (claimable in my groups' "
                  "queues), `delegated` (mine as a substitute), `snoozed`, `done`.")
    ready = serializers.ChoiceField(
        choices=READY_VIEWS, required=False,
        help_text="`overdue`, due `today`, or due within 7 days (`week`).")
    organisation = _id("Organisation id.")
    year = serializers.IntegerField(min_value=1900, max_value=2999, required=False,
                                    help_text="The annual plan's year.")
    body = _id("Id of the body the task is routed to.")
    operations_area = _id("Operations area id (of the task's department).")
    department = _id("Department id.")
    step = serializers.ChoiceField(choices=list(STEP_LABELS), required=False,
                                   help_text="The flow's step.")
    due_from = serializers.DateField(required=False, help_text="Due on or after (YYYY-MM-DD).")
    due_to = serializers.DateField(required=False, help_text="Due on or before (YYYY-MM-DD).")
    sort = serializers.ChoiceField(
        choices=list(SORTS), required=False, default="due",
        help_text="`due` / `-due` (then priority), `priority` (then due), `created` / "
                  "`-created`. The `done` view is always newest first.")

    FILTERS = ("organisation", "year", "body", "operations_area", "department", "step",
               "due_from", "due_to")

    def validate(self, attrs):
        due_from, due_to = attrs.get("due_from"), attrs.get("due_to")
        if due_from and due_to and due_to < due_from:
            raise serializers.ValidationError(
                {"due_to": [_("The end of the period cannot be before its start.")]})
        return attrs


# --- input of the queue actions -------------------------------------------------------------

class ScopedPersonField(serializers.PrimaryKeyRelatedField):
    """A person with a mandate in one of ``organisations()``; anyone else reads as unknown.

    The id is parsed as a bounded integer first, so wrong types and huge numbers are field
    errors, never database errors.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

    def organisations(self):
        raise NotImplementedError

    def get_queryset(self):
        if not self.context:  # schema generation
            return Person.objects.none()
        organisations = self.organisations()
        return Person.objects.filter(
            Q(memberships__body__organisation__in=organisations)
            | Q(staff_assignments__organisation__in=organisations)).distinct()


class TaskPersonField(ScopedPersonField):
    """Someone with a mandate in the task's organisation."""

    def organisations(self):
        return Organisation.objects.filter(pk=self.context["task"].mandate.organisation_id)


class VisiblePersonField(ScopedPersonField):
    """Someone with a mandate in one of the caller's organisations."""

    def organisations(self):
        return visible_organisations(user=self.context["request"].user)


class VisibleOrganisationField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        super().__init__(**kwargs)

    def get_queryset(self):
        if not self.context:  # schema generation
            return Organisation.objects.none()
        return visible_organisations(user=self.context["request"].user)


class TaskReassignSerializer(serializers.Serializer):
    to = TaskPersonField(help_text="Id of the person who gets the task; they must hold one of "
                                   "the mandates the task belongs to.")


class TaskSnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(
        allow_null=True,
        help_text="The day the task comes back under \"My tasks\" (after today); null wakes "
                  "it now.")


class TaskCommentInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000, help_text="The comment.")


# --- delegations ----------------------------------------------------------------------------

class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name"]
        read_only_fields = fields


class DelegationSerializer(serializers.ModelSerializer):
    person = PersonNameSerializer(read_only=True, help_text="Whose tasks go to the substitute.")
    substitute = PersonNameSerializer(read_only=True)
    organisation = OrganisationRefSerializer(read_only=True)
    created_by = PersonNameSerializer(read_only=True)
    state = serializers.SerializerMethodField(
        help_text=f"One of {_values(DELEGATION_STATES)} (today's date decides).")

    class Meta:
        model = Delegation
        fields = ["id", "person", "substitute", "organisation", "starts_on", "ends_on",
                  "reason", "state", "created_by", "created_at", "cancelled_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_state(self, delegation: Delegation) -> str:
        return delegation_state(delegation)


def delegation_state(delegation: Delegation, today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    if delegation.cancelled_at is not None:
        return "cancelled"
    if delegation.ends_on < today:
        return "ended"
    return "active" if delegation.starts_on <= today else "upcoming"


class DelegationCreateSerializer(serializers.Serializer):
    person = VisiblePersonField(
        required=False,
        help_text="Whose tasks go to the substitute; the caller when left out (only the "
                  "operations secretary names a substitute for someone else).")
    substitute = VisiblePersonField(help_text="Who does the tasks meanwhile.")
    organisation = VisibleOrganisationField(help_text="The organisation the mandates are in.")
    starts_on = serializers.DateField(help_text="First day (YYYY-MM-DD).")
    ends_on = serializers.DateField(help_text="Last day (YYYY-MM-DD); the tasks move back "
                                              "the day after.")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   default="", help_text="E.g. \"Ferie\".")
