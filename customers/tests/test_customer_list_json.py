"""The customer list page built by PostgreSQL (`customers_as_json`) is CustomerSerializer's output.

On PostgreSQL `GET /api/customers` writes its page in one query; retrieve, writes and SQLite go
through the serializer. Both are held to the same JSON values here, on customers whose every field
hypothesis varies (text with quotes, backslashes, control characters and astral-plane letters,
empty and null, timestamps with and without microseconds, addresses and contacts in position
order, portal logins, arbitrary JSON attributes), through the API as a client reads it.
"""
from __future__ import annotations

import datetime
import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Address, Contact, Customer
from customers.serializers import CustomerSerializer, customer_for_output
from customers.services import portal_login_create
from customers.tests.factories import CustomerFactory
from nymble.api.json import DecimalJSONRenderer
from nymble.tests.factories import PASSWORD, tier

pytestmark = pytest.mark.django_db

# Text PostgreSQL stores (no NUL) and JSON has to escape: quotes, backslashes, control characters.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15), 10**15) | TEXT
    | st.floats(-2.0**40, 2.0**40, allow_nan=False, width=32),  # past 2**63 jsonb gives back an integer orjson refuses
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
MOMENT = st.datetimes(min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2090, 1, 1),
                      timezones=st.just(datetime.UTC)) | st.just(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC))
ADDRESS = st.fixed_dictionaries({
    "address1": TEXT, "address2": TEXT, "city": TEXT, "state_province": TEXT, "zip_postal_code": TEXT,
    "country": TEXT, "address_type": TEXT, "code": st.sampled_from(["", "HQ", "wh-2"]), "is_default": st.booleans(),
    "position": st.integers(0, 3),
})
CONTACT = st.fixed_dictionaries({
    "first_name": TEXT, "last_name": TEXT, "email": st.sampled_from(["", "a@b.example"]), "phone": TEXT,
    "contact_type": TEXT, "position": st.integers(0, 3),
})
CUSTOMER = st.fixed_dictionaries({
    "company_name": TEXT.filter(str.strip), "company_phone": TEXT, "company_fax": TEXT, "terms": TEXT,
    "external_id": st.none() | TEXT, "active": st.booleans(), "with_rep": st.booleans(),
    "attributes": st.dictionaries(TEXT, JSON_VALUE, max_size=3), "created_at": MOMENT, "updated_at": MOMENT,
    "addresses": st.lists(ADDRESS, max_size=3), "contacts": st.lists(CONTACT, max_size=3),
    "portal": st.booleans(),
})


def as_the_serializer_writes(customers) -> list:
    data = [CustomerSerializer(customer_for_output(c)).data for c in customers]
    return json.loads(DecimalJSONRenderer().render(data))


def stored(tenant, n: int, spec: dict) -> Customer:
    """A customer as the spec says: through the service, then every field set as given in the
    database (a row the validators would refuse is still one the page must write faithfully)."""
    customer = CustomerFactory(organization=tenant.org, customer_number=f"HYP-{n}", contacts=[])
    Customer.objects.filter(pk=customer.pk).update(
        sales_rep=tenant.rep if spec["with_rep"] else None, price_tier=tier(tenant.org, "Retail"),
        external_id=None if spec["external_id"] is None else f"{spec['external_id']}#{n}",  # unique
        **{k: spec[k] for k in ("company_name", "company_phone", "company_fax", "terms", "active", "attributes",
                                "created_at", "updated_at")})
    for i, address in enumerate(spec["addresses"]):
        Address.objects.create(customer=customer, **{**address, "code": address["code"] and f"{address['code']}{i}"})
    for i, contact in enumerate(spec["contacts"]):
        Contact.objects.create(customer=customer, **{**contact, "email": contact["email"] and f"{i}{contact['email']}"})
    if spec["portal"]:
        portal_login_create(contact=Contact.objects.create(customer=customer, first_name="Portal", position=9,
                                                           email=f"portal-{n}@hyp.example"), password=PASSWORD)
    return customer


@pytest.mark.postgres
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(specs=st.lists(CUSTOMER, min_size=1, max_size=4))
def test_the_list_page_is_the_serializers_output_on_any_customer(tenant, postgres_only, specs):
    with transaction.atomic():
        for n, spec in enumerate(specs):
            stored(tenant, n, spec)
        response = tenant.admin_api.get("/api/customers?PageSize=200&sortOn=CustomerNumber")
        assert response.status_code == 200, response.content
        expected = as_the_serializer_writes(Customer.objects.filter(organization=tenant.org).order_by("customer_number"))
        assert response.json()["Data"] == expected
        transaction.set_rollback(True)


def test_a_page_keeps_the_order_scope_and_envelope_the_serializer_path_gives(tenant):
    """Runs on both databases: the same page, sorted, searched and paged, for an admin and a rep."""
    for n in range(7):
        CustomerFactory(organization=tenant.org, customer_number=f"P-{n}", company_name=f"Page {6 - n}",
                        sales_rep=tenant.rep if n % 2 else None)
    page = tenant.admin_api.get("/api/customers?PageSize=3&PageNumber=2&sortOn=Name&search=Page").json()
    assert [c["CompanyName"] for c in page["Data"]] == ["Page 3", "Page 4", "Page 5"]
    assert (page["TotalRecords"], page["CurrentPage"], page["PageSize"], page["TotalPages"]) == (7, 2, 3, 3)
    assert page["Data"] == as_the_serializer_writes(Customer.objects.filter(company_name__in=["Page 3", "Page 4",
                                                                                            "Page 5"]))
    mine = tenant.rep_api.get("/api/customers?PageSize=200").json()
    assert {c["CustomerNumber"] for c in mine["Data"]} == {"CUST-0042", "P-1", "P-3", "P-5"}
    assert mine["Data"] == as_the_serializer_writes(Customer.objects.filter(sales_rep=tenant.rep))
    past_the_end = tenant.admin_api.get("/api/customers?PageSize=3&PageNumber=9").json()
    assert (past_the_end["Data"], past_the_end["TotalRecords"]) == ([], 9)
