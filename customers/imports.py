"""Customers from a spreadsheet: each row is the body of `PUT /api/customers`, checked by the API's
serializer and written by `customer_upsert`; exported in the same layout, so an export can be
edited and imported back.

Columns (the first line; names are matched case-insensitively):
  CustomerNumber, CompanyName, CompanyEmail, Pricing (required), CompanyPhone, CompanyFax,
  RepNumber, Terms, CurrencyCode, ExternalId, Active (TRUE/FALSE; empty keeps the state);
  AddressN.Type, .Code, .Line1, .Line2, .City, .StateProvince, .ZipPostalCode, .Country, .Default;
  ContactN.FirstName, .LastName, .Email, .Phone, .Type — N = 1, 2, 3, …;
  Attribute.<Key> for each customer attribute.
As with PUT, an empty optional cell resets its field; with Address (Contact) columns in the file a
row's addresses (contacts) replace the stored ones, without them they are kept.
"""
from __future__ import annotations

import tablib
from django.db.models import Count, Max

from customers.models import Customer
from customers.serializers import CUSTOMER_LIST_PREFETCH, CUSTOMER_LIST_RELATED, CustomerSerializer
from customers.services import customer_upsert
from nymble.models import CustomerAttributeDefinition
from nymble.spreadsheets import Group, ServiceResource, guarded, without

ADDRESS = Group("Address", "Addresses", {
    "Type": ("AddressType", "text"), "Code": ("Code", "text"), "Line1": ("Address1", "text"),
    "Line2": ("Address2", "text"), "City": ("City", "text"), "StateProvince": ("StateProvince", "text"),
    "ZipPostalCode": ("ZipPostalCode", "text"), "Country": ("Country", "text"), "Default": ("Default", "bool"),
})
CONTACT = Group("Contact", "Contacts", {
    "FirstName": ("FirstName", "text"), "LastName": ("LastName", "text"), "Email": ("Email", "text"),
    "Phone": ("Phone", "text"), "Type": ("ContactType", "text"),
})

IMPORT_HELP = """
<p>One customer per row, matched by <code>CustomerNumber</code>: a new number makes a customer, a known one
replaces it, exactly as <code>PUT /api/customers</code> does (the same checks, the same messages).</p>
<p><strong>Required:</strong> <code>CustomerNumber</code>, <code>CompanyName</code>, <code>CompanyEmail</code>,
<code>Pricing</code> (a price tier code). <strong>Optional:</strong> <code>CompanyPhone</code>, <code>CompanyFax</code>,
<code>RepNumber</code>, <code>Terms</code> (Net30, COD, Prepaid), <code>CurrencyCode</code>, <code>ExternalId</code>,
<code>Active</code> (TRUE/FALSE; empty keeps it as it is).</p>
<p><strong>Addresses</strong>, numbered from 1: <code>Address1.Type</code>, <code>Address1.Code</code>,
<code>Address1.Line1</code>, <code>Address1.Line2</code>, <code>Address1.City</code>, <code>Address1.StateProvince</code>,
<code>Address1.ZipPostalCode</code>, <code>Address1.Country</code>, <code>Address1.Default</code> (TRUE/FALSE), then
<code>Address2.…</code> and so on. <strong>Contacts</strong> likewise: <code>Contact1.FirstName</code>,
<code>Contact1.LastName</code>, <code>Contact1.Email</code>, <code>Contact1.Phone</code>, <code>Contact1.Type</code>.
<strong>Attributes:</strong> <code>Attribute.&lt;Key&gt;</code>, one column per customer attribute.</p>
<p>As with PUT, an empty optional cell clears its field. When the file has Address (or Contact) columns, a row's
addresses (contacts) replace the stored ones, and a row with none clears them; without such columns they are kept.
A contact keeps its portal login while its email stays. The list's <em>Export</em> writes this layout.</p>
"""


class CustomerResource(ServiceResource):
    key = "CustomerNumber"
    columns = {
        "CustomerNumber": "text", "CompanyName": "text", "CompanyEmail": "text", "CompanyPhone": "text",
        "CompanyFax": "text", "Pricing": "text", "RepNumber": "text", "Terms": "text", "CurrencyCode": "text",
        "ExternalId": "text", "Active": "bool",
    }
    required = ("CustomerNumber", "CompanyName", "CompanyEmail", "Pricing")
    groups = (ADDRESS, CONTACT)
    attribute_prefix = "Attribute"

    class Meta(ServiceResource.Meta):
        name = "Customers"

    def attribute_kinds(self) -> dict[str, str]:
        return dict(CustomerAttributeDefinition.objects.filter(organization=self.organization).values_list("key", "type"))

    def serializer(self, **kwargs) -> CustomerSerializer:
        return CustomerSerializer(context={"organization_id": self.organization.pk}, **kwargs)

    def validated(self, body: dict) -> dict:
        serializer = self.serializer(data=body)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def upsert(self, data: dict):
        return customer_upsert(organization=self.organization, actor=self.actor, **data)

    def representation(self, key: str) -> dict | None:
        customer = (
            Customer.objects.filter(organization=self.organization, customer_number=key)
            .select_related(*CUSTOMER_LIST_RELATED).prefetch_related(*CUSTOMER_LIST_PREFETCH).first()
        )
        if customer is None:
            return None
        data = self.serializer(instance=customer).data
        return {
            **without(data, "CreatedAt", "UpdatedAt"),
            "Addresses": [without(a, "AddressId") for a in data["Addresses"]],
            "Contacts": [without(c, "ContactId", "HasPortalLogin") for c in data["Contacts"]],
        }

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        counts = queryset.order_by().annotate(a=Count("addresses", distinct=True), c=Count("contacts", distinct=True))
        most = counts.aggregate(addresses=Max("a"), contacts=Max("c"))
        keys = sorted({key for attributes in queryset.values_list("attributes", flat=True) for key in attributes or {}})
        headers = list(self.columns)
        for group, count in ((ADDRESS, most["addresses"] or 0), (CONTACT, most["contacts"] or 0)):
            headers += [f"{group.prefix}{n}.{suffix}" for n in range(1, count + 1) for suffix in group.fields]
        headers += [f"Attribute.{key}" for key in keys]
        dataset = tablib.Dataset(headers=headers)
        rows = queryset.select_related(*CUSTOMER_LIST_RELATED).prefetch_related(*CUSTOMER_LIST_PREFETCH)
        for customer in rows.iterator(chunk_size=2000):
            row = [
                customer.customer_number, customer.company_name, customer.company_email, customer.company_phone,
                customer.company_fax, customer.price_tier.code, customer.sales_rep.rep_number if customer.sales_rep else "",
                customer.terms, customer.currency_code, customer.external_id or "", customer.active,
            ]
            for group, items, count, attrs in (
                (ADDRESS, customer.prefetched_addresses, most["addresses"] or 0,
                 ("address_type", "code", "address1", "address2", "city", "state_province", "zip_postal_code",
                  "country", "is_default")),
                (CONTACT, customer.prefetched_contacts, most["contacts"] or 0,
                 ("first_name", "last_name", "email", "phone", "contact_type")),
            ):
                for index in range(count):
                    item = items[index] if index < len(items) else None
                    row += [getattr(item, attr) if item is not None else "" for attr in attrs]
            row += [(customer.attributes or {}).get(key, "") for key in keys]
            dataset.append([guarded(value) for value in row])
        return dataset
