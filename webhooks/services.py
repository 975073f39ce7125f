"""Webhook endpoints, the events the domains emit, and deliveries with their retries (§12).

A domain service calls `webhook_emit(...)` inside its transaction with a function that gives the
resource as an admin's GET shows it. For every active endpoint of the organization subscribed to
the event, a delivery row is written in that same transaction (a rollback sends nothing) and sent
after commit by the worker (in-process with a short timeout in the embedded default). A failed
attempt waits its turn in `WEBHOOK_RETRY_SCHEDULE`; `send_due_deliveries` (beat) sends what is
due, each attempt first claiming its row, so two workers never send one attempt twice. An
endpoint that has failed without a success for `WEBHOOK_DEACTIVATE_AFTER` is deactivated.
"""
from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from audit.services import audit_record, audit_snapshot
from nymble.api.json import DecimalJSONRenderer
from nymble.api.problems import Conflict
from nymble.cache import cached_in_generation, generation_changed
from nymble.models import Organization
from webhooks.addresses import url_refusal
from webhooks.models import EVENT_TYPES, EVERY_EVENT, DeliveryStatus, WebhookDelivery, WebhookEndpoint, subscribes
from webhooks.signing import secret_new, signed_headers
from webhooks import transport

# ---------------------------------------------------------------- endpoints


def _checked(url: str | None, events: list | None) -> None:
    errors = {}
    if url is not None and (refusal := url_refusal(url)):
        errors["Url"] = [refusal]
    if events is not None:
        unknown = [event for event in events if event != EVERY_EVENT and event not in EVENT_TYPES]
        if unknown:
            errors["Events"] = [f"Unknown event type '{event}'." for event in unknown]
        elif not events:
            errors["Events"] = ["Name at least one event type, or * for all."]
    if errors:
        raise serializers.ValidationError(errors)


@transaction.atomic
def endpoint_create(*, organization: Organization, url: str, events: list[str], description: str = "",
                    active: bool = True) -> WebhookEndpoint:
    """A new endpoint with a new secret (the caller shows it once)."""
    _checked(url, events)
    endpoint = WebhookEndpoint.objects.create(organization=organization, url=url, events=list(dict.fromkeys(events)),
                                              description=description, active=active, secret=secret_new())
    audit_record(endpoint, "created", object_id=str(endpoint.pk))
    _endpoints_changed(organization.pk)
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Sets `url`, `events`, `description` or `active`; reactivating starts its failure clock afresh."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = audit_snapshot(endpoint)
    _checked(changes.get("url"), changes.get("events"))
    if "events" in changes:
        changes["events"] = list(dict.fromkeys(changes["events"]))
    if changes.get("active") and not endpoint.active:
        endpoint.failing_since = None
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.updated_at = timezone.now()
    endpoint.save()
    audit_record(endpoint, "updated", before=before, object_id=str(endpoint.pk))
    _endpoints_changed(endpoint.organization_id)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log; the audit trail keeps that it existed."""
    audit_record(endpoint, "deleted", changes={"url": [endpoint.url, None]}, object_id=str(endpoint.pk))
    _endpoints_changed(endpoint.organization_id)
    endpoint.delete()


# ---------------------------------------------------------------- events


ENDPOINTS_TTL = 10 * 60  # seconds


def _generation_key(organization_id) -> str:
    return f"webhooks:generation:{organization_id}"


def _endpoints_changed(organization_id) -> None:
    """An endpoint of the organization was written: its next event reads them afresh."""
    generation_changed(_generation_key(organization_id))


def _subscriptions(organization_id) -> list[tuple]:
    """(id, events) of the organization's active endpoints. Every write that emits asks, and nearly
    always nothing changed: so from the shared cache, per generation (nymble.cache)."""
    def read() -> list[tuple]:
        return list(WebhookEndpoint.objects.filter(organization_id=organization_id, active=True)
                    .order_by("created_at", "pk").values_list("pk", "events"))

    return cached_in_generation(_generation_key(organization_id), f"webhooks:endpoints:{organization_id}", read,
                                ENDPOINTS_TTL)


def webhook_emit(*, organization_id, event_type: str, data: Callable[[], dict]) -> None:
    """Queues `event_type` for the organization's subscribed endpoints; `data()` is called only
    when one is. Call inside the writing transaction."""
    assert event_type in EVENT_TYPES, event_type
    endpoints = [pk for pk, events in _subscriptions(organization_id) if subscribes(events, event_type)]
    if not endpoints:
        return
    event_id = uuid.uuid4()
    body = DecimalJSONRenderer().render({
        "Id": str(event_id), "Type": event_type, "OccurredAt": timezone.now().isoformat(),
        "OrganizationId": str(organization_id), "Data": data(),
    }).decode()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=endpoint_id, event_id=event_id, event_type=event_type, body=body,
                        next_attempt_at=timezone.now())
        for endpoint_id in endpoints
    )
    _send_after_commit([delivery.pk for delivery in deliveries])


def _send_after_commit(delivery_ids: list) -> None:
    from webhooks.tasks import send_delivery

    def send():
        for delivery_id in delivery_ids:
            send_delivery.delay(str(delivery_id))

    # robust: a failure to enqueue (a broker down) never fails the request; the beat sweep sends them.
    transaction.on_commit(send, robust=True)


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same event (its Id and body) sent again to its endpoint, as a new delivery in the log."""
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    if not endpoint.active:
        raise Conflict("The webhook is inactive: activate it (PATCH Active: true) before redelivering.")
    again = WebhookDelivery.objects.create(endpoint=endpoint, event_id=delivery.event_id,
                                           event_type=delivery.event_type, body=delivery.body,
                                           next_attempt_at=timezone.now())
    audit_record(endpoint, "redelivered", changes={"event": [None, str(delivery.event_id)]},
                 object_id=str(endpoint.pk))
    _send_after_commit([again.pk])
    return again


# ---------------------------------------------------------------- attempts


def _claimed(delivery_id, now: datetime.datetime) -> bool:
    """Takes the attempt: moves its next attempt past the time an attempt may take, so nobody else
    starts it meanwhile (and a worker that dies mid-attempt leaves it to be retried)."""
    lease = datetime.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 30)
    return bool(WebhookDelivery.objects.due(now).filter(pk=delivery_id).update(next_attempt_at=now + lease))


def delivery_attempt(delivery_id, *, timeout: float | None = None) -> WebhookDelivery | None:
    """One attempt of a due delivery (None when it is not due or someone else has it)."""
    now = timezone.now()
    if not _claimed(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _finish(delivery, status=DeliveryStatus.FAILED, error="The webhook is inactive.")
    body = delivery.body.encode()
    headers = signed_headers(endpoint.secret, str(delivery.event_id), int(now.timestamp()), body)
    code, error = transport.post(endpoint.url, body, headers, timeout or settings.WEBHOOK_TIMEOUT_SECONDS)
    return _record(delivery, code, error)


def _finish(delivery: WebhookDelivery, **fields) -> WebhookDelivery:
    for field, value in {"next_attempt_at": None, **fields}.items():
        setattr(delivery, field, value)
    delivery.save()
    return delivery


@transaction.atomic
def _record(delivery: WebhookDelivery, code: int | None, error: str) -> WebhookDelivery:
    """The attempt's outcome on the delivery, and on its endpoint's failure clock."""
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery.attempts += 1  # the attempt was claimed: nobody else writes this row meanwhile
    delivery.response_code = code
    if not error:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return _finish(delivery, status=DeliveryStatus.DELIVERED, delivered_at=now, error="")
    schedule = settings.WEBHOOK_RETRY_SCHEDULE  # the waits before the 2nd, 3rd, … attempt (seconds)
    if delivery.attempts > len(schedule):
        _finish(delivery, status=DeliveryStatus.FAILED, error=error[:500])
    else:
        _finish(delivery, error=error[:500],
                next_attempt_at=now + datetime.timedelta(seconds=schedule[delivery.attempts - 1]))
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
    if endpoint.active and now - endpoint.failing_since >= settings.WEBHOOK_DEACTIVATE_AFTER:
        _deactivate(endpoint)
    return delivery


def _deactivate(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, updated_at=timezone.now())
    _endpoints_changed(endpoint.organization_id)
    endpoint.deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, error="The webhook was deactivated.")
    audit_record(endpoint, "deactivated", actor="system",
                 changes={"active": [True, False]},
                 object_id=str(endpoint.pk))


def due_delivery_ids(limit: int = 500) -> list:
    return list(WebhookDelivery.objects.due(timezone.now()).order_by("next_attempt_at")
                .values_list("pk", flat=True)[:limit])
