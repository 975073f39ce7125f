"""Customer writes: create, upsert, update with nested addresses and contacts, (de)activate, portal logins."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from nymble.api.problems import Conflict
from nymble.models import Membership, Organization, Role
from nymble.services import login_get_or_create, membership_create
from nymble.tokens import membership_revoke_tokens
from customers.models import Address, Contact, Customer


def _customer_conflict(exc: IntegrityError, customer_number: str) -> Conflict:
    if "external_id" in str(exc):
        return Conflict(errors={"ExternalId": ["Another customer has this ExternalId."]})
    return Conflict(errors={"CustomerNumber": [f"A customer with number '{customer_number}' exists."]})


def _replace_children(customer: Customer, addresses: list[dict] | None, contacts: list[dict] | None) -> None:
    if addresses is not None:
        customer.addresses.all().delete()
        Address.objects.bulk_create(
            Address(customer=customer, position=index, **address) for index, address in enumerate(addresses)
        )
    if contacts is not None:
        _replace_contacts(customer, contacts)


def _replace_contacts(customer: Customer, contacts: list[dict]) -> None:
    """Contacts are replaced, but a contact whose email is kept keeps its portal login."""
    existing = {c.email.lower(): c for c in customer.contacts.all() if c.email}
    kept_ids = []
    for index, data in enumerate(contacts):
        contact = existing.pop((data.get("email") or "").lower(), None) if data.get("email") else None
        if contact is None:
            contact = Contact(customer=customer)
        for field, value in data.items():
            setattr(contact, field, value)
        contact.position = index
        contact.save()
        kept_ids.append(contact.pk)
    dropped = customer.contacts.exclude(pk__in=kept_ids)
    for contact in dropped.exclude(portal_membership=None):
        portal_login_revoke(contact=contact)
    dropped.delete()


@transaction.atomic
def customer_create(*, organization: Organization, addresses=None, contacts=None, **fields) -> Customer:
    fields.setdefault("currency_code", organization.currency_code)
    customer = Customer(organization=organization, **fields)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise _customer_conflict(exc, customer.customer_number) from None
    _replace_children(customer, addresses or [], contacts or [])
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, addresses=None, contacts=None, **changes) -> Customer:
    """Sets the given fields; given address or contact lists replace the stored ones."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    active = changes.pop("active", None)
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        raise _customer_conflict(exc, customer.customer_number) from None
    _replace_children(customer, addresses, contacts)
    if active is not None and active != customer.active:
        customer = customer_set_active(customer=customer, active=active)
    return customer


@transaction.atomic
def customer_set_active(*, customer: Customer, active: bool) -> Customer:
    """Non-destructive. Deactivation revokes every token of the customer's portal logins at once."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    customer.active = active
    customer.updated_at = timezone.now()
    customer.save(update_fields=["active", "updated_at"])
    membership_ids = list(
        customer.contacts.exclude(portal_membership=None).values_list("portal_membership_id", flat=True)
    )
    Membership.objects.filter(pk__in=membership_ids).update(is_active=active)
    if not active:
        membership_revoke_tokens(*membership_ids)
    return customer


@transaction.atomic
def portal_login_create(*, contact: Contact, password: str) -> Contact:
    """Gives a contact a portal login with its email. An email that already has a login
    (in another organization) keeps its password."""
    contact = Contact.objects.select_for_update().select_related("customer__organization").get(pk=contact.pk)
    if contact.portal_membership_id:
        raise Conflict(errors={"ContactId": ["This contact has a portal login already."]})
    if not contact.email:
        raise serializers.ValidationError({"Email": ["The contact needs an email to log in with."]})
    user = login_get_or_create(email=contact.email, password=password)
    membership = membership_create(user=user, organization=contact.customer.organization, role=Role.CUSTOMER)
    if not contact.customer.active:
        membership.is_active = False
        membership.save(update_fields=["is_active"])
    contact.portal_membership = membership
    contact.save(update_fields=["portal_membership"])
    return contact


@transaction.atomic
def portal_login_revoke(*, contact: Contact) -> None:
    membership = contact.portal_membership
    if membership is None:
        return
    Contact.objects.filter(pk=contact.pk).update(portal_membership=None)
    membership.delete()  # its tokens name a membership that no longer exists: 401 at once
