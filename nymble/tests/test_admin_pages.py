"""Regressions found looking at the admin as staff: pages that were a bare 403 or an unstyled 404."""
import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def styled(response, status: int) -> str:
    assert response.status_code == status
    page = response.content.decode()
    assert '<link rel="stylesheet" href="/static/admin/css/base.css">' in page
    assert "Nymble back office" in page and "Back to the back office" in page
    return page


@pytest.mark.parametrize("path", ["/admin/django_celery_beat/", "/admin/django_celery_beat/periodictask/",
                                  "/admin/django_celery_beat/crontabschedule/add/"])
def test_the_beat_tables_are_for_superusers_and_staff_are_told_where_their_schedule_is(staff_client, path):
    page = styled(staff_client.get(path), 403)
    assert "Statement schedules" in page


def test_a_superuser_still_has_the_beat_tables(client, db):
    root = get_user_model().objects.create_superuser("root@nymble.test", "root-pass-42")
    client.force_login(root)
    assert client.get("/admin/django_celery_beat/").status_code == 200
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200


def test_staff_see_how_a_password_is_set_instead_of_a_reset_button_that_refuses(staff_client, tenant):
    user = tenant.rep.membership.user
    page = staff_client.get(f"/admin/nymble/user/{user.pk}/change/").content.decode()
    assert "Reset password" not in page and "../password/" not in page
    assert "belongs to its person" in page
    refused = styled(staff_client.get(f"/admin/nymble/user/{user.pk}/password/"), 403)
    assert "belongs to its person" in refused


def test_a_missing_admin_page_is_a_styled_404_and_the_api_keeps_its_problem_documents(staff_client, client):
    styled(staff_client.get("/admin/no-such-page/"), 404)
    styled(client.get("/no-such-page/"), 404)
    api = client.get("/api/no-such-route")
    assert api.status_code == 404 and api["Content-Type"] == "application/problem+json"


def test_a_superuser_opens_every_changed_page(client, tenant, catalog):
    """The linked pages work for a superuser too, who sees every organization."""
    from commissions.models import CommissionPlan
    from commissions.tests.test_plans import create
    from orders import services
    from orders.tests.test_admin import place

    plan = CommissionPlan.objects.get(pk=create(tenant)["CommissionPlanId"])
    order = place(tenant.admin_api)
    invoice = services.invoice_create(order=order)
    client.force_login(get_user_model().objects.create_superuser("root@nymble.test", "root-pass-42"))
    for path in (f"/admin/customers/customer/{tenant.customer.pk}/change/", "/admin/customers/customer/add/",
                 f"/admin/salesreps/organizationsalesrep/{tenant.rep.pk}/change/",
                 "/admin/salesreps/organizationsalesrep/add/", f"/admin/orders/order/{order.pk}/change/",
                 f"/admin/orders/invoice/{invoice.pk}/change/", f"/admin/commissions/commissionplan/{plan.pk}/change/",
                 f"/admin/nymble/user/{tenant.admin.user.pk}/change/", "/admin/orders/order/", "/admin/orders/invoice/"):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/admin/nymble/user/{tenant.admin.user.pk}/change/").content.decode()
    assert "Reset password" in page  # a superuser may still set a login's password
