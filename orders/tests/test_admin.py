"""The orders and invoices admin: scoped, and every change through orders.services."""
import pytest

from orders.models import Invoice, Order

pytestmark = pytest.mark.django_db


def place(api, customer="CUST-0042"):
    body = {"Customer": {"CustomerNumber": customer}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 2}]}
    return Order.objects.get(pk=api.post("/api/orders", body, format="json").json()["OrderId"])


def test_invoice_action_and_scope(staff_client, tenant, catalog):
    order = place(tenant.admin_api)
    page = staff_client.get("/admin/orders/order/").content.decode()
    assert order.order_number in page
    response = staff_client.post("/admin/orders/order/", {"action": "invoice", "_selected_action": [order.pk]})
    assert response.status_code == 302
    invoice = Invoice.objects.get(order=order)
    assert invoice.total == order.subtotal
    staff_client.post("/admin/orders/order/", {"action": "invoice", "_selected_action": [order.pk]}, follow=True)
    assert Invoice.objects.count() == 1


def test_payment_inline_goes_through_the_service(staff_client, tenant, catalog):
    order = place(tenant.admin_api)
    staff_client.post("/admin/orders/order/", {"action": "invoice", "_selected_action": [order.pk]})
    invoice = Invoice.objects.get(order=order)
    url = f"/admin/orders/invoice/{invoice.pk}/change/"
    line = invoice.lines.get()
    form = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-0-id": line.pk, "lines-0-invoice": invoice.pk,
            "credit_memos-TOTAL_FORMS": "0", "credit_memos-INITIAL_FORMS": "0",
            "payments-TOTAL_FORMS": "1", "payments-INITIAL_FORMS": "0",
            "payments-0-amount": "100.00", "payments-0-paid_at_0": "2026-03-01", "payments-0-paid_at_1": "10:00:00",
            "payments-0-reference": "too much"}
    refused = staff_client.post(url, form)
    assert refused.status_code == 200 and b"Overpays the invoice" in refused.content
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0
    form["payments-0-amount"] = "37.00"
    assert staff_client.post(url, form).status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("Paid", invoice.total)
    assert invoice.payments.get().recorded_by == tenant.admin.user.email


def test_other_organizations_orders_are_invisible(staff_client, tenant, other_tenant, catalog):
    from orders.tests.conftest import add_product

    add_product(other_tenant.org, "WDG-100-BLU", "Theirs", [("Wholesale", 1, "1.00")])
    theirs = place(other_tenant.admin_api)
    assert f"/admin/orders/order/{theirs.pk}/change/" not in staff_client.get("/admin/orders/order/").content.decode()
    assert staff_client.get(f"/admin/orders/order/{theirs.pk}/change/").status_code == 302
    staff_client.post("/admin/orders/order/", {"action": "cancel", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.status == "Pending"
