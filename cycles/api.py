"""The annual-plan API: reads, content edits of a draft, and every step of the cycle as a POST.

Every request fetches its plan through ``cycles.selectors.plan_get_for_user`` (404 for a plan
of another organisation, exactly like a missing one). An action is then checked against the
permission matrix and the plan's state before its input is read, so the answers come in a
fixed order: 404 (not visible), 403 (no right to this action), 409 (not in this state, with
``current_state``), 400 (bad input). The services check everything again on the locked row;
the steps of the cycle run through ``workflows.services.plan_act`` so the flow follows.
"""

import dataclasses

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.errors import Conflict
from cycles import selectors, services
from cycles.follow_up_serializers import (
    AggregatesQuerySerializer,
    AggregatesSerializer,
    CoverageSerializer,
)
from cycles.lib import diff_content
from cycles.models import AnnualPlan, Initiative, InitiativeEvaluation, SignOff
from cycles.serializers import (
    ApiConflictSerializer,
    ApiErrorSerializer,
    CloseReviewSerializer,
    CommentInputSerializer,
    CommentSerializer,
    DiffQuerySerializer,
    DiffSerializer,
    EvaluateSerializer,
    InitiativeSerializer,
    InitiativeWriteSerializer,
    PlanCreateSerializer,
    PlanDetailSerializer,
    PlanSummarySerializer,
    PlanUpdateSerializer,
    PresentationSerializer,
    RecommendSerializer,
    ReturnSerializer,
    RevisionDetailSerializer,
    RevisionSerializer,
    SignOffSerializer,
    SignSerializer,
    ThemeJustificationSerializer,
    TransitionSerializer,
)
from governance.models import Organisation
from governance.two_factor import api_require_two_factor
from permissions import selectors as permission_selectors
from permissions.matrix import Action
from workflows.services import plan_act, plan_create_and_route

State = AnnualPlan.State

def _check_action(name: str, *, plan: AnnualPlan, permitted: frozenset[Action]) -> None:
    """403 without the right to the action in any state; 409 in a state it does not fit."""
    steps = selectors.PLAN_ACTION_STEPS[name]
    if not permitted & set(steps.values()):
        raise PermissionDenied
    if plan.state not in steps:
        label = plan.get_state_display()
        raise Conflict(
            _("This cannot be done now: the plan's current state is “%(state)s”.")
            % {"state": label}, current_state=plan.state, current_state_label=str(label))
    if steps[plan.state] not in permitted:
        raise PermissionDenied


ERROR_RESPONSES = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: see `errors`."),
    401: OpenApiResponse(ApiErrorSerializer, description="Not logged in."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller may not do this."),
    404: OpenApiResponse(ApiErrorSerializer,
                         description="No such plan, or one the caller cannot see."),
    409: OpenApiResponse(ApiConflictSerializer,
                         description="Not possible in the plan's current state, or the plan "
                                     "changed meanwhile: see `current_state`."),
}


def responses(ok: dict, *codes: int) -> dict:
    return {**ok, **{code: ERROR_RESPONSES[code] for code in (401, *codes)}}


def _visible_organisations(request):
    if request is None:
        return Organisation.objects.none()
    return permission_selectors.visible_organisations(user=request.user)


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class PlanFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(queryset=_visible_organisations)
    year = IntegerFilter(min_value=1900, max_value=2999)
    state = django_filters.ChoiceFilter(choices=State.choices)

    class Meta:
        model = AnnualPlan
        fields = ["organisation", "year", "state"]


class _PlanObjectMixin:
    def get_plan(self, pk) -> AnnualPlan:
        """The plan, if the caller may see it (404 otherwise, as for a missing plan)."""
        return selectors.plan_get_for_user(user=self.request.user, pk=pk)

    def permitted(self, plan: AnnualPlan) -> frozenset[Action]:
        return permission_selectors.permitted_actions(user=self.request.user,
                                                      organisation_id=plan.organisation_id)


@extend_schema(tags=["plans"])
class PlanViewSet(_PlanObjectMixin, viewsets.GenericViewSet):
    """Annual plans: reads, edits of a draft, and the steps of the cycle."""

    queryset = AnnualPlan.objects.none()
    serializer_class = PlanSummarySerializer
    filterset_class = PlanFilter
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.plans_for_user(user=self.request.user)

    # --- helpers --------------------------------------------------------------------------
    def detail_response(self, plan: AnnualPlan, permitted: frozenset[Action] | None = None,
                        *, status_code: int = status.HTTP_200_OK) -> Response:
        if permitted is None:
            permitted = self.permitted(plan)
        evaluations = {}
        if plan.state == State.EVALUATED:
            evaluations = {e.initiative_id: e for e in plan.evaluations.all()}
        themes = []
        for theme, initiatives in selectors.initiatives_by_theme(plan=plan):
            for initiative in initiatives:
                initiative.api_evaluation = evaluations.get(initiative.pk)
            theme.plan_initiatives = initiatives
            themes.append(theme)
        plan.api_themes = themes
        plan.api_submit_blockers = plan.submit_blockers() if plan.state == State.DRAFT else []
        plan.api_allowed_actions = selectors.plan_allowed_actions(
            plan=plan, permitted=permitted, submit_blockers=plan.api_submit_blockers)
        plan.api_last_signed = selectors.last_revision_seen_by(plan=plan,
                                                               user=self.request.user)
        return Response(PlanDetailSerializer(plan).data, status=status_code)

    def act(self, name: str, *, service, input_serializer=None, to_kwargs=None,
            through_flow: bool = True) -> Response:
        """Check, validate, run the service (through the flow) and answer the fresh plan."""
        plan = self.get_plan(self.kwargs["pk"])
        permitted = self.permitted(plan)
        _check_action(name, plan=plan, permitted=permitted)
        # A signer action in an organisation that requires two-factor: 403 two_factor_required
        # unless this session is verified (governance.two_factor).
        api_require_two_factor(self.request, organisation=plan.organisation,
                               action=selectors.PLAN_ACTION_STEPS[name][plan.state])
        kwargs = {}
        if input_serializer is not None:
            serializer = input_serializer(data=self.request.data,
                                          context={"request": self.request, "plan": plan})
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            kwargs = to_kwargs(data, plan) if to_kwargs else dict(data)
        if through_flow:
            plan_act(service, actor=self.request.user, plan=plan, **kwargs)
        else:
            service(actor=self.request.user, plan=plan, **kwargs)
        return self.detail_response(self.get_plan(plan.pk), permitted)

    def paginated(self, rows, serializer_class, **context) -> Response:
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            serializer_class(page, many=True, context={"request": self.request, **context}).data)

    # --- reads ----------------------------------------------------------------------------
    @extend_schema(summary="Plans the caller can see",
                   responses=responses({200: PlanSummarySerializer(many=True)}, 400))
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), PlanSummarySerializer)

    @extend_schema(summary="A plan with its initiatives by theme and the caller's actions",
                   responses=responses({200: PlanDetailSerializer}, 404))
    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_plan(pk))

    # --- the plan itself ------------------------------------------------------------------
    @extend_schema(summary="Create a draft plan for a year of the programme",
                   request=PlanCreateSerializer,
                   responses=responses({201: PlanDetailSerializer}, 400, 403))
    def create(self, request):
        serializer = PlanCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        plan = plan_create_and_route(actor=request.user, **serializer.validated_data)
        return self.detail_response(self.get_plan(plan.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a draft's title or summary", request=PlanUpdateSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    def partial_update(self, request, pk=None):
        def to_kwargs(data, plan):
            return {"title": data.get("title", plan.title),
                    "summary": data.get("summary", plan.summary)}

        return self.act("edit", service=services.plan_update,
                        input_serializer=PlanUpdateSerializer, to_kwargs=to_kwargs,
                        through_flow=False)

    @extend_schema(summary="Add an initiative to a draft", request=InitiativeWriteSerializer,
                   responses=responses({201: InitiativeSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="initiatives")
    def initiatives(self, request, pk=None):
        plan = self.get_plan(pk)
        _check_action("edit", plan=plan, permitted=self.permitted(plan))
        serializer = InitiativeWriteSerializer(data=request.data,
                                               context={"request": request, "plan": plan})
        serializer.is_valid(raise_exception=True)
        initiative = services.initiative_create(actor=request.user, plan=plan,
                                                **serializer.validated_data)
        return Response(InitiativeSerializer(_initiative_for_response(initiative.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Justify (or, with empty text, unjustify) a theme without "
                           "initiatives", request=ThemeJustificationSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="theme-justification")
    def theme_justification(self, request, pk=None):
        return self.act("edit", service=services.theme_justification_set,
                        input_serializer=ThemeJustificationSerializer, through_flow=False)

    # --- the steps of the cycle -----------------------------------------------------------
    @extend_schema(summary="Submit the draft to the follow-up group", request=None,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self.act("submit", service=services.plan_submit)

    @extend_schema(summary="Comment during the follow-up group's review",
                   request=CommentInputSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        return self.act("comment", service=services.plan_comment,
                        input_serializer=CommentInputSerializer)

    @extend_schema(summary="Close the follow-up group's review with its recommendation",
                   request=CloseReviewSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="close-review")
    def close_review(self, request, pk=None):
        return self.act("close-review", service=services.plan_close_review,
                        input_serializer=CloseReviewSerializer)

    @extend_schema(summary="Send the plan back to draft, with a reason",
                   request=ReturnSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_draft(self, request, pk=None):
        return self.act("return", service=services.plan_return, input_serializer=ReturnSerializer)

    @extend_schema(summary="The operations committee's chair recommends and signs",
                   description="Signs the committee's step with decision `approve`; the "
                               "recommendation is the sign-off's text.",
                   request=RecommendSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def recommend(self, request, pk=None):
        def to_kwargs(data, plan):
            return {"decision": SignOff.Decision.APPROVE, "comment": data["recommendation"],
                    "password": data["password"],
                    "expected_sha256": data.get("expected_sha256")}

        return self.act("recommend", service=services.plan_sign,
                        input_serializer=RecommendSerializer, to_kwargs=to_kwargs)

    @extend_schema(summary="The chair signs the current step",
                   description="In the organisation board's step an approval publishes the "
                               "plan at once.",
                   request=SignSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        return self.act("sign", service=services.plan_sign, input_serializer=SignSerializer)

    @extend_schema(summary="Publish the approved plan (normally automatic)", request=None,
                   responses=responses({200: PlanDetailSerializer}, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self.act("publish", service=services.plan_publish)

    @extend_schema(summary="Register the presentation to the representatives' council",
                   request=PresentationSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"], url_path="register-presentation")
    def register_presentation(self, request, pk=None):
        return self.act("register-presentation", service=services.plan_register_presentation,
                        input_serializer=PresentationSerializer)

    @extend_schema(summary="The year-end evaluation: a verdict for every initiative",
                   description="`continue` and `rescope` copy the initiative into next year's "
                               "draft (created if missing), with `origin` set.",
                   request=EvaluateSerializer,
                   responses=responses({200: PlanDetailSerializer}, 400, 403, 404, 409))
    @action(detail=True, methods=["post"])
    def evaluate(self, request, pk=None):
        return self.act("evaluate", service=services.plan_evaluate,
                        input_serializer=EvaluateSerializer)

    # --- history --------------------------------------------------------------------------
    @extend_schema(summary="The plan's revisions, newest first",
                   responses=responses({200: RevisionSerializer(many=True)}, 404))
    @action(detail=True, methods=["get"], filter_backends=[])
    def revisions(self, request, pk=None):
        plan = self.get_plan(pk)
        rows = selectors.revisions_of(plan=plan).defer("content", "canonical")
        return self.paginated(rows, RevisionSerializer, plan=plan)

    @extend_schema(summary="One revision with its content",
                   responses=responses({200: RevisionDetailSerializer}, 404))
    @action(detail=True, methods=["get"], url_path="revisions/<int:number>",
            filter_backends=[])
    def revision(self, request, pk=None, number=None):
        plan = self.get_plan(pk)
        revision = selectors.revisions_of(plan=plan).filter(number=number).first()
        if revision is None:
            raise Http404
        return Response(RevisionDetailSerializer(revision, context={"plan": plan}).data)

    @extend_schema(summary="The changes between two revisions",
                   parameters=[DiffQuerySerializer],
                   responses=responses({200: DiffSerializer}, 400, 404))
    @action(detail=True, methods=["get"], url_path="revisions/diff", filter_backends=[])
    def diff(self, request, pk=None):
        plan = self.get_plan(pk)
        query = DiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        numbers = query.validated_data
        found = {r.number: r for r in plan.revisions.filter(number__in=numbers.values())}
        unknown = {key: [_("Unknown revision.")] for key, number in numbers.items()
                   if number not in found}
        if unknown:
            raise ValidationError(unknown)
        a, b = found[numbers["a"]], found[numbers["b"]]
        changes = [dataclasses.asdict(change) for change in diff_content(a.content, b.content)]
        return Response(DiffSerializer({"a": a, "b": b, "changes": changes}).data)

    @extend_schema(summary="The plan's state changes, oldest first",
                   responses=responses({200: TransitionSerializer(many=True)}, 404))
    @action(detail=True, methods=["get"], filter_backends=[])
    def transitions(self, request, pk=None):
        plan = self.get_plan(pk)
        rows = plan.transitions.select_related("actor", "revision").order_by("occurred_at", "pk")
        return self.paginated(rows, TransitionSerializer)

    @extend_schema(summary="The sign-offs, oldest first; stale ones are marked, never removed",
                   responses=responses({200: SignOffSerializer(many=True)}, 404))
    @action(detail=True, methods=["get"], url_path="sign-offs", filter_backends=[])
    def sign_offs(self, request, pk=None):
        plan = self.get_plan(pk)
        return self.paginated(selectors.plan_sign_offs(plan=plan), SignOffSerializer)

    # --- rollout coverage and follow-up aggregates (cycle.aggregates.view) -----------------
    @extend_schema(summary="In how many departments the rollout plan has been presented",
                   description="Needs `cycle.aggregates.view` in the plan's organisation.",
                   responses=responses({200: CoverageSerializer}, 403, 404))
    @action(detail=True, methods=["get"], filter_backends=[])
    def coverage(self, request, pk=None):
        plan = selectors.aggregates_plan_get_for_user(user=request.user, pk=pk)
        return Response(CoverageSerializer(selectors.rollout_coverage(plan=plan)).data)

    @extend_schema(summary="The follow-up cases per operations area and per theme",
                   description="Per area: cases in each state, overdue and average progress; "
                               "per theme: remarks with each status and average progress. "
                               "Needs `cycle.aggregates.view` in the plan's organisation.",
                   parameters=[AggregatesQuerySerializer],
                   responses=responses({200: AggregatesSerializer}, 400, 403, 404))
    @action(detail=True, methods=["get"], filter_backends=[])
    def aggregates(self, request, pk=None):
        plan = selectors.aggregates_plan_get_for_user(user=request.user, pk=pk)
        query = AggregatesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.follow_up_aggregates(plan=plan, half=query.validated_data.get("half"))
        data = {
            **figures,
            "areas": [{**row, "counts": {str(state): n for state, n in row["counts"]}}
                      for row in figures["areas"]],
            "themes": [{**row, "counts": {str(status): n for status, n in row["counts"]}}
                       for row in figures["themes"]],
        }
        return Response(AggregatesSerializer(data).data)

    @extend_schema(summary="The follow-up group's comments, oldest first",
                   responses=responses({200: CommentSerializer(many=True)}, 404))
    @action(detail=True, methods=["get"], url_path="comments", filter_backends=[])
    def comments(self, request, pk=None):
        plan = self.get_plan(pk)
        rows = plan.comments.select_related("author", "revision").order_by("created_at", "pk")
        return self.paginated(rows, CommentSerializer)


def _initiative_for_response(pk: int) -> Initiative:
    initiative = (Initiative.objects.select_related("theme", "owner")
                  .prefetch_related("operations_areas", "departments").filter(pk=pk).first())
    if initiative is None:  # deleted meanwhile
        raise Http404
    initiative.api_evaluation = InitiativeEvaluation.objects.filter(initiative=initiative).first()
    return initiative


@extend_schema(tags=["plans"])
class InitiativeViewSet(_PlanObjectMixin, viewsets.GenericViewSet):
    """One initiative; changed only while its plan is a draft."""

    queryset = Initiative.objects.none()
    serializer_class = InitiativeSerializer
    lookup_value_converter = "int"

    def get_initiative(self, pk) -> Initiative:
        """The initiative, if the caller may see its plan (404 otherwise)."""
        plan_id = (Initiative.objects.filter(pk=pk)
                   .values_list("plan_id", flat=True).first())
        if plan_id is None:
            raise Http404
        plan = self.get_plan(plan_id)
        initiative = _initiative_for_response(pk)
        initiative.plan = plan
        return initiative

    @extend_schema(summary="An initiative", responses=responses({200: InitiativeSerializer}, 404))
    def retrieve(self, request, pk=None):
        return Response(InitiativeSerializer(self.get_initiative(pk)).data)

    @extend_schema(summary="Change an initiative of a draft", request=InitiativeWriteSerializer,
                   responses=responses({200: InitiativeSerializer}, 400, 403, 404, 409))
    def partial_update(self, request, pk=None):
        initiative = self.get_initiative(pk)
        plan = initiative.plan
        _check_action("edit", plan=plan, permitted=self.permitted(plan))
        serializer = InitiativeWriteSerializer(
            initiative, data=request.data, partial=True,
            context={"request": request, "plan": plan})
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        # Scope lists not sent (None) are kept by the service.
        services.initiative_update(actor=request.user, initiative=initiative,
                                   operations_areas=fields.pop("operations_areas", None),
                                   departments=fields.pop("departments", None), **fields)
        return Response(InitiativeSerializer(_initiative_for_response(initiative.pk)).data)

    @extend_schema(summary="Delete an initiative of a draft", request=None,
                   responses=responses({204: None}, 400, 403, 404, 409))
    def destroy(self, request, pk=None):
        initiative = self.get_initiative(pk)
        plan = initiative.plan
        _check_action("edit", plan=plan, permitted=self.permitted(plan))
        services.initiative_delete(actor=request.user, initiative=initiative)
        return Response(status=status.HTTP_204_NO_CONTENT)
