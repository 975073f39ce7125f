"""A portal user's order takes its account's terms (§10): `Terms` set the invoice's due date, so a
portal user may not choose them, as it may not choose `Price`. Reps and admins still may."""
import pytest

from orders.models import Invoice, Order

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def order_body(**extra) -> dict:
    return {"Customer": {"CustomerNumber": "CUST-0042"}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}], **extra}


def stored() -> tuple:
    return Order.objects.count(), Invoice.objects.count()


@pytest.mark.parametrize("terms", ["Net999", "Net0", "COD", "Prepaid", "net60", "Nonsense"])
def test_a_portal_user_may_not_set_other_terms(tenant, catalog, terms):
    assert tenant.customer.terms == "Net30"
    before = stored()
    response = tenant.portal_api.post("/api/orders", order_body(Terms=terms), format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["title"]) == (400, "Bad Request")
    assert body["errors"] == {"Terms": ["A portal user orders on its account's terms."]}
    assert stored() == before


@pytest.mark.parametrize("terms", [None, "", "Net30", "net30"])
def test_a_portal_user_may_leave_them_out_or_send_its_own_back(tenant, catalog, terms):
    body = order_body() if terms is None else order_body(Terms=terms)
    response = tenant.portal_api.post("/api/orders", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["Terms"] == "Net30"


@pytest.mark.parametrize("caller", ["admin_api", "rep_api"])
def test_reps_and_admins_still_set_them_and_the_invoice_follows(tenant, catalog, caller):
    order = getattr(tenant, caller).post("/api/orders", order_body(Terms="Net60"), format="json")
    assert order.status_code == 201, order.json()
    assert order.json()["Terms"] == "Net60"
    invoiced = tenant.admin_api.post(f"/api/orders/{order.json()['OrderId']}/invoice")
    assert invoiced.status_code == 201, invoiced.json()
    invoice = Invoice.objects.get(pk=invoiced.json()["InvoiceId"])
    assert (invoice.due_date - invoice.invoice_date).days == 60
