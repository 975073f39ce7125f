from rest_framework import serializers

from nymble.api.serializers import ApiSerializer, PatternField
from nymble.identifiers import validate_identifier
from nymble.models import AttributeType


class TokenRequestSerializer(ApiSerializer):
    Email = serializers.CharField(max_length=254)
    Password = serializers.CharField(max_length=128, trim_whitespace=False)
    OrgCode = serializers.CharField(max_length=32, required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    """Tokens of a login: send `Authorization: Bearer <AccessToken>`; API clients get no refresh token."""

    AccessToken = serializers.CharField()
    RefreshToken = serializers.CharField(required=False, help_text="Password logins only.")
    TokenType = serializers.ChoiceField(choices=["Bearer"])
    ExpiresIn = serializers.IntegerField(help_text="Seconds until the access token expires.")


class RefreshRequestSerializer(ApiSerializer):
    RefreshToken = serializers.CharField(max_length=4096)


class ClientLoginSerializer(ApiSerializer):
    OrgCode = serializers.CharField(max_length=32)
    ClientId = serializers.CharField(max_length=64)
    ClientSecret = serializers.CharField(max_length=256, trim_whitespace=False)


class OrganizationSerializer(ApiSerializer):
    OrganizationId = serializers.UUIDField(source="id", read_only=True)
    Name = serializers.CharField(source="name", read_only=True)
    OrgCode = serializers.CharField(source="org_code", read_only=True)
    TimeZone = serializers.CharField(source="time_zone", read_only=True)
    CurrencyCode = serializers.CharField(source="currency_code", read_only=True)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


class PriceTierSerializer(ApiSerializer):
    Code = PatternField(r"^[A-Za-z0-9_.-]+$", source="code", max_length=64, validators=[validate_identifier])
    Name = serializers.CharField(source="name", max_length=200)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


class AttributeDefinitionSerializer(ApiSerializer):
    Key = PatternField(r"^[A-Za-z][A-Za-z0-9_]*$", source="key", max_length=64, validators=[validate_identifier])
    Type = serializers.ChoiceField(source="type", choices=AttributeType.choices)
    Required = serializers.BooleanField(source="required", default=False)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


class ApiClientSerializer(ApiSerializer):
    ClientId = serializers.UUIDField(source="id", read_only=True)
    Name = serializers.CharField(source="name", max_length=200)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)


class ApiClientCreatedSerializer(ApiClientSerializer):
    ClientSecret = serializers.CharField(read_only=True, help_text="Shown once; store it now.")
