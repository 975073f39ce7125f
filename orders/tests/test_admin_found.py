"""Regressions found looking at the order, invoice and customer pages as staff at 1440 pixels, and
the links between them (§9): money with its currency, read-only pages without Save, an invoice with
its balance, order, payments and credit memos, a customer with its orders, invoices and balance."""
import datetime
import re
from decimal import Decimal

import pytest

from orders import services
from orders.models import Invoice
from orders.tests.test_admin import place

pytestmark = pytest.mark.django_db


def invoiced(tenant, quantity=2):
    order = place(tenant.admin_api)
    return order, services.invoice_create(order=order)


def page(client, obj) -> str:
    response = client.get(f"/admin/orders/{obj._meta.model_name}/{obj.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_orders_list_fits_and_shows_money_with_its_currency(staff_client, tenant, catalog):
    order = place(tenant.admin_api)
    response = staff_client.get("/admin/orders/order/")
    columns = response.context["cl"].list_display
    assert len(columns) <= 8 and "currency_code" not in columns  # the currency is in the amount
    assert f"{order.subtotal:,.2f}\xa0USD" in response.content.decode()


def test_an_order_links_its_invoice_and_shows_its_customer_as_a_card(staff_client, tenant, catalog):
    order = place(tenant.admin_api)
    before = page(staff_client, order)
    assert "not invoiced yet" in before
    assert "&quot;CustomerNumber&quot;" not in before  # no raw JSON
    assert '<table class="nymble-card">' in before and "CUST-0042 Acme Wholesale Ltd." in before
    invoice = services.invoice_create(order=order)
    after = page(staff_client, order)
    assert f'<a href="/admin/orders/invoice/{invoice.pk}/change/">{invoice.invoice_number}</a>' in after
    item = order.items.get()
    assert f"{order.subtotal:,.2f}\xa0USD" in after and f"{item.price:,.2f}\xa0USD" in after  # subtotal, an item's price


def test_an_open_invoice_shows_its_balance_and_takes_a_payment_with_one_save(staff_client, tenant, catalog):
    order, invoice = invoiced(tenant)
    services.payment_record(invoice=invoice, amount=Decimal("10.00"), actor_label="test")
    text = page(staff_client, invoice)
    assert f'<a href="/admin/orders/order/{order.pk}/change/">{order.order_number}</a>' in text
    balance = invoice.total - Decimal("10.00")
    assert f"{balance:,.2f}\xa0USD" in text and "10.00\xa0USD" in text
    assert 'name="_save"' in text and "_continue" not in text and "_addanother" not in text
    assert 'id="payments-empty"' in text  # the row "Add another Payment" copies


@pytest.mark.parametrize("close", ["pay", "void"])
def test_a_paid_or_void_invoice_offers_no_payment_and_no_save(staff_client, tenant, catalog, close):
    _, invoice = invoiced(tenant)
    if close == "pay":
        services.payment_record(invoice=invoice, amount=invoice.total, actor_label="test")
    else:
        services.invoice_void(invoice=invoice)
    text = page(staff_client, Invoice.objects.get(pk=invoice.pk))
    assert 'id="payments-empty"' not in text
    assert 'name="_save"' not in text and 'name="_continue"' not in text


def test_an_invoice_shows_its_credit_memos_with_currency(staff_client, tenant, catalog):
    _, invoice = invoiced(tenant)
    services.payment_record(invoice=invoice, amount=invoice.total, actor_label="test")
    line = invoice.lines.get()
    services.credit_memo_create(invoice=invoice, credit_date=datetime.date(2026, 3, 2), reason="Damaged",
                                lines=[{"sku": line.sku, "quantity": 1}], actor_label="test")
    text = page(staff_client, invoice)
    assert "Damaged" in text and f"{line.price:,.2f}\xa0USD" in text and "credited (returns)" in text.lower()


def test_a_customer_page_shows_its_orders_invoices_and_open_balance(staff_client, tenant, catalog):
    first, invoice = invoiced(tenant)
    second = place(tenant.admin_api)
    services.payment_record(invoice=invoice, amount=Decimal("5.00"), actor_label="test")
    text = staff_client.get(f"/admin/customers/customer/{tenant.customer.pk}/change/").content.decode()
    assert "Orders and invoices" in text
    for order in (first, second):
        assert f'<a href="/admin/orders/order/{order.pk}/change/">{order.order_number}</a>' in text
    assert f'<a href="/admin/orders/invoice/{invoice.pk}/change/">{invoice.invoice_number}</a>' in text
    assert f"{invoice.total - Decimal('5.00'):,.2f}\xa0USD" in text  # the open balance
    assert f"/admin/orders/order/?customer={tenant.customer.pk}" in text
    listed = staff_client.get("/admin/orders/order/", {"customer": tenant.customer.pk}).context["cl"].result_list
    assert {order.pk for order in listed} == {first.pk, second.pk}


def test_labels_say_what_staff_say(staff_client, tenant, catalog):
    index = staff_client.get("/admin/").content.decode()
    assert "API clients" in index and "Api clients" not in index
    orders = staff_client.get("/admin/orders/order/").content.decode()
    assert ">EDI</a>" in orders and "Edi<" not in orders
    order = place(tenant.admin_api)
    assert re.search(r'<th class="column-sku">SKU\s*</th>', page(staff_client, order))


def test_dates_say_their_time_zone_once_not_under_every_field(staff_client, tenant):
    tenant.org.time_zone = "America/Chicago"
    tenant.org.save(update_fields=["time_zone"])
    text = staff_client.get("/admin/commissions/commissionplan/add/").content.decode()
    assert "Times in America/Chicago" in text and "/static/nymble/admin.css" in text
