"""Customers: business accounts with addresses, contacts (some with portal logins) and a price tier."""
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.terms import validate_terms
from nymble.currencies import validate_currency_code
from nymble.identifiers import validate_identifier
from nymble.models import Membership, Organization, PriceTier
from nymble.scoping import ScopedQuerySet, principal_of
from salesreps.models import OrganizationSalesRep


class CustomerQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Admin: the organization; rep: its assigned accounts; portal user: its own account."""
        principal = principal_of(user)
        qs = self.in_organization_of(user)
        if principal is None:
            return qs
        if principal.is_rep:
            return qs.filter(sales_rep_id=principal.sales_rep_id)
        if principal.is_customer:
            return qs.filter(pk=principal.customer_id)
        return qs

    def active(self):
        return self.filter(active=True)


class Customer(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="customers")
    customer_number = models.CharField(max_length=64, validators=[validate_identifier])
    company_name = models.CharField(max_length=200)
    company_email = models.EmailField()
    company_phone = models.CharField(max_length=40, blank=True)
    company_fax = models.CharField(max_length=40, blank=True)
    price_tier = models.ForeignKey(PriceTier, on_delete=models.PROTECT, related_name="customers")
    active = models.BooleanField(default=True)
    sales_rep = models.ForeignKey(
        OrganizationSalesRep, null=True, blank=True, on_delete=models.PROTECT, related_name="customers"
    )
    terms = models.CharField(max_length=32, blank=True, validators=[validate_terms])
    external_id = models.CharField("external ID", max_length=128, null=True, blank=True, validators=[validate_identifier])
    currency_code = models.CharField("currency", max_length=3, validators=[validate_currency_code])
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["company_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "customer_number"], name="customer_number_unique"),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="customer_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "company_name"]),
            models.Index(fields=["organization", "sales_rep", "company_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.company_name}"


class Address(models.Model):
    id = models.UUIDField("AddressId", primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_province = models.CharField(max_length=100, blank=True)
    zip_postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    address_type = models.CharField(max_length=32, blank=True)
    code = models.CharField(max_length=64, blank=True, validators=[validate_identifier])
    is_default = models.BooleanField("default", default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "address_type"], condition=Q(is_default=True), name="one_default_address_per_type"
            )
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.address1, self.city, self.country) if part)


class Contact(models.Model):
    id = models.UUIDField("ContactId", primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    contact_type = models.CharField(max_length=32, blank=True)
    position = models.PositiveIntegerField(default=0)
    portal_membership = models.OneToOneField(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_contact"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>"
