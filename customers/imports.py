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

from customers.models import Address, Contact, Customer
from customers.serializers import CUSTOMER_LIST_PREFETCH, CUSTOMER_LIST_RELATED, CustomerSerializer
from customers.services import customer_upsert
from nymble.models import CustomerAttributeDefinition
from nymble.spreadsheets import Group, ServiceResource, chunks, guarded, without

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
        """The customers in the list's order, read as plain rows (a list of 100,000 is a download, not a
        page: no model objects), 2,000 at a time with their addresses and contacts."""
        counts = queryset.order_by().annotate(a=Count("addresses", distinct=True), c=Count("contacts", distinct=True))
        most = counts.aggregate(addresses=Max("a"), contacts=Max("c"))
        keys = sorted({key for attributes in queryset.values_list("attributes", flat=True) for key in attributes or {}})
        n_addresses, n_contacts = most["addresses"] or 0, most["contacts"] or 0
        headers = list(self.columns)
        for group, count in ((ADDRESS, n_addresses), (CONTACT, n_contacts)):
            headers += [f"{group.prefix}{n}.{suffix}" for n in range(1, count + 1) for suffix in group.fields]
        headers += [f"Attribute.{key}" for key in keys]
        dataset = tablib.Dataset(headers=headers)
        rows = queryset.values_list(
            "pk", "customer_number", "company_name", "company_email", "company_phone", "company_fax",
            "price_tier__code", "sales_rep__rep_number", "terms", "currency_code", "external_id", "active", "attributes")
        for chunk in chunks(rows.iterator(chunk_size=2000), 2000):
            ids = [row[0] for row in chunk]
            addresses = children(Address, ids, ADDRESS_COLUMNS)
            contacts = children(Contact, ids, CONTACT_COLUMNS)
            for pk, *fields, attributes in chunk:
                row = [value if value is not None else "" for value in fields]
                row += padded(addresses.get(pk, []), n_addresses, len(ADDRESS_COLUMNS))
                row += padded(contacts.get(pk, []), n_contacts, len(CONTACT_COLUMNS))
                row += [(attributes or {}).get(key, "") for key in keys]
                dataset.append([guarded(value) for value in row])
        return dataset


ADDRESS_COLUMNS = ("address_type", "code", "address1", "address2", "city", "state_province", "zip_postal_code",
                   "country", "is_default")  # in ADDRESS's column order
CONTACT_COLUMNS = ("first_name", "last_name", "email", "phone", "contact_type")


def children(model, customer_ids: list, columns: tuple) -> dict:
    """{customer id: [row, …]} of a customer's addresses or contacts, in their order."""
    out: dict = {}
    for customer_id, *row in (model.objects.filter(customer_id__in=customer_ids)
                              .order_by("customer_id", "position", "id").values_list("customer_id", *columns)):
        out.setdefault(customer_id, []).append(row)
    return out


def padded(items: list, count: int, width: int) -> list:
    cells = [cell for item in items for cell in item]
    return cells + [""] * ((count - len(items)) * width)
