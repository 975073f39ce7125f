"""Deliveries (§12) to a real receiver on 127.0.0.1: signed as Standard Webhooks says (checked with
the `standardwebhooks` reference library and with our own code), after commit, retried with growing
waits up to 8 attempts, the endpoint deactivated after 3 days of failures, redelivered on demand."""
import base64
import datetime
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEvent
from webhooks import services
from webhooks.models import EVENT_TYPES, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tasks import send_due_deliveries

pytestmark = pytest.mark.django_db


def register(tenant, url, events=("*",)):
    response = tenant.admin_api.post("/api/webhooks", {"Url": url, "Events": list(events)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Runs what the request registered for after its commit (the tests' transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def deactivate(tenant, after_commit):
    with after_commit():
        response = tenant.admin_api.post(f"/api/customers/{tenant.customer.customer_number}/deactivate")
    assert response.status_code == 200
    return response


def test_a_delivery_is_signed_and_the_reference_library_verifies_it(tenant, receiver, after_commit):
    hook = register(tenant, receiver.url, ["customer.deactivated"])
    deactivate(tenant, after_commit)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    payload = Webhook(hook["Secret"]).verify(request["body"], request["headers"])  # raises unless signed right
    assert payload["Type"] == "customer.deactivated"
    assert set(payload) == {"Id", "Type", "OccurredAt", "OrganizationId", "Data"}
    assert payload["OrganizationId"] == str(tenant.org.pk)
    assert datetime.datetime.fromisoformat(payload["OccurredAt"]).tzinfo is not None
    assert payload["Data"] == tenant.admin_api.get(f"/api/customers/{tenant.customer.customer_number}").json()
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"] == payload["Id"] and headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    # the same by hand: v1, base64 HMAC-SHA256 of id.timestamp.body keyed by the secret's bytes
    key = base64.b64decode(hook["Secret"].removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request["body"]
    assert headers["webhook-signature"] == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    with pytest.raises(Exception):
        Webhook(base64.b64encode(b"another secret of 24 bytes").decode()).verify(request["body"], request["headers"])
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1 and delivery.response_code == 200


def test_money_in_the_data_is_an_exact_json_number(tenant, catalog, receiver, after_commit):
    register(tenant, receiver.url, ["order.created"])
    with after_commit():
        response = tenant.admin_api.post("/api/orders", {"Customer": {"CustomerNumber": "CUST-0042"},
                                                         "Items": [{"Sku": "WDG-100-BLU", "Quantity": 2}]},
                                         format="json")
    assert response.status_code == 201, response.content
    body = receiver.requests[0]["body"].decode()
    data = json.loads(body, parse_float=Decimal)["Data"]
    assert data == json.loads(response.content, parse_float=Decimal)
    assert '"Price":18.50' in body.replace(" ", "")


def test_every_event_type_is_delivered_by_the_service_that_makes_it(tenant, catalog, receiver, after_commit):
    register(tenant, receiver.url)
    api = tenant.admin_api

    def act(method, path, body=None, expected=(200, 201)):
        """One request, and what it left for after its commit (the deliveries, a generation)."""
        with after_commit():
            response = getattr(api, method)(path, body, format="json")
        assert response.status_code in expected, (path, response.content)
        return response.json()

    act("post", "/api/commissions/plans", {"SalesRepId": str(tenant.rep.sales_rep_id), "Name": "Standard",
                                           "DefaultRate": 0.1, "Active": True})
    act("post", "/api/customers", {"CustomerNumber": "CUST-7", "CompanyName": "Seven", "CompanyEmail": "a@seven.test",
                                   "Pricing": "Wholesale", "Terms": "Net30", "RepNumber": "REP-007"})
    act("patch", "/api/customers/CUST-7", {"CompanyName": "Seven Ltd."})
    act("post", "/api/customers/CUST-7/deactivate")
    act("post", "/api/customers/CUST-7/activate")
    order = {"Customer": {"CustomerNumber": "CUST-0042"}, "Items": [{"Sku": "WDG-100-BLU", "Quantity": 2}]}
    first, second, third = (act("post", "/api/orders", order)["OrderId"] for _ in range(3))
    act("patch", f"/api/orders/{first}", {"Status": "Processing"})
    act("post", f"/api/orders/{second}/cancel")
    invoice = act("post", f"/api/orders/{first}/invoice")
    unpaid = act("post", f"/api/orders/{third}/invoice")
    act("post", f"/api/invoices/{unpaid['InvoiceId']}/void")
    payments = f"/api/invoices/{invoice['InvoiceId']}/payments"
    act("post", payments, {"Amount": 10, "PaidAt": "2026-11-10T12:00:00Z"})
    act("post", payments, {"Amount": invoice["Total"] - 10, "PaidAt": "2026-11-11T12:00:00Z"})
    act("post", f"/api/invoices/{invoice['InvoiceId']}/credit-memos",
        {"CreditDate": "2026-11-20", "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 1}]})
    made = act("post", "/api/commissions/statements", {"SalesRepId": str(tenant.rep.sales_rep_id),
                                                       "PeriodStart": "2026-11-01", "PeriodEnd": "2026-11-30"},
               expected=(201, 202))
    statement = f"/api/commissions/statements/{made['CommissionStatementId']}"
    act("post", f"{statement}/approve", {})
    act("post", f"{statement}/mark-paid", {"Reference": "PAY-1"})
    november = {"PeriodStart": "2026-11-01", "PeriodEnd": "2026-11-30"}
    act("post", "/api/commissions/plans", {"SalesRepId": str(tenant.other_rep.sales_rep_id), "Name": "Other",
                                           "DefaultRate": 0.1, "Active": True})
    other = act("post", "/api/commissions/statements", {"SalesRepId": str(tenant.other_rep.sales_rep_id), **november},
                expected=(201, 202))
    act("post", f"/api/commissions/statements/{other['CommissionStatementId']}/void", {})
    assert set(receiver.types()) == set(EVENT_TYPES), sorted(set(EVENT_TYPES) - set(receiver.types()))
    paid = next(e for e in receiver.events() if e["Type"] == "statement.paid")
    assert paid["Data"]["Status"] == "Paid" and "Entries" not in paid["Data"]  # a statement without its lines
    assert paid["Data"] == {k: v for k, v in api.get(statement).json().items()
                            if k not in ("Entries", "Adjustments", "Disputes", "Events")}
    assert [e["Data"]["Status"] for e in receiver.events() if e["Type"].startswith("invoice.")] == [
        "Issued", "Issued", "Voided", "PartiallyPaid", "Paid", "Paid"]


def test_a_voided_statement_is_delivered(tenant, receiver, after_commit):
    from commissions.plans import services as plans
    from commissions.statements import services as statements

    plans.plan_create(organization=tenant.org, sales_rep=tenant.rep, name="P", default_rate=Decimal("0.1"),
                      active=True)
    register(tenant, receiver.url, ["statement.voided"])
    draft = statements.statement_generate(rep=tenant.rep, period_start=datetime.date(2026, 10, 1),
                                          period_end=datetime.date(2026, 10, 31), actor="test")
    with after_commit():
        response = tenant.admin_api.post(f"/api/commissions/statements/{draft.pk}/void", {}, format="json")
    assert response.status_code == 200, response.content
    assert receiver.types() == ["statement.voided"]


def test_only_active_subscribed_endpoints_of_the_organization_get_it(tenant, other_tenant, receiver, after_commit):
    register(tenant, receiver.url, ["order.created"])  # not this event
    off = register(tenant, receiver.url, ["customer.deactivated"])
    tenant.admin_api.patch(f"/api/webhooks/{off['WebhookId']}", {"Active": False}, format="json")
    register(other_tenant, receiver.url)  # every event, of another organization
    deactivate(tenant, after_commit)
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()
    on = register(tenant, receiver.url, ["customer.deactivated", "customer.activated"])
    with after_commit():
        tenant.admin_api.post(f"/api/customers/{tenant.customer.customer_number}/activate")
    assert receiver.types() == ["customer.activated"]
    assert str(WebhookDelivery.objects.get().endpoint_id) == on["WebhookId"]


def test_a_change_that_rolls_back_sends_nothing(tenant, receiver, django_capture_on_commit_callbacks):
    from customers import services as customers

    register(tenant, receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            customers.customer_set_active(customer=tenant.customer, active=False)
            raise RuntimeError("rolled back")
    assert callbacks == [] and receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_a_failed_delivery_is_retried_until_it_succeeds(tenant, receiver, after_commit):
    register(tenant, receiver.url, ["customer.deactivated"])
    receiver.answers = [(500, {}), (503, {})]
    deactivate(tenant, after_commit)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1 and delivery.response_code == 500
    assert delivery.next_attempt_at is not None and delivery.error == "Answered 500."
    assert WebhookEndpoint.objects.get().failing_since is not None
    assert send_due_deliveries() == 1
    assert send_due_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3 and delivery.response_code == 200
    assert WebhookEndpoint.objects.get().failing_since is None  # a success stops the clock
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1 and len(receiver.requests) == 3
    assert send_due_deliveries() == 0


def test_waits_grow_and_eight_attempts_are_all(tenant, receiver, after_commit, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 2, 3, 4, 5, 6, 7]
    register(tenant, receiver.url, ["customer.deactivated"])
    receiver.answers = [(500, {})] * 20
    deactivate(tenant, after_commit)
    delivery = WebhookDelivery.objects.get()
    waits = []
    for _ in range(7):
        waits.append((delivery.next_attempt_at - timezone.now()).total_seconds())
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())  # time passes
        assert send_due_deliveries() == 1
        delivery.refresh_from_db()
    assert waits == sorted(waits) and 0 < waits[0] <= 1
    assert delivery.attempts == 8 and delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert len(receiver.requests) == 8 and send_due_deliveries() == 0


def test_the_shipped_schedule_grows_makes_eight_attempts_and_beat_sweeps_it():
    from nymble import settings as shipped  # the module's values, whatever a test overrides
    from nymble.celery import app

    waits = shipped.WEBHOOK_RETRY_SCHEDULE
    assert len(waits) == 7 and waits == sorted(waits) and shipped.WEBHOOK_TIMEOUT_SECONDS == 10
    assert shipped.WEBHOOK_DEACTIVATE_AFTER == datetime.timedelta(days=3)
    assert shipped.CELERY_BEAT_SCHEDULE["webhook-deliveries-due"]["task"] in app.tasks


def test_an_endpoint_failing_for_three_days_is_deactivated(tenant, receiver, after_commit):
    hook = register(tenant, receiver.url, ["customer.deactivated", "customer.activated"])
    WebhookEndpoint.objects.update(failing_since=timezone.now() - datetime.timedelta(days=3, seconds=1))
    receiver.answers = [(500, {})] * 5
    deactivate(tenant, after_commit)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.active is False
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED
    assert AuditEvent.objects.filter(object_type="WebhookEndpoint", action="deactivated", actor="system").exists()
    shown = tenant.admin_api.get(f"/api/webhooks/{hook['WebhookId']}").json()
    assert shown["Active"] is False and shown["FailingSince"] is not None
    with after_commit():
        tenant.admin_api.post(f"/api/customers/{tenant.customer.customer_number}/activate")
    assert len(receiver.requests) == 1  # nothing more goes to it
    reactivated = tenant.admin_api.patch(f"/api/webhooks/{hook['WebhookId']}", {"Active": True}, format="json")
    assert reactivated.json()["Active"] is True and reactivated.json()["FailingSince"] is None


def test_less_than_three_days_of_failures_keeps_it_active(tenant, receiver, after_commit):
    register(tenant, receiver.url, ["customer.deactivated"])
    WebhookEndpoint.objects.update(failing_since=timezone.now() - datetime.timedelta(days=2, hours=23))
    receiver.answers = [(500, {})]
    deactivate(tenant, after_commit)
    assert WebhookEndpoint.objects.get().active is True


def test_a_slow_endpoint_is_a_timeout_and_does_not_hold_the_request(tenant, receiver, after_commit, settings):
    settings.WEBHOOK_EAGER_TIMEOUT_SECONDS = 0.5
    register(tenant, receiver.url, ["customer.deactivated"])
    receiver.delay = 2
    started = time.monotonic()
    deactivate(tenant, after_commit)
    assert time.monotonic() - started < 1.5
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_code is None
    assert "No answer within" in delivery.error


def test_a_dead_endpoint_never_breaks_the_request(tenant, receiver, after_commit):
    register(tenant, receiver.url, ["customer.deactivated"])
    receiver.server.shutdown()
    receiver.server.server_close()
    response = deactivate(tenant, after_commit)
    assert response.json()["Active"] is False
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and "connect" in delivery.error.lower()


def test_redirects_are_not_followed(tenant, receiver, after_commit):
    register(tenant, receiver.url, ["customer.deactivated"])
    receiver.answers = [(302, {"Location": receiver.url + "/elsewhere"})]
    deactivate(tenant, after_commit)
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_code == 302 and delivery.status == DeliveryStatus.PENDING


def test_the_guard_holds_at_send_time(tenant, receiver, after_commit, settings):
    register(tenant, receiver.url, ["customer.deactivated"])
    settings.WEBHOOK_ALLOWED_HOSTS = []  # no longer allowed: loopback is refused when it is sent
    deactivate(tenant, after_commit)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and "https" in delivery.error


def test_the_delivery_log_and_redelivery(tenant, other_tenant, receiver, after_commit):
    hook = register(tenant, receiver.url, ["customer.deactivated"])
    deactivate(tenant, after_commit)
    log = f"/api/webhooks/{hook['WebhookId']}/deliveries"
    listed = tenant.admin_api.get(log).json()
    assert listed["TotalRecords"] == 1
    first = listed["Data"][0]
    assert first["EventType"] == "customer.deactivated" and first["Status"] == "Delivered"
    assert first["Attempts"] == 1 and first["ResponseCode"] == 200 and first["NextAttemptAt"] is None
    assert set(first) == {"DeliveryId", "WebhookId", "EventId", "EventType", "Status", "Attempts", "ResponseCode",
                          "Error", "NextAttemptAt", "DeliveredAt", "CreatedAt"}
    with after_commit():
        again = tenant.admin_api.post(f"{log}/{first['DeliveryId']}/redeliver")
    assert again.status_code == 202, again.content
    assert again.json()["EventId"] == first["EventId"] and again.json()["DeliveryId"] != first["DeliveryId"]
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [first["EventId"]] * 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    listed = tenant.admin_api.get(log).json()
    assert listed["TotalRecords"] == 2 and listed["Data"][0]["DeliveryId"] == again.json()["DeliveryId"]
    assert tenant.admin_api.get(log, {"status": "Delivered"}).json()["TotalRecords"] == 2
    assert tenant.admin_api.get(log, {"status": "Nope"}).status_code == 400
    # another organization's admin, and other roles, reach none of it
    assert other_tenant.admin_api.get(log).status_code == 404
    assert other_tenant.admin_api.post(f"{log}/{first['DeliveryId']}/redeliver").status_code == 404
    assert tenant.rep_api.post(f"{log}/{first['DeliveryId']}/redeliver").status_code == 404
    assert tenant.admin_api.post(f"{log}/not-a-uuid/redeliver").status_code == 404
    # an inactive webhook is activated before it is redelivered to
    tenant.admin_api.patch(f"/api/webhooks/{hook['WebhookId']}", {"Active": False}, format="json")
    refused = tenant.admin_api.post(f"{log}/{first['DeliveryId']}/redeliver")
    assert refused.status_code == 409 and len(receiver.requests) == 2


def test_a_claimed_attempt_is_not_sent_twice(tenant, receiver, after_commit):
    register(tenant, receiver.url, ["customer.deactivated"])
    receiver.answers = [(500, {})]
    deactivate(tenant, after_commit)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert services.delivery_attempt(delivery.pk) is not None
    assert services.delivery_attempt(delivery.pk) is None  # delivered: nothing is due
    assert len(receiver.requests) == 2


def test_https_goes_to_the_checked_address_and_verifies_the_certificate_against_the_name(
        tenant, tls_receiver, after_commit, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]  # it resolves to loopback
    port = tls_receiver.server.server_address[1]
    hook = register(tenant, f"https://localhost:{port}/hooks", ["customer.deactivated", "customer.activated"])
    deactivate(tenant, after_commit)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    request = tls_receiver.requests[0]
    assert request["headers"]["Host"] == f"localhost:{port}"
    Webhook(hook["Secret"]).verify(request["body"], request["headers"])
    # a name the certificate does not carry is refused by TLS, though it reaches the same address
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    WebhookEndpoint.objects.update(url=f"https://127.0.0.1:{port}/hooks")
    with after_commit():
        tenant.admin_api.post(f"/api/customers/{tenant.customer.customer_number}/activate")
    failed = WebhookDelivery.objects.get(event_type="customer.activated")
    assert failed.status == DeliveryStatus.PENDING and "certificate" in failed.error.lower()
    assert len(tls_receiver.requests) == 1
