"""The API fuzzed against its own OpenAPI schema: every operation, as each role.

For every operation × role (admin, rep, portal user, API client) Schemathesis generates valid and
invalid requests and checks each answer: no 5xx; the status code, content type and body are the
ones the schema documents; every error is a problem document; and nothing outside the caller's
scope (the other organization, or in its own what its scope hides) changed. Half the bodies are
made hostile first (deep nesting, lone surrogates, bidi and zero-width characters: fuzz/hostile.py).

Bounded by default (a few examples per operation, derandomized, so CI is stable and quick);
`FUZZ_EXAMPLES=200` runs longer, `FUZZ_SEED=n` explores other inputs (see fuzz/README.md).
"""
import os
import traceback

import pytest
import schemathesis
from django.core.signals import got_request_exception
from django.db import transaction
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from fuzz.conftest import ROLES, add_examples, rows_written
from fuzz.hostile import hostile_cases
from nymble.api.problems import PROBLEM_CONTENT_TYPE
from nymble.wsgi import application

LONG = "FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# The coverage phase (boundaries and wrong types of every field, hundreds of requests for a big
# body) runs for admins in the bounded run, for every role in the long one.
COVERAGE_ROLES = os.environ.get("FUZZ_COVERAGE_ROLES", ",".join(ROLES) if LONG else "admin").split(",")
SEED = os.environ.get("FUZZ_SEED")

config = schemathesis.Config.from_dict(
    {
        # A fixed seed, or else inputs derived from each test's name: the same run every time.
        **({"seed": int(SEED)} if SEED else {}),
        "suppress-health-check": ["all"],
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": SEED is None,
            "database": "none",
            "with-security-parameters": False,  # each role sends its own token
        },
        "phases": {"examples": {"fill-missing": True}, "stateful": {"enabled": False}},
    }
)


@schemathesis.hook
def before_load_schema(context, raw_schema):
    add_examples(raw_schema)


schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)
schemathesis.hooks.GLOBAL_HOOK_DISPATCHER.unregister(before_load_schema)  # for this schema only


@schema.hook("flatmap_case")
def hostile_bodies(context, case):
    """Some bodies nest 150 levels deep, or carry lone surrogates or bidi and zero-width characters
    in every string (fuzz/hostile.py): drawn like any other input, so the bounded run stays as long."""
    return hostile_cases(case)


@schemathesis.check
def problem_document(ctx, response, case):
    """Every 4xx and 5xx is an RFC 9457 problem document naming its own status."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM_CONTENT_TYPE, f"Content-Type is {content_type!r}"
    body = response.json()
    assert isinstance(body, dict) and {"type", "title", "status"} <= body.keys(), f"not a problem document: {body!r}"
    assert body["status"] == response.status_code, f"status {body['status']} in a {response.status_code} answer"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    problem_document,
]


@pytest.fixture
def server_errors():
    """Tracebacks of the exceptions behind 500s, so a failure shows its cause, not only its status."""
    caught = []

    def keep(sender, request=None, **kwargs):
        caught.append(traceback.format_exc())

    got_request_exception.connect(keep, weak=False)
    yield caught
    got_request_exception.disconnect(keep)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_operation(case, role, world, server_errors, django_capture_on_commit_callbacks):
    if case.meta.phase.name == TestPhase.COVERAGE and role not in COVERAGE_ROLES:
        return
    case.path_parameters = {name: world.resolve(value) for name, value in (case.path_parameters or {}).items()}
    if isinstance(case.body, (dict, list)):
        case.body = world.resolve_body(case.body)
    authorization, user = world.caller(role)
    before = world.snapshot or world.out_of_scope(user)
    world.snapshot = None  # unknown until this request is checked
    written = rows_written()
    server_errors.clear()
    try:
        # Work queued for after the commit (statement generation) runs as a worker would run it.
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():  # as in its own transaction: a failed request spoils no later one
                response = case.call_and_validate(headers={"Authorization": authorization}, checks=CHECKS)
    except Exception as failure:
        if server_errors:
            failure.add_note("Server traceback:\n" + "\n".join(server_errors))
        raise
    if 200 <= response.status_code < 300:
        text = response.text.lower()
        revealed = sorted(secret for secret in world.secrets(role) if secret in text)
        assert not revealed, f"{case.method} {case.formatted_path} as {role} revealed {revealed}: {response.text[:500]}"
    if written is not None and rows_written() == written:
        world.snapshot = before  # it wrote nothing
        return
    after = world.out_of_scope(user)
    changes = after.changes_since(before)
    assert not changes, f"{case.method} {case.formatted_path} as {role} touched rows outside its scope: {changes}"
    world.snapshot = after
