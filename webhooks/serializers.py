from rest_framework import serializers

from nymble.api.serializers import ApiSerializer, OptionalTextField
from webhooks.models import EVENT_TYPES, EVERY_EVENT, DeliveryStatus


class WebhookSerializer(ApiSerializer):
    WebhookId = serializers.UUIDField(source="id", read_only=True)
    Url = serializers.URLField(source="url", max_length=2000,
                               help_text="https, or http to a host named by WEBHOOK_ALLOWED_HOSTS; never an address "
                                         "on a private, loopback or link-local network unless that setting names it.")
    Events = serializers.ListField(source="events", child=serializers.ChoiceField(choices=(*EVENT_TYPES, EVERY_EVENT)),
                                   min_length=1, max_length=len(EVENT_TYPES) + 1,
                                   help_text="The event types delivered here; * for all.")
    Description = OptionalTextField(source="description", max_length=500, required=False)
    Active = serializers.BooleanField(source="active", required=False)
    FailingSince = serializers.DateTimeField(source="failing_since", read_only=True, allow_null=True,
                                             help_text="Deliveries have failed since then without one succeeding; "
                                                       "after 3 days the webhook is deactivated.")
    CreatedAt = serializers.DateTimeField(source="created_at", read_only=True)
    UpdatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class WebhookCreatedSerializer(WebhookSerializer):
    Secret = serializers.CharField(source="secret", read_only=True,
                                   help_text="whsec_ + base64: the Standard Webhooks signing secret, shown only now.")


class DeliverySerializer(serializers.Serializer):
    DeliveryId = serializers.UUIDField(source="id")
    WebhookId = serializers.UUIDField(source="endpoint_id")
    EventId = serializers.UUIDField(source="event_id", help_text="The event's Id: the webhook-id header.")
    EventType = serializers.ChoiceField(source="event_type", choices=EVENT_TYPES)
    Status = serializers.ChoiceField(source="status", choices=DeliveryStatus.choices)
    Attempts = serializers.IntegerField(source="attempts")
    ResponseCode = serializers.IntegerField(source="response_code", allow_null=True,
                                            help_text="The last attempt's answer; null when none came.")
    Error = serializers.CharField(source="error", help_text="Why the last attempt failed.")
    NextAttemptAt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    DeliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
    CreatedAt = serializers.DateTimeField(source="created_at")
