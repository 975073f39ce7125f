"""Customer writes: create, upsert, update with nested addresses and contacts, (de)activate, portal logins.

Whichever door a change comes through (API, admin, seed), these functions hold the rules:
what each role may change, attribute definitions, one default address per type, and the
revocation of portal tokens on deactivation.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from audit.services import audit_record, audit_snapshot
from customers.models import Address, Contact, Customer
from customers.serializers import CustomerSerializer, customer_for_output
from nymble.api.problems import Conflict
from nymble.models import AttributeType, CustomerAttributeDefinition, Membership, Organization, Role
from nymble.scoping import Principal
from nymble.logins import login_link
from nymble.tokens import membership_revoke_tokens
from webhooks.services import webhook_emit
from salesreps.models import OrganizationSalesRep

# Fields a rep may not change on an account (it may set Pricing and Terms when it creates one).
REP_LOCKED = {"sales_rep": "RepNumber", "price_tier": "Pricing", "terms": "Terms", "active": "Active"}
# What a portal user may change on its own account.
PORTAL_EDITABLE = {"addresses", "contacts"}
WIRE_NAMES = {
    "customer_number": "CustomerNumber", "company_name": "CompanyName", "company_email": "CompanyEmail",
    "company_phone": "CompanyPhone", "company_fax": "CompanyFax", "price_tier": "Pricing", "active": "Active",
    "sales_rep": "RepNumber", "terms": "Terms", "external_id": "ExternalId", "currency_code": "CurrencyCode",
    "attributes": "CustomerAttributes",
}
# The child lists a customer's audit entries compare.
AUDITED_CHILDREN = ("addresses", "contacts")
# What a full replacement (PUT) resets a field to when the body leaves it out.
REPLACE_DEFAULTS = {
    "company_phone": "", "company_fax": "", "sales_rep": None, "terms": "", "external_id": None, "attributes": {},
}

LARGEST_NUMBER = 2**63 - 1  # a number attribute's magnitude at most


def _refuse_locked_changes(actor: Principal | None, customer: Customer | None, changes: dict) -> None:
    """A rep may not change RepNumber, Pricing, Terms or Active; a portal user only its
    addresses and contacts. A field sent back unchanged is fine (a fetched object can be sent
    back as it is); changing it is a 400 naming the field. `customer` is None on create."""
    if actor is None or actor.is_admin:
        return
    errors = {}
    for field, value in changes.items():
        if field in PORTAL_EDITABLE or (customer is not None and value == getattr(customer, field)):
            continue
        if actor.is_customer:
            errors[WIRE_NAMES.get(field, field)] = ["A portal user may change only its addresses and contacts."]
        elif field in REP_LOCKED and not (customer is None and _rep_may_open_with(actor, field, value)):
            errors[REP_LOCKED[field]] = ["A sales rep may not set this field."]
    if errors:
        raise serializers.ValidationError(errors)


def _rep_may_open_with(actor: Principal, field: str, value) -> bool:
    """A rep opening an account prices it and sets its terms, assigned to itself and active."""
    if field == "sales_rep":
        return value is not None and value.pk == actor.sales_rep_id
    if field == "active":
        return value is True
    return field in ("price_tier", "terms")


def attributes_validated(organization_id, attributes: dict) -> dict:
    """Values of defined keys with the right type; every required key present."""
    definitions = {d.key: d for d in CustomerAttributeDefinition.objects.filter(organization_id=organization_id)}
    errors, clean = {}, {}
    for key, value in attributes.items():
        definition = definitions.get(key)
        if definition is None:
            errors[f"CustomerAttributes.{key}"] = ["No such customer attribute is defined."]
            continue
        try:
            clean[key] = _attribute_value(definition.type, value)
        except ValueError as exc:
            errors[f"CustomerAttributes.{key}"] = [str(exc)]
    for key, definition in definitions.items():
        if definition.required and attributes.get(key) in (None, ""):
            errors[f"CustomerAttributes.{key}"] = ["This attribute is required."]
    if errors:
        raise serializers.ValidationError(errors)
    return clean


def _attribute_value(kind: str, value):
    if value is None:
        return None
    if kind == AttributeType.STRING and isinstance(value, str):
        if "\x00" in value:  # PostgreSQL cannot store it
            raise ValueError("Null characters are not allowed.")
        return value
    if kind == AttributeType.BOOLEAN and isinstance(value, bool):
        return value
    if kind == AttributeType.NUMBER and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("Must be a number.")
            value = int(value) if value == value.to_integral_value() else float(value)
        # Past 64 bits JSON storage gives a number back as an integer no JSON writer here takes
        # (a float as large is integral too), so every later answer with it would fail.
        if abs(value) > LARGEST_NUMBER:
            raise ValueError(f"Must be a number from -{LARGEST_NUMBER} to {LARGEST_NUMBER}.")
        return value
    if kind == AttributeType.DATE and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("Must be a date (YYYY-MM-DD).") from None
    raise ValueError(f"Must be a {kind}.")


def _emit(customer: Customer, event_type: str) -> None:
    webhook_emit(organization_id=customer.organization_id, event_type=event_type,
                 data=lambda: CustomerSerializer(customer_for_output(customer)).data)


def _one_default_per_type(addresses: list[dict]) -> list[dict]:
    """Setting a new default clears the old one: the last default of each type wins."""
    seen = set()
    for address in reversed(addresses):
        if address.get("is_default"):
            kind = address.get("address_type", "")
            if kind in seen:
                address["is_default"] = False
            seen.add(kind)
    return addresses


def _replace_children(customer: Customer, addresses: list[dict] | None, contacts: list[dict] | None,
                      actor: Principal | None = None) -> None:
    if addresses is not None:
        customer.addresses.all().delete()
        Address.objects.bulk_create(
            Address(customer=customer, position=index, **address)
            for index, address in enumerate(_one_default_per_type([dict(a) for a in addresses]))
        )
    if contacts is not None:
        _replace_contacts(customer, contacts, actor)


def _replace_contacts(customer: Customer, contacts: list[dict], actor: Principal | None = None) -> None:
    """Contacts are replaced, but a contact whose email is kept keeps its id and portal login.
    Dropping a contact revokes its portal login, which only admins do: for a rep or a portal
    user, a body that leaves out (or re-addresses) a contact with a login is a 400."""
    existing = {c.email.lower(): c for c in customer.contacts.all() if c.email}
    kept_ids = []
    for index, data in enumerate(contacts):
        email = (data.get("email") or "").lower()
        contact = existing.pop(email, None) if email else None
        if contact is None:
            contact = Contact(customer=customer)
        for field, value in data.items():
            setattr(contact, field, value)
        contact.position = index
        contact.save()
        kept_ids.append(contact.pk)
    dropped = customer.contacts.exclude(pk__in=kept_ids)
    if actor is not None and not actor.is_admin:
        logins = list(dropped.exclude(portal_membership=None).values_list("email", flat=True))
        if logins:
            raise serializers.ValidationError({"Contacts": [
                f"{email} has a portal login: only an admin removes it (or revokes the login first)." for email in logins
            ]})
    for contact in dropped.exclude(portal_membership=None):
        portal_login_revoke(contact=contact)
    dropped.delete()


def _customer_conflict(customer: Customer) -> Conflict:
    """Names the key a failed insert or update collided on (asked of the data, not the driver's message)."""
    others = Customer.objects.filter(organization_id=customer.organization_id).exclude(pk=customer.pk)
    errors = {}
    if others.filter(customer_number=customer.customer_number).exists():
        errors["CustomerNumber"] = [f"A customer with number '{customer.customer_number}' exists."]
    if customer.external_id and others.filter(external_id=customer.external_id).exists():
        errors["ExternalId"] = ["Another customer has this ExternalId."]
    return Conflict(errors=errors or None)


@transaction.atomic
def customer_create(
    *, organization: Organization, actor: Principal | None = None, addresses=None, contacts=None, **fields
) -> Customer:
    if actor is not None and actor.is_rep and fields.get("sales_rep") is None:
        fields["sales_rep"] = OrganizationSalesRep.objects.get(pk=actor.sales_rep_id)
    _refuse_locked_changes(actor, None, fields)
    if fields.get("price_tier") is None:
        raise serializers.ValidationError({"Pricing": ["A customer needs a price tier."]})
    fields.setdefault("currency_code", organization.currency_code)
    fields["attributes"] = attributes_validated(organization.id, fields.get("attributes") or {})
    customer = Customer(organization=organization, **fields)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise _customer_conflict(customer) from None
    _replace_children(customer, addresses or [], contacts or [])
    audit_record(customer, "created", children=AUDITED_CHILDREN)
    _emit(customer, "customer.created")
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: Principal | None = None, addresses=None, contacts=None, **changes
) -> Customer:
    """Sets the given fields; given address or contact lists replace the stored ones."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = audit_snapshot(customer, AUDITED_CHILDREN)
    _refuse_locked_changes(actor, customer, {**changes, "addresses": addresses, "contacts": contacts})
    if "attributes" in changes:
        changes["attributes"] = attributes_validated(customer.organization_id, changes["attributes"] or {})
    active = changes.pop("active", None)
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise _customer_conflict(customer) from None
    _replace_children(customer, addresses, contacts, actor)
    if audit_record(customer, "updated", before=before):
        _emit(customer, "customer.updated")
    if active is not None and active != customer.active:
        customer = customer_set_active(customer=customer, active=active)
    return customer


@transaction.atomic
def customer_upsert(*, organization: Organization, actor: Principal | None = None, **fields) -> tuple[Customer, bool]:
    """The ERP sync's PUT, keyed by CustomerNumber: creates (True) or replaces (False).

    A replacement resets the optional fields the body leaves out; `Active` left out keeps its
    state (activation goes with token revocation), and address or contact lists left out are kept.
    Racing first syncs of one number end as one create and one replace.
    """
    number = fields["customer_number"]
    existing = Customer.objects.select_for_update().filter(organization=organization, customer_number=number).first()
    if existing is None:
        try:
            with transaction.atomic():
                return customer_create(organization=organization, actor=actor, **fields), True
        except Conflict:
            existing = Customer.objects.select_for_update().filter(
                organization=organization, customer_number=number
            ).first()
            if existing is None:  # the conflict was another key (ExternalId)
                raise
    replacement = {**REPLACE_DEFAULTS, "currency_code": organization.currency_code, **fields}
    return customer_update(customer=existing, actor=actor, **replacement), False


@transaction.atomic
def customer_set_active(*, customer: Customer, active: bool) -> Customer:
    """Non-destructive. Deactivation revokes every token of the customer's portal logins at once."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = audit_snapshot(customer)
    customer.active = active
    customer.updated_at = timezone.now()
    customer.save(update_fields=["active", "updated_at"])
    if audit_record(customer, "activated" if active else "deactivated", before=before):
        _emit(customer, "customer.activated" if active else "customer.deactivated")
    membership_ids = list(
        customer.contacts.exclude(portal_membership=None).values_list("portal_membership_id", flat=True)
    )
    Membership.objects.filter(pk__in=membership_ids).update(is_active=active)
    if not active:
        membership_revoke_tokens(*membership_ids)
    return customer


@transaction.atomic
def portal_login_create(*, contact: Contact, password: str | None) -> Contact:
    """Gives a contact a portal login with its email. An email that already has a login keeps
    its password, and the membership waits for its person to accept the invitation mailed."""
    contact = Contact.objects.select_for_update(of=("self",)).select_related("customer__organization").get(pk=contact.pk)
    if contact.portal_membership_id:
        raise Conflict(errors={"ContactId": ["This contact has a portal login already."]})
    if not contact.email:
        raise serializers.ValidationError({"Email": ["The contact needs an email to log in with."]})
    membership = login_link(
        email=contact.email, organization=contact.customer.organization, role=Role.CUSTOMER, password=password
    )
    if not contact.customer.active:
        membership.is_active = False
        membership.save(update_fields=["is_active"])
    contact.portal_membership = membership
    contact.save(update_fields=["portal_membership"])
    audit_record(contact.customer, "portal_login_created", changes={"portal_login": [None, contact.email]})
    return contact


@transaction.atomic
def portal_login_revoke(*, contact: Contact) -> None:
    membership = contact.portal_membership
    if membership is None:
        return
    Contact.objects.filter(pk=contact.pk).update(portal_membership=None)
    membership.delete()  # its tokens name a membership that no longer exists: 401 at once
    audit_record(contact.customer, "portal_login_revoked", changes={"portal_login": [contact.email, None]})
