"""The organization's webhooks in the admin (§9): add one (the secret shown once), refusals on the
field, the delivery log and redelivery — scoped to the staff user's organization."""
import pytest

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

ADD = "/admin/webhooks/webhookendpoint/add/"


def test_adding_a_webhook_shows_its_secret_once(staff_client, tenant, receiver):
    page = staff_client.post(ADD, {"url": receiver.url, "events": ["customer.created", "invoice.paid"],
                                   "description": "ERP", "active": "on"}, follow=True)
    assert page.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organization == tenant.org and endpoint.events == ["customer.created", "invoice.paid"]
    assert endpoint.secret in page.content.decode()
    change = staff_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in change
    assert "latest deliveries" in change.lower()


def test_a_refused_url_comes_back_filled_in_with_the_message_on_the_field(staff_client):
    page = staff_client.post(ADD, {"url": "https://192.168.0.10/hooks", "events": ["*"], "description": "mine"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "private, loopback or link-local" in text and 'value="https://192.168.0.10/hooks"' in text
    assert "mine" in text and not WebhookEndpoint.objects.exists()


def test_only_the_organizations_own_webhooks_and_deliveries(staff_client, tenant, other_tenant, receiver,
                                                            django_capture_on_commit_callbacks):
    mine = services.endpoint_create(organization=tenant.org, url=receiver.url, events=["*"])
    theirs = services.endpoint_create(organization=other_tenant.org, url=receiver.url + "/globex", events=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_emit(organization_id=other_tenant.org.pk, event_type="order.created", data=lambda: {})
    listing = staff_client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert receiver.url in listing and "/globex" not in listing
    assert staff_client.get(f"/admin/webhooks/webhookendpoint/{theirs.pk}/change/").status_code in (302, 404)
    their_delivery = WebhookDelivery.objects.get()
    assert staff_client.get(f"/admin/webhooks/webhookdelivery/{their_delivery.pk}/change/").status_code in (302, 404)
    assert "order.created" not in staff_client.get("/admin/webhooks/webhookdelivery/").content.decode()
    assert mine.pk != theirs.pk


def test_redeliver_from_the_delivery_log(staff_client, tenant, receiver, django_capture_on_commit_callbacks):
    services.endpoint_create(organization=tenant.org, url=receiver.url, events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_emit(organization_id=tenant.org.pk, event_type="order.created", data=lambda: {"X": 1})
    delivery = WebhookDelivery.objects.get()
    assert staff_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        page = staff_client.post("/admin/webhooks/webhookdelivery/", {"action": "redeliver",
                                                                      "_selected_action": [delivery.pk]}, follow=True)
    assert page.status_code == 200 and "sent again" in page.content.decode()
    assert WebhookDelivery.objects.count() == 2 and len(receiver.requests) == 2
    assert receiver.requests[0]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]


def test_deleting_a_webhook_goes_through_the_service(staff_client, tenant, receiver):
    endpoint = services.endpoint_create(organization=tenant.org, url=receiver.url, events=["*"])
    page = staff_client.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/delete/", {"post": "yes"}, follow=True)
    assert page.status_code == 200 and not WebhookEndpoint.objects.exists()
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(object_type="WebhookEndpoint", action="deleted").exists()
