"""`GET /api/audit-events`: the organization's audit trail for its admins, newest first."""
import datetime

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from audit.models import AuditEvent
from audit.serializers import AuditEventSerializer
from nymble.api.permissions import ADMIN
from nymble.api.views import ScopedViewSet
from nymble.models import Organization


class AuditEventFilter(django_filters.FilterSet):
    """Exact `objectType`, `objectId`, `actor`, `action`; `dateFrom` / `dateTo` (YYYY-MM-DD, inclusive)
    as calendar days in the organization's time zone."""

    objectType = django_filters.CharFilter(field_name="object_type")
    objectId = django_filters.CharFilter(field_name="object_id")
    actor = django_filters.CharFilter(field_name="actor")
    action = django_filters.CharFilter(field_name="action")
    dateFrom = django_filters.DateFilter(method="filter_from")
    dateTo = django_filters.DateFilter(method="filter_to")

    class Meta:
        model = AuditEvent
        fields = []

    def _start(self, day: datetime.date) -> datetime.datetime | None:
        zone = Organization.objects.get(pk=self.request.user.principal.organization_id).zone
        try:
            return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
        except OverflowError:
            return None

    def filter_from(self, queryset, name, day):
        start = self._start(day)
        return queryset if start is None else queryset.filter(occurred_at__gte=start)

    def filter_to(self, queryset, name, day):
        end = self._start(day + datetime.timedelta(days=1)) if day < datetime.date.max else None
        return queryset if end is None else queryset.filter(occurred_at__lt=end)


class AuditEventViewSet(mixins.ListModelMixin, ScopedViewSet):
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    action_roles = {"list": ADMIN}

    @extend_schema(summary="The organization's audit trail, newest first")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
