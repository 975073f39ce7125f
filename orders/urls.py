from django.urls import path

from orders.views import CustomerInvoiceViewSet, CustomerOrderViewSet, InvoiceViewSet, OrderViewSet

order = "orders/<str:order_id>"
invoice = "invoices/<str:invoice_id>"

urlpatterns = [
    path("orders", OrderViewSet.as_view({"get": "list", "post": "create"}, detail=False)),
    path(order, OrderViewSet.as_view({"get": "retrieve", "patch": "partial_update"}, detail=True)),
    path(f"{order}/cancel", OrderViewSet.as_view({"post": "cancel"}, detail=True)),
    path(f"{order}/invoice", OrderViewSet.as_view({"post": "invoice"}, detail=True)),
    path("invoices", InvoiceViewSet.as_view({"get": "list"}, detail=False)),
    path(invoice, InvoiceViewSet.as_view({"get": "retrieve"}, detail=True)),
    path(f"{invoice}/payments", InvoiceViewSet.as_view({"post": "payments"}, detail=True)),
    path(f"{invoice}/void", InvoiceViewSet.as_view({"post": "void"}, detail=True)),
    path(f"{invoice}/credit-memos", InvoiceViewSet.as_view({"post": "credit_memos"}, detail=True)),
    path("customers/<str:customer_number>/orders", CustomerOrderViewSet.as_view({"get": "list"}, detail=False)),
    path("customers/<str:customer_number>/invoices", CustomerInvoiceViewSet.as_view({"get": "list"}, detail=False)),
]
