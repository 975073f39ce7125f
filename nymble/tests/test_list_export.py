"""Every admin list exports to CSV what it lists: its columns, its filters and search, the staff user's
scope, and never a secret."""
import csv
import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils.html import strip_tags

from customers.tests.factories import CustomerFactory
from nymble.admin_base import ScopedAdmin
from nymble.scoping import Principal
from orders import services as orders
from orders.models import Invoice

pytestmark = pytest.mark.django_db


def export(client, path, **params) -> list[dict]:
    response = client.get(f"{path}export/", params)
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv") and "attachment;" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_every_scoped_list_has_an_export_that_answers_csv(staff_client, tenant):
    lists = [model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, ScopedAdmin)]
    assert len(lists) >= 15
    for model_admin in lists:
        opts = model_admin.model._meta
        path = f"/admin/{opts.app_label}/{opts.model_name}/"
        changelist = staff_client.get(path, follow=True)  # the disputes list opens on the open ones
        assert changelist.status_code == 200, path
        assert f'{path}export/' in changelist.content.decode(), path
        export(staff_client, path)


def test_the_invoice_list_exports_its_columns_filtered_and_scoped(staff_client, tenant, other_tenant, catalog):
    actor = Principal(organization_id=tenant.org.pk, role="Admin")
    for customer, quantity in ((tenant.customer, 2), (tenant.other_customer, 1)):
        order, _ = orders.order_place(organization=tenant.org, actor=actor, actor_label="t", customer=customer,
                                      items=[{"sku": "WDG-100-BLU", "quantity": quantity}])
        invoice = orders.invoice_create(order=order)
    orders.payment_record(invoice=invoice, amount=Decimal("18.50"), actor_label="t")
    invoices = admin.site._registry[Invoice]
    labels = [strip_tags(str(label_for_field(name, Invoice, invoices))) for name in invoices.list_display]
    response = staff_client.get("/admin/orders/invoice/export/")
    assert next(csv.reader(io.StringIO(response.content.decode()))) == labels  # the list's own columns
    rows = export(staff_client, "/admin/orders/invoice/")
    assert [(r["invoice number"], r["status"]) for r in rows] == [("INV-00002", "Paid"), ("INV-00001", "Issued")]
    assert rows[1]["customer"] == "CUST-0042 Acme Wholesale Ltd."
    assert any("37.00" in value for value in rows[1].values())  # its total, as the list shows it
    issued = export(staff_client, "/admin/orders/invoice/", status__exact="Issued")
    assert [r["invoice number"] for r in issued] == ["INV-00001"]
    searched = export(staff_client, "/admin/orders/invoice/", q="Zenith")
    assert [r["invoice number"] for r in searched] == ["INV-00002"]


def test_a_list_exports_only_the_staff_users_organization(staff_client, tenant, other_tenant):
    CustomerFactory(organization=other_tenant.org, customer_number="GX-ONLY", company_name="Globex Only")
    numbers = [r["CustomerNumber"] for r in export(staff_client, "/admin/customers/customer/")]
    assert sorted(numbers) == ["CUST-0042", "CUST-0099"]
    reps = export(staff_client, "/admin/salesreps/organizationsalesrep/")
    assert len(reps) == 2 and all("@globex" not in str(r) for r in reps)


def test_no_secret_is_exported(staff_client, tenant):
    created = tenant.admin_api.post(f"/api/organizations/{tenant.org.id}/apiclients", {"Name": "ERP sync"},
                                    format="json").json()
    clients = export(staff_client, "/admin/nymble/apiclient/")
    users = export(staff_client, "/admin/nymble/user/")
    text = str(clients) + str(users)
    assert clients and users
    assert created["ClientSecret"] not in text and "md5$" not in text and "pbkdf2" not in text
    assert not any("password" in column.lower() or "secret" in column.lower() for column in {*clients[0], *users[0]})


def test_text_a_spreadsheet_would_run_as_a_formula_is_quoted(staff_client, tenant):
    CustomerFactory(organization=tenant.org, customer_number="CUST-EVIL", company_name="=HYPERLINK(\"x\")")
    rows = {r["CustomerNumber"]: r for r in export(staff_client, "/admin/customers/customer/")}
    assert rows["CUST-EVIL"]["CompanyName"] == "'=HYPERLINK(\"x\")"


def test_a_staff_user_without_an_organization_exports_nothing(client, tenant, django_user_model):
    lone = django_user_model.objects.create_user(email="lone@nymble.test", password="x" * 12, is_staff=True)
    client.force_login(lone)
    assert client.get("/admin/customers/customer/export/").status_code == 403
