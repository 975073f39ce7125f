"""Invoices, payments, voids and credit memos (§4): statuses, due dates, exact money, nothing half-written."""
import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from customers.services import customer_update
from orders.models import CreditMemo, Invoice, InvoiceLine, Payment

pytestmark = pytest.mark.django_db


def place(api, quantity=2, sku="WDG-100-BLU", customer="CUST-0042", **extra):
    body = {"Customer": {"CustomerNumber": customer}, "Items": [{"Sku": sku, "Quantity": quantity}], **extra}
    response = api.post("/api/orders", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def invoice_for(tenant, **order):
    placed = place(tenant.admin_api, **order)
    response = tenant.admin_api.post(f"/api/orders/{placed['OrderId']}/invoice")
    assert response.status_code == 201, response.json()
    return response.json()


def pay(tenant, invoice, amount, paid_at="2026-03-10T15:00:00Z", reference="wire-1"):
    return tenant.admin_api.post(f"/api/invoices/{invoice['InvoiceId']}/payments",
                                 {"Amount": amount, "PaidAt": paid_at, "Reference": reference}, format="json")


def test_invoicing_copies_every_item_and_dates_from_the_terms(tenant, catalog):
    body = {"Customer": {"CustomerNumber": "CUST-0042"},
            "Items": [{"Sku": "WDG-100-BLU", "Quantity": 3}, {"Sku": "BLT-7", "Quantity": 15, "Price": "0.333"}]}
    assert tenant.admin_api.post("/api/orders", body, format="json").status_code == 400  # 3 decimals refused
    body["Items"][1]["Price"] = "0.33"
    placed = tenant.admin_api.post("/api/orders", body, format="json").json()
    invoice = tenant.admin_api.post(f"/api/orders/{placed['OrderId']}/invoice").json()
    assert invoice["InvoiceNumber"] == "INV-00001" and invoice["OrderNumber"] == placed["OrderNumber"]
    assert invoice["Lines"] == [
        {"Sku": "WDG-100-BLU", "ProductName": "Widget Blue", "Quantity": 3, "Price": 18.50, "LineTotal": 55.50},
        {"Sku": "BLT-7", "ProductName": "Bolt pack", "Quantity": 15, "Price": 0.33, "LineTotal": 4.95},
    ]
    assert (invoice["Total"], invoice["AmountPaid"], invoice["Balance"], invoice["Status"]) == (60.45, 0, 60.45, "Issued")
    issued = datetime.date.fromisoformat(invoice["InvoiceDate"])
    assert datetime.date.fromisoformat(invoice["DueDate"]) == issued + datetime.timedelta(days=30)  # Net30
    assert invoice["CustomerNumber"] == "CUST-0042" and invoice["PrimarySalesRep"] == "REP-007"


@pytest.mark.parametrize("terms, days", [("COD", 0), ("Prepaid", 0), ("Net45", 45)])
def test_due_date_from_terms(tenant, catalog, terms, days):
    invoice = invoice_for(tenant, Terms=terms)
    assert (datetime.date.fromisoformat(invoice["DueDate"]) - datetime.date.fromisoformat(invoice["InvoiceDate"])).days == days


def test_an_order_is_invoiced_once_and_only_by_admins(tenant, catalog):
    placed = place(tenant.rep_api)
    assert tenant.rep_api.post(f"/api/orders/{placed['OrderId']}/invoice").status_code == 403
    assert tenant.admin_api.post(f"/api/orders/{placed['OrderId']}/invoice").status_code == 201
    assert tenant.admin_api.post(f"/api/orders/{placed['OrderId']}/invoice").status_code == 409
    assert Invoice.objects.count() == 1


def test_partial_then_full_payment(tenant, catalog):
    invoice = invoice_for(tenant)  # 2 × 18.50 = 37.00
    first = pay(tenant, invoice, "10.00", "2026-03-01T10:00:00Z")
    assert first.status_code == 201
    assert (first.json()["Status"], first.json()["AmountPaid"], first.json()["Balance"]) == ("PartiallyPaid", 10.00, 27.00)
    assert first.json()["PaidAt"] is None
    done = pay(tenant, invoice, "27.00", "2026-03-05T16:30:00Z").json()
    assert (done["Status"], done["Balance"]) == ("Paid", 0)
    assert done["PaidAt"].startswith("2026-03-05T16:30:00")
    assert [p["Amount"] for p in done["Payments"]] == [10.00, 27.00]
    assert pay(tenant, invoice, "1.00").status_code == 409  # nothing left to pay


def test_paid_day_is_the_organizations_calendar_day(tenant, catalog):
    invoice = invoice_for(tenant)
    pay(tenant, invoice, "37.00", "2026-01-01T03:00:00Z")  # 2025-12-31 21:00 in Chicago
    assert Invoice.objects.get(pk=invoice["InvoiceId"]).paid_on == datetime.date(2025, 12, 31)


@pytest.mark.parametrize("amount", ["37.01", "0", "-5", "abc", "1.001", None])
def test_bad_or_over_payments_are_400_and_change_nothing(tenant, catalog, amount):
    invoice = invoice_for(tenant)
    response = pay(tenant, invoice, amount)
    assert response.status_code == 400 and "Amount" in response.json()["errors"], response.json()
    stored = Invoice.objects.get(pk=invoice["InvoiceId"])
    assert (stored.amount_paid, stored.status, Payment.objects.count()) == (0, "Issued", 0)


def test_void_only_while_nothing_is_paid_and_never_reversed(tenant, catalog):
    unpaid = invoice_for(tenant)
    voided = tenant.admin_api.post(f"/api/invoices/{unpaid['InvoiceId']}/void")
    assert voided.status_code == 200 and voided.json()["Status"] == "Voided"
    assert tenant.admin_api.post(f"/api/invoices/{unpaid['InvoiceId']}/void").status_code == 409
    assert pay(tenant, unpaid, "1.00").status_code == 409
    partly = invoice_for(tenant)
    pay(tenant, partly, "1.00")
    assert tenant.admin_api.post(f"/api/invoices/{partly['InvoiceId']}/void").status_code == 409
    assert tenant.rep_api.post(f"/api/invoices/{partly['InvoiceId']}/void").status_code == 403


def test_credit_memos_never_exceed_what_was_invoiced(tenant, catalog):
    invoice = invoice_for(tenant, quantity=5)
    path = f"/api/invoices/{invoice['InvoiceId']}/credit-memos"
    memo = {"CreditDate": "2026-03-20", "Reason": "Damaged", "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 2}]}
    assert tenant.admin_api.post(path, memo, format="json").status_code == 409  # not paid yet
    pay(tenant, invoice, "92.50")
    first = tenant.admin_api.post(path, memo, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["CreditMemos"][0]["Total"] == 37.00
    assert first.json()["CreditMemos"][0]["Lines"] == [{"Sku": "WDG-100-BLU", "Quantity": 2, "Price": 18.50, "Amount": 37.00}]
    too_many = {**memo, "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 4}]}
    response = tenant.admin_api.post(path, too_many, format="json")
    assert response.status_code == 400 and "Lines[0].Quantity" in response.json()["errors"]
    assert tenant.admin_api.post(path, {**memo, "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 3}]},
                                 format="json").status_code == 201
    assert tenant.admin_api.post(path, {**memo, "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 1}]},
                                 format="json").status_code == 400  # all 5 credited
    for bad, field in (({**memo, "Lines": [{"Sku": "NOPE", "Quantity": 1}]}, "Lines[0].Sku"),
                       ({**memo, "Lines": []}, "Lines"),
                       ({**memo, "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 0}]}, "Lines[0].Quantity"),
                       ({**memo, "CreditDate": "someday"}, "CreditDate")):
        response = tenant.admin_api.post(path, bad, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert CreditMemo.objects.count() == 2


def test_database_refuses_inexact_lines_and_overpayment(tenant, catalog):
    invoice = Invoice.objects.get(pk=invoice_for(tenant)["InvoiceId"])
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(line_total=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(amount_paid=invoice.total + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status="Paid")


def test_invoice_list_filters_and_customer_route(tenant, catalog):
    first = invoice_for(tenant)
    invoice_for(tenant, customer="CUST-0099")
    pay(tenant, first, "37.00")
    api = tenant.admin_api

    def numbers(**params):
        return sorted(i["InvoiceNumber"] for i in api.get("/api/invoices", params).json()["Data"])

    assert numbers() == ["INV-00001", "INV-00002"]
    assert numbers(status="Paid") == ["INV-00001"]
    assert numbers(customerNumber="CUST-0099") == ["INV-00002"]
    today = first["InvoiceDate"]
    assert numbers(dateFrom=today, dateTo=today) == ["INV-00001", "INV-00002"]
    assert [i["InvoiceNumber"] for i in api.get("/api/customers/CUST-0099/invoices").json()["Data"]] == ["INV-00002"]
    assert tenant.rep_api.get("/api/customers/CUST-0099/invoices").status_code == 404


def test_deactivated_customer_history_stays_readable_by_admins(tenant, catalog):
    invoice = invoice_for(tenant)
    customer_update(customer=tenant.customer, active=False)
    assert tenant.admin_api.get(f"/api/invoices/{invoice['InvoiceId']}").status_code == 200
    assert len(tenant.admin_api.get("/api/customers/CUST-0042/orders").json()["Data"]) == 1


def test_paid_at_is_null_until_paid_and_the_schema_says_so(tenant, catalog):
    """Found by the schema fuzzer: every unpaid invoice answered `"PaidAt": null` where the schema
    promised a date-time string."""
    assert invoice_for(tenant)["PaidAt"] is None
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["Invoice"]["properties"]["PaidAt"]["nullable"] is True


def test_a_payment_dated_before_the_organizations_first_day_is_400_and_changes_nothing(tenant, catalog):
    """Found by probing the fuzzer's date boundaries: a payment completing an invoice at
    0001-01-01T00:00:00Z was a 500 (that moment has no calendar day in America/Chicago)."""
    invoice = invoice_for(tenant)
    response = pay(tenant, invoice, "37.00", "0001-01-01T00:00:00Z")
    assert response.status_code == 400 and "PaidAt" in response.json()["errors"], response.json()
    assert Payment.objects.count() == 0
    assert tenant.admin_api.get(f"/api/invoices/{invoice['InvoiceId']}").json()["Status"] == "Issued"
