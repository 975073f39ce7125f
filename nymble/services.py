"""Organizations, logins and API clients: the writes of the core app."""
from __future__ import annotations

import secrets
import time
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions

from audit.services import audit_record
from nymble.api.problems import Conflict
from nymble.logins import login_link
from nymble.models import ApiClient, CustomerAttributeDefinition, Organization, PriceTier, Role, User
from nymble.ratelimit import FailureWindow, limit_hit


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
    audit_record(organization, "created", organization_id=organization.pk)
    membership = login_link(
        email=admin_email, organization=organization, role=Role.ADMIN, password=admin_password, trusted=True
    )
    # The first admin works in the Django admin at once (§2), scoped to this organization.
    User.objects.filter(pk=membership.user_id, is_staff=False).update(is_staff=True)
    return organization


def price_tier_create(*, organization: Organization, code: str, name: str) -> PriceTier:
    try:
        with transaction.atomic():
            tier = PriceTier.objects.create(organization=organization, code=code, name=name)
    except IntegrityError:
        raise Conflict(errors={"Code": [f"A price tier with code '{code}' exists."]}) from None
    audit_record(tier, "created")
    return tier


def attribute_definition_create(
    *, organization: Organization, key: str, type: str, required: bool = False
) -> CustomerAttributeDefinition:
    try:
        with transaction.atomic():
            definition = CustomerAttributeDefinition.objects.create(
                organization=organization, key=key, type=type, required=required
            )
    except IntegrityError:
        raise Conflict(errors={"Key": [f"An attribute '{key}' is defined already."]}) from None
    audit_record(definition, "created")
    return definition


@transaction.atomic
def api_client_create(*, organization: Organization, name: str) -> tuple[ApiClient, str]:
    """A new machine login; the secret is returned once and stored only hashed."""
    secret = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(organization=organization, name=name, secret_hash=make_password(secret))
    audit_record(client, "created")
    return client, secret


@transaction.atomic
def api_client_revoke(*, client: ApiClient) -> None:
    now = timezone.now()
    if ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=now):
        audit_record(client, "revoked", changes={"revoked_at": [None, now]})


def api_client_authenticate(*, org_code: str, client_id: str, client_secret: str, address: str) -> ApiClient:
    """At most `API_CLIENT_LOGINS_PER_MINUTE` successful logins a minute per client, and
    `API_CLIENT_FAILURES_PER_MINUTE` wrong secrets a minute per client and address (a 429 for that
    address only, so a stranger who knows a ClientId cannot lock it out). Both count per client
    whichever way its id is spelt (upper case, braces, `urn:uuid:`); an id that is no UUID names no
    client and is refused before it is counted."""
    client_uuid = _as_uuid(client_id)
    if client_uuid is None:
        raise exceptions.AuthenticationFailed("Client id or secret is wrong.")
    failures = FailureWindow("api-client-secret", settings.API_CLIENT_FAILURES_PER_MINUTE, 60)
    failure_key = f"{client_uuid}|{address}"
    if wait := failures.retry_after(failure_key):
        raise TooManyAttempts(wait=wait)
    client = (
        ApiClient.objects.select_related("organization")
        .filter(pk=client_uuid, revoked_at__isnull=True, organization__org_code__iexact=org_code)
        .first()
    )
    if client is None or not check_password(client_secret, client.secret_hash):
        failures.record(failure_key)
        raise exceptions.AuthenticationFailed("Client id or secret is wrong.")
    if limit_hit(f"api-client-login:{client_uuid}", limit=settings.API_CLIENT_LOGINS_PER_MINUTE):
        raise TooManyAttempts(wait=60 - int(time.time()) % 60)
    return client


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
