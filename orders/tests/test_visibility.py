"""Who sees what (§5) for orders and invoices: they follow their customer.

An order and an invoice exist for CUST-0042 (REP-007's, the portal user's account) and for
CUST-0099 (REP-012's). The other organization has its own orders for the same customer numbers.
"""
import pytest
from rest_framework.test import APIClient

from orders.models import Invoice, Order
from orders.tests.conftest import add_product

pytestmark = pytest.mark.django_db

ROLES = ["admin", "rep", "other_rep", "portal", "other_org_admin", "anonymous"]


def place_and_invoice(api, customer):
    body = {"Customer": {"CustomerNumber": customer}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}
    order = api.post("/api/orders", body, format="json").json()
    invoice = api.post(f"/api/orders/{order['OrderId']}/invoice").json()
    return order["OrderId"], invoice["InvoiceId"]


@pytest.fixture
def world(tenant, other_tenant, catalog):
    add_product(other_tenant.org, "WDG-100-BLU", "Theirs", [("Wholesale", 1, "1.00")])
    ids = {
        "own": place_and_invoice(tenant.admin_api, "CUST-0042"),
        "other": place_and_invoice(tenant.admin_api, "CUST-0099"),
        "foreign": place_and_invoice(other_tenant.admin_api, "CUST-0042"),
    }
    callers = {"admin": tenant.admin_api, "rep": tenant.rep_api, "other_rep": tenant.other_rep_api,
               "portal": tenant.portal_api, "other_org_admin": other_tenant.admin_api, "anonymous": APIClient()}
    return ids, callers


VISIBLE = {  # which of own / other / foreign each role sees
    "admin": {"own", "other"},
    "rep": {"own"},
    "other_rep": {"other"},
    "portal": {"own"},
    "other_org_admin": {"foreign"},
    "anonymous": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_details(world, role):
    ids, callers = world
    api = callers[role]
    if role == "anonymous":
        assert api.get("/api/orders").status_code == api.get("/api/invoices").status_code == 401
        return
    orders = {o["OrderId"] for o in api.get("/api/orders").json()["Data"]}
    invoices = {i["InvoiceId"] for i in api.get("/api/invoices").json()["Data"]}
    assert orders == {ids[k][0] for k in VISIBLE[role]}
    assert invoices == {ids[k][1] for k in VISIBLE[role]}
    for key, (order_id, invoice_id) in ids.items():
        expected = 200 if key in VISIBLE[role] else 404
        assert api.get(f"/api/orders/{order_id}").status_code == expected, (key, "order")
        assert api.get(f"/api/invoices/{invoice_id}").status_code == expected, (key, "invoice")


@pytest.mark.parametrize("role", ROLES)
def test_filters_never_widen_scope(world, role):
    ids, callers = world
    if role == "anonymous":
        return
    for params in ({"customerNumber": "CUST-0099"}, {"repNumber": "REP-012"}, {"customerNumber": "CUST-0042"}):
        found = {o["OrderId"] for o in callers[role].get("/api/orders", params).json()["Data"]}
        assert found <= {ids[k][0] for k in VISIBLE[role]}


#  action (on the "own" order/invoice)            admin rep other_rep portal other_org_admin anonymous
ACTIONS = [
    ("post", "/api/invoices/{invoice}/payments", {"Amount": "1.00"}, (201, 403, 404, 403, 404, 401)),
    ("post", "/api/invoices/{invoice}/credit-memos", {"CreditDate": "2026-01-01", "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 1}]},
     (409, 403, 404, 403, 404, 401)),
    ("patch", "/api/orders/{order}", {"Status": "Processing"}, (200, 403, 404, 403, 404, 401)),
    ("post", "/api/orders/{order}/invoice", None, (409, 403, 404, 403, 404, 401)),
    ("post", "/api/orders/{order}/cancel", None, (409, 409, 404, 409, 404, 401)),
    ("post", "/api/invoices/{invoice}/void", None, (200, 403, 404, 403, 404, 401)),
    ("get", "/api/customers/CUST-0042/orders", None, (200, 200, 404, 200, 200, 401)),
]


@pytest.mark.parametrize("method, path, body, expected", ACTIONS, ids=[f"{m} {p}" for m, p, _, _ in ACTIONS])
@pytest.mark.parametrize("index, role", list(enumerate(ROLES)))
def test_actions(world, method, path, body, expected, index, role):
    ids, callers = world
    order_id, invoice_id = ids["own"]
    before = (list(Order.objects.values("status").order_by("pk")), list(Invoice.objects.values("status", "amount_paid")))
    url = path.format(order=order_id, invoice=invoice_id)
    assert getattr(callers[role], method)(url, body, format="json").status_code == expected[index]
    if expected[index] >= 400:
        after = (list(Order.objects.values("status").order_by("pk")), list(Invoice.objects.values("status", "amount_paid")))
        assert after == before


def test_placing_for_a_customer_out_of_scope_is_refused_for_every_role(world):
    _, callers = world
    body = {"Customer": {"CustomerNumber": "CUST-0099"}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}
    for role in ("rep", "portal"):
        response = callers[role].post("/api/orders", body, format="json")
        assert response.status_code == 400 and "Customer.CustomerNumber" in response.json()["errors"]
    assert callers["anonymous"].post("/api/orders", body, format="json").status_code == 401
