"""Sales reps in the admin: scoped to the staff user's organization, writes through the services."""
import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from rest_framework.test import APIClient

from nymble.models import Membership, User
from nymble.tests.factories import PASSWORD
from salesreps.models import OrganizationSalesRep, SalesRep
from salesreps.tests.factories import SalesRepFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/salesreps/organizationsalesrep/"
ADD = CHANGELIST + "add/"


def change_url(rep) -> str:
    return f"{CHANGELIST}{rep.pk}/change/"


def staff_client(tenant) -> Client:
    user = tenant.admin.user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def own_record(api, tenant):
    return api.get(f"/api/organizations/{tenant.org.id}/salesreps/{tenant.rep.rep_number}")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def field_errors(response) -> dict:
    """A refused form: shown again (200), its errors by field."""
    assert response.status_code == 200
    return response.context["adminform"].form.errors


def change_form_data(rep, **overrides) -> dict:
    """What the change form posts: the rep's fields and the read-only customers inline."""
    customers = list(rep.customers.order_by("company_name", "pk"))
    data = {
        "rep_number": rep.rep_number,
        "first_name": rep.first_name,
        "last_name": rep.last_name,
        "phone_number": rep.phone_number,
        "password": "",
        "customers-TOTAL_FORMS": str(len(customers)),
        "customers-INITIAL_FORMS": str(len(customers)),
        "customers-MIN_NUM_FORMS": "0",
        "customers-MAX_NUM_FORMS": "1000",
    }
    if rep.active:
        data["active"] = "on"
    for index, customer in enumerate(customers):
        data[f"customers-{index}-id"] = str(customer.pk)
        data[f"customers-{index}-sales_rep"] = str(rep.pk)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_staff_admin_sees_its_organizations_reps_only(tenant, other_tenant):
    client = staff_client(tenant)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    shown = {rep.pk for rep in response.context["cl"].result_list}
    assert shown == {tenant.rep.pk, tenant.other_rep.pk}
    content = response.content.decode()
    assert tenant.rep.email in content and tenant.other_rep.email in content
    assert other_tenant.rep.email not in content
    counts = {rep.rep_number: rep.customer_count for rep in response.context["cl"].result_list}
    assert counts == {"REP-007": 1, "REP-012": 1}


def test_search_and_active_filter(tenant):
    client = staff_client(tenant)
    found = client.get(CHANGELIST, {"q": "nair"}).context["cl"].result_list
    assert [r.rep_number for r in found] == ["REP-012"]
    found = client.get(CHANGELIST, {"q": tenant.rep.email}).context["cl"].result_list
    assert [r.rep_number for r in found] == ["REP-007"]
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [tenant.other_rep.pk]})
    inactive = client.get(CHANGELIST, {"active__exact": "0"}).context["cl"].result_list
    assert [r.rep_number for r in inactive] == ["REP-012"]


def test_another_organizations_rep_is_out_of_reach(tenant, other_tenant):
    client = staff_client(tenant)
    response = client.get(change_url(other_tenant.rep))
    assert response.status_code in (302, 404)
    response = client.post(change_url(other_tenant.rep), change_form_data(other_tenant.rep, first_name="Hacked"))
    assert response.status_code in (302, 404)
    other_tenant.rep.refresh_from_db()
    assert other_tenant.rep.first_name == "Marcus"
    # an action on a foreign id selects nothing
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [other_tenant.rep.pk]})
    other_tenant.rep.refresh_from_db()
    assert other_tenant.rep.active


def test_change_page_shows_the_reps_customers_read_only(tenant):
    response = staff_client(tenant).get(change_url(tenant.rep))
    assert response.status_code == 200
    content = response.content.decode()
    assert "CUST-0042" in content and "Acme Wholesale Ltd." in content
    assert "CUST-0099" not in content  # the other rep's customer
    assert tenant.rep.email in content
    (inline,) = response.context["inline_admin_formsets"]
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission


def test_deactivate_action_revokes_tokens_and_activate_revives_none(tenant):
    api = tenant.rep_api
    assert own_record(api, tenant).status_code == 200
    client = staff_client(tenant)
    response = client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [tenant.rep.pk]}, follow=True)
    assert response.status_code == 200
    assert any("deactivated" in m for m in messages_of(response))
    tenant.rep.refresh_from_db()
    assert not tenant.rep.active
    assert not Membership.objects.get(pk=tenant.rep.membership_id).is_active
    assert own_record(api, tenant).status_code == 401

    client.post(CHANGELIST, {"action": "activate", "_selected_action": [tenant.rep.pk]})
    tenant.rep.refresh_from_db()
    assert tenant.rep.active
    assert own_record(api, tenant).status_code == 401
    login = APIClient().post("/api/auth/token", {"Email": tenant.rep.email, "Password": PASSWORD}, format="json")
    assert login.status_code == 200


def test_add_form_creates_the_rep_and_its_login_through_the_service(tenant):
    client = staff_client(tenant)
    assert client.get(ADD).status_code == 200
    response = client.post(
        ADD,
        {
            "rep_number": "REP-020",
            "first_name": "Ana",
            "last_name": "Lopez",
            "email": "Ana@Example.com",
            "password": "admin-set-pass",
            "phone_number": "+1-555-0111",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rep = OrganizationSalesRep.objects.get(organization=tenant.org, rep_number="REP-020")
    assert rep.email == "ana@example.com" and rep.roles == ["SalesRep"] and rep.active
    assert rep.membership.organization_id == tenant.org.id
    login = APIClient().post("/api/auth/token", {"Email": "ana@example.com", "Password": "admin-set-pass"}, format="json")
    assert login.status_code == 200
    assert LogEntry.objects.filter(object_id=str(rep.pk)).exists()


def test_add_form_links_a_rep_of_another_organization(tenant, other_tenant, mailoutbox, django_capture_on_commit_callbacks):
    client = staff_client(tenant)
    data = {"rep_number": "REP-030", "first_name": "Marcus", "last_name": "Chen", "email": other_tenant.rep.email,
            "active": "on"}
    refused = client.post(ADD, {**data, "password": "not-applied"})
    assert "password" in field_errors(refused)  # the shared login's password is its person's
    assert not OrganizationSalesRep.objects.filter(organization=tenant.org, rep_number="REP-030").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, data)
    assert response.status_code == 302
    rep = OrganizationSalesRep.objects.get(organization=tenant.org, rep_number="REP-030")
    assert rep.sales_rep_id == other_tenant.rep.sales_rep_id
    assert rep.membership.pending and [m.to for m in mailoutbox] == [[other_tenant.rep.email]]
    assert SalesRep.objects.filter(user__email=other_tenant.rep.email).count() == 1
    assert User.objects.get(email=other_tenant.rep.email).check_password(PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [({"rep_number": "REP-012"}, "rep_number"), ({"email": "admin@acme.test"}, "email")],
)
def test_add_form_shows_the_services_refusal_on_its_field_and_saves_nothing(tenant, overrides, expected):
    """Regression: the refused form came back empty, password and all, the refusal a banner."""
    client = staff_client(tenant)
    before = (OrganizationSalesRep.objects.count(), User.objects.count(), LogEntry.objects.count())
    data = {"rep_number": "REP-040", "first_name": "Xavier", "last_name": "Yu", "email": "x@example.com",
            "password": "typed-pass-42", "active": "on"}
    response = client.post(ADD, {**data, **overrides})
    assert list(field_errors(response)) == [expected]
    page = response.content.decode()
    for name, value in {**data, **overrides}.items():
        if name != "active":
            assert f'name="{name}" value="{value}"' in page, name  # as it was sent
    assert not messages_of(response)
    assert (OrganizationSalesRep.objects.count(), User.objects.count(), LogEntry.objects.count()) == before


def test_add_form_checks_the_password(tenant):
    client = staff_client(tenant)
    data = {"rep_number": "REP-050", "first_name": "X", "last_name": "Y", "email": "x@example.com", "password": "short"}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "password" in response.context["adminform"].form.errors
    assert not OrganizationSalesRep.objects.filter(rep_number="REP-050").exists()


def test_change_form_saves_through_the_service_and_deactivation_revokes(tenant):
    api = tenant.rep_api
    client = staff_client(tenant)
    data = change_form_data(tenant.rep, first_name="Mark", rep_number="REP-070", active=None)
    response = client.post(change_url(tenant.rep), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    tenant.rep.refresh_from_db()
    assert (tenant.rep.first_name, tenant.rep.rep_number, tenant.rep.active) == ("Mark", "REP-070", False)
    assert own_record(api, tenant).status_code == 401  # deactivated through the service


def test_change_form_sets_a_password_only_for_an_unshared_login(tenant, other_tenant):
    client = staff_client(tenant)
    response = client.post(change_url(tenant.rep), change_form_data(tenant.rep, password="fresh-password"), follow=True)
    assert any("successfully" in m for m in messages_of(response))
    assert User.objects.get(pk=tenant.rep.membership.user_id).check_password("fresh-password")

    SalesRepFactory(organization=other_tenant.org, rep_number="G-1", email=tenant.other_rep.email)
    response = client.post(
        change_url(tenant.other_rep), change_form_data(tenant.other_rep, first_name="Changed", password="takeover-pass"),
    )
    assert "shared with another organization" in field_errors(response)["password"][0]
    assert 'value="Changed"' in response.content.decode()
    tenant.other_rep.refresh_from_db()
    assert tenant.other_rep.first_name == "Priya"  # the whole change was refused
    assert User.objects.get(email=tenant.other_rep.email).check_password(PASSWORD)


def test_change_form_refuses_a_taken_rep_number(tenant):
    client = staff_client(tenant)
    response = client.post(change_url(tenant.rep), change_form_data(tenant.rep, rep_number="REP-012"))
    assert "REP-012" in field_errors(response)["rep_number"][0]
    assert 'name="rep_number" value="REP-012"' in response.content.decode()
    tenant.rep.refresh_from_db()
    assert tenant.rep.rep_number == "REP-007"


def test_nothing_is_deleted_from_the_admin(tenant):
    client = staff_client(tenant)
    assert client.get(f"{CHANGELIST}{tenant.rep.pk}/delete/").status_code in (302, 403)
    assert OrganizationSalesRep.objects.filter(pk=tenant.rep.pk).exists()


def test_superuser_sees_every_organization(tenant, other_tenant):
    user = User.objects.create_superuser("root@nymble.test", "root-pass-123")
    client = Client()
    client.force_login(user)
    shown = {rep.pk for rep in client.get(CHANGELIST).context["cl"].result_list}
    assert {tenant.rep.pk, other_tenant.rep.pk} <= shown
    assert client.get(change_url(other_tenant.rep)).status_code == 200


def test_staff_login_of_a_rep_has_no_admin(tenant):
    """is_staff on a login without an admin membership opens nothing."""
    user = User.objects.get(pk=tenant.rep.membership.user_id)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    assert client.get(CHANGELIST).status_code in (302, 403)
