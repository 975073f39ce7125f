"""Who is acting: set once per door, read by `audit.services.audit_record`.

The API and the admin name the request's login (`ActorMiddleware`: a user's email, or
`api-client:<name>` for an API client, as statement events already name them); the statement
schedule and other callers without a request say who they are with `acting_as("schedule")` or
pass `actor=` to the service. Anything else is `system` (management commands, the shell).
"""
from __future__ import annotations

import contextlib
import contextvars

_request = contextvars.ContextVar("audit_request", default=None)
_named = contextvars.ContextVar("audit_actor", default=None)

SYSTEM = "system"


def current_actor() -> str:
    named = _named.get()
    if named:
        return named
    request = _request.get()
    # DRF sets the Django request's user when it authenticates, so this sees API callers too.
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user)[:254]
    return SYSTEM


@contextlib.contextmanager
def acting_as(actor: str):
    token = _named.set(actor)
    try:
        yield
    finally:
        _named.reset(token)


class ActorMiddleware:
    """Remembers the request for the length of the request, so services can name its login."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
