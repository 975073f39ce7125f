"""The audit trail in the admin: read-only, scoped like every other list."""
from django.contrib import admin

from audit.models import AuditEvent
from nymble.admin_base import ScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    list_display = ("occurred_at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor")
    date_hierarchy = "occurred_at"
    fields = ("occurred_at", "actor", "object_type", "object_id", "action", "changes")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
