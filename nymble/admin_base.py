"""The admin's scope: every ModelAdmin starts from the model's `visible_to(request.user)`.

A staff user acts as the admin of its organization; only superusers see every organization.
Objects a staff user creates belong to its organization, whatever the form says.
"""
from django import forms
from django.contrib import admin, messages
from django.db import models
from rest_framework.exceptions import APIException

from nymble.api.problems import flatten_errors
from nymble.scoping import principal_of
from nymble.spreadsheets import ListExportMixin


def api_error_text(exc: APIException) -> str:
    errors = getattr(exc, "errors", None) or flatten_errors(exc.detail)
    if isinstance(errors, dict):
        return "; ".join(f"{field}: {' '.join(msgs)}" if field else " ".join(msgs) for field, msgs in errors.items())
    return str(errors)


class ScopedAdmin(ListExportMixin, admin.ModelAdmin):
    organization_field = "organization"
    # A record's history page lists its audit entries (the template is the audit app's).
    object_history_template = "admin/audit/object_history.html"

    def get_queryset(self, request):
        qs = self.model.objects.visible_to(request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    @staticmethod
    def principal(request):
        return principal_of(request.user)

    def _in_scope(self, request) -> bool:
        principal = self.principal(request)
        return principal is not None and principal.is_admin

    def has_module_permission(self, request):
        return self._in_scope(request)

    def has_view_permission(self, request, obj=None):
        return self._in_scope(request)

    def has_add_permission(self, request):
        return self._in_scope(request)

    def has_change_permission(self, request, obj=None):
        return self._in_scope(request)

    def has_delete_permission(self, request, obj=None):
        return False  # nothing in the back office is deleted; deactivate instead

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self.organization_field:
            exclude.append(self.organization_field)
        return exclude

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and self.organization_field:
            filters.insert(0, self.organization_field)
        return filters

    def save_model(self, request, obj, form, change):
        """The default write, for records without a service of their own (price tiers, attribute
        definitions, memberships): saved as the form says, with its audit entry."""
        from audit.services import audit_admin_saved, audit_snapshot  # the audit app builds on this one

        if not change and not request.user.is_superuser and self.organization_field:
            setattr(obj, f"{self.organization_field}_id", self.principal(request).organization_id)
        before = audit_snapshot(type(obj)._base_manager.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit_admin_saved(obj, before)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **scoped_choices(db_field, request, kwargs))

    def run_service(self, request, service, **kwargs):
        """Calls a service, showing its refusal as a message instead of an error page."""
        try:
            return service(**kwargs)
        except APIException as exc:
            self.message_user(request, api_error_text(exc), messages.ERROR)
            return None


def scoped_choices(db_field, request, kwargs: dict) -> dict:
    """Choices of related tenant objects (and what a raw id may name) come from the same scope."""
    related = db_field.related_model
    if hasattr(related.objects, "visible_to"):
        kwargs["queryset"] = related.objects.visible_to(request.user)
    return kwargs


class ScopedInline(admin.TabularInline):
    extra = 0
    # Inputs narrow enough for a row of a tabular inline to fit the page.
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 14})},
        models.EmailField: {"widget": forms.EmailInput(attrs={"size": 24})},
        models.DecimalField: {"widget": forms.NumberInput(attrs={"style": "width: 7em"})},
    }

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **scoped_choices(db_field, request, kwargs))

    def has_view_permission(self, request, obj=None):
        principal = principal_of(request.user)
        return principal is not None and principal.is_admin

    has_change_permission = has_add_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)


class ReadOnlyInline(ScopedInline):
    """Shown for the record: nothing added, changed or deleted from here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A sidebar filter on a related model listing only what the staff user may see."""

    def field_choices(self, field, request, model_admin):
        return [(obj.pk, str(obj)) for obj in field.related_model.objects.visible_to(request.user)]


def form_errors_from(exc: APIException, wire_to_field: dict[str, str]) -> dict[str, list[str]]:
    """A service's refusal as form errors: wire field names mapped to form fields, the rest general."""
    errors = getattr(exc, "errors", None) or flatten_errors(exc.detail)
    out: dict[str, list[str]] = {}
    for name, messages_ in errors.items():
        out.setdefault(wire_to_field.get(name.split(".")[0], None) or "__all__", []).extend(
            [f"{name}: {m}" if name not in wire_to_field else m for m in messages_]
        )
    return out
