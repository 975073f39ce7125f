"""Identifiers refuse control, zero-width and direction-changing characters (§10), through every
door that writes one: each API resource and the admin's forms (`nymble.identifiers`)."""
import json
import unicodedata

import pytest

from customers.models import Address, Customer
from customers.tests.test_admin import _change_form_data
from nymble.models import CustomerAttributeDefinition, PriceTier
from orders.models import Order, Product
from salesreps.models import OrganizationSalesRep

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "CUST\u202e0042" shows as "CUST2400"


def message(char: str) -> str:
    kind = {"Cc": "a control character", "Zl": "a line separator", "Zp": "a paragraph separator",
            "Cf": "an invisible formatting character (zero-width or direction-changing)"}[unicodedata.category(char)]
    return f"Must not contain U+{ord(char):04X}, {kind}."


def snapshot() -> tuple:
    """Every identifier stored: what a refused write must leave as it was."""
    return (
        sorted(Customer.objects.values_list("customer_number", "external_id")),
        sorted(Address.objects.values_list("code", flat=True)),
        sorted(OrganizationSalesRep.objects.values_list("rep_number", flat=True)),
        sorted(Product.objects.values_list("sku", "upc", "external_id")),
        Order.objects.count(),
        sorted(PriceTier.objects.values_list("code", flat=True)),
        sorted(CustomerAttributeDefinition.objects.values_list("key", flat=True)),
    )


def assert_refused(response, field: str, char: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert list(body["errors"]) == [field], body
    assert message(char) in body["errors"][field], body


def customer(**fields) -> dict:
    return {"CustomerNumber": "CUST-0100", "CompanyName": "New Ltd.", "CompanyEmail": "n@new.example",
            "Pricing": "Wholesale", **fields}


def order(**fields) -> dict:
    return {"Customer": {"CustomerNumber": "CUST-0042"}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}], **fields}


def rep(**fields) -> dict:
    return {"RepNumber": "REP-100", "FirstName": "Ann", "LastName": "Lee", "Email": "ann@acme.example", **fields}


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2066", "\ufeff", "\u00ad", "\x07", "\t", "\x1b",
                                  "\u2028", "\u2029"])
def test_a_customer_number_refuses_invisible_and_control_characters(tenant, char):
    before = snapshot()
    for number in (f"CUST{char}0100", f"{char}CUST-0100", f"CUST-0100{char}"):
        response = tenant.admin_api.post("/api/customers", customer(CustomerNumber=number), format="json")
        assert response.status_code == 400 and "CustomerNumber" in response.json()["errors"], response.json()
        assert message(char) in response.json()["errors"]["CustomerNumber"]
    assert_refused(tenant.admin_api.post("/api/customers", customer(CustomerNumber=f"CUST{char}0100"), format="json"),
                   "CustomerNumber", char)
    assert snapshot() == before


@pytest.mark.parametrize("char", [RLO, "\u200b"])
@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/api/customers", customer(CustomerNumber="CUST{c}0100"), "CustomerNumber"),
    ("put", "/api/customers", customer(CustomerNumber="CUST{c}0100"), "CustomerNumber"),
    ("post", "/api/customers", customer(ExternalId="erp{c}9982"), "ExternalId"),
    ("post", "/api/customers", customer(Addresses=[{"City": "Chicago"}, {"Code": "WAREHOUSE{c}1"}]),
     "Addresses[1].Code"),
    ("patch", "/api/customers/CUST-0042", {"CustomerNumber": "CUST{c}0042"}, "CustomerNumber"),
    ("patch", "/api/customers/CUST-0042", {"ExternalId": "erp{c}9982"}, "ExternalId"),
    ("post", "/api/organizations/{org}/salesreps", rep(RepNumber="REP{c}100"), "RepNumber"),
    ("patch", "/api/organizations/{org}/salesreps/REP-007", {"RepNumber": "REP{c}007"}, "RepNumber"),
    ("post", "/api/products", {"Sku": "WDG{c}1", "Name": "Widget"}, "Sku"),
    ("put", "/api/products", {"Sku": "WDG{c}1", "Name": "Widget"}, "Sku"),
    ("post", "/api/products", {"Sku": "WDG-1", "Name": "Widget", "UPC": "0123{c}4567"}, "UPC"),
    ("post", "/api/products", {"Sku": "WDG-1", "Name": "Widget", "ExternalId": "erp{c}1"}, "ExternalId"),
    ("post", "/api/orders", order(ExternalId="erp{c}1"), "ExternalId"),
    ("post", "/api/organizations/{org}/pricetiers", {"Code": "Gold{c}", "Name": "Gold"}, "Code"),
    ("post", "/api/organizations/{org}/customerattributes", {"Key": "Colour{c}", "Type": "string"}, "Key"),
])
def test_every_identifier_refuses_them_through_the_api(tenant, catalog, method, path, body, field, char):
    before = snapshot()
    text = json.dumps(body).replace("{c}", json.dumps(char)[1:-1])
    response = getattr(tenant.admin_api, method)(path.format(org=tenant.org.id), text.encode(),
                                                 content_type="application/json")
    assert_refused(response, field, char)
    assert snapshot() == before


def test_a_rep_creating_a_customer_is_refused_too(tenant):
    before = snapshot()
    response = tenant.rep_api.post("/api/customers", customer(CustomerNumber=f"CUST{RLO}0100"), format="json")
    assert_refused(response, "CustomerNumber", RLO)
    assert snapshot() == before


def test_letters_of_any_script_and_punctuation_stay_fine(tenant):
    for number in ("KUNDE-Ü1", "客户-7", "CUST_0100.A", "Δ-1", "CUST 0100"):
        response = tenant.admin_api.post("/api/customers", customer(CustomerNumber=number), format="json")
        assert response.status_code == 201, (number, response.json())


# ---------------------------------------------------------------- the admin, the second door

CUSTOMERS = "/admin/customers/customer/"


def test_the_admin_refuses_them_when_adding_a_customer(staff_client, tenant):
    before = snapshot()
    data = {"customer_number": f"CUST{RLO}0100", "company_name": "New Ltd.", "active": "on",
            "company_email": "n@new.example", "price_tier": tenant.customer.price_tier_id, "currency_code": "USD",
            "terms": "Net30", "external_id": f"erp{RLO}1", "attributes": "{}",
            "addresses-TOTAL_FORMS": "1", "addresses-INITIAL_FORMS": "0",
            "addresses-0-address_type": "Shipping", "addresses-0-code": "WH\u200b1", "addresses-0-city": "Chicago",
            "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0"}
    response = staff_client.post(f"{CUSTOMERS}add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["customer_number"] == [message(RLO)] and errors["external_id"] == [message(RLO)]
    [address_form] = response.context["inline_admin_formsets"][0].formset.forms
    assert address_form.errors["code"] == [message("\u200b")]
    assert snapshot() == before


def test_the_admin_refuses_them_when_changing_a_customer(staff_client, tenant):
    before = snapshot()
    customer = tenant.customer
    response = staff_client.post(f"{CUSTOMERS}{customer.pk}/change/",
                                 _change_form_data(customer, customer_number=f"CUST{RLO}0042"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["customer_number"] == [message(RLO)]
    assert snapshot() == before


def test_the_admin_refuses_them_when_adding_a_product(staff_client, tenant):
    before = snapshot()
    data = {"sku": f"WDG{RLO}1", "name": "Widget", "active": "on", "upc": "", "minimum_order_quantity": "1",
            "quantity_increment": "1", "external_id": "", "prices-TOTAL_FORMS": "0", "prices-INITIAL_FORMS": "0"}
    response = staff_client.post("/admin/orders/product/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sku"] == [message(RLO)]
    assert snapshot() == before
