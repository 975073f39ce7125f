"""Catalog routes, relative to /api/ (included from nymble/api_urls.py)."""
from django.urls import path

from orders.catalog.views import ProductViewSet

urlpatterns = [
    path("products", ProductViewSet.as_view({"get": "list", "post": "create", "put": "upsert"}, detail=False)),
    path("products/<str:sku>", ProductViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, detail=True)),
]
