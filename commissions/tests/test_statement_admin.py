"""The statements admin: scoped pages, the workflow as actions through the services, the CSV export,
the printable statement, and the "Generate statements" page."""
import csv
import io
from decimal import Decimal

import pytest

from commissions.statements import admin as statement_admin
from commissions.models import CommissionStatement
from commissions.tests.test_plans import create as create_plan
from commissions.tests import test_statement_api as api_tests

pytestmark = pytest.mark.django_db

# The API tests' fixtures, shared: tasks run in-process, and REP-007's plan with paid invoices.
eager_tasks = api_tests.eager_tasks
sales = api_tests.sales
URL = api_tests.URL

ADMIN_URL = "/admin/commissions/commissionstatement/"
GENERATE_URL = f"{ADMIN_URL}generate/"
MARCH = {"period_start": "2026-03-01", "period_end": "2026-03-31"}


def generate(staff_client, *reps, period=MARCH, **extra):
    data = {"reps": [rep.pk for rep in reps], **period, **extra}
    return staff_client.post(GENERATE_URL, data, follow=True)


@pytest.fixture
def statement(staff_client, tenant, sales) -> CommissionStatement:
    """REP-007's March statement (Draft, 13.93), made through the generate page."""
    generate(staff_client, tenant.rep)
    return CommissionStatement.objects.get(sales_rep=tenant.rep)


@pytest.fixture
def theirs(other_tenant) -> CommissionStatement:
    """A statement of another organization (started through its API)."""
    create_plan(other_tenant, Active=True)
    response = other_tenant.admin_api.post(URL, {"SalesRepId": str(other_tenant.rep.sales_rep_id),
                                                 "PeriodStart": "2026-03-01", "PeriodEnd": "2026-03-31"},
                                           format="json")
    assert response.status_code in (201, 202), response.json()
    return CommissionStatement.objects.get(pk=response.json()["CommissionStatementId"])


def run_action(staff_client, action, *statements):
    return staff_client.post(ADMIN_URL, {"action": action, "_selected_action": [s.pk for s in statements]},
                             follow=True)


def test_generate_page_makes_statements_for_the_chosen_reps_and_reports_refusals(staff_client, tenant, other_tenant,
                                                                                  sales):
    assert GENERATE_URL in staff_client.get(ADMIN_URL).content.decode()  # the button on the changelist
    form = staff_client.get(GENERATE_URL).content.decode()
    assert f'value="{tenant.rep.pk}"' in form and f'value="{tenant.other_rep.pk}"' in form
    assert f'value="{other_tenant.rep.pk}"' not in form
    page = generate(staff_client, tenant.rep, tenant.other_rep).content.decode()
    assert "REP-007:" in page and "total 13.93 USD" in page
    assert "REP-012: refused — Sales rep REP-012 has no active commission plan." in page
    made = CommissionStatement.objects.get()
    assert (made.sales_rep, made.status, made.total) == (tenant.rep, "Draft", Decimal("13.93"))
    assert made.events.get().actor == tenant.admin.user.email
    again = generate(staff_client, tenant.rep).content.decode()
    assert "REP-007: refused — REP-007 has a statement for 2026-03-01–2026-03-31 in USD already" in again
    assert CommissionStatement.objects.count() == 1


def test_generate_page_refuses_another_organizations_rep_and_bad_periods(staff_client, tenant, other_tenant, sales):
    create_plan(other_tenant, Active=True)
    refused = generate(staff_client, other_tenant.rep)
    assert refused.status_code == 200 and b"Select a valid choice" in refused.content
    backwards = generate(staff_client, tenant.rep, period={"period_start": "2026-03-31", "period_end": "2026-03-01"})
    assert b"Must not be before the period start" in backwards.content
    odd_currency = generate(staff_client, tenant.rep, currency_code="ABC")
    assert b"not an ISO 4217 currency code" in odd_currency.content
    assert not CommissionStatement.objects.exists()
    euros = generate(staff_client, tenant.rep, currency_code="eur")
    assert b"total 0.00 EUR" in euros.content
    assert CommissionStatement.objects.get().currency_code == "EUR"


def test_changelist_and_pages_are_scoped(staff_client, tenant, statement, theirs):
    page = staff_client.get(ADMIN_URL).content.decode()
    assert f"{statement.pk}/change/" in page and f"{theirs.pk}/change/" not in page
    assert f"sales_rep__id__exact={tenant.rep.pk}" in page  # the rep filter lists this organization's reps…
    assert f"sales_rep__id__exact={theirs.sales_rep_id}" not in page  # …only
    assert staff_client.get(f"{ADMIN_URL}{theirs.pk}/change/").status_code == 302  # "doesn't exist"
    assert staff_client.get(f"{ADMIN_URL}{theirs.pk}/print/").status_code == 404
    assert staff_client.get(f"{ADMIN_URL}{theirs.pk}/export.csv").status_code == 404
    assert f"{statement.pk}/change/" in staff_client.get(ADMIN_URL, {"status__exact": "Draft"}).content.decode()
    assert f"{statement.pk}/change/" not in staff_client.get(ADMIN_URL, {"status__exact": "Paid"}).content.decode()
    assert f"{statement.pk}/change/" in staff_client.get(ADMIN_URL, {"q": "chen"}).content.decode()
    assert f"{statement.pk}/change/" in staff_client.get(
        ADMIN_URL, {"sales_rep__id__exact": tenant.rep.pk}).content.decode()
    run_action(staff_client, "approve", theirs)
    theirs.refresh_from_db()
    assert theirs.status == "Generating" and not theirs.events.exists()


def test_change_page_is_read_only_with_entries_lines_and_events(staff_client, tenant, statement, sales):
    response = staff_client.get(f"{ADMIN_URL}{statement.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200
    assert sales["march"]["InvoiceNumber"] in page and "Override CUST-0042: Rule: Acme widgets" in page
    assert "13.93" in page and "8.33" in page and tenant.admin.user.email in page
    assert f"{statement.pk}/print/" in page and f"{statement.pk}/export.csv" in page
    assert 'name="_save"' not in page  # nothing to save: changes are actions
    assert staff_client.post(f"{ADMIN_URL}{statement.pk}/change/", {"total": "999"}).status_code == 403
    assert staff_client.get(f"{ADMIN_URL}add/").status_code == 403


def test_change_page_shows_only_the_first_rows_of_a_big_statement(staff_client, statement, monkeypatch):
    monkeypatch.setattr(statement_admin, "ROWS_SHOWN", 1)
    page = staff_client.get(f"{ADMIN_URL}{statement.pk}/change/").content.decode()
    assert page.count("Override CUST-0042: Rule: Acme widgets") == 1 and "Override CUST-0042: default" not in page
    assert "INV-00002" not in page  # the second entry is not shown either
    line_count = page.split("field-line_count")[1].split('<div class="readonly">')[1].split("<")[0]
    assert line_count == "3"  # the count covers every line


def test_actions_go_through_the_services(staff_client, tenant, statement, sales):
    email = tenant.admin.user.email
    run_action(staff_client, "approve", statement)
    statement.refresh_from_db()
    assert statement.status == "Approved"
    page = run_action(staff_client, "recalculate", statement).content.decode()
    assert "A Approved statement cannot be recalculated" in page
    staff_client.post(f"{ADMIN_URL}{statement.pk}/mark-paid/", {"reference": "PAY-1"})
    statement.refresh_from_db()
    assert statement.status == "Paid" and statement.paid_at is not None
    page = run_action(staff_client, "void", statement).content.decode()
    assert "A Paid statement cannot be voided" in page
    statement.refresh_from_db()
    assert statement.status == "Paid"
    assert list(statement.events.values_list("type", "actor")) == [
        ("Created", email), ("Approved", email), ("Paid", email)]

    generate(staff_client, tenant.rep, period={"period_start": "2026-04-01", "period_end": "2026-04-30"})
    april = CommissionStatement.objects.get(period_start="2026-04-01")
    page = run_action(staff_client, "recalculate", april).content.decode()
    assert "Recalculated 1 statement(s)." in page
    run_action(staff_client, "void", april)
    april.refresh_from_db()
    assert april.status == "Void" and not april.lines.filter(live=True).exists()
    assert list(april.events.values_list("type", flat=True)) == ["Created", "Recalculated", "Voided"]


def test_export_action_streams_one_statements_csv(staff_client, tenant, statement, sales):
    response = staff_client.post(ADMIN_URL, {"action": "export_csv", "_selected_action": [statement.pk]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="statement-REP-007-2026-03.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3 and sum(Decimal(row["Commission"]) for row in rows) == statement.total
    generate(staff_client, tenant.rep, period={"period_start": "2026-04-01", "period_end": "2026-04-30"})
    both = staff_client.post(ADMIN_URL, {"action": "export_csv",
                                         "_selected_action": list(CommissionStatement.objects.values_list("pk", flat=True))},
                             follow=True)
    assert both["Content-Type"].startswith("text/html") and b"Select exactly one statement" in both.content


def test_print_page_shows_the_statements_numbers(staff_client, tenant, statement, sales, monkeypatch):
    response = staff_client.get(f"{ADMIN_URL}{statement.pk}/print/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Acme Corp", "REP-007 — Marcus Chen", "2026-03-01 to 2026-03-31", "USD", "Draft",
                 sales["march"]["InvoiceNumber"], sales["march_last_day"]["InvoiceNumber"], "CUST-0042",
                 "55.50", "0.1500", "8.33", "4.90", "13.23", "0.70", "13.93 USD", "Created", tenant.admin.user.email,
                 "Standard Wholesale Rate", "@page"):
        assert text in page, text
    assert "first" not in page.split("Lines by invoice")[1].split("<table")[0]  # nothing left out

    monkeypatch.setattr(statement_admin, "PRINT_LINES", 2)
    page = staff_client.get(f"{ADMIN_URL}{statement.pk}/print/").content.decode()
    assert "the first 2 of 3 lines" in page and "13.93 USD" in page
