from django.urls import path

from commissions.plans.views import CommissionPlanViewSet

plan = "commissions/plans/<str:plan_id>"

urlpatterns = [
    path("commissions/plans", CommissionPlanViewSet.as_view({"get": "list", "post": "create"}, detail=False)),
    path(plan, CommissionPlanViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"},
                                             detail=True)),
    path(f"{plan}/activate", CommissionPlanViewSet.as_view({"post": "activate"}, detail=True)),
    path(f"{plan}/deactivate", CommissionPlanViewSet.as_view({"post": "deactivate"}, detail=True)),
]
