"""OpenAPI: the JWT authentication documented as a Bearer scheme on every endpoint, and the
problem documents (§3) every operation may answer with."""
from http import HTTPStatus

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme

from nymble.api.problems import PROBLEM_CONTENT_TYPE


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
