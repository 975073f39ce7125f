"""RFC 9457 problem details for every error (DRF's, Django's and the URL resolver's)."""
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Conflict(exceptions.APIException):
    """409: a duplicate key or a transition the object's state does not allow."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"

    def __init__(self, detail=None, *, errors: dict | None = None):
        super().__init__(detail)
        self.errors = errors


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"Field": [...], "Addresses[0].City": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            if detail:
                out.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                for k, v in flatten_errors(item, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out.setdefault(prefix, []).append(str(detail))
    return out


def problem(status_code: int, detail: str | None = None, errors: dict | None = None) -> dict:
    body = {"type": "about:blank", "title": HTTPStatus(status_code).phrase, "status": status_code}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return body


def problem_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages})
    elif isinstance(exc, IntegrityError):
        # Services name the field of the constraints they expect; this is the safety net.
        exc = Conflict("The request conflicts with existing data.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail, errors = None, None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        general = errors.pop("", None)
        detail = " ".join(general) if general else "The request has invalid fields."
    else:
        raw = exc.detail
        if isinstance(raw, dict):  # simplejwt's {"detail", "code", "messages"}
            detail = str(raw.get("detail", ""))
        elif isinstance(raw, list):
            detail = " ".join(str(item) for item in raw)
        else:
            detail = str(raw)
        errors = getattr(exc, "errors", None)
    response.data = problem(response.status_code, detail, errors)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem_response(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse(problem(status_code, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def not_found_view(request, exception=None):
    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    return _problem_response(404, "No such resource. The API's routes are listed at /api/docs/.")


def server_error_view(request):
    return _problem_response(500, "Something went wrong on our side; it has been logged.")
