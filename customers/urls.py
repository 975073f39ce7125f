from django.urls import path

from customers.views import CustomerViewSet

customer = "customers/<str:customer_number>"

urlpatterns = [
    path("customers", CustomerViewSet.as_view({"get": "list", "post": "create", "put": "upsert"}, detail=False)),
    path(customer, CustomerViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, detail=True)),
    path(f"{customer}/activate", CustomerViewSet.as_view({"post": "activate"}, detail=True)),
    path(f"{customer}/deactivate", CustomerViewSet.as_view({"post": "deactivate"}, detail=True)),
    path(
        f"{customer}/contacts/<str:contact_id>/portal-login",
        CustomerViewSet.as_view({"post": "portal_login", "delete": "portal_login_revoke"}, detail=True),
    ),
]
