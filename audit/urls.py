from django.urls import path

from audit.views import AuditEventViewSet

urlpatterns = [
    path("audit-events", AuditEventViewSet.as_view({"get": "list"}, detail=False)),
]
