"""`GET /api/audit-events` (§12) and the admin's history pages: who changed what, for admins only."""
import pytest

from audit.models import AppendOnly, AuditEvent
from nymble import services as core
from nymble.tokens import api_client_token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = "/api/audit-events"


def rename(tenant, name="Acme Renamed"):
    response = tenant.admin_api.patch(f"/api/customers/{tenant.customer.customer_number}", {"CompanyName": name},
                                      format="json")
    assert response.status_code == 200, response.content
    return response


def test_a_change_through_the_api_is_listed_with_its_actor_and_old_and_new_values(tenant):
    rename(tenant)
    response = tenant.admin_api.get(URL, {"objectType": "Customer", "objectId": "CUST-0042"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"Data", "TotalRecords", "CurrentPage", "PageSize", "TotalPages"}
    latest = body["Data"][0]
    assert latest["Actor"] == tenant.admin.user.email
    assert latest["Action"] == "updated"
    assert latest["ObjectType"] == "Customer" and latest["ObjectId"] == "CUST-0042"
    assert latest["Changes"] == {"company_name": ["Acme Wholesale Ltd.", "Acme Renamed"]}
    assert set(latest) == {"AuditEventId", "OccurredAt", "Actor", "ObjectType", "ObjectId", "Action", "Changes"}
    assert body["Data"][-1]["Action"] == "created"  # newest first


def test_an_api_client_is_named_as_the_actor(tenant):
    client, _ = core.api_client_create(organization=tenant.org, name="ERP sync")
    erp = APIClient()
    erp.credentials(HTTP_AUTHORIZATION=f"Bearer {api_client_token(client)['AccessToken']}")
    assert erp.post(f"/api/customers/{tenant.customer.customer_number}/deactivate").status_code == 200
    entry = AuditEvent.objects.get(action="deactivated", object_id="CUST-0042")
    assert entry.actor == "api-client:ERP sync"
    assert entry.changes == {"active": [True, False]}


def test_filters(tenant):
    rename(tenant, "One")
    rename(tenant, "Two")
    api = tenant.admin_api
    assert [e["Changes"]["company_name"][1] for e in api.get(URL, {"action": "updated"}).json()["Data"]] == [
        "Two", "One"]
    assert api.get(URL, {"actor": tenant.admin.user.email}).json()["TotalRecords"] == 2
    assert api.get(URL, {"actor": "nobody@x.test"}).json()["TotalRecords"] == 0
    assert api.get(URL, {"objectId": "CUST-0099"}).json()["TotalRecords"] >= 1
    everything = api.get(URL).json()["TotalRecords"]
    assert api.get(URL, {"dateFrom": "2000-01-01", "dateTo": "2999-12-31"}).json()["TotalRecords"] == everything
    assert api.get(URL, {"dateTo": "2000-01-01"}).json()["TotalRecords"] == 0
    assert api.get(URL, {"dateFrom": "2999-01-01"}).json()["TotalRecords"] == 0
    bad = api.get(URL, {"dateFrom": "yesterday"})
    assert bad.status_code == 400 and "dateFrom" in bad.json()["errors"]
    assert api.get(URL, {"PageSize": 500}).status_code == 400


def test_admins_only_and_never_another_organizations(tenant, other_tenant):
    rename(other_tenant, "Globex secret rename")
    rename(tenant)
    body = tenant.admin_api.get(URL, {"PageSize": 200}).json()
    assert body["TotalRecords"] == AuditEvent.objects.filter(organization=tenant.org).count()
    assert body["Data"] and all("Globex" not in str(entry) for entry in body["Data"])
    assert AuditEvent.objects.filter(organization=other_tenant.org, changes__icontains="Globex secret").exists()
    for api in (tenant.rep_api, tenant.portal_api):
        response = api.get(URL)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("application/problem+json")
    assert APIClient().get(URL).status_code == 401


def test_entries_are_never_edited_or_deleted(tenant):
    rename(tenant)
    entry = AuditEvent.objects.filter(organization=tenant.org).first()
    for method in ("post", "put", "patch", "delete"):
        assert getattr(tenant.admin_api, method)(URL, {}, format="json").status_code == 405
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=entry.pk).update(actor="someone else")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=entry.pk).delete()


def test_the_admin_history_page_shows_the_records_entries(tenant, other_tenant, staff_client):
    rename(tenant)
    page = staff_client.get(f"/admin/customers/customer/{tenant.customer.pk}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="audit-entries"' in text and "Acme Renamed" in text and tenant.admin.user.email in text
    assert staff_client.get(f"/admin/customers/customer/{other_tenant.customer.pk}/history/").status_code in (302, 404)


def test_the_admin_lists_entries_read_only_and_scoped(tenant, other_tenant, staff_client):
    rename(tenant)
    rename(other_tenant, "Globex rename")
    page = staff_client.get("/admin/audit/auditevent/")
    assert page.status_code == 200
    assert "CUST-0042" in page.content.decode()
    assert "Globex rename" not in page.content.decode()
    entry = AuditEvent.objects.filter(organization=tenant.org).first()
    theirs = AuditEvent.objects.filter(organization=other_tenant.org).first()
    detail = staff_client.get(f"/admin/audit/auditevent/{entry.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert staff_client.get(f"/admin/audit/auditevent/{theirs.pk}/change/").status_code in (302, 404)
    assert staff_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert staff_client.post(f"/admin/audit/auditevent/{entry.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=entry.pk).exists()


def test_a_portal_users_own_change_names_the_portal_login(tenant):
    address = {"Address1": "1 Dock Rd", "City": "Gary", "StateProvince": "IN", "ZipPostalCode": "46401",
               "Country": "US", "AddressType": "Shipping", "Default": True}
    response = tenant.portal_api.patch(f"/api/customers/{tenant.customer.customer_number}", {"Addresses": [address]},
                                       format="json")
    assert response.status_code == 200, response.content
    entry = AuditEvent.objects.filter(object_id="CUST-0042", action="updated").first()
    assert entry.actor == tenant.portal.user.email
    old, new = entry.changes["addresses"]
    assert [a["address1"] for a in new] == ["1 Dock Rd"] and old != new


def test_a_change_through_the_admin_names_the_staff_user(tenant, staff_client):
    page = staff_client.post("/admin/customers/customer/", {"action": "deactivate",
                                                            "_selected_action": [tenant.customer.pk]}, follow=True)
    assert page.status_code == 200
    entry = AuditEvent.objects.get(object_id="CUST-0042", action="deactivated")
    assert entry.actor == tenant.admin.user.email and entry.changes == {"active": [True, False]}


def test_a_logins_history_page_shows_its_password_changes(tenant, staff_client):
    from nymble import logins

    logins.login_set_password(user=tenant.rep.membership.user, password="rep-own-pass-1", by_admin=False)
    page = staff_client.get(f"/admin/nymble/membership/{tenant.rep.membership.pk}/history/")
    assert page.status_code == 200
    assert "password_changed" in page.content.decode() and "rep-own-pass-1" not in page.content.decode()


def test_a_record_the_admin_saves_without_a_service_is_audited_too(tenant, staff_client):
    from nymble.models import PriceTier

    tier = PriceTier.objects.get(organization=tenant.org, code="Retail")
    page = staff_client.post(f"/admin/nymble/pricetier/{tier.pk}/change/", {"code": "Retail", "name": "Shop prices"})
    assert page.status_code == 302, page.content.decode()[:2000]
    entry = AuditEvent.objects.get(object_type="PriceTier", action="updated")
    assert entry.object_id == "Retail" and entry.actor == tenant.admin.user.email
    assert entry.changes == {"name": ["Retail prices", "Shop prices"]}
