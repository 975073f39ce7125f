"""Bodies of the invitation and password-reset endpoints."""
from rest_framework import serializers

from nymble.api.serializers import ApiSerializer
from nymble.models import Role


class InvitationAcceptSerializer(ApiSerializer):
    Token = serializers.CharField(max_length=512, help_text="The token from the invitation mail.")
    Password = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False, style={"input_type": "password"},
        help_text="A new password of the person's own choosing; required when an organization's admin chose the "
                  "current one. Setting it signs the login out everywhere.",
    )


class InvitationAcceptedSerializer(serializers.Serializer):
    OrganizationId = serializers.UUIDField(source="organization_id")
    OrgCode = serializers.CharField(source="organization.org_code")
    Role = serializers.ChoiceField(source="role", choices=Role.choices)
    Email = serializers.CharField(source="user.email")


class PasswordResetSerializer(ApiSerializer):
    Email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(ApiSerializer):
    Token = serializers.CharField(max_length=512, help_text="The token from the reset mail.")
    Password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
