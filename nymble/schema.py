"""OpenAPI (§3, "the schema tells the truth"): the JWT authentication documented as a Bearer
scheme on every endpoint, each operation summarized from its own docstring, decimal places and
calendar dates stated, path parameters named as the spec writes them, and the problem documents
every operation may answer with."""
import re
from http import HTTPStatus

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from rest_framework import serializers

from nymble.api.problems import PROBLEM_CONTENT_TYPE
from nymble.api.serializers import CalendarDateField


class NymbleAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the API's conventions.

    An operation's summary is the first paragraph of its own method's docstring and its
    description the rest (`extend_schema` may say either instead); a view's class docstring is
    no operation's description, so no two operations share one by inheritance. Only GETs are
    lists: a POST answering several objects is neither filtered nor paginated.
    """

    def _own_doc(self) -> list[str]:
        action = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        doc = get_doc(action) if action is not None else ""
        return [part.strip() for part in re.split(r"\n\s*\n", doc) if part.strip()]

    def get_summary(self):
        parts = self._own_doc()
        return " ".join(parts[0].split()) if parts else None

    def get_description(self):
        return "\n\n".join(self._own_doc()[1:])

    def get_serializer_name(self, serializer, direction):
        """`TokenRequestSerializer` is the `TokenRequest` component, not `TokenRequestRequest`."""
        name = super().get_serializer_name(serializer, direction).removesuffix("Serializer")
        return name.removesuffix("Request") if direction == "request" and name != "Request" else name

    def get_filter_backends(self):
        return super().get_filter_backends() if self.method == "GET" else []

    def _get_paginator(self):
        return super()._get_paginator() if self.method == "GET" else None

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, serializers.DecimalField):
            places = f"{field.decimal_places} decimal places" if field.decimal_places != 1 else "1 decimal place"
            meta["description"] = " ".join(filter(None, [meta.get("description"), f"Up to {places}."]))
        return meta

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, CalendarDateField) and direction == "request" and schema is not None:
            # Accepted as a date or as a date-time (its calendar day in the organization's zone).
            schema = {k: v for k, v in schema.items() if k not in ("type", "format")}
            schema["anyOf"] = [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
        return schema


class NymbleJWTScheme(SimpleJWTScheme):
    target_class = "nymble.tokens.NymbleJWTAuthentication"
    name = "jwtAuth"


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem document: the answer of every error.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "The offending fields, each with its messages (`Addresses[0].City`).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status"],
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each offending field.",
    401: "Missing, wrong or revoked credentials.",
    403: "The caller's role may not take this action.",
    404: "No such object in the caller's scope (another organization's included).",
    409: "A duplicate key, or a transition the object's state does not allow.",
    415: "The body is not JSON.",
}
HTTP_METHODS = frozenset({"get", "put", "post", "patch", "delete", "head", "options", "trace"})


def _error_statuses(method: str, operation: dict) -> list[int]:
    """The errors an operation can answer, from what it takes and whether it needs a token."""
    takes_body = "requestBody" in operation
    takes_input = takes_body or any(p.get("in") in ("query", "header") for p in operation.get("parameters", []))
    statuses = [400] if takes_input else []
    statuses.append(401)
    if operation.get("security"):
        statuses += [403, 404]
        if method != "get":
            statuses.append(409)
    if takes_body:
        statuses.append(415)
    return statuses


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def camel_case_path_parameters(result, generator, request, public):
    """Postprocessing hook: path parameters as §4 writes them, `{customerNumber}` rather than the
    URL pattern's `{customer_number}` (the name is a placeholder: the URLs are the same)."""
    paths = {}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []) if method in HTTP_METHODS else ():
                if parameter.get("in") == "path":
                    parameter["name"] = _camel(parameter["name"])
        paths[re.sub(r"\{(\w+)\}", lambda m: "{" + _camel(m.group(1)) + "}", path)] = methods
    result["paths"] = paths
    return result


def empty_query_values(result, generator, request, public):
    """Postprocessing hook: an optional query parameter sent empty (`?status=`) is one not sent,
    throughout the API (the filters, `search`, `sortOn`, `PageSize`): the schema says so."""
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []) if method in HTTP_METHODS else ():
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents its 4xx answers (the generic ones here,
    others such as 429 on the view) with the problem document as their body."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    body = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(method, operation):
                responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = body
                    response["description"] = response.get("description") or HTTPStatus(int(status)).phrase
    return result


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def unreferenced_components_dropped(result, generator, request, public):
    """Postprocessing hook, the last: drf-spectacular writes a request form of every nested read-only
    serializer too (`PlacedByRequest`), which nothing sends; a component nothing refers to goes."""
    schemas = result.get("components", {}).get("schemas", {})
    while True:
        used = _refs({key: value for key, value in result.items() if key != "components"}) | _refs(schemas)
        unused = [name for name in schemas if f"#/components/schemas/{name}" not in used]
        if not unused:
            return result
        for name in unused:
            del schemas[name]
