"""The list envelope of §3: {Data, TotalRecords, CurrentPage, PageSize, TotalPages}."""
import math

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


def query_param(request, name: str):
    """A query parameter looked up case-insensitively (`PageSize` or `pagesize`)."""
    if name in request.query_params:
        return request.query_params.get(name)
    wanted = name.lower()
    for key, value in request.query_params.items():
        if key.lower() == wanted:
            return value
    return None


def _positive_int(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = query_param(request, name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise serializers.ValidationError({name: [f"Must be a whole number from 1{limit}."]})
    return value


class EnvelopePagination(BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.page_size = _positive_int(request, "PageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        self.page_number = _positive_int(request, "PageNumber", 1)
        self.total = queryset.count()
        start = (self.page_number - 1) * self.page_size
        if start >= self.total:  # past the last page: no rows, and no offset too big for the database
            return []
        return list(queryset[start : start + self.page_size])

    def get_paginated_response(self, data):
        return Response(
            {
                "Data": data,
                "TotalRecords": self.total,
                "CurrentPage": self.page_number,
                "PageSize": self.page_size,
                "TotalPages": math.ceil(self.total / self.page_size) if self.total else 0,
            }
        )

    def get_paginated_response_schema(self, schema):
        integer = {"type": "integer"}
        return {
            "type": "object",
            "required": ["Data", "TotalRecords", "CurrentPage", "PageSize", "TotalPages"],
            "properties": {
                "Data": schema,
                "TotalRecords": integer,
                "CurrentPage": integer,
                "PageSize": integer,
                "TotalPages": integer,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "PageNumber", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "PageSize",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
            },
        ]
