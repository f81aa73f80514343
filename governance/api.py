"""Read endpoints for the governance model, scoped by permissions.selectors."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors
from governance.models import Body, Department, Membership, OperationsArea, Organisation
from governance.serializers import (
    BodySerializer,
    DepartmentSerializer,
    MembershipSerializer,
    MeSerializer,
    OperationsAreaSerializer,
    OrganisationSerializer,
)
from permissions import selectors as visible


class TokenView(ObtainAuthToken):
    """``POST username, password`` → a token; throttled like the login page (django-axes):
    429 after too many wrong passwords for that username from that address."""

    @extend_schema(request=AuthTokenSerializer, responses={
        200: AuthTokenSerializer,
        400: OpenApiResponse(description="Missing fields, or a wrong username or password."),
        429: OpenApiResponse(
            inline_serializer("ApiLockedOut", {"detail": serializers.CharField()}),
            description="Too many wrong passwords for this username from this address: "
                        "`detail` says when to try again."),
    })
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # axes marks the request it was given: here DRF's wrapper, which its middleware
            # (reading Django's request) does not see.
            if getattr(request, "axes_locked_out", False):
                from governance.views import locked_out

                return locked_out(request._request)
            raise ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The caller and their current roles")
    def get(self, request):
        person = request.user
        person.roles = selectors.person_mandates_on(person=person)
        return Response(MeSerializer(person).data)


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only collection limited to what ``visible_rows(user=)`` lets the caller see.

    Rows outside the scope answer 404, exactly like rows that do not exist.
    """

    queryset = None  # set by subclasses to Model.objects.none() for the schema
    ordering: list[str] = ["id"]

    def visible_rows(self, *, user):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.visible_rows(user=self.request.user).order_by(*self.ordering)


class OrganisationViewSet(ScopedReadOnlyViewSet):
    queryset = Organisation.objects.none()
    serializer_class = OrganisationSerializer
    ordering = ["name", "id"]

    def visible_rows(self, *, user):
        return visible.visible_organisations(user=user)


class OperationsAreaViewSet(ScopedReadOnlyViewSet):
    queryset = OperationsArea.objects.none()
    serializer_class = OperationsAreaSerializer
    filterset_fields = ["organisation"]
    ordering = ["organisation_id", "number"]

    def visible_rows(self, *, user):
        return visible.visible_operations_areas(user=user)


class DepartmentViewSet(ScopedReadOnlyViewSet):
    queryset = Department.objects.none()
    serializer_class = DepartmentSerializer
    filterset_fields = ["organisation", "operations_area"]
    ordering = ["organisation_id", "number"]

    def visible_rows(self, *, user):
        return visible.visible_departments(user=user).select_related("board")


class BodyViewSet(ScopedReadOnlyViewSet):
    queryset = Body.objects.none()
    serializer_class = BodySerializer
    filterset_fields = ["organisation", "kind", "department"]
    ordering = ["organisation_id", "kind", "name", "id"]

    def visible_rows(self, *, user):
        return visible.visible_bodies(user=user)


class MembershipFilter(django_filters.FilterSet):
    current_on = django_filters.DateFilter(method="filter_current_on",
                                           label="Held on this day (YYYY-MM-DD)")

    class Meta:
        model = Membership
        fields = ["body", "role", "person"]

    def filter_current_on(self, queryset, name, value):
        return queryset.current_on(value)


class MembershipViewSet(ScopedReadOnlyViewSet):
    queryset = Membership.objects.none()
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering = ["body_id", "role", "starts_on", "id"]

    def visible_rows(self, *, user):
        return visible.visible_memberships(user=user).select_related("person")
