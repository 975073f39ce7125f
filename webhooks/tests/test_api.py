"""`/api/webhooks` (§12): admins register endpoints (the secret shown once), change, delete them and
read their deliveries; another organization's are 404, other roles may not."""
import uuid

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from webhooks.models import EVENT_TYPES, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/webhooks"


def register(api, url, events=("*",), **extra):
    response = api.post(URL, {"Url": url, "Events": list(events), **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_secret_is_shown_once(tenant, receiver):
    made = register(tenant.admin_api, receiver.url, ["customer.created", "order.created"], Description="ERP")
    assert made["Secret"].startswith("whsec_") and len(made["Secret"]) > 40
    assert made["Active"] is True and made["Events"] == ["customer.created", "order.created"]
    assert made["Description"] == "ERP" and made["FailingSince"] is None
    listed = tenant.admin_api.get(URL).json()
    assert listed["TotalRecords"] == 1 and "Secret" not in listed["Data"][0]
    detail = tenant.admin_api.get(f"{URL}/{made['WebhookId']}").json()
    assert "Secret" not in detail and detail["Url"] == receiver.url
    entry = AuditEvent.objects.get(object_type="WebhookEndpoint", action="created")
    assert made["Secret"] not in str(entry.changes) and entry.object_id == made["WebhookId"]


def test_patch_and_delete(tenant, receiver):
    made = register(tenant.admin_api, receiver.url)
    detail = f"{URL}/{made['WebhookId']}"
    changed = tenant.admin_api.patch(detail, {"Events": ["invoice.paid"], "Active": False, "Description": "x"},
                                     format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["Events"] == ["invoice.paid"] and changed.json()["Active"] is False
    assert AuditEvent.objects.filter(object_type="WebhookEndpoint", action="updated").exists()
    assert tenant.admin_api.delete(detail).status_code == 204
    assert tenant.admin_api.get(detail).status_code == 404
    assert AuditEvent.objects.filter(object_type="WebhookEndpoint", action="deleted").exists()


@pytest.mark.parametrize("body, field", [
    ({"Url": "ftp://hooks.example.com/x", "Events": ["*"]}, "Url"),
    ({"Url": "not a url", "Events": ["*"]}, "Url"),
    ({"Url": "http://hooks.example.com/x", "Events": ["*"]}, "Url"),  # plain http to a host not allowed
    ({"Url": "https://127.0.0.2/x", "Events": ["*"]}, "Url"),  # loopback, not named by the setting
    ({"Url": "https://hooks.example.com/x", "Events": ["customer.exploded"]}, "Events"),
    ({"Url": "https://hooks.example.com/x", "Events": []}, "Events"),
    ({"Url": "https://hooks.example.com/x"}, "Events"),
    ({"Url": "https://hooks.example.com/x", "Events": ["*"], "Colour": "red"}, "Colour"),
])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(tenant, body, field):
    response = tenant.admin_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert any(key.startswith(field) for key in response.json()["errors"]), response.json()
    assert not WebhookEndpoint.objects.exists()


def test_a_refused_url_on_patch_changes_nothing(tenant, receiver):
    made = register(tenant.admin_api, receiver.url)
    response = tenant.admin_api.patch(f"{URL}/{made['WebhookId']}", {"Url": "https://169.254.169.254/latest"},
                                      format="json")
    assert response.status_code == 400 and "Url" in response.json()["errors"]
    assert WebhookEndpoint.objects.get().url == receiver.url


def test_another_organizations_webhooks_are_404_and_other_roles_may_not(tenant, other_tenant, receiver):
    theirs = register(other_tenant.admin_api, receiver.url)
    detail = f"{URL}/{theirs['WebhookId']}"
    api = tenant.admin_api
    assert api.get(URL).json()["TotalRecords"] == 0
    for response in (api.get(detail), api.patch(detail, {"Active": False}, format="json"), api.delete(detail),
                     api.get(f"{detail}/deliveries"),
                     api.post(f"{detail}/deliveries/{uuid.uuid4()}/redeliver"),
                     api.get(f"{URL}/not-a-uuid"), api.get(f"{URL}/not-a-uuid/deliveries")):
        assert response.status_code == 404, response.content
    assert WebhookEndpoint.objects.get().active is True
    mine = register(api, receiver.url)
    for other in (tenant.rep_api, tenant.portal_api):
        assert other.get(URL).status_code == 403
        assert other.post(URL, {"Url": receiver.url, "Events": ["*"]}, format="json").status_code == 403
        assert other.get(f"{URL}/{mine['WebhookId']}").status_code == 404
        assert other.get(f"{URL}/{mine['WebhookId']}/deliveries").status_code == 404
    assert APIClient().get(URL).status_code == 401


def test_every_event_type_is_accepted_and_listed_in_the_schema(tenant, receiver):
    made = register(tenant.admin_api, receiver.url, EVENT_TYPES)
    assert made["Events"] == list(EVENT_TYPES)
    schema = tenant.admin_api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in ("/api/webhooks", "/api/webhooks/{webhookId}", "/api/webhooks/{webhookId}/deliveries",
                 "/api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", "/api/audit-events"):
        assert path in paths, sorted(p for p in paths if "webhook" in p or "audit" in p)
