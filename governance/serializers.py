from rest_framework import serializers

from governance.models import Body, Department, Membership, OperationsArea, Organisation, Person


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "slug", "administrator"]


class OperationsAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperationsArea
        fields = ["id", "organisation", "number", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    board = serializers.PrimaryKeyRelatedField(read_only=True)
    board_size = serializers.IntegerField(read_only=True)

    class Meta:
        model = Department
        fields = [
            "id", "organisation", "operations_area", "number", "name", "address",
            "postal_code", "city", "households", "financial_year_start_month", "board",
            "board_size",
        ]


class BodySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Body
        fields = ["id", "organisation", "kind", "kind_label", "name", "department"]


class PersonNameSerializer(serializers.ModelSerializer):
    """Only the name: contact details are not shared with other members (GDPR)."""

    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name"]


class MembershipSerializer(serializers.ModelSerializer):
    person = PersonNameSerializer(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "person", "body", "role", "role_label", "starts_on", "ends_on"]


class MandateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["membership", "staff"])
    id = serializers.IntegerField(source="pk")
    role = serializers.CharField()
    role_label = serializers.CharField()
    organisation = serializers.IntegerField(source="organisation.pk")
    organisation_name = serializers.CharField(source="organisation.name")
    body = serializers.IntegerField(source="body.pk", allow_null=True, default=None)
    body_name = serializers.CharField(source="body.name", allow_null=True, default=None)
    operations_area = serializers.IntegerField(
        source="operations_area.pk", allow_null=True, default=None
    )
    scope = serializers.CharField(source="scope_label")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)


class MeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)
    roles = MandateSerializer(many=True, read_only=True)

    class Meta:
        model = Person
        fields = ["id", "username", "name", "email", "language", "roles"]
