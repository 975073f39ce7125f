"""`{% audit_entries object %}`: a record's audit entries on its admin history page."""
from django import template

from audit.models import AuditEvent
from audit.services import natural_key, object_type_of

register = template.Library()
HISTORY_LIMIT = 500


@register.inclusion_tag("admin/audit/entries.html", takes_context=True)
def audit_entries(context, obj):
    visible = AuditEvent.objects.visible_to(context["request"].user)
    entries = visible.filter(object_type=object_type_of(obj), object_id=natural_key(obj))[:HISTORY_LIMIT]
    # Pairs, not the dict: a template's `changes.items` would look up a field named "items".
    return {"rows": [(entry, sorted(entry.changes.items())) for entry in entries], "limit": HISTORY_LIMIT}
