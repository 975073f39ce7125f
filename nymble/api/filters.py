"""`search`, `sortOn` and `sortDirection` as §3 names them; each view declares its own fields."""
import django_filters
from django import forms
from rest_framework import filters, serializers

from nymble.api.pagination import query_param


class SearchFilter(filters.SearchFilter):
    """Case-insensitive substring search (`?search=acme`): over the view's `search_fields`, or
    through its `search_queryset(queryset, term)` when matching needs more than field lookups."""

    search_param = "search"

    def filter_queryset(self, request, queryset, view):
        custom = getattr(view, "search_queryset", None)
        if custom is None:
            return super().filter_queryset(request, queryset, view)
        term = (query_param(request, self.search_param) or "").strip()
        return custom(queryset, term) if term else queryset

    def get_schema_operation_parameters(self, view):
        if not (getattr(view, "search_fields", None) or getattr(view, "search_queryset", None)):
            return []
        return [{"name": "search", "in": "query", "required": False, "schema": {"type": "string"}}]


class SortFilter(filters.BaseFilterBackend):
    """`?sortOn=Name&sortDirection=desc` over the view's `sort_fields` {wire name: ORM path}.

    The primary key breaks ties so pages never repeat or skip a row.
    """

    def filter_queryset(self, request, queryset, view):
        sort_fields: dict = getattr(view, "sort_fields", None) or {}
        if not sort_fields:
            return queryset
        by_lower = {name.lower(): name for name in sort_fields}
        raw = query_param(request, "sortOn") or view.default_sort
        name = by_lower.get(raw.lower())
        if name is None:
            raise serializers.ValidationError({"sortOn": [f"Must be one of: {', '.join(sort_fields)}."]})
        direction = (query_param(request, "sortDirection") or "asc").lower()
        if direction not in ("asc", "desc"):
            raise serializers.ValidationError({"sortDirection": ["Must be 'asc' or 'desc'."]})
        prefix = "-" if direction == "desc" else ""
        return queryset.order_by(f"{prefix}{sort_fields[name]}", f"{prefix}pk")

    def get_schema_operation_parameters(self, view):
        sort_fields = getattr(view, "sort_fields", None) or {}
        if not sort_fields:
            return []
        return [
            {
                "name": "sortOn",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": list(sort_fields), "default": view.default_sort},
            },
            {"name": "sortDirection", "in": "query", "required": False, "schema": {"type": "string", "enum": ["asc", "desc"]}},
        ]


class _StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise forms.ValidationError("Must be true or false.")


class BooleanParam(django_filters.BooleanFilter):
    """`?active=true|false`; anything else is a 400 rather than silently no filter."""

    field_class = _StrictBooleanField
