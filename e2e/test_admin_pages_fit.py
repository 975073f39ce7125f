"""Every page staff work on fits a 1440-pixel screen (§9), as the demo organization's staff admin
sees it in headless Chromium at 1440×900: the changelists, a customer with its orders, invoices and
addresses, an order, an invoice, a rep with its plans and statements, a plan with its rules and
overrides, a product, and the styled 403 and 404 pages. A refused sales-rep form comes back as it
was typed with the refusal on its field. Each page is saved as a screenshot (fit-*.png)."""
import io

import pytest
from django.core.management import call_command

from commissions.models import CommissionPlan
from customers.models import Customer
from e2e.conftest import browser_missing
from nymble.management.commands.seed_demo import ADMIN_EMAIL, ORG_CODE, PASSWORD
from nymble.models import Organization
from orders.models import Invoice, Order, Product
from salesreps.models import OrganizationSalesRep

pytestmark = [
    pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or ""),
    pytest.mark.django_db(transaction=True),
]

WIDTH = 1440


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(org_code=ORG_CODE)


@pytest.fixture
def wide(web, demo):
    web.driver.set_window_size(WIDTH, 900)
    web.open("/admin/login/")
    web.type_into("#id_username", ADMIN_EMAIL)
    web.type_into("#id_password", PASSWORD)
    web.click(web.css("input[type=submit]"))
    assert web.path == "/admin/"
    return web


def fits(web, path: str, name: str) -> None:
    web.open(path)
    web.screenshot(f"fit-{name}")
    width = web.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{path} is {width} px wide"
    # A changelist's table scrolls inside its box rather than widening the page: no column hidden there.
    hidden = web.driver.execute_script(
        "const r = document.querySelector('#changelist .results'); return r ? r.scrollWidth - r.clientWidth : 0")
    assert hidden <= 0, f"{path}: {hidden} px of the list's columns are cut off"


def change(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


def test_the_pages_staff_work_on_fit_1440_pixels(wide, demo):
    order = Order.objects.filter(organization=demo).order_by("order_number").first()
    customer = Customer.objects.filter(pk=order.customer_id).get()
    invoice = Invoice.objects.filter(organization=demo).first()
    rep = OrganizationSalesRep.objects.get(pk=order.primary_sales_rep_id)
    plan = CommissionPlan.objects.filter(organization=demo).first()
    pages = {
        "orders": "/admin/orders/order/", "invoices": "/admin/orders/invoice/",
        "customers": "/admin/customers/customer/", "products": "/admin/orders/product/",
        "reps": "/admin/salesreps/organizationsalesrep/", "plans": "/admin/commissions/commissionplan/",
        "memberships": "/admin/nymble/membership/", "users": "/admin/nymble/user/",
        "api-clients": "/admin/nymble/apiclient/", "price-tiers": "/admin/nymble/pricetier/",
        "attributes": "/admin/nymble/customerattributedefinition/", "organizations": "/admin/nymble/organization/",
        "customer": change(customer), "order": change(order), "invoice": change(invoice), "rep": change(rep),
        "plan": change(plan), "product": change(Product.objects.filter(organization=demo).first()),
        "forbidden": "/admin/django_celery_beat/", "not-found": "/admin/no-such-page/",
    }
    for name, path in pages.items():
        fits(wide, path, name)

    wide.open(change(customer))
    assert "Orders and invoices" in wide.text and order.order_number in wide.text
    assert "Note: You are" not in wide.text  # the time zone is said once, in the header
    wide.open(change(invoice))
    assert "Balance" in wide.text and f"{invoice.currency_code}" in wide.text
    wide.open("/admin/django_celery_beat/")
    assert "Statement schedules" in wide.text


def test_a_refused_rep_comes_back_as_typed_with_the_refusal_on_its_field(wide, demo):
    taken = OrganizationSalesRep.objects.filter(organization=demo).first().rep_number
    wide.open("/admin/salesreps/organizationsalesrep/add/")
    for field, value in {"rep_number": taken, "first_name": "Ana", "last_name": "Lima",
                         "email": "ana.lima@demo.nymble.test", "password": "typed-pass-42"}.items():
        wide.type_into(f"#id_{field}", value)
    wide.click(wide.css("input[name=_save]"))
    wide.screenshot("fit-rep-refused")
    error = wide.css(".field-rep_number .errorlist").text
    assert taken in error
    assert wide.css("#id_first_name").get_attribute("value") == "Ana"
    assert wide.css("#id_password").get_attribute("value") == "typed-pass-42"
    assert not wide.messages()  # no banner: the refusal is on its field
