"""Organizations, logins and API clients: the writes of the core app."""
from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, serializers

from nymble.api.problems import Conflict
from nymble.models import ApiClient, CustomerAttributeDefinition, Membership, Organization, PriceTier, Role, User
from nymble.ratelimit import limit_hit


class TooManyAttempts(exceptions.Throttled):
    default_detail = "Too many login attempts for this client; try again in a minute."


@transaction.atomic
def organization_create(
    *, name: str, org_code: str, admin_email: str, admin_password: str, time_zone: str = "UTC", currency_code: str = "USD"
) -> Organization:
    if Organization.objects.filter(org_code__iexact=org_code).exists():
        raise Conflict(errors={"OrgCode": [f"An organization with code '{org_code}' exists."]})
    organization = Organization(name=name, org_code=org_code, time_zone=time_zone, currency_code=currency_code.upper())
    organization.full_clean()
    organization.save()
    user = login_get_or_create(email=admin_email, password=admin_password)
    membership_create(user=user, organization=organization, role=Role.ADMIN)
    return organization


def login_get_or_create(*, email: str, password: str | None) -> User:
    """The login for an email. An existing login keeps its password: another organization's
    admin must never be able to set the password of a login it shares."""
    email = User.objects.normalize_login(email)
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password)
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user


def membership_create(*, user: User, organization: Organization, role: str) -> Membership:
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise Conflict(errors={"Email": [f"{user.email} already has a login in this organization."]})
    return Membership.objects.create(user=user, organization=organization, role=role)


def login_with_password(*, email: str, password: str, org_code: str | None) -> Membership:
    """The membership a login acts as. Wrong credentials and disabled logins are both a 401."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        make_password(password)  # same work as a real check, so timing does not reveal the email
        raise exceptions.AuthenticationFailed("Email or password is wrong.")
    if not user.check_password(password):
        raise exceptions.AuthenticationFailed("Email or password is wrong.")
    memberships = list(user.memberships.select_related("organization"))
    if org_code:
        memberships = [m for m in memberships if m.organization.org_code.lower() == org_code.strip().lower()]
    elif len(memberships) > 1:
        raise serializers.ValidationError({"OrgCode": ["This login belongs to several organizations: name one."]})
    if len(memberships) != 1:
        raise exceptions.AuthenticationFailed("Email or password is wrong.")
    membership = memberships[0]
    if not (membership.is_active and user.is_active):
        raise exceptions.AuthenticationFailed("This login is inactive.")
    return membership


def price_tier_create(*, organization: Organization, code: str, name: str) -> PriceTier:
    try:
        with transaction.atomic():
            return PriceTier.objects.create(organization=organization, code=code, name=name)
    except IntegrityError:
        raise Conflict(errors={"Code": [f"A price tier with code '{code}' exists."]}) from None


def attribute_definition_create(
    *, organization: Organization, key: str, type: str, required: bool = False
) -> CustomerAttributeDefinition:
    try:
        with transaction.atomic():
            return CustomerAttributeDefinition.objects.create(
                organization=organization, key=key, type=type, required=required
            )
    except IntegrityError:
        raise Conflict(errors={"Key": [f"An attribute '{key}' is defined already."]}) from None


def api_client_create(*, organization: Organization, name: str) -> tuple[ApiClient, str]:
    """A new machine login; the secret is returned once and stored only hashed."""
    secret = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(organization=organization, name=name, secret_hash=make_password(secret))
    return client, secret


def api_client_revoke(*, client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_client_authenticate(*, org_code: str, client_id: str, client_secret: str) -> ApiClient:
    """The limit counts per client, whichever way its id is spelt (upper case, braces, `urn:uuid:`);
    an id that is no UUID names no client and is refused before it is counted."""
    client_uuid = _as_uuid(client_id)
    if client_uuid is None:
        raise exceptions.AuthenticationFailed("Client id or secret is wrong.")
    if limit_hit(f"api-client-login:{client_uuid}", limit=settings.API_CLIENT_LOGINS_PER_MINUTE):
        raise TooManyAttempts(wait=60)
    client = (
        ApiClient.objects.select_related("organization")
        .filter(pk=client_uuid, revoked_at__isnull=True, organization__org_code__iexact=org_code)
        .first()
    )
    if client is None or not check_password(client_secret, client.secret_hash):
        raise exceptions.AuthenticationFailed("Client id or secret is wrong.")
    return client


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
