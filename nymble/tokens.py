"""JWTs for logins and API clients, and the authentication that checks them on every request.

Every token names its membership (`mid`) and that membership's token version (`ver`);
bumping the version (`membership_revoke_tokens`, a new password) makes all of them fail on their
next use. An access token also names its session (`sid`, the `jti` of the refresh token it came
from), so logging out — blacklisting that refresh token — ends the session's access tokens too.
API-client tokens name the client (`cid`) and die with it.
"""
from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, F, Value
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from nymble.models import ApiClient, Membership, Role
from nymble.scoping import Principal

# What a login's role is anchored to (reverse one-to-ones of the domain apps), joined only for that role.
_ROLE_RELATED = {
    Role.ADMIN: (),
    Role.SALES_REP: ("sales_rep__sales_rep",),
    Role.CUSTOMER: ("portal_contact__customer__price_tier",),
}


def _expires_in() -> int:
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


def claims_for(membership: Membership) -> dict:
    """The public claims of §2: organization, roles, and the role's own identifiers."""
    claims = {"OrganizationId": str(membership.organization_id), "Roles": [membership.role]}
    if membership.role == Role.SALES_REP:
        rep = membership.sales_rep
        claims.update(RepNumber=rep.rep_number, SalesRepId=str(rep.sales_rep_id))
    elif membership.role == Role.CUSTOMER:
        customer = membership.portal_contact.customer
        claims.update(CustomerNumber=customer.customer_number, PriceTier=customer.price_tier.code)
    return claims


def _stamp(token: Token, membership: Membership) -> Token:
    token["user_id"] = membership.user_id
    token["mid"] = str(membership.id)
    token["ver"] = membership.token_version
    for name, value in claims_for(membership).items():
        token[name] = value
    return token


def _session_access(refresh: Token, membership: Membership) -> AccessToken:
    access = _stamp(AccessToken(), membership)
    access["sid"] = refresh["jti"]
    return access


def membership_tokens(membership: Membership) -> dict:
    refresh = _stamp(RefreshToken(), membership)
    access = _session_access(refresh, membership)
    return {
        "AccessToken": str(access),
        "RefreshToken": str(refresh),
        "TokenType": "Bearer",
        "ExpiresIn": _expires_in(),
    }


def api_client_token(client: ApiClient) -> dict:
    access = AccessToken()
    access["cid"] = str(client.id)
    access["OrganizationId"] = str(client.organization_id)
    access["Roles"] = [Role.ADMIN.value]
    return {"AccessToken": str(access), "TokenType": "Bearer", "ExpiresIn": _expires_in()}


def membership_load(membership_id, version, role: str | None = None, session_id: str | None = None) -> Membership:
    """The membership a token names, if it may still act; AuthenticationFailed otherwise. Runs on
    every request: one query, joining only what the token's role needs (and whether the token's
    session was logged out)."""
    related = ("user", "organization", *_ROLE_RELATED.get(role, sum(_ROLE_RELATED.values(), ())))
    ended = Exists(BlacklistedToken.objects.filter(token__jti=session_id)) if session_id else Value(False)
    try:
        membership = (
            Membership.objects.select_related(*related).annotate(session_ended=ended).get(pk=membership_id)
            if membership_id else None
        )
    except Membership.DoesNotExist:
        membership = None
    if (
        membership is None
        or membership.session_ended
        or membership.pending
        or not membership.is_active
        or not membership.user.is_active
        or membership.token_version != version
        or (role is not None and membership.role != role)
    ):
        raise AuthenticationFailed(_("This token has been revoked."), code="token_revoked")
    return membership


def refresh_access(raw_refresh: str) -> dict:
    try:
        refresh = RefreshToken(raw_refresh)  # checks signature, expiry and the blacklist
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    membership = membership_load(refresh.get("mid"), refresh.get("ver"), _role_of(refresh))
    access = _session_access(refresh, membership)
    return {"AccessToken": str(access), "TokenType": "Bearer", "ExpiresIn": _expires_in()}


def refresh_revoke(raw_refresh: str) -> None:
    try:
        RefreshToken(raw_refresh).blacklist()
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc


def membership_revoke_tokens(*membership_ids) -> None:
    """Every token issued so far to these memberships fails on its next use."""
    Membership.objects.filter(pk__in=membership_ids).update(token_version=F("token_version") + 1)


def principal_for_membership(membership: Membership) -> Principal:
    sales_rep_id = customer_id = contact_id = None
    if membership.role == Role.SALES_REP:
        sales_rep_id = membership.sales_rep.pk
    elif membership.role == Role.CUSTOMER:
        contact_id = membership.portal_contact.pk
        customer_id = membership.portal_contact.customer_id
    return Principal(
        organization_id=membership.organization_id,
        role=membership.role,
        membership_id=membership.id,
        sales_rep_id=sales_rep_id,
        customer_id=customer_id,
        contact_id=contact_id,
    )


def _role_of(token) -> str | None:
    roles = token.get("Roles") or [None]
    return roles[0]


class ApiClientUser:
    """The request user of an API-client token: not a login, an admin of its organization."""

    is_authenticated = True
    is_active = True
    is_staff = is_superuser = False

    def __init__(self, client: ApiClient):
        self.client = client
        self.pk = self.id = None
        self.principal = Principal(organization_id=client.organization_id, role=Role.ADMIN, api_client_id=client.id)

    def __str__(self) -> str:
        return f"api-client:{self.client.name}"


class NymbleJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        if "cid" in validated_token:
            client = ApiClient.objects.select_related("organization").filter(
                pk=validated_token["cid"], revoked_at__isnull=True).first()
            if client is None:
                raise AuthenticationFailed(_("This API client has been revoked."), code="client_revoked")
            return ApiClientUser(client)
        membership = membership_load(
            validated_token.get("mid"), validated_token.get("ver"), _role_of(validated_token), validated_token.get("sid")
        )
        user = membership.user
        user.membership = membership
        user.principal = principal_for_membership(membership)
        return user
