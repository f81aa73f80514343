"""The rollout and follow-up API: a department's rollout plan and its half-yearly cases.

Every request fetches its case or rollout plan through a ``cycles.selectors`` fetch-and-check
selector (404 for anything outside the caller's departments, exactly like a missing one). An
action is then checked against the permission matrix in the case's department and the case's
state before its input is read, so the answers come in a fixed order: 404 (not visible), 403
(no right to this action), 409 (not in this state, with ``current_state``), 400 (bad input).
The services check everything again on the locked row; state changes run through
``workflows.services.follow_up_act`` so the case's flow follows.
"""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.errors import Conflict
from cycles import selectors, services
from cycles.api import ERROR_RESPONSES
from cycles.follow_up_serializers import (
    AcknowledgeSerializer,
    BoardRemarkAnswerSerializer,
    BoardRemarkInputSerializer,
    BoardRemarkSerializer,
    FollowUpDetailSerializer,
    FollowUpReturnSerializer,
    FollowUpSaveSerializer,
    FollowUpSummarySerializer,
    RolloutDetailSerializer,
    RolloutPresentationSerializer,
    RolloutSummarySerializer,
)
from cycles.models import FollowUp, RolloutPlan
from governance.two_factor import api_require_two_factor
from permissions.matrix import Action
from permissions.selectors import permitted_department_actions
from workflows.services import follow_up_act

State = FollowUp.State

FOLLOW_UP_ERRORS = {
    **ERROR_RESPONSES,
    404: OpenApiResponse(ERROR_RESPONSES[404].response,
                         description="No such follow-up case, or one the caller cannot see."),
    409: OpenApiResponse(ERROR_RESPONSES[409].response,
                         description="Not possible in the case's current state, or someone "
                                     "else is moving it: see `current_state`."),
}
ROLLOUT_ERRORS = {
    **ERROR_RESPONSES,
    404: OpenApiResponse(ERROR_RESPONSES[404].response,
                         description="No such rollout plan, or one the caller cannot see."),
}


def follow_up_responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: FOLLOW_UP_ERRORS[code] for code in (401, *codes)}}


def rollout_responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: ROLLOUT_ERRORS[code] for code in (401, *codes)}}


def check_follow_up_action(name: str, *, follow_up: FollowUp,
                           permitted: frozenset[Action]) -> None:
    """403 without the matrix action in the case's department; 409 in a state it does not fit."""
    states, needed = selectors.FOLLOW_UP_ACTION_STEPS[name]
    if needed not in permitted:
        raise PermissionDenied
    if follow_up.state not in states:
        label = follow_up.get_state_display()
        raise Conflict(
            _("This cannot be done now: the follow-up's current state is “%(state)s”.")
            % {"state": label}, current_state=follow_up.state, current_state_label=str(label))


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _id_filter(field_name: str, label) -> IntegerFilter:
    return IntegerFilter(field_name=field_name, min_value=1, max_value=2**63 - 1, label=label)


class FollowUpFilter(django_filters.FilterSet):
    """Filters narrow the caller's visible cases; an id outside them simply matches nothing."""

    plan = _id_filter("plan_id", gettext_lazy("Annual plan id"))
    year = IntegerFilter(field_name="plan__year", min_value=1900, max_value=2999)
    half = django_filters.ChoiceFilter(choices=FollowUp.Half.choices)
    state = django_filters.ChoiceFilter(choices=State.choices)
    department = _id_filter("department_id", gettext_lazy("Department id"))
    operations_area = _id_filter("department__operations_area_id",
                                 gettext_lazy("Operations area id"))

    class Meta:
        model = FollowUp
        fields = ["plan", "year", "half", "state", "department", "operations_area"]


class RolloutFilter(django_filters.FilterSet):
    plan = _id_filter("plan_id", gettext_lazy("Annual plan id"))
    year = IntegerFilter(field_name="plan__year", min_value=1900, max_value=2999)
    department = _id_filter("department_id", gettext_lazy("Department id"))
    operations_area = _id_filter("department__operations_area_id",
                                 gettext_lazy("Operations area id"))
    presented = django_filters.BooleanFilter(
        field_name="presented_on", lookup_expr="isnull", exclude=True,
        label=gettext_lazy("Presented to the board"))

    class Meta:
        model = RolloutPlan
        fields = ["plan", "year", "department", "operations_area", "presented"]


class _PaginatedMixin:
    def paginated(self, rows, serializer_class) -> Response:
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)


@extend_schema(tags=["follow-ups"])
class FollowUpViewSet(_PaginatedMixin, viewsets.GenericViewSet):
    """The half-yearly follow-up cases of the caller's departments, and their steps."""

    queryset = FollowUp.objects.none()
    serializer_class = FollowUpSummarySerializer
    filterset_class = FollowUpFilter
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.follow_ups_for_user(user=self.request.user)

    # --- helpers --------------------------------------------------------------------------
    def get_follow_up(self, pk) -> FollowUp:
        """The case, if the caller may see it (404 otherwise, as for a missing case)."""
        return selectors.follow_up_get_for_user(user=self.request.user, pk=pk)

    def permitted(self, follow_up: FollowUp) -> frozenset[Action]:
        return permitted_department_actions(user=self.request.user,
                                            department=follow_up.department)

    def detail_response(self, follow_up: FollowUp, permitted: frozenset[Action] | None = None,
                        ) -> Response:
        if permitted is None:
            permitted = self.permitted(follow_up)
        follow_up.api_remarks = selectors.follow_up_remarks(follow_up=follow_up)
        follow_up.api_board_remarks = selectors.follow_up_board_remarks(follow_up=follow_up)
        follow_up.api_transitions = selectors.follow_up_history(follow_up=follow_up)
        follow_up.api_allowed_actions = selectors.follow_up_allowed_actions(
            follow_up=follow_up, permitted=permitted)
        preparing = follow_up.state in (State.SCHEDULED, State.IN_PREPARATION)
        follow_up.api_blockers = {
            "ready": follow_up.ready_blockers() if preparing else [],
            "close": follow_up.close_blockers() if follow_up.state == State.PRESENTED else [],
        }
        return Response(FollowUpDetailSerializer(follow_up).data)

    def checked(self, name: str, pk) -> tuple[FollowUp, frozenset[Action]]:
        follow_up = self.get_follow_up(pk)
        permitted = self.permitted(follow_up)
        check_follow_up_action(name, follow_up=follow_up, permitted=permitted)
        # A signer action (acknowledge) where two-factor is required: 403 two_factor_required
        # unless this session is verified (governance.two_factor).
        api_require_two_factor(self.request, organisation=follow_up.department.organisation,
                               action=selectors.FOLLOW_UP_ACTION_STEPS[name][1])
        return follow_up, permitted

    def validated(self, serializer_class, **context) -> dict:
        serializer = serializer_class(data=self.request.data,
                                      context={"request": self.request, **context})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def act(self, name: str, *, service, input_serializer=None) -> Response:
        """Check, validate, change the state through the flow, answer the fresh case."""
        follow_up, permitted = self.checked(name, self.kwargs["pk"])
        kwargs = {}
        if input_serializer is not None:
            kwargs = self.validated(input_serializer, follow_up=follow_up)
        follow_up_act(service, actor=self.request.user, follow_up=follow_up, **kwargs)
        return self.detail_response(self.get_follow_up(follow_up.pk), permitted)

    # --- reads ----------------------------------------------------------------------------
    @extend_schema(summary="Follow-up cases in the caller's departments",
                   responses=follow_up_responses({200: FollowUpSummarySerializer(many=True)},
                                                 400))
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()),
                              FollowUpSummarySerializer)

    @extend_schema(summary="A follow-up case with its remarks, history and the caller's "
                           "actions",
                   responses=follow_up_responses({200: FollowUpDetailSerializer}, 404))
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_follow_up(pk))

    # --- preparation (staff of the department's operations area) --------------------------
    @extend_schema(summary="Save the summary and the remarks per initiative",
                   description="Starts the preparation of a scheduled case. Remarks not sent "
                               "are kept; an initiative of another case is a field error and "
                               "nothing is saved.",
                   request=FollowUpSaveSerializer,
                   responses=follow_up_responses({200: FollowUpDetailSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="save", url_name="save")
    def save_content(self, request, pk=None):
        return self.act("save", service=services.follow_up_save,
                        input_serializer=FollowUpSaveSerializer)

    @extend_schema(summary="Send the prepared case to the department board",
                   description="400 with the reasons in `errors.follow_up` while a summary or "
                               "a remark is missing (see `blockers.ready`).",
                   request=None,
                   responses=follow_up_responses({200: FollowUpDetailSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="mark-ready", url_name="mark-ready")
    def mark_ready(self, request, pk=None):
        return self.act("mark-ready", service=services.follow_up_mark_ready)

    @extend_schema(summary="Send the case back to preparation, with a reason",
                   request=FollowUpReturnSerializer,
                   responses=follow_up_responses({200: FollowUpDetailSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_preparation(self, request, pk=None):
        return self.act("return", service=services.follow_up_return,
                        input_serializer=FollowUpReturnSerializer)

    # --- the department board -------------------------------------------------------------
    @extend_schema(summary="The board's chair acknowledges the case presented at a meeting",
                   request=AcknowledgeSerializer,
                   responses=follow_up_responses({200: FollowUpDetailSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="acknowledge", url_name="acknowledge")
    def acknowledge(self, request, pk=None):
        return self.act("acknowledge", service=services.follow_up_acknowledge,
                        input_serializer=AcknowledgeSerializer)

    @extend_schema(summary="Add a remark from the department board",
                   request=BoardRemarkInputSerializer,
                   responses=follow_up_responses({201: BoardRemarkSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="board-remarks", url_name="board-remarks")
    def board_remarks(self, request, pk=None):
        follow_up, _permitted = self.checked("board-remark", pk)
        data = self.validated(BoardRemarkInputSerializer, follow_up=follow_up)
        remark = services.board_remark_add(actor=request.user, follow_up=follow_up, **data)
        return Response(BoardRemarkSerializer(remark).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Staff answer a remark from the board",
                   description="`noted`, `will_act` or `wont_act` (which needs a text). "
                               "Answers the case, whose `blockers.close` may now be empty.",
                   request=BoardRemarkAnswerSerializer,
                   responses=follow_up_responses({200: FollowUpDetailSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="board-remarks/<int:remark_pk>/answer",
            url_name="board-remark-answer")
    def board_remark_answer(self, request, pk=None, remark_pk=None):
        follow_up = self.get_follow_up(pk)
        remark = follow_up.board_remarks.filter(pk=remark_pk).first()
        if remark is None:  # no such remark, or one of another case
            raise Http404
        permitted = self.permitted(follow_up)
        check_follow_up_action("answer", follow_up=follow_up, permitted=permitted)
        data = self.validated(BoardRemarkAnswerSerializer, follow_up=follow_up)
        remark.follow_up = follow_up
        services.board_remark_answer(actor=request.user, remark=remark, **data)
        return self.detail_response(self.get_follow_up(follow_up.pk), permitted)

    @extend_schema(summary="Close the case once every remark from the board is answered",
                   description="400 with the reasons in `errors.follow_up` while a board "
                               "remark has no answer (see `blockers.close`).",
                   request=None,
                   responses=follow_up_responses({200: FollowUpDetailSerializer},
                                                 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="close", url_name="close")
    def close(self, request, pk=None):
        return self.act("close", service=services.follow_up_close)


@extend_schema(tags=["rollouts"])
class RolloutViewSet(_PaginatedMixin, viewsets.GenericViewSet):
    """The rollout plans of the caller's departments: a published plan's initiatives there."""

    queryset = RolloutPlan.objects.none()
    serializer_class = RolloutSummarySerializer
    filterset_class = RolloutFilter
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.rollouts_for_user(user=self.request.user)

    def get_rollout(self, pk) -> RolloutPlan:
        return selectors.rollout_get_for_user(user=self.request.user, pk=pk)

    def detail_response(self, rollout: RolloutPlan,
                        permitted: frozenset[Action] | None = None) -> Response:
        if permitted is None:
            permitted = permitted_department_actions(user=self.request.user,
                                                     department=rollout.department)
        rollout.api_entries = selectors.rollout_entries(rollout=rollout)
        rollout.api_allowed_actions = selectors.rollout_allowed_actions(rollout=rollout,
                                                                        permitted=permitted)
        return Response(RolloutDetailSerializer(rollout).data)

    @extend_schema(summary="Rollout plans of the caller's departments",
                   responses=rollout_responses({200: RolloutSummarySerializer(many=True)}, 400))
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()),
                              RolloutSummarySerializer)

    @extend_schema(summary="A rollout plan with its initiatives and planned timing",
                   responses=rollout_responses({200: RolloutDetailSerializer}, 404))
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_rollout(pk))

    @extend_schema(summary="Register the presentation to the department board",
                   description="An acknowledgement, not an approval; registering again "
                               "replaces the earlier registration.",
                   request=RolloutPresentationSerializer,
                   responses=rollout_responses({200: RolloutDetailSerializer}, 400, 403, 404))
    @action(detail=True, methods=["post"], url_path="register-presentation",
            url_name="register-presentation")
    def register_presentation(self, request, pk=None):
        rollout = self.get_rollout(pk)
        permitted = permitted_department_actions(user=request.user,
                                                 department=rollout.department)
        if Action.ROLLOUT_REGISTER_PRESENTATION not in permitted:
            raise PermissionDenied
        serializer = RolloutPresentationSerializer(data=request.data,
                                                   context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.rollout_register_presentation(actor=request.user, rollout=rollout,
                                               **serializer.validated_data)
        return self.detail_response(self.get_rollout(rollout.pk), permitted)
