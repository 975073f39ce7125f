import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from customers.models import Address, Contact, Customer
from customers.terms import terms_normalized
from nymble.api.json import json_from_query, sql_timestamp
from nymble.api.serializers import (
    ApiSerializer,
    CurrencyField,
    OptionalTextField,
    OrganizationSlugField,
    PatternField,
    prefetched,
)
from nymble.identifiers import validate_identifier
from nymble.models import PriceTier
from salesreps.models import OrganizationSalesRep

def normalize_terms(value: str) -> str:
    """`Net30`, `COD` or `Prepaid` (any case); empty means none given. The rule is customers.terms'."""
    try:
        return terms_normalized(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class AddressSerializer(ApiSerializer):
    AddressId = serializers.UUIDField(source="id", read_only=True)
    Address1 = OptionalTextField(source="address1", max_length=200)
    Address2 = OptionalTextField(source="address2", max_length=200)
    City = OptionalTextField(source="city", max_length=100)
    StateProvince = OptionalTextField(source="state_province", max_length=100)
    ZipPostalCode = OptionalTextField(source="zip_postal_code", max_length=20)
    Country = OptionalTextField(source="country", max_length=100)
    AddressType = OptionalTextField(source="address_type", max_length=32)
    Code = OptionalTextField(source="code", max_length=64, validators=[validate_identifier])
    Default = serializers.BooleanField(source="is_default", required=False, default=False)


class ContactSerializer(ApiSerializer):
    ContactId = serializers.UUIDField(source="id", read_only=True)
    FirstName = OptionalTextField(source="first_name", max_length=100)
    LastName = OptionalTextField(source="last_name", max_length=100)
    Email = serializers.EmailField(source="email", required=False, allow_blank=True, max_length=254)
    Phone = OptionalTextField(source="phone", max_length=40)
    ContactType = OptionalTextField(source="contact_type", max_length=32)
    HasPortalLogin = serializers.SerializerMethodField()

    def get_HasPortalLogin(self, contact) -> bool:
        return contact.portal_membership_id is not None


class CustomerSerializer(ApiSerializer):
    """A customer as the seed describes it; `Addresses` and `Contacts` given replace the stored ones."""

    CustomerNumber = PatternField(r"^[^/\s](?:[^/]*[^/\s])?$", source="customer_number", max_length=64,
                                  validators=[validate_identifier])
    CompanyName = serializers.CharField(source="company_name", max_length=200)
    CompanyEmail = serializers.EmailField(source="company_email", max_length=254)
    CompanyPhone = OptionalTextField(source="company_phone", max_length=40)
    CompanyFax = OptionalTextField(source="company_fax", max_length=40)
    Pricing = OrganizationSlugField(
        kind="price tier", source="price_tier", slug_field="code", queryset=PriceTier.objects.all()
    )
    Active = serializers.BooleanField(source="active", required=False)
    RepNumber = OrganizationSlugField(
        kind="sales rep",
        source="sales_rep",
        slug_field="rep_number",
        queryset=OrganizationSalesRep.objects.all(),
        required=False,
        allow_null=True,
    )
    Terms = OptionalTextField(source="terms", max_length=32)
    ExternalId = OptionalTextField(source="external_id", max_length=128, validators=[validate_identifier])
    CurrencyCode = CurrencyField(source="currency_code", required=False)
    Addresses = AddressSerializer(source="addresses", many=True, required=False)
    Contacts = ContactSerializer(source="contacts", many=True, required=False)
    CustomerAttributes = serializers.DictField(source="attributes", required=False)
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)
    UpdatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate_Terms(self, value):
        return normalize_terms(value)

    def validate_ExternalId(self, value):
        return value or None


CUSTOMER_LIST_RELATED = ("price_tier", "sales_rep")
CUSTOMER_LIST_PREFETCH = (prefetched("addresses"), prefetched("contacts"))


def customer_for_output(customer: Customer) -> Customer:
    """The customer reloaded with what its serializer reads, in a fixed number of queries."""
    return (
        Customer.objects.select_related(*CUSTOMER_LIST_RELATED)
        .prefetch_related(*CUSTOMER_LIST_PREFETCH)
        .get(pk=customer.pk)
    )


# CustomerSerializer's output, field for field, built by PostgreSQL: a list page is then one query
# and no model instances (a page of 25 with addresses and contacts cost ~3x the trivial endpoint in
# the ORM and DRF). `test_customer_list_json` holds the two equal on varied customers.
CUSTOMERS_JSON = f"""
SELECT coalesce(json_agg(json_build_object(
    'CustomerNumber', c.customer_number, 'CompanyName', c.company_name, 'CompanyEmail', c.company_email,
    'CompanyPhone', c.company_phone, 'CompanyFax', c.company_fax, 'Pricing', t.code, 'Active', c.active,
    'RepNumber', r.rep_number, 'Terms', c.terms, 'ExternalId', c.external_id, 'CurrencyCode', c.currency_code,
    'Addresses', (SELECT coalesce(json_agg(json_build_object(
        'AddressId', a.id, 'Address1', a.address1, 'Address2', a.address2, 'City', a.city,
        'StateProvince', a.state_province, 'ZipPostalCode', a.zip_postal_code, 'Country', a.country,
        'AddressType', a.address_type, 'Code', a.code, 'Default', a.is_default) ORDER BY a.position, a.id), '[]')
        FROM {Address._meta.db_table} a WHERE a.customer_id = c.id),
    'Contacts', (SELECT coalesce(json_agg(json_build_object(
        'ContactId', k.id, 'FirstName', k.first_name, 'LastName', k.last_name, 'Email', k.email,
        'Phone', k.phone, 'ContactType', k.contact_type, 'HasPortalLogin', k.portal_membership_id IS NOT NULL)
        ORDER BY k.position, k.id), '[]')
        FROM {Contact._meta.db_table} k WHERE k.customer_id = c.id),
    'CustomerAttributes', c.attributes, 'CreatedAt', {sql_timestamp("c.created_at")}, 'UpdatedAt', {sql_timestamp("c.updated_at")}
) ORDER BY page.n), '[]')::text
FROM unnest(%s::bigint[]) WITH ORDINALITY AS page (id, n)
JOIN {Customer._meta.db_table} c ON c.id = page.id
JOIN {Customer._meta.get_field("price_tier").related_model._meta.db_table} t ON t.id = c.price_tier_id
LEFT JOIN {Customer._meta.get_field("sales_rep").related_model._meta.db_table} r ON r.id = c.sales_rep_id
"""


def customers_as_json(ids: list[int]) -> orjson.Fragment:
    """The customers of these ids, in this order, as CustomerSerializer writes a list of them (PostgreSQL)."""
    return json_from_query(CUSTOMERS_JSON, [list(ids)])


class PortalLoginSerializer(ApiSerializer):
    Password = serializers.CharField(
        write_only=True, required=False, min_length=8, max_length=128, trim_whitespace=False,
        help_text="The password of a new login. Leave it out when the contact's email already has a login "
                  "(of another organization): its person is invited by email instead.",
    )
