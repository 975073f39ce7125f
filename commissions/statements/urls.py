"""Routes of the statements API, relative to /api/."""
from django.urls import path

from commissions.statements.views import CommissionStatementViewSet as Statements
from commissions.statements.views import OrderSalesCreditsViewSet

statement = "commissions/statements/<str:statement_id>"

urlpatterns = [
    path("commissions/statements", Statements.as_view({"get": "list", "post": "create"}, detail=False)),
    path("commissions/statements/mark-paid", Statements.as_view({"post": "mark_paid_many"}, detail=False)),
    path("commissions/payouts.csv", Statements.as_view({"get": "payouts"}, detail=False)),
    path(statement, Statements.as_view({"get": "retrieve"}, detail=True)),
    path(f"{statement}/recalculate", Statements.as_view({"post": "recalculate"}, detail=True)),
    path(f"{statement}/approve", Statements.as_view({"post": "approve"}, detail=True)),
    path(f"{statement}/mark-paid", Statements.as_view({"post": "mark_paid"}, detail=True)),
    path(f"{statement}/void", Statements.as_view({"post": "void"}, detail=True)),
    path(f"{statement}/export.csv", Statements.as_view({"get": "export"}, detail=True)),
    path(f"{statement}/adjustments", Statements.as_view({"post": "adjust"}, detail=True)),
    path(f"{statement}/adjustments/<str:adjustment_id>",
         Statements.as_view({"delete": "remove_adjustment"}, detail=True)),
    path(f"{statement}/disputes", Statements.as_view({"post": "dispute"}, detail=True)),
    path(f"{statement}/disputes/<str:dispute_id>/resolve", Statements.as_view({"post": "resolve"}, detail=True)),
    path("orders/<str:order_id>/sales-credits", OrderSalesCreditsViewSet.as_view({"put": "update"}, detail=True)),
]
