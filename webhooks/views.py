"""Webhooks (§12): an organization's admins register endpoints and read their delivery log."""
import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from nymble.api.filters import BooleanParam
from nymble.api.permissions import EVERY_ROLE
from nymble.api.views import ScopedViewSet
from webhooks import services
from webhooks.models import EVENT_TYPES, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.serializers import DeliverySerializer, WebhookCreatedSerializer, WebhookSerializer


class WebhookFilter(django_filters.FilterSet):
    active = BooleanParam(field_name="active")

    class Meta:
        model = WebhookEndpoint
        fields = []


class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = WebhookEndpoint
    serializer_class = WebhookSerializer
    lookup_url_kwarg = "webhook_id"
    filterset_class = WebhookFilter

    def list(self, request, *args, **kwargs):
        """The organization's webhooks."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        """A webhook (its secret is shown only when it is registered)."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses={201: WebhookCreatedSerializer})
    def create(self, request):
        """Register a webhook; the answer carries its signing secret, shown only this once."""
        endpoint = services.endpoint_create(organization=self.organization, **self.validated_input())
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, webhook_id):
        """Change a webhook's Url, Events, Description or Active."""
        endpoint = self.get_object()
        endpoint = services.endpoint_update(endpoint=endpoint, **self.validated_input(endpoint, partial=True))
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, webhook_id):
        """Delete a webhook and its delivery log."""
        services.endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=DeliveryStatus.choices)
    eventType = django_filters.ChoiceFilter(field_name="event_type", choices=[(e, e) for e in EVENT_TYPES])

    class Meta:
        model = WebhookDelivery
        fields = []


class DeliveryViewSet(mixins.ListModelMixin, ScopedViewSet):
    """A webhook's deliveries, newest first; another organization's webhook is a 404."""

    model = WebhookDelivery
    serializer_class = DeliverySerializer
    lookup_url_kwarg = "delivery_id"
    filterset_class = DeliveryFilter
    # Nested under a webhook: whoever cannot see the webhook (every role but its organization's
    # admins) gets a 404 from the queryset, as for any record out of scope.
    action_roles = {"list": EVERY_ROLE, "redeliver": EVERY_ROLE}

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        try:
            endpoint = WebhookEndpoint.objects.visible_to(self.request.user).get(pk=self.kwargs["webhook_id"])
        except (WebhookEndpoint.DoesNotExist, DjangoValidationError, ValueError):
            raise NotFound() from None  # another organization's webhook, or no id at all
        return queryset.filter(endpoint=endpoint)

    def list(self, request, *args, **kwargs):
        """A webhook's delivery log: event, status, response code, attempts, next attempt."""
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def redeliver(self, request, webhook_id, delivery_id):
        """Send a delivery's event again (same Id and body), as a new delivery in the log."""
        delivery = services.delivery_redeliver(delivery=self.get_object())
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
