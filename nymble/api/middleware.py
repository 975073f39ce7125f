"""Requests refused before any view runs."""
import math
import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve

from nymble.api.problems import PROBLEM_CONTENT_TYPE, not_found_view, problem

NUL = "\x00"
DIGITS = re.compile(r"[0-9]+")  # int() would take "+5", "5_000" and digits of other scripts too


class RefuseNulMiddleware:
    """PostgreSQL cannot hold NUL in text, so a path or query parameter with one reached the
    database as a DataError (a 500). A path with NUL names nothing (404); a query parameter with
    one is a 400 naming it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path:
            return not_found_view(request)
        names = sorted(key for key, values in request.GET.lists() if NUL in key or any(NUL in v for v in values))
        if not names:
            return self.get_response(request)
        if not request.path.startswith("/api/"):
            return HttpResponseBadRequest("NUL characters are not accepted.")
        errors = {name: ["Null characters are not allowed."] for name in names}
        body = problem(400, "The request has invalid fields.", errors)
        return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)


class RefuseOversizedBodyMiddleware:
    """A body announced over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 before anything reads it: DRF
    reads the stream itself, past the limit Django applies only to `request.body`. A Content-Length
    that is not a number is a 400 (Django would read it as no body, or fail on it with a 500).
    What the announced length does not bound, the JSON parser does (`read_at_most`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        announced = (request.META.get("CONTENT_LENGTH") or "").strip(" \t")
        if announced:
            if not DIGITS.fullmatch(announced):
                return _refuse(request, 400, "Content-Length is not a number of bytes.")
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and _length(announced) > limit:
                return _refuse(request, 413, f"The request body is larger than {limit} bytes.")
        return self.get_response(request)


def _length(digits: str) -> float:
    try:
        return int(digits)
    except ValueError:  # more digits than int() converts (4,300): more than any limit
        return math.inf


def _refuse(request, status: int, detail: str) -> HttpResponse:
    if not request.path.startswith("/api/"):
        return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
    return JsonResponse(problem(status, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


class TrailingSlashMiddleware:
    """The API's routes have no trailing slash; one sent anyway (`/api/customers/`) is the same
    request without it, rather than a bare 404. Routes that have their slash (`/api/docs/`) keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and path.endswith("/") and not _resolves(path) and _resolves(path[:-1]):
            request.path_info = path[:-1]
            request.path = request.path[:-1]
        return self.get_response(request)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True
