"""Routes of the statements API, relative to /api/."""
from django.urls import path

from commissions.statements.views import CommissionStatementViewSet as Statements
from commissions.statements.views import OrderSalesCreditsViewSet

statement = "commissions/statements/<str:statement_id>"

urlpatterns = [
    path("commissions/statements", Statements.as_view({"get": "list", "post": "create"}, detail=False)),
    path(statement, Statements.as_view({"get": "retrieve"}, detail=True)),
    path(f"{statement}/recalculate", Statements.as_view({"post": "recalculate"}, detail=True)),
    path(f"{statement}/approve", Statements.as_view({"post": "approve"}, detail=True)),
    path(f"{statement}/mark-paid", Statements.as_view({"post": "mark_paid"}, detail=True)),
    path(f"{statement}/void", Statements.as_view({"post": "void"}, detail=True)),
    path(f"{statement}/export.csv", Statements.as_view({"get": "export"}, detail=True)),
    path("orders/<str:order_id>/sales-credits", OrderSalesCreditsViewSet.as_view({"put": "update"}, detail=True)),
]
