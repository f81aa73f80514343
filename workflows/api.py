"""The task inbox API: the inbox views, the queue (claim, release, reassign), snooze,
comments, and the caller's delegations.

Tasks are not objects of the permission matrix: what a person may see and do with a task
follows from the task itself. Every request fetches its task through
``workflows.selectors.task_get_for_user`` (404 unless the caller owns it, is in one of its
candidate groups, is the holder a substitute has it for, or may reassign it; a missing task
answers the same). An action is then checked before its input is read, so the answers come in
a fixed order: 404 (not visible), 403 (not yours to do), 409 (the task is done, or someone
else claimed it first: the detail names them), 400 (bad input). The services in
``workflows.services`` check everything again on the locked row.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from viewflow.workflow.models import Task

from config.errors import Conflict
from cycles.serializers import ApiConflictSerializer, ApiErrorSerializer
from workflows import selectors, services
from workflows.models import Delegation
from workflows.serializers import (
    DelegationCreateSerializer,
    DelegationSerializer,
    TaskCommentInputSerializer,
    TaskCommentSerializer,
    TaskCountsSerializer,
    TaskDetailSerializer,
    TaskQuerySerializer,
    TaskReassignSerializer,
    TaskSerializer,
    TaskSnoozeSerializer,
    delegation_state,
)

TASK_ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: see `errors`."),
    401: OpenApiResponse(ApiErrorSerializer, description="Not logged in."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller may not do this."),
    404: OpenApiResponse(ApiErrorSerializer,
                         description="No such task, or one the caller cannot see."),
    409: OpenApiResponse(ApiConflictSerializer,
                         description="The task is done, or someone else claimed it first "
                                     "(`detail` names them; `current_state` is the task's "
                                     "status)."),
}
DELEGATION_ERRORS = {
    **TASK_ERRORS,
    404: OpenApiResponse(ApiErrorSerializer,
                         description="No such delegation, or one the caller cannot see."),
    409: OpenApiResponse(ApiConflictSerializer,
                         description="The delegation is already cancelled or over "
                                     "(`current_state`)."),
}


def task_responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: TASK_ERRORS[code] for code in (401, *codes)}}


def delegation_responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: DELEGATION_ERRORS[code] for code in (401, *codes)}}


# --- what the caller may do with a task ---------------------------------------------------

def _in_candidate_group(task: Task, user) -> bool:
    return task.mandate.candidate_groups.filter(user=user).exists()


def _is_open(task: Task) -> bool:
    return task.status in services.OPEN_STATUSES


def check_task_action(name: str, *, task: Task, user) -> None:
    """403 for an action that is not the caller's to take on this task; 409 once it is done.

    ``claim``: a member of one of the task's candidate groups (a task someone else holds is
    a 409 from the service, naming them). ``release`` and ``snooze``: the owner.
    ``reassign``: the operations secretary, or the chair of the body the task belongs to.
    """
    if name == "claim":
        allowed = _in_candidate_group(task, user)
    elif name in ("release", "snooze"):
        allowed = task.owner_id == user.pk
    elif name == "reassign":
        allowed = services.may_reassign(actor=user, mandate=task.mandate)
    else:
        allowed = True
    if not allowed:
        raise PermissionDenied
    if not _is_open(task):
        raise Conflict(_("The task is already done."), current_state=task.status,
                       current_state_label=str(task.get_status_display()))


def task_allowed_actions(*, task: Task, user) -> list[str]:
    """The actions the detail offers the caller now (the services decide in the end)."""
    allowed = []
    if _is_open(task):
        mandate = task.mandate
        if task.owner_id is None and _in_candidate_group(task, user):
            allowed.append("claim")
        if task.owner_id == user.pk:
            if mandate.candidate_groups.exists():
                allowed.append("release")
            allowed.append("snooze")
        if services.may_reassign(actor=user, mandate=mandate):
            allowed.append("reassign")
    allowed.append("comment")
    return allowed


# --- delegations the caller can see ---------------------------------------------------------

# --- tasks ----------------------------------------------------------------------------------

@extend_schema(tags=["tasks"])
class TaskViewSet(viewsets.GenericViewSet):
    """The caller's inbox and queue, and the work on one task."""

    queryset = Task.objects.none()
    serializer_class = TaskSerializer
    lookup_value_converter = "int"

    def get_task(self, pk) -> Task:
        """The task, if the caller may see it (404 otherwise, as for a missing task)."""
        return selectors.task_get_for_user(user=self.request.user, pk=pk)

    def detail_response(self, task: Task, *, status_code: int = status.HTTP_200_OK
                        ) -> Response:
        task.api_comments = list(task.comments.select_related("author"))
        task.api_allowed_actions = task_allowed_actions(task=task, user=self.request.user)
        return Response(TaskDetailSerializer(task, context={"request": self.request}).data,
                        status=status_code)

    def fresh_response(self, task: Task) -> Response:
        """The task after an action. The caller just acted on it, so it is shown even when
        the action took it out of their sight (released from a queue they are not in)."""
        try:
            task = self.get_task(task.pk)
        except Http404:
            task = (Task.objects.filter(pk=task.pk)
                    .select_related("owner", "mandate__plan", "mandate__body",
                                    "mandate__organisation", "mandate__operations_area",
                                    "mandate__follow_up", "mandate__delegated_from",
                                    "mandate__department")
                    .get())
        return self.detail_response(task)

    def checked(self, name: str, pk) -> Task:
        task = self.get_task(pk)
        check_task_action(name, task=task, user=self.request.user)
        return task

    def validated(self, serializer_class, **context) -> dict:
        serializer = serializer_class(data=self.request.data,
                                      context={"request": self.request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # --- reads ----------------------------------------------------------------------------
    @extend_schema(
        summary="An inbox view: my tasks, my groups' queue, delegated, snoozed or done",
        description="Filtered and sorted in the database; the same query string as the inbox "
                    "page. Empty parameters are ignored. Query count: the page and its count, "
                    "whatever the number of tasks.",
        parameters=[TaskQuerySerializer],
        responses=task_responses({200: TaskSerializer(many=True)}, 400))
    def list(self, request):
        query = TaskQuerySerializer(data={key: value for key, value in
                                          request.query_params.items() if value != ""})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = selectors.inbox(
            user=request.user, view=data["view"], ready=data.get("ready"),
            filters={name: data[name] for name in TaskQuerySerializer.FILTERS if name in data},
            sort=data["sort"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            TaskSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(summary="How many tasks wait in each view",
                   responses=task_responses({200: TaskCountsSerializer}))
    @action(detail=False, methods=["get"], url_path="counts", url_name="counts")
    def counts(self, request):
        return Response(TaskCountsSerializer(
            selectors.inbox_counts(user=request.user)).data)

    @extend_schema(summary="A task with its comments and the caller's actions",
                   responses=task_responses({200: TaskDetailSerializer}, 404))
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_task(pk))

    # --- the queue ------------------------------------------------------------------------
    @extend_schema(summary="Claim a task from one of my groups' queues",
                   description="409 when someone else has it (they claimed first, or it is "
                               "routed to them): `detail` names them. Claiming a task you "
                               "already have changes nothing.",
                   request=None,
                   responses=task_responses({200: TaskDetailSerializer}, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="claim", url_name="claim")
    def claim(self, request, pk=None):
        task = self.checked("claim", pk)
        services.task_claim(actor=request.user, task=task)
        return self.fresh_response(task)

    @extend_schema(summary="Give my task back to its groups' queue",
                   description="409 when the task has no queue to go back to.",
                   request=None,
                   responses=task_responses({200: TaskDetailSerializer}, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="release", url_name="release")
    def release(self, request, pk=None):
        task = self.checked("release", pk)
        services.task_release(actor=request.user, task=task)
        return self.fresh_response(task)

    @extend_schema(summary="Give a task to someone else who may do it",
                   description="For the operations secretary, and the chair of the body the "
                               "task belongs to. The person must hold one of the task's "
                               "mandates (400 in `errors.to` otherwise).",
                   request=TaskReassignSerializer,
                   responses=task_responses({200: TaskDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="reassign", url_name="reassign")
    def reassign(self, request, pk=None):
        task = self.checked("reassign", pk)
        data = self.validated(TaskReassignSerializer, task=task)
        services.task_reassign(actor=request.user, task=task, to=data["to"])
        return self.fresh_response(task)

    @extend_schema(summary="Snooze my task until a day, or wake it",
                   request=TaskSnoozeSerializer,
                   responses=task_responses({200: TaskDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="snooze", url_name="snooze")
    def snooze(self, request, pk=None):
        task = self.checked("snooze", pk)
        data = self.validated(TaskSnoozeSerializer, task=task)
        services.task_snooze(actor=request.user, task=task, until=data["until"])
        return self.fresh_response(task)

    @extend_schema(summary="Comment on a task",
                   description="Everyone who can see the task can comment, also once it is "
                               "done.",
                   request=TaskCommentInputSerializer,
                   responses=task_responses({201: TaskCommentSerializer}, 400, 404))
    @action(detail=True, methods=["post"], url_path="comments", url_name="comments")
    def comments(self, request, pk=None):
        task = self.get_task(pk)
        data = self.validated(TaskCommentInputSerializer, task=task)
        comment = services.task_comment_add(actor=request.user, task=task, text=data["text"])
        return Response(TaskCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


# --- delegations ----------------------------------------------------------------------------

@extend_schema(tags=["delegations"])
class DelegationViewSet(viewsets.GenericViewSet):
    """Substitutes for a period: tasks routed to a person then go to their substitute."""

    queryset = Delegation.objects.none()
    serializer_class = DelegationSerializer
    lookup_value_converter = "int"

    @extend_schema(summary="My delegations: given (mine, or made by me) and taken",
                   responses=delegation_responses({200: DelegationSerializer(many=True)}))
    def list(self, request):
        page = self.paginate_queryset(selectors.delegations_for_user(user=request.user))
        return self.get_paginated_response(DelegationSerializer(page, many=True).data)

    @extend_schema(summary="Name a substitute for a period",
                   description="For yourself; the operations secretary also for someone "
                               "else (`person`). Open tasks move at once when the period has "
                               "begun, and back by themselves after its last day.",
                   request=DelegationCreateSerializer,
                   responses=delegation_responses({201: DelegationSerializer}, 400, 403))
    def create(self, request):
        serializer = DelegationCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delegation = services.delegation_create(
            actor=request.user, person=data.get("person") or request.user,
            substitute=data["substitute"], organisation_id=data["organisation"].pk,
            starts_on=data["starts_on"], ends_on=data["ends_on"], reason=data["reason"])
        delegation = selectors.delegation_get_for_user(user=request.user, pk=delegation.pk)
        return Response(DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Cancel a delegation",
                   description="For the person it is for, and the operations secretary. "
                               "Open tasks go back to the person at once.",
                   request=None,
                   responses=delegation_responses({200: DelegationSerializer}, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="cancel", url_name="cancel")
    def cancel(self, request, pk=None):
        delegation = selectors.delegation_get_for_user(user=request.user, pk=pk)
        if request.user.pk != delegation.person_id and not selectors.is_operations_secretary(
                request.user, delegation.organisation_id):
            raise PermissionDenied
        state = delegation_state(delegation, timezone.localdate())
        if state == "cancelled":
            raise Conflict(_("The delegation is already cancelled."), current_state=state)
        if state == "ended":
            raise Conflict(_("The delegation is already over."), current_state=state)
        services.delegation_cancel(actor=request.user, delegation=delegation)
        return Response(DelegationSerializer(
            selectors.delegation_get_for_user(user=request.user, pk=delegation.pk)).data)
