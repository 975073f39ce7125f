"""Webhook endpoints of an organization and the log of their deliveries (§12)."""
import uuid

from django.db import models
from django.utils import timezone

from nymble.models import Organization
from nymble.scoping import ScopedQuerySet, principal_of

EVENT_TYPES = (
    "customer.created", "customer.updated", "customer.activated", "customer.deactivated",
    "order.created", "order.status_changed", "order.cancelled",
    "invoice.created", "invoice.payment_recorded", "invoice.paid", "invoice.voided",
    "credit_memo.created",
    "statement.generated", "statement.approved", "statement.paid", "statement.voided",
)
EVERY_EVENT = "*"


class AdminsOnlyQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        principal = principal_of(user)
        if principal is None or not principal.is_admin:
            return self.none()
        return self.in_organization_of(user)


class WebhookEndpoint(models.Model):
    id = models.UUIDField("WebhookId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField("URL", max_length=2000)
    events = models.JSONField(default=list, help_text="Event types, or * for all.")
    description = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    # Standard Webhooks: "whsec_" + base64 of random bytes. Kept as is, since signing needs it; shown once.
    secret = models.CharField(max_length=100, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False,
                                         help_text="The first failure since the last delivery that succeeded.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AdminsOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "webhook"

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return subscribes(self.events, event_type)


def subscribes(events: list[str], event_type: str) -> bool:
    """Whether an endpoint listening to `events` wants `event_type`."""
    return EVERY_EVENT in events or event_type in events


class DeliveryStatus(models.TextChoices):
    PENDING = "Pending"  # waiting for its next attempt
    DELIVERED = "Delivered"
    FAILED = "Failed"  # every attempt failed, or its endpoint was deactivated


class DeliveryQuerySet(AdminsOnlyQuerySet):
    organization_lookup = "endpoint__organization"

    def due(self, now):
        return self.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    id = models.UUIDField("DeliveryId", primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(help_text="The event's Id and webhook-id: the same on every attempt and redelivery.")
    event_type = models.CharField(max_length=64)
    body = models.TextField(help_text="The JSON sent, exactly as signed.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why the last attempt failed.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
