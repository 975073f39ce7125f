"""The wire shape of a sales rep (§4 "Sales reps") and of a rep's own organizations."""
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from nymble.api.serializers import ApiSerializer, OptionalTextField, PatternField
from nymble.identifiers import validate_identifier
from nymble.models import Role

REP_ROLES = [Role.SALES_REP.value]


class RolesField(serializers.ListField):
    """`Roles`: a non-empty list; a rep's only role is `SalesRep`. Repeats collapse."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=REP_ROLES), allow_empty=False, max_length=10, **kwargs)

    def to_internal_value(self, data):
        try:
            roles = super().to_internal_value(data)
        except serializers.ValidationError as exc:  # {0: ["..."]} reads better as one list under Roles
            detail = exc.detail
            if isinstance(detail, dict):
                detail = [str(message) for messages in detail.values() for message in messages]
            raise serializers.ValidationError(detail) from None
        return list(dict.fromkeys(roles))


class SalesRepSerializer(ApiSerializer):
    OrganizationSalesRepId = serializers.UUIDField(source="id", read_only=True)
    SalesRepId = serializers.UUIDField(source="sales_rep_id", read_only=True)
    # A RepNumber names the rep in URLs: no '/' and no spaces.
    RepNumber = PatternField(
        r"^[^/\s]+$",
        source="rep_number",
        max_length=64,
        validators=[validate_identifier],
        error_messages={"invalid": "Use letters, digits and punctuation other than '/'; no spaces."},
    )
    FirstName = serializers.CharField(source="first_name", max_length=100)
    LastName = serializers.CharField(source="last_name", max_length=100)
    Email = serializers.EmailField(source="email", max_length=254)
    PhoneNumber = OptionalTextField(source="phone_number", max_length=40)
    Active = serializers.BooleanField(source="active", required=False)
    Roles = RolesField(source="roles", required=False)
    Password = serializers.CharField(
        source="password",
        write_only=True,
        required=False,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Sets the password of a new login. An existing login (the same person as a rep of "
        "another organization) keeps its own; it may be changed only while the login belongs to "
        "this organization alone.",
    )
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)
    UpdatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate_Password(self, value: str) -> str:
        try:
            password_validation.validate_password(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from None
        return value


class RepOrganizationSerializer(ApiSerializer):
    """One of the organizations the calling rep's global identity belongs to."""

    OrganizationId = serializers.UUIDField(source="organization_id", read_only=True)
    Name = serializers.CharField(source="organization.name", read_only=True)
    OrgCode = serializers.CharField(source="organization.org_code", read_only=True)
    RepNumber = serializers.CharField(source="rep_number", read_only=True)
    OrganizationSalesRepId = serializers.UUIDField(source="id", read_only=True)
    Active = serializers.BooleanField(source="active", read_only=True)
