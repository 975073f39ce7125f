"""Requests refused before any view runs."""
from django.http import HttpResponseBadRequest, JsonResponse

from nymble.api.problems import PROBLEM_CONTENT_TYPE, not_found_view, problem

NUL = "\x00"


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
    """Placeholder: refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 (being built)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
