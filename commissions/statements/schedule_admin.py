"""Each organization's statement schedule in the admin: its staff see and change their own (made
with the organization, never added or deleted here); superusers see every organization's."""
from django.contrib import admin

from commissions.models import StatementSchedule
from commissions.statements.schedule import schedule_update
from nymble.admin_base import ScopedAdmin


@admin.register(StatementSchedule)
class StatementScheduleAdmin(ScopedAdmin):
    list_display = ("organization", "enabled", "day_of_month", "hour", "time_zone", "last_run")
    fields = ("enabled", "day_of_month", "hour", "time_zone", "last_run")
    readonly_fields = ("time_zone", "last_run")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization", "periodic_task")

    def has_add_permission(self, request):
        return False  # made with the organization

    @admin.display(description="Time zone")
    def time_zone(self, obj):
        return obj.organization.time_zone

    @admin.display(description="Last run")
    def last_run(self, obj):
        return (obj.periodic_task.last_run_at if obj.periodic_task else None) or "—"

    def save_model(self, request, obj, form, change):
        """Through the service, so the beat task's crontab follows what was saved."""
        schedule_update(schedule=obj, enabled=obj.enabled, day_of_month=obj.day_of_month, hour=obj.hour)
