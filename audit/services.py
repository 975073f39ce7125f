"""Writing the audit trail: one explicit call at the end of every service that changes something.

Explicit calls rather than django-auditlog or django-simple-history: those listen to model
signals, which `.update()`, `bulk_create` and raw SQL never send, and the services use all three
(invoice numbers, activation of products, statement lines). A call in the service also records the
change as the business sees it (an order cancelled, a payment recorded on an invoice) instead of
rows touched, and writes in the service's own transaction, so a rollback leaves no entry.

    before = audit_snapshot(customer, children=("addresses", "contacts"))
    ...                                          # the change
    audit_record(customer, "updated", before=before)

`changes` is {field: [old, new]} of the record's own fields (and of the child lists named), with
related records by their number or code. Fields whose name speaks of a password, secret, token,
hash, fingerprint or idempotency key are never recorded.
"""
from __future__ import annotations

import datetime
import decimal
import uuid

from django.db import models

from audit.actors import current_actor
from audit.models import AuditEvent

SECRET_WORDS = ("password", "secret", "token", "hash", "fingerprint", "idempotency")
NOT_RECORDED = {"organization", "created_at", "updated_at"}
# The attribute that names a record on the wire, first found wins (§12: "the CustomerNumber, Sku, OrderNumber, …").
NATURAL_KEYS = ("customer_number", "sku", "order_number", "invoice_number", "rep_number", "org_code", "code", "key",
                "email")
TYPE_NAMES = {"OrganizationSalesRep": "SalesRep", "CustomerAttributeDefinition": "CustomerAttribute"}
EMPTY = (None, "", [], {})


def natural_key(obj: models.Model) -> str:
    if obj._meta.object_name == "Membership":  # a login's role in an organization: named by its email
        return obj.user.email
    for attr in NATURAL_KEYS:
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(obj.pk)


def object_type_of(obj: models.Model) -> str:
    name = obj._meta.object_name
    return TYPE_NAMES.get(name, name)


def _plain(value):
    """A JSON value: decimals as exact text, dates and times in ISO 8601, records by their key."""
    if isinstance(value, models.Model):
        return natural_key(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _secret(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS)


def _fields(obj: models.Model, parent: type[models.Model] | None = None) -> dict:
    out = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name in NOT_RECORDED or _secret(field.name):
            continue
        if field.is_relation:
            if parent is not None and field.related_model is parent:
                continue  # a child's pointer to the record it belongs to
            value = getattr(obj, field.name) if getattr(obj, field.attname) is not None else None
        else:
            value = getattr(obj, field.attname)
        out[field.name] = _plain(value)
    return out


def audit_snapshot(obj: models.Model, children: tuple[str, ...] = (), rows: dict | None = None) -> dict:
    """The record's fields, and each named child list (reverse foreign keys) read afresh — or, for
    a child list in `rows`, as given: the rows the caller has just written, in primary-key order,
    with their related records loaded."""
    snapshot = _fields(obj)
    for name in children:
        if rows and name in rows:
            snapshot[name] = [_fields(row, parent=type(obj)) for row in rows[name]]
            continue
        relation = obj._meta.get_field(name)
        joined = [field.name for field in relation.related_model._meta.concrete_fields
                  if field.is_relation and field.related_model is not type(obj)]
        rows = relation.related_model._base_manager.filter(**{relation.field.name: obj.pk}).select_related(
            *joined).order_by("pk")  # a fixed number of queries however many rows
        snapshot[name] = [_fields(row, parent=type(obj)) for row in rows]
    return snapshot


def changes_between(before: dict, after: dict) -> dict:
    return {
        key: [before.get(key), after.get(key)]
        for key in {**before, **after}
        if before.get(key) != after.get(key) and not (before.get(key) in EMPTY and after.get(key) in EMPTY)
    }


def audit_record(obj: models.Model, action: str, *, before: dict | None = None, children: tuple[str, ...] = (),
                 changes: dict | None = None, actor: str | None = None, organization_id=None,
                 object_type: str | None = None, object_id: str | None = None,
                 unchanged_too: bool = False, rows: dict | None = None) -> AuditEvent | None:
    """Records `action` on `obj` by the current actor (or `actor`).

    Without `changes` they are the difference between `before` (an `audit_snapshot` taken before the
    change; none for a new record) and the record now, with the same child lists. A change against
    a `before` that changed nothing records nothing. `rows` gives child lists just written (see
    `audit_snapshot`). Call it inside the service's transaction."""
    if changes is None:
        if before is not None:
            children = tuple(key for key in before if key not in _fields_names(obj))
        changes = changes_between(before or {}, audit_snapshot(obj, children, rows))
        if before is not None and not changes and not unchanged_too:
            return None
    return AuditEvent.objects.create(
        organization_id=organization_id or getattr(obj, "organization_id", None),
        actor=(actor or current_actor())[:254],
        object_type=object_type or object_type_of(obj),
        object_id=(object_id or natural_key(obj))[:254],
        action=action,
        changes=_plain(changes),
    )


def _fields_names(obj: models.Model) -> set[str]:
    return {field.name for field in obj._meta.concrete_fields}


def audit_admin_saved(obj: models.Model, before: dict | None) -> AuditEvent | None:
    """The entry of a record the admin saved without a service (`ScopedAdmin.save_model`), where
    it belongs to an organization (a login belongs to none: its memberships carry its changes)."""
    is_organization = obj._meta.object_name == "Organization"
    organization_id = obj.pk if is_organization else getattr(obj, "organization_id", None)
    if organization_id is None:
        return None
    return audit_record(obj, "created" if before is None else "updated", before=before,
                        organization_id=organization_id)
