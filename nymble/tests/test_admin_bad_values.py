"""No admin change page answers 500, whatever one field holds (§9: bad input in the admin is never a
500). Each page is read as a browser would send it, then posted again with one field at a time
replaced by a hostile value; every answer is a page (200, the form with its message) or a redirect
(302, saved). Regression guard for the rate whose message had a lone `%)` in it."""
import pytest

from commissions.models import CommissionPlan
from commissions.tests.test_plans import create
from orders import services
from orders.models import Invoice, Order, Product
from orders.tests.test_admin import place
from orders.tests.test_admin_credits import page_form

pytestmark = pytest.mark.django_db

# One field at a time with each of these; then every field at once with each of ALL_AT_ONCE.
BAD = ("x" * 300, "-1", "%)")
ALL_AT_ONCE = ("99999999999999999999.99", "[1", "2026-02-30")


def _pages(tenant) -> dict[str, str]:
    plan = CommissionPlan.objects.get(pk=create(tenant, Quota=1000)["CommissionPlanId"])
    order = place(tenant.admin_api)
    services.invoice_create(order=order)
    return {
        "customer": f"/admin/customers/customer/{tenant.customer.pk}/change/",
        "rep": f"/admin/salesreps/organizationsalesrep/{tenant.rep.pk}/change/",
        "product": f"/admin/orders/product/{Product.objects.filter(organization=tenant.org).first().pk}/change/",
        "plan": f"/admin/commissions/commissionplan/{plan.pk}/change/",
        "override": f"/admin/commissions/customeroverride/{plan.overrides.first().pk}/change/",
        "order": f"/admin/orders/order/{Order.objects.get(pk=order.pk).pk}/change/",
        "invoice": f"/admin/orders/invoice/{Invoice.objects.get(order=order).pk}/change/",
    }


@pytest.mark.parametrize("page", ["customer", "rep", "product", "plan", "override", "order", "invoice"])
def test_no_field_of_an_admin_page_with_a_bad_value_is_a_500(staff_client, tenant, catalog, page):
    url = _pages(tenant)[page]
    form, _ = page_form(staff_client, url)
    form.pop("_save", None)
    if page == "invoice":  # a new payment row, so its fields are posted too
        form.update({"payments-TOTAL_FORMS": str(int(form["payments-TOTAL_FORMS"]) + 1)})
        row = int(form["payments-TOTAL_FORMS"]) - 1
        form.update({f"payments-{row}-amount": "1.00", f"payments-{row}-paid_at_0": "2026-03-01",
                     f"payments-{row}-paid_at_1": "10:00:00", f"payments-{row}-reference": "r"})
    fields = [name for name in form if not name.endswith(("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS",
                                                           "MAX_NUM_FORMS", "-id")) and not name.startswith("initial-")]
    assert fields, url
    for name in fields:
        for value in BAD:
            response = staff_client.post(url, {**form, name: value})
            assert response.status_code in (200, 302), (url, name, value, response.status_code)
    for value in ALL_AT_ONCE:
        response = staff_client.post(url, {**form, **{name: value for name in fields}})
        assert response.status_code in (200, 302), (url, value, response.status_code)
