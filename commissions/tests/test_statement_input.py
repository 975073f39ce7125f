"""What `POST /api/commissions/statements` reads (§3): a fetched statement's own keys (its id, status,
totals, timestamps, entries, events) are ignored, so it can be sent back as it is; a key no statement
has is still a 400 naming it."""
import pytest

from commissions.models import CommissionStatement
# The invoices and plan of the statement tests, and their tasks run in-process.
from commissions.tests.test_statement_api import APRIL, MARCH, URL, body, eager_tasks, sales  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sales")]


def statements() -> dict:
    rows = CommissionStatement.objects.values_list("pk", "period_start", "status", "total", "updated_at")
    return {row[0]: row for row in rows}


def generated(api, data, capture) -> dict:
    """POSTs a generation, lets the queued task run, and returns the statement as GET shows it."""
    with capture(execute=True):
        response = api.post(URL, data, format="json")
    assert response.status_code == 202, response.json()
    return api.get(f"{URL}/{response.json()['CommissionStatementId']}").json()


def test_a_fetched_statement_sent_back_for_another_period_generates_that_period(
        tenant, django_capture_on_commit_callbacks):
    march = generated(tenant.admin_api, body(tenant, MARCH), django_capture_on_commit_callbacks)
    assert {"CommissionStatementId", "Status", "Total", "Entries", "Events", "CreatedAt"} <= march.keys()
    before = statements()
    april = generated(tenant.admin_api, {**march, **APRIL}, django_capture_on_commit_callbacks)
    assert april["CommissionStatementId"] != march["CommissionStatementId"]
    assert (april["PeriodStart"], april["PeriodEnd"], april["Status"]) == ("2026-04-01", "2026-04-30", "Draft")
    assert {pk: row for pk, row in statements().items() if pk in before} == before  # March's is as it was
    assert tenant.admin_api.get(f"{URL}/{march['CommissionStatementId']}").json() == march


def test_read_only_keys_are_ignored_not_applied(tenant, django_capture_on_commit_callbacks):
    planted = {"CommissionStatementId": "00000000-0000-4000-8000-000000000009", "RepNumber": "REP-012",
               "Status": "Paid", "Total": 1000000, "PaidAt": "2026-04-01T00:00:00Z", "PaymentReference": "x",
               "Failure": "x", "CreatedAt": "1999-01-01T00:00:00Z", "UpdatedAt": "1999-01-01T00:00:00Z",
               "Entries": [{"InvoiceNumber": "INV-99999"}], "Events": []}
    statement = generated(tenant.admin_api, body(tenant, **planted), django_capture_on_commit_callbacks)
    assert statement["CommissionStatementId"] != planted["CommissionStatementId"]
    assert (statement["RepNumber"], statement["Status"], statement["Total"]) == ("REP-007", "Draft", 13.93)
    assert statement["PaidAt"] is None and statement["PaymentReference"] == "" and statement["Failure"] == ""
    assert not statement["CreatedAt"].startswith("1999")


def test_a_key_no_statement_has_is_still_400_naming_it(tenant):
    before = statements()
    response = tenant.admin_api.post(URL, body(tenant, Colour="red", Status="Paid"), format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400 and response.json()["errors"] == {"Colour": ["Unknown field."]}
    assert statements() == before
