"""Sales rep writes: create (linking one global identity across organizations), update, (de)activate."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from rest_framework import serializers

from audit.services import audit_record, audit_snapshot
from nymble.api.problems import Conflict
from nymble.models import Organization, Role
from nymble.logins import belongs_elsewhere, login_link, login_set_password
from nymble.tokens import membership_revoke_tokens
from salesreps.models import OrganizationSalesRep, SalesRep

DEFAULT_ROLES = [Role.SALES_REP.value]


def _rep_number_taken(rep_number: str) -> Conflict:
    return Conflict(errors={"RepNumber": [f"A rep with number '{rep_number}' exists in this organization."]})


@transaction.atomic
def sales_rep_create(
    *,
    organization: Organization,
    rep_number: str,
    first_name: str,
    last_name: str,
    email: str,
    phone_number: str = "",
    roles: list[str] | None = None,
    active: bool = True,
    password: str | None = None,
) -> OrganizationSalesRep:
    """A rep whose email already has a login (a rep of another organization) shares its
    `SalesRepId`; that login keeps its own password and is invited (see `nymble.logins`)."""
    if OrganizationSalesRep.objects.filter(organization=organization, rep_number=rep_number).exists():
        raise _rep_number_taken(rep_number)
    membership = login_link(email=email, organization=organization, role=Role.SALES_REP, password=password)
    identity, _ = SalesRep.objects.get_or_create(user=membership.user)
    if not active:
        membership.is_active = False
        membership.save(update_fields=["is_active"])
    try:
        with transaction.atomic():
            rep = OrganizationSalesRep.objects.create(
                organization=organization,
                sales_rep=identity,
                membership=membership,
                rep_number=rep_number,
                first_name=first_name,
                last_name=last_name,
                phone_number=phone_number,
                roles=roles or DEFAULT_ROLES,
                active=active,
            )
    except IntegrityError:
        raise _rep_number_taken(rep_number) from None
    audit_record(rep, "created")
    return rep


@transaction.atomic
def sales_rep_update(*, rep: OrganizationSalesRep, **changes) -> OrganizationSalesRep:
    """Changes name, phone, roles or RepNumber. `Active` goes through (de)activate; a password
    only for a login that belongs to this organization alone."""
    rep = OrganizationSalesRep.objects.select_for_update(of=("self",)).select_related("sales_rep__user").get(pk=rep.pk)
    before = audit_snapshot(rep)
    password = changes.pop("password", None)
    email = changes.pop("email", None)
    active = changes.pop("active", None)
    if email is not None and email.strip().lower() != rep.email:
        raise serializers.ValidationError({"Email": ["A rep's login email cannot be changed."]})
    if password:
        user = rep.sales_rep.user
        if belongs_elsewhere(user, rep.organization):
            raise serializers.ValidationError(
                {"Password": ["This login is shared with another organization; its owner sets the password."]}
            )
        login_set_password(user=user, password=password, by_admin=True)
    for field, value in changes.items():
        setattr(rep, field, value)
    try:
        with transaction.atomic():
            rep.save()
    except IntegrityError:
        raise _rep_number_taken(rep.rep_number) from None
    audit_record(rep, "updated", before=before)
    if active is not None and active != rep.active:
        rep = sales_rep_set_active(rep=rep, active=active)
    return rep


@transaction.atomic
def sales_rep_set_active(*, rep: OrganizationSalesRep, active: bool) -> OrganizationSalesRep:
    """Deactivation revokes every token of the rep's login in this organization at once;
    reactivation lets it log in again but revives no old token."""
    rep = OrganizationSalesRep.objects.select_for_update().get(pk=rep.pk)
    before = audit_snapshot(rep)
    rep.active = active
    rep.save(update_fields=["active", "updated_at"])
    rep.membership.is_active = active
    rep.membership.save(update_fields=["is_active"])
    if not active:
        membership_revoke_tokens(rep.membership_id)
    audit_record(rep, "activated" if active else "deactivated", before=before)
    return rep
