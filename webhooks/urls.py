from django.urls import path

from webhooks.views import DeliveryViewSet, WebhookViewSet

webhook = "webhooks/<str:webhook_id>"

urlpatterns = [
    path("webhooks", WebhookViewSet.as_view({"get": "list", "post": "create"}, detail=False)),
    path(webhook, WebhookViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"},
                                         detail=True)),
    path(f"{webhook}/deliveries", DeliveryViewSet.as_view({"get": "list"}, detail=False)),
    path(f"{webhook}/deliveries/<str:delivery_id>/redeliver", DeliveryViewSet.as_view({"post": "redeliver"},
                                                                                       detail=True)),
]
