"""The audit trail (§12): one append-only row per change made through the services."""
from django.db import models
from django.utils import timezone

from nymble.models import Organization
from nymble.scoping import ScopedQuerySet, principal_of


class AppendOnly(Exception):
    """Audit entries are never edited or deleted."""


class AuditEventQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        principal = principal_of(user)
        if principal is None or not principal.is_admin:
            return self.none()
        return self.in_organization_of(user)

    def update(self, **kwargs):
        raise AppendOnly("Audit entries are never edited.")

    def delete(self):
        raise AppendOnly("Audit entries are never deleted.")


class AuditEvent(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="audit_events")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=254, help_text="A user's email, an API client, `schedule` or `system`.")
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=254, help_text="The record's number, SKU or code where it has one.")
    action = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}; never a secret.")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id", "-occurred_at"]),
            models.Index(fields=["organization", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Audit entries are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Audit entries are never deleted.")
