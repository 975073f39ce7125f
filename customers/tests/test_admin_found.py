"""Regressions found looking at the customer pages as staff: the admin refused less than the API
(currency `XYZ`, terms `Net 30 days`), after which the API could place no order for the customer."""
import pytest
from django.apps import apps
from django.db import connection

from customers.models import Customer
from customers.tests.test_admin import CHANGELIST, _change_form_data

pytestmark = pytest.mark.django_db

TERMS_MESSAGE = "Must be NetN (e.g. Net30), COD or Prepaid."


def test_the_admin_refuses_what_the_api_refuses_with_the_message_on_the_field(staff_client, tenant):
    customer = tenant.customer
    url = f"{CHANGELIST}{customer.pk}/change/"
    response = staff_client.post(url, _change_form_data(customer, company_name="Typed Anew", currency_code="XYZ",
                                                        terms="Net 30 days"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "XYZ" in errors["currency_code"][0] and "Net 30 days" in errors["terms"][0]
    assert 'value="Typed Anew"' in response.content.decode()  # the form comes back as it was sent
    customer.refresh_from_db()
    assert (customer.company_name, customer.currency_code, customer.terms) == ("Acme Wholesale Ltd.", "USD", "Net30")

    api = tenant.admin_api.patch(f"/api/customers/{customer.customer_number}",
                                 {"CurrencyCode": "XYZ", "Terms": "Net 30 days"}, format="json")
    assert api.status_code == 400
    assert api.json()["errors"] == {"CurrencyCode": ["'XYZ' is not an ISO 4217 currency code."],
                                    "Terms": [TERMS_MESSAGE]}


def test_terms_and_currency_are_choices_and_what_the_admin_saves_the_api_orders_with(staff_client, tenant, catalog):
    customer = Customer.objects.get(pk=tenant.customer.pk)
    Customer.objects.filter(pk=customer.pk).update(terms="Net17")  # an uncommon NetN the API took
    customer.refresh_from_db()
    page = staff_client.get(f"{CHANGELIST}{customer.pk}/change/").content.decode()
    assert '<select name="terms"' in page and '<option value="Net17" selected>' in page
    assert '<option value="Net45">' in page and '<option value="COD">' in page
    assert '<select name="currency_code"' in page and '<option value="USD" selected>' in page

    response = staff_client.post(f"{CHANGELIST}{customer.pk}/change/", _change_form_data(customer, terms="Net45"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.terms == "Net45"
    order = tenant.admin_api.post("/api/orders", {"Customer": {"CustomerNumber": customer.customer_number},
                                                  "Items": [{"Sku": "WDG-100-BLU", "Quantity": 1}]}, format="json")
    assert order.status_code == 201 and order.json()["Terms"] == "Net45"


def test_a_new_customer_starts_in_the_organizations_currency(staff_client, tenant):
    tenant.org.currency_code = "EUR"
    tenant.org.save(update_fields=["currency_code"])
    page = staff_client.get(f"{CHANGELIST}add/").content.decode()
    assert '<option value="EUR" selected>' in page


def test_the_migration_mends_what_the_admin_saved_before(tenant):
    """Terms that read as terms are written in their normal form, others cleared; a currency that
    is no code becomes the organization's."""
    from importlib import import_module

    migration = import_module("customers.migrations.0005_currency_and_terms_validated")
    rows = {"CUST-0042": ("Net 30 days", "XYZ"), "CUST-0099": ("in a fortnight", "eur")}
    for number, (terms, currency) in rows.items():
        Customer.objects.filter(organization=tenant.org, customer_number=number).update(terms=terms,
                                                                                       currency_code=currency)
    migration.normalize_stored(apps, connection.schema_editor())
    stored = dict((c.customer_number, (c.terms, c.currency_code)) for c in Customer.objects.filter(organization=tenant.org))
    assert stored == {"CUST-0042": ("Net30", "USD"), "CUST-0099": ("", "EUR")}


def test_attributes_that_are_no_json_object_are_a_message_on_the_field(staff_client, tenant):
    """Found by posting each field a bad value: `-1` in Attributes was a 500 in the service."""
    customer = tenant.customer
    response = staff_client.post(f"{CHANGELIST}{customer.pk}/change/", _change_form_data(customer, attributes="-1"))
    assert response.status_code == 200
    assert "JSON object" in response.context["adminform"].form.errors["attributes"][0]
