"""Who is calling, and the one base every model's `visible_to(user)` builds on.

A request's user carries a `Principal`: the organization, the role and the role's anchor
(its rep membership or its customer account). The JWT authentication sets it for API calls,
`StaffPrincipalMiddleware` for staff in the admin. Querysets read nothing else, so the API
and the admin agree on what a caller sees.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import models
from django.utils import timezone


@dataclass(frozen=True)
class Principal:
    organization_id: uuid.UUID | None
    role: str
    membership_id: uuid.UUID | None = None
    api_client_id: uuid.UUID | None = None
    sales_rep_id: int | None = None  # OrganizationSalesRep of a SalesRep login
    customer_id: int | None = None  # Customer of a portal login
    contact_id: int | None = None
    all_organizations: bool = False  # superusers in the admin only

    @property
    def is_admin(self) -> bool:
        return self.role == "Admin"

    @property
    def is_rep(self) -> bool:
        return self.role == "SalesRep"

    @property
    def is_customer(self) -> bool:
        return self.role == "Customer"


def principal_of(user) -> Principal | None:
    return getattr(user, "principal", None) if user is not None else None


class ScopedQuerySet(models.QuerySet):
    """Base of every tenant-owned model's queryset. Subclasses define `visible_to(user)`."""

    organization_lookup = "organization"

    def visible_to(self, user):  # pragma: no cover - every subclass decides
        raise NotImplementedError

    def in_organization_of(self, user):
        principal = principal_of(user)
        if principal is None:
            return self.none()
        if principal.all_organizations:
            return self.all()
        return self.filter(**{self.organization_lookup: principal.organization_id})


def staff_principal(user) -> Principal | None:
    """The admin's scope: a superuser sees every organization, a staff user its own."""
    if user.is_superuser:
        return Principal(organization_id=None, role="Admin", all_organizations=True)
    from nymble.models import Membership, Role

    membership = (
        Membership.objects.able_to_log_in()
        .filter(user=user, role=Role.ADMIN)
        .select_related("organization")
        .order_by("created_at")
        .first()
    )
    if membership is None:
        return None
    timezone.activate(membership.organization.zone)  # the admin shows times as the organization lives them
    return Principal(organization_id=membership.organization_id, role="Admin", membership_id=membership.id)


class StaffPrincipalMiddleware:
    """Gives a staff user in the admin the principal of its admin membership."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/"):
            user = request.user
            if user.is_authenticated and user.is_staff:
                user.principal = staff_principal(user)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
