"""Login, tokens, and the organization's own settings."""
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from nymble import logins, services, tokens
from nymble.api.permissions import ADMIN, EVERY_ROLE, IsAnyone
from nymble.auth_serializers import (
    InvitationAcceptedSerializer,
    InvitationAcceptSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
)
from nymble.ratelimit import client_address
from nymble.api.views import OrganizationNestedMixin, ScopedViewSet
from nymble.models import ApiClient, CustomerAttributeDefinition, Organization, PriceTier
from nymble.serializers import (
    ApiClientCreatedSerializer,
    ApiClientSerializer,
    AttributeDefinitionSerializer,
    ClientLoginSerializer,
    OrganizationSerializer,
    PriceTierSerializer,
    RefreshRequestSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)


class PublicView(APIView):
    authentication_classes = []
    permission_classes = [IsAnyone]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # wrong credentials are a 401, not DRF's 403 for auth-less views


TOO_MANY = OpenApiResponse(description="Too many failed attempts from this address; see Retry-After.")


class TokenView(PublicView):
    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponseSerializer, 429: TOO_MANY}, auth=[])
    def post(self, request):
        """Log in with an email and password

        Answers an access token (send it as `Authorization: Bearer <AccessToken>`) and a refresh token.
        `OrgCode` may be left out when the login belongs to one organization. After 10 failures for an
        email from one address (or 100 from the address) in 15 minutes: 429 with `Retry-After`.
        """
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = logins.login_with_password(
            email=data.validated_data["Email"],
            password=data.validated_data["Password"],
            org_code=data.validated_data.get("OrgCode") or None,
            address=client_address(request),
        )
        return Response(tokens.membership_tokens(membership))


class TokenRefreshView(PublicView):
    @extend_schema(request=RefreshRequestSerializer, responses={200: TokenResponseSerializer}, auth=[])
    def post(self, request):
        """Get a new access token with a refresh token

        Refused (401) once the session was logged out, or its customer or rep deactivated.
        """
        data = RefreshRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(tokens.refresh_access(data.validated_data["RefreshToken"]))


class LogoutView(PublicView):
    @extend_schema(request=RefreshRequestSerializer, responses={204: None}, auth=[])
    def post(self, request):
        """Log out: end the refresh token's session

        The refresh token and every access token issued from it fail from the next request on.
        """
        data = RefreshRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens.refresh_revoke(data.validated_data["RefreshToken"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClientLoginView(PublicView):
    @extend_schema(
        request=ClientLoginSerializer,
        responses={200: TokenResponseSerializer, 429: TOO_MANY},
        auth=[],
    )
    def post(self, request):
        """Log in as an API client (ERP or CRM sync)

        Answers an access token with admin rights in the client's organization. At most 10 logins a
        minute per `ClientId`, and 10 wrong secrets a minute per client and address: then 429.
        """
        data = ClientLoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = services.api_client_authenticate(
            org_code=data.validated_data["OrgCode"],
            client_id=data.validated_data["ClientId"],
            client_secret=data.validated_data["ClientSecret"],
            address=client_address(request),
        )
        return Response(tokens.api_client_token(client))


class InvitationAcceptView(PublicView):
    @extend_schema(
        summary="Accept an invitation to an organization",
        description="Makes the pending membership named by the mailed token work. Good for 7 days and once. "
                    "`Password` is required when the login's current password was chosen by an admin.",
        request=InvitationAcceptSerializer, responses={200: InvitationAcceptedSerializer}, auth=[],
    )
    def post(self, request):
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = logins.invitation_accept(
            token=data.validated_data["Token"], password=data.validated_data.get("Password") or None
        )
        return Response(InvitationAcceptedSerializer(membership).data)


class PasswordResetView(PublicView):
    @extend_schema(
        summary="Mail a password-reset link",
        description="Always 202, whether or not the email is a login; the mailed token is good for an hour and once.",
        request=PasswordResetSerializer, responses={202: None}, auth=[],
    )
    def post(self, request):
        data = PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        logins.password_reset_request(email=data.validated_data["Email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    @extend_schema(
        summary="Set a new password with a reset token",
        description="Sets the password and ends every session of the login in every organization.",
        request=PasswordResetConfirmSerializer, responses={204: None}, auth=[],
    )
    def post(self, request):
        data = PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        logins.password_reset_confirm(token=data.validated_data["Token"], password=data.validated_data["Password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(retrieve=extend_schema(summary="Get the caller's organization",
                                           description="Only the caller's own organization; any other id is a 404."))
class OrganizationViewSet(mixins.RetrieveModelMixin, ScopedViewSet):
    model = Organization
    serializer_class = OrganizationSerializer
    lookup_url_kwarg = "organization_id"
    action_roles = {"retrieve": EVERY_ROLE}

    def get_object(self):
        if str(self.principal.organization_id) != self.kwargs["organization_id"]:
            raise NotFound()
        return Organization.objects.get(pk=self.principal.organization_id)


class OrganizationSettingViewSet(OrganizationNestedMixin, mixins.ListModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Price tiers and attribute definitions: every role of the organization reads, admins add."""

    action_roles = {"list": EVERY_ROLE, "create": ADMIN}
    create_service = None

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        obj = type(self).create_service(organization=self.organization, **data.validated_data)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List the organization's price tiers", description="Every role of the organization reads them."),
    create=extend_schema(summary="Add a price tier", description="Admins only. A customer's `Pricing` and an "
                         "order's `PriceTier` name one of these codes."),
)
class PriceTierViewSet(OrganizationSettingViewSet):
    model = PriceTier
    serializer_class = PriceTierSerializer
    create_service = staticmethod(services.price_tier_create)
    sort_fields = {"Code": "code", "Name": "name"}
    default_sort = "Code"


@extend_schema_view(
    list=extend_schema(summary="List the organization's customer attribute definitions",
                       description="The keys a customer's `CustomerAttributes` may use, with their types."),
    create=extend_schema(summary="Define a customer attribute", description="Admins only. A `Required` attribute "
                         "must then be given on every customer."),
)
class AttributeDefinitionViewSet(OrganizationSettingViewSet):
    model = CustomerAttributeDefinition
    serializer_class = AttributeDefinitionSerializer
    create_service = staticmethod(services.attribute_definition_create)
    sort_fields = {"Key": "key"}
    default_sort = "Key"


@extend_schema_view(
    list=extend_schema(summary="List the organization's API clients", description="Admins only; secrets are never shown again."),
    destroy=extend_schema(summary="Revoke an API client", description="Admins only; its tokens fail from the next request on."),
)
class ApiClientViewSet(
    OrganizationNestedMixin, mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ScopedViewSet
):
    model = ApiClient
    serializer_class = ApiClientSerializer
    lookup_url_kwarg = "client_id"
    action_roles = {"list": ADMIN, "create": ADMIN, "destroy": ADMIN}

    @extend_schema(responses={201: ApiClientCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """Create an API client

        Admins only. The answer carries the `ClientSecret`, shown this once (it is stored hashed).
        """
        data = ApiClientSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client, secret = services.api_client_create(organization=self.organization, name=data.validated_data["name"])
        return Response(
            {**ApiClientSerializer(client).data, "ClientSecret": secret}, status=status.HTTP_201_CREATED
        )

    def perform_destroy(self, instance):
        services.api_client_revoke(client=instance)
