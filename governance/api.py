"""Read endpoints for the governance model, scoped by permissions.selectors."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors
from governance.models import Department, Membership
from governance.serializers import (
    BodySerializer,
    DepartmentSerializer,
    MembershipSerializer,
    MeSerializer,
    OperationsAreaSerializer,
    OrganisationSerializer,
)
from permissions import selectors as visible


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The caller and their current roles")
    def get(self, request):
        person = request.user
        person.roles = selectors.person_mandates_on(person=person)
        return Response(MeSerializer(person).data)


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganisationSerializer

    def get_queryset(self):
        return visible.visible_organisations(user=self.request.user).order_by("name", "id")


class OperationsAreaViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OperationsAreaSerializer
    filterset_fields = ["organisation"]

    def get_queryset(self):
        return visible.visible_operations_areas(user=self.request.user).order_by(
            "organisation_id", "number")


class DepartmentFilter(django_filters.FilterSet):
    class Meta:
        model = Department
        fields = ["organisation", "operations_area"]


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter

    def get_queryset(self):
        return (visible.visible_departments(user=self.request.user)
                .select_related("board").order_by("organisation_id", "number"))


class BodyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BodySerializer
    filterset_fields = ["organisation", "kind", "department"]

    def get_queryset(self):
        return visible.visible_bodies(user=self.request.user).order_by(
            "organisation_id", "kind", "name", "id")


class MembershipFilter(django_filters.FilterSet):
    current_on = django_filters.DateFilter(method="filter_current_on",
                                           label="Held on this day (YYYY-MM-DD)")

    class Meta:
        model = Membership
        fields = ["body", "role", "person"]

    def filter_current_on(self, queryset, name, value):
        return queryset.current_on(value)


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter

    def get_queryset(self):
        return (visible.visible_memberships(user=self.request.user)
                .select_related("person").order_by("body_id", "role", "starts_on", "id"))
