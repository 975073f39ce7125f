"""Commission statements through the API (§4 "Commission statements", §6, §7): generation from paid
invoices, the workflow and its events, who sees what, and the CSV export.

Everything is set up through the API (orders, invoices, payments, plans). Inside a test's transaction
Django holds on-commit work back, as a busy worker would: the POST answers 202 (Generating) and the
statement fills when the queued generation runs (`django_capture_on_commit_callbacks`). The tests
marked `transaction=True` see what the embedded default does: generation in the request, 201.
"""
import csv
import io
import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from commissions.statements.exports import COLUMNS
from commissions.models import CommissionStatement, StatementEvent
from commissions.tests.test_plans import create as create_plan
from nymble.celery import app as celery_app
from orders.tests.conftest import add_product

pytestmark = pytest.mark.django_db

URL = "/api/commissions/statements"
MARCH = {"PeriodStart": "2026-03-01", "PeriodEnd": "2026-03-31"}
APRIL = {"PeriodStart": "2026-04-01", "PeriodEnd": "2026-04-30"}


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """Tasks run in-process, as in the embedded default, even when REDIS_URL gives Celery a broker."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", True)


def paid_invoice(tenant, items, paid_at=None, customer="CUST-0042") -> dict:
    """An order placed, invoiced and (when `paid_at` is given) paid in full, all through the API."""
    api = tenant.admin_api
    order = api.post("/api/orders", {"Customer": {"CustomerNumber": customer},
                                     "Items": [{"Sku": sku, "Quantity": qty} for sku, qty in items]}, format="json")
    assert order.status_code == 201, order.json()
    invoice = api.post(f"/api/orders/{order.json()['OrderId']}/invoice")
    assert invoice.status_code == 201, invoice.json()
    invoice = invoice.json()
    if paid_at:
        amount = f"{Decimal(str(invoice['Total'])):.2f}"
        paid = api.post(f"/api/invoices/{invoice['InvoiceId']}/payments",
                        {"Amount": amount, "PaidAt": paid_at, "Reference": "wire"}, format="json")
        assert paid.status_code == 201, paid.json()
    return invoice


@pytest.fixture
def sales(tenant):
    """REP-007's active plan (test_plans' plan: CUST-0042's override pays 0.15 on WDG-100-*, 0.07 on
    the rest) and invoices around March 2026 (America/Chicago). March owes 8.33 + 4.90 + 0.70 = 13.93."""
    add_product(tenant.org, "WDG-100-BLU", "Widget Blue", [("Wholesale", 1, "18.50")])
    add_product(tenant.org, "GAD-1", "Gadget", [("Wholesale", 1, "9.99")])
    plan = create_plan(tenant, Active=True)
    return {
        "plan": plan,
        # 3 × 18.50 = 55.50 at 0.15 = 8.325 → 8.33; 7 × 9.99 = 69.93 at 0.07 = 4.8951 → 4.90
        "march": paid_invoice(tenant, [("WDG-100-BLU", 3), ("GAD-1", 7)], "2026-03-10T15:00:00Z"),
        # 22:00 on March 31 in Chicago is April 1 in UTC: still March's
        "march_last_day": paid_invoice(tenant, [("GAD-1", 1)], "2026-03-31T22:00:00-05:00"),
        "april": paid_invoice(tenant, [("WDG-100-BLU", 4)], "2026-04-01T01:00:00-05:00"),
        "other_reps": paid_invoice(tenant, [("WDG-100-BLU", 1)], "2026-03-12T15:00:00Z", customer="CUST-0099"),
        "unpaid": paid_invoice(tenant, [("WDG-100-BLU", 1)]),
    }


def body(tenant, period=MARCH, **extra) -> dict:
    return {"SalesRepId": str(tenant.rep.sales_rep_id), **period, **extra}


@pytest.fixture
def generate(tenant, django_capture_on_commit_callbacks):
    """POSTs a generation, lets the queued task run, and returns the statement as GET shows it."""

    def run(period=MARCH, rep=None, **extra) -> dict:
        data = body(tenant, period, **extra)
        if rep is not None:
            data["SalesRepId"] = str(rep.sales_rep_id)
        with django_capture_on_commit_callbacks(execute=True):
            response = tenant.admin_api.post(URL, data, format="json")
        assert response.status_code == 202, response.json()
        detail = tenant.admin_api.get(f"{URL}/{response.json()['CommissionStatementId']}")
        assert detail.status_code == 200
        return detail.json()

    return run


def act(tenant, statement, action, data=None, api=None):
    api = api or tenant.admin_api
    return api.post(f"{URL}/{statement['CommissionStatementId']}/{action}", data or {}, format="json")


def events(statement_id) -> list[str]:
    return list(StatementEvent.objects.filter(statement_id=statement_id).values_list("type", flat=True))


# ---------------------------------------------------------------- generation


@pytest.mark.django_db(transaction=True)
def test_generation_answers_201_with_entries_lines_and_events(tenant, sales):
    response = tenant.admin_api.post(URL, body(tenant), format="json")
    assert response.status_code == 201, response.json()
    statement = response.json()
    assert statement["SalesRepId"] == str(tenant.rep.sales_rep_id) and statement["RepNumber"] == "REP-007"
    assert (statement["PeriodStart"], statement["PeriodEnd"], statement["CurrencyCode"]) == ("2026-03-01", "2026-03-31",
                                                                                            "USD")
    assert (statement["Status"], statement["Total"], statement["Failure"]) == ("Draft", 13.93, "")
    assert statement["PaidAt"] is None and statement["PaymentReference"] == ""
    assert statement["CreatedAt"] and statement["UpdatedAt"]
    march, last_day = sales["march"]["InvoiceNumber"], sales["march_last_day"]["InvoiceNumber"]
    assert [(e["InvoiceNumber"], e["CustomerNumber"], e["Commission"]) for e in statement["Entries"]] == [
        (march, "CUST-0042", 13.23), (last_day, "CUST-0042", 0.70)]
    whole = {"LineDate": "2026-03-10", "Share": 1, "AmountPerUnit": None, "Multiplier": 1, "PaymentId": None}
    assert statement["Entries"][0]["Lines"] == [
        {"Sku": "WDG-100-BLU", "ProductName": "Widget Blue", "Quantity": 3, "LineAmount": 55.50, "Rate": 0.15,
         "RateSource": "Override CUST-0042: Rule: Acme widgets", "Commission": 8.33, **whole},
        {"Sku": "GAD-1", "ProductName": "Gadget", "Quantity": 7, "LineAmount": 69.93, "Rate": 0.07,
         "RateSource": "Override CUST-0042: default", "Commission": 4.90, **whole},
    ]
    # 55.50 + 69.93 + 9.99 of sales; no quota, so no attainment
    assert (statement["SalesTotal"], statement["LinesTotal"], statement["Quota"], statement["Attainment"]) == (
        135.42, 13.93, None, None)
    [created] = statement["Events"]
    assert (created["Type"], created["Actor"]) == ("Created", tenant.admin.user.email)
    assert created["At"] and "3 line(s)" in created["Note"]
    assert tenant.admin_api.get(f"{URL}/{statement['CommissionStatementId']}").json() == statement
    assert re.search(r"\.\d{2}[,}]", response.content.decode().split('"Total":')[1])  # 13.93 written exactly


def test_in_the_background_it_answers_202_and_fills_when_the_task_runs(tenant, sales, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = tenant.admin_api.post(URL, body(tenant), format="json")
    assert response.status_code == 202
    assert response.json() == {"CommissionStatementId": response.json()["CommissionStatementId"], "Status": "Generating"}
    path = f"{URL}/{response.json()['CommissionStatementId']}"
    waiting = tenant.admin_api.get(path).json()
    assert (waiting["Status"], waiting["Entries"], waiting["Total"]) == ("Generating", [], 0)
    assert act(tenant, waiting, "approve").status_code == 409  # nothing to approve yet
    for task in queued:
        task()
    done = tenant.admin_api.get(path).json()
    assert (done["Status"], done["Total"], [e["Type"] for e in done["Events"]]) == ("Draft", 13.93, ["Created"])
    assert generate_again_is_409(tenant)


def generate_again_is_409(tenant) -> bool:
    response = tenant.admin_api.post(URL, body(tenant), format="json")
    return response.status_code == 409 and "PeriodStart" in response.json()["errors"]


def test_a_generation_that_fails_shows_failed_with_its_failure(tenant, sales, django_capture_on_commit_callbacks):
    plan_path = f"/api/commissions/plans/{sales['plan']['CommissionPlanId']}"
    with django_capture_on_commit_callbacks() as queued:
        started = tenant.admin_api.post(URL, body(tenant), format="json").json()
    tenant.admin_api.post(f"{plan_path}/deactivate")  # the plan goes away while the task waits
    for task in queued:
        task()
    failed = tenant.admin_api.get(f"{URL}/{started['CommissionStatementId']}").json()
    assert failed["Status"] == "Failed" and "no active commission plan" in failed["Failure"]
    assert [e["Type"] for e in failed["Events"]] == ["Failed"] and failed["Entries"] == []
    tenant.admin_api.post(f"{plan_path}/activate")
    assert generate_again_is_409(tenant)  # the failed statement still holds its period…
    assert act(tenant, failed, "void", {"Note": "plan fixed"}).json()["Status"] == "Void"  # …until voided
    with django_capture_on_commit_callbacks(execute=True):
        retried = tenant.admin_api.post(URL, body(tenant), format="json")
    assert retried.status_code == 202
    assert tenant.admin_api.get(f"{URL}/{retried.json()['CommissionStatementId']}").json()["Total"] == 13.93


def test_no_active_plan_is_409_and_makes_nothing(tenant, sales):
    tenant.admin_api.post(f"/api/commissions/plans/{sales['plan']['CommissionPlanId']}/deactivate")
    response = tenant.admin_api.post(URL, body(tenant), format="json")
    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"
    assert "no active commission plan" in response.json()["detail"]
    assert not CommissionStatement.objects.exists()


def test_a_second_statement_for_the_period_is_409_but_another_currency_is_its_own(tenant, sales, generate):
    first = generate()
    assert generate_again_is_409(tenant)
    assert CommissionStatement.objects.count() == 1
    euros = generate(CurrencyCode="eur")
    assert (euros["CurrencyCode"], euros["Total"], euros["Entries"]) == ("EUR", 0, [])
    assert first["CommissionStatementId"] != euros["CommissionStatementId"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"SalesRepId": "00000000-0000-0000-0000-000000000000"}, "SalesRepId"),
        ({"SalesRepId": "not-a-uuid"}, "SalesRepId"),
        ({"SalesRepId": None}, "SalesRepId"),
        ({"PeriodStart": "2026-04-01"}, "PeriodEnd"),
        ({"PeriodStart": "March"}, "PeriodStart"),
        ({"PeriodEnd": None}, "PeriodEnd"),
        ({"CurrencyCode": "XYZ"}, "CurrencyCode"),
        ({"Bonus": 100}, "Bonus"),
    ],
)
def test_bad_input_is_400_naming_the_field(tenant, sales, change, field):
    response = tenant.admin_api.post(URL, {**body(tenant), **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not CommissionStatement.objects.exists()


def test_keys_match_case_insensitively_and_a_missing_one_is_named(tenant, sales, django_capture_on_commit_callbacks):
    response = tenant.admin_api.post(URL, {"PeriodStart": "2026-03-01", "PeriodEnd": "2026-03-31"}, format="json")
    assert response.status_code == 400 and "SalesRepId" in response.json()["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        lower = tenant.admin_api.post(URL, {"salesRepId": str(tenant.rep.sales_rep_id), "periodstart": "2026-03-01",
                                            "PERIODEND": "2026-03-31"}, format="json")
    assert lower.status_code == 202


def test_another_organizations_rep_cannot_be_named(tenant, other_tenant, sales):
    response = tenant.admin_api.post(URL, body(tenant, SalesRepId=str(other_tenant.rep.sales_rep_id)), format="json")
    assert response.status_code == 400 and "SalesRepId" in response.json()["errors"]


# ---------------------------------------------------------------- the workflow


def test_draft_approved_paid_with_an_event_for_each_step(tenant, sales, generate):
    statement = generate()
    approved = act(tenant, statement, "approve", {"Note": "checked against payroll"})
    assert approved.status_code == 200 and approved.json()["Status"] == "Approved"
    paid = act(tenant, statement, "mark-paid", {"PaidAt": "2026-04-05T09:00:00-05:00", "Reference": "PAYRUN-42"})
    assert paid.status_code == 200, paid.json()
    paid = paid.json()
    assert (paid["Status"], paid["PaymentReference"], paid["Total"]) == ("Paid", "PAYRUN-42", 13.93)
    assert paid["PaidAt"].startswith("2026-04-05T14:00:00")
    assert [(e["Type"], e["Actor"]) for e in paid["Events"]] == [
        ("Created", tenant.admin.user.email), ("Approved", tenant.admin.user.email), ("Paid", tenant.admin.user.email)]
    assert paid["Events"][1]["Note"] == "checked against payroll" and "PAYRUN-42" in paid["Events"][2]["Note"]
    assert paid["Entries"] == statement["Entries"]


def test_mark_paid_defaults_to_now_and_validates_its_body(tenant, sales, generate):
    statement = generate()
    act(tenant, statement, "approve")
    for bad, field in (({"PaidAt": "yesterday"}, "PaidAt"), ({"Reference": "x" * 129}, "Reference"),
                       ({"Amount": 5}, "Amount")):
        response = act(tenant, statement, "mark-paid", bad)
        assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert events(statement["CommissionStatementId"]) == ["Created", "Approved"]
    paid = act(tenant, statement, "mark-paid").json()
    assert paid["Status"] == "Paid" and paid["PaidAt"] and paid["PaymentReference"] == ""


def test_recalculate_picks_up_new_lines_but_an_approved_statement_never_changes(tenant, sales, generate):
    statement = generate()
    late = tenant.admin_api.post(f"/api/invoices/{sales['unpaid']['InvoiceId']}/payments",
                                 {"Amount": "18.50", "PaidAt": "2026-03-20T15:00:00Z"}, format="json")
    assert late.status_code == 201
    recalculated = act(tenant, statement, "recalculate").json()
    assert recalculated["Total"] == 16.71  # + 18.50 at 0.15 = 2.775 → 2.78
    assert [e["Type"] for e in recalculated["Events"]] == ["Created", "Recalculated"]
    act(tenant, statement, "approve")
    tenant.admin_api.patch(f"/api/commissions/plans/{sales['plan']['CommissionPlanId']}",
                           {"CustomerOverrides": []}, format="json")
    assert act(tenant, statement, "recalculate").status_code == 409
    assert tenant.admin_api.get(f"{URL}/{statement['CommissionStatementId']}").json()["Total"] == 16.71


def test_void_frees_the_lines_for_a_new_statement(tenant, sales, generate):
    first = generate()
    act(tenant, first, "approve")
    voided = act(tenant, first, "void", {"Note": "wrong plan"}).json()
    assert voided["Status"] == "Void" and voided["Events"][-1] == {**voided["Events"][-1], "Type": "Voided",
                                                                    "Note": "wrong plan"}
    second = generate()
    assert second["Total"] == 13.93 and second["CommissionStatementId"] != first["CommissionStatementId"]
    assert [e["InvoiceNumber"] for e in second["Entries"]] == [e["InvoiceNumber"] for e in first["Entries"]]


ACTIONS = {"recalculate": ("Draft", "Recalculated"), "approve": ("Approved", "Approved"),
           "mark-paid": ("Paid", "Paid"), "void": ("Void", "Voided")}
LEGAL = {"Generating": set(), "Failed": {"void"}, "Draft": {"recalculate", "approve", "void"},
         "Approved": {"mark-paid", "void"}, "Paid": set(), "Void": set()}


@pytest.fixture
def statement_in(tenant, sales, generate, django_capture_on_commit_callbacks):
    def reach(state: str) -> dict:
        if state in ("Generating", "Failed"):
            with django_capture_on_commit_callbacks() as queued:
                started = tenant.admin_api.post(URL, body(tenant), format="json").json()
            if state == "Failed":
                plan_path = f"/api/commissions/plans/{sales['plan']['CommissionPlanId']}"
                tenant.admin_api.post(f"{plan_path}/deactivate")
                for task in queued:
                    task()
                tenant.admin_api.post(f"{plan_path}/activate")
            return tenant.admin_api.get(f"{URL}/{started['CommissionStatementId']}").json()
        statement = generate()
        steps = {"Draft": [], "Approved": ["approve"], "Paid": ["approve", "mark-paid"], "Void": ["void"]}[state]
        for step in steps:
            assert act(tenant, statement, step).status_code == 200
        return tenant.admin_api.get(f"{URL}/{statement['CommissionStatementId']}").json()

    return reach


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("state", list(LEGAL))
def test_every_transition_legal_or_409(tenant, statement_in, state, action):
    statement = statement_in(state)
    assert statement["Status"] == state
    before = events(statement["CommissionStatementId"])
    response = act(tenant, statement, action)
    if action in LEGAL[state]:
        to, event = ACTIONS[action]
        assert response.status_code == 200, response.json()
        assert response.json()["Status"] == to
        assert events(statement["CommissionStatementId"]) == [*before, event]
    else:
        assert response.status_code == 409, response.json()
        assert response["Content-Type"] == "application/problem+json"
        assert f"A {state} statement cannot be" in response.json()["detail"]
        assert events(statement["CommissionStatementId"]) == before
        assert CommissionStatement.objects.get(pk=statement["CommissionStatementId"]).status == state


# ---------------------------------------------------------------- reading


def test_list_shows_headers_with_filters_and_sorting(tenant, sales, generate):
    add_plan_for_other_rep(tenant)
    march = generate()
    february = generate({"PeriodStart": "2026-02-01", "PeriodEnd": "2026-02-28"})
    act(tenant, february, "approve")
    priyas = generate(rep=tenant.other_rep)
    euros = generate(CurrencyCode="EUR")
    api = tenant.admin_api

    def ids(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return [s["CommissionStatementId"] for s in response.json()["Data"]]

    def of(*statements):
        return [s["CommissionStatementId"] for s in statements]

    page = api.get(URL).json()
    assert page["TotalRecords"] == 4 and page["CurrentPage"] == 1 and page["TotalPages"] == 1
    assert set(page["Data"][0]) == {"CommissionStatementId", "SalesRepId", "RepNumber", "PeriodStart", "PeriodEnd",
                                    "CurrencyCode", "Status", "SalesTotal", "Quota", "Attainment", "LinesTotal",
                                    "AdjustmentsTotal", "Total",
                                    "PaidAt", "PaymentReference", "Failure", "CreatedAt", "UpdatedAt"}  # no Entries
    assert ids()[-1] == february["CommissionStatementId"]  # latest periods first
    assert ids(status="Approved") == of(february)
    assert ids(salesRepId=str(tenant.other_rep.sales_rep_id)) == of(priyas)
    assert ids(repNumber="REP-012") == of(priyas)
    assert ids(currencyCode="eur") == of(euros)
    assert set(ids(periodStart="2026-03-15")) == set(of(march, priyas, euros))  # overlapping the range
    assert ids(periodEnd="2026-02-28") == of(february)
    assert ids(periodStart="2026-02-10", periodEnd="2026-02-20") == of(february)
    assert ids(sortOn="Total", sortDirection="desc", repNumber="REP-007")[0] == march["CommissionStatementId"]
    assert ids(sortOn="PeriodStart")[0] == february["CommissionStatementId"]
    assert ids(sortOn="RepNumber", sortDirection="desc")[0] == priyas["CommissionStatementId"]
    assert len(ids(sortOn="CreatedAt")) == 4
    assert ids(search="priya") == of(priyas)
    for bad in ({"status": "Bogus"}, {"periodStart": "March"}, {"sortOn": "Color"}, {"salesRepId": "x"}):
        assert api.get(URL, bad).status_code == 400, bad
    assert sorted(s["CommissionStatementId"] for s in tenant.rep_api.get(URL).json()["Data"]) == sorted(
        of(march, february, euros))
    assert tenant.rep_api.get(URL, {"repNumber": "REP-012"}).json()["Data"] == []


def add_plan_for_other_rep(tenant):
    create_plan(tenant, SalesRepId=str(tenant.other_rep.sales_rep_id), Name="Priya's", CustomerOverrides=[],
                Active=True)


@pytest.mark.parametrize("invoices", [1, 6])
def test_detail_and_list_query_counts_stay_constant(tenant, sales, generate, invoices, django_assert_max_num_queries):
    for n in range(invoices):
        paid_invoice(tenant, [("WDG-100-BLU", n + 1), ("GAD-1", 2)], "2026-03-05T15:00:00Z")
    statement = generate()
    act(tenant, statement, "approve")
    api = tenant.admin_api
    # the login, the statement, its entries, their lines, its adjustments, disputes and events
    with django_assert_max_num_queries(7):
        detail = api.get(f"{URL}/{statement['CommissionStatementId']}")
    assert len(detail.json()["Entries"]) == invoices + 2
    with django_assert_max_num_queries(3):  # the login, the count, the page
        assert api.get(URL, {"PageSize": 200}).status_code == 200


# ---------------------------------------------------------------- who may do what


ROLES = ["admin", "rep", "other_rep", "portal", "other_org_admin", "anonymous"]
#   route (on REP-007's Draft statement)           admin rep other_rep portal other_org_admin anonymous
MATRIX = [
    ("get", f"{URL}", (200, 200, 200, 404, 200, 401)),
    ("get", f"{URL}/{{id}}", (200, 200, 404, 404, 404, 401)),
    ("get", f"{URL}/{{id}}/export.csv", (200, 200, 404, 404, 404, 401)),
    ("post", f"{URL}/{{id}}/recalculate", (200, 403, 404, 404, 404, 401)),
    ("post", f"{URL}/{{id}}/approve", (200, 403, 404, 404, 404, 401)),
    ("post", f"{URL}/{{id}}/mark-paid", (409, 403, 404, 404, 404, 401)),  # the admin may; a Draft may not
    ("post", f"{URL}/{{id}}/void", (200, 403, 404, 404, 404, 401)),
    ("post", f"{URL}", (202, 403, 403, 404, 400, 401)),  # April for REP-007; 400: not the caller's rep
]


@pytest.mark.parametrize("method, path, expected", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
@pytest.mark.parametrize("index, role", list(enumerate(ROLES)))
def test_matrix(tenant, other_tenant, sales, generate, django_capture_on_commit_callbacks, method, path, expected,
                index, role):
    statement = generate()
    callers = {"admin": tenant.admin_api, "rep": tenant.rep_api, "other_rep": tenant.other_rep_api,
               "portal": tenant.portal_api, "other_org_admin": other_tenant.admin_api, "anonymous": APIClient()}
    data = body(tenant, APRIL) if method == "post" and path == URL else None
    before = (list(CommissionStatement.objects.values_list("status", "total")), StatementEvent.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(callers[role], method)(path.format(id=statement["CommissionStatementId"]), data,
                                                  format="json")
    assert response.status_code == expected[index], getattr(response, "content", response)
    if expected[index] >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert (list(CommissionStatement.objects.values_list("status", "total")),
                StatementEvent.objects.count()) == before


# ---------------------------------------------------------------- the CSV


def csv_of(response) -> list[dict]:
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in rows)  # no total row, no comment
    return [dict(zip(COLUMNS, row)) for row in rows[1:]]


def test_csv_one_row_per_line_reconciling_to_the_total(tenant, sales, generate):
    # Odd prices at 0.07 (ODD-*) and 0.15 (WDG-100-*): most commissions need rounding.
    # (Pairs whose product is exact in binary floating point too: on SQLite the orders' line-total
    # check compares floats, and 5 × 2.49 would be refused there.)
    odd = [("0.33", 3), ("1.07", 3), ("2.49", 4), ("7.77", 3), ("0.99", 4), ("5.55", 3), ("3.37", 3), ("4.19", 3)]
    widgets = [("6.01", 3), ("8.83", 4), ("12.34", 4), ("0.47", 3), ("9.09", 3), ("2.23", 4), ("1.11", 3), ("0.77", 3)]
    for n, ((odd_price, _), (widget_price, _)) in enumerate(zip(odd, widgets)):
        add_product(tenant.org, f"ODD-{n}", f"Odd {n}", [("Wholesale", 1, odd_price)])
        add_product(tenant.org, f"WDG-100-{n}", f"=Widget {n}", [("Wholesale", 1, widget_price)])
    paid_invoice(tenant, [(f"ODD-{n}", qty) for n, (_, qty) in enumerate(odd)]
                 + [(f"WDG-100-{n}", qty) for n, (_, qty) in enumerate(widgets)], "2026-03-15T15:00:00Z")
    statement = generate()
    response = tenant.rep_api.get(f"{URL}/{statement['CommissionStatementId']}/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="statement-REP-007-2026-03.csv"'
    rows = csv_of(response)
    lines = [line for entry in statement["Entries"] for line in entry["Lines"]]
    assert len(rows) == len(lines) == 19
    stored = CommissionStatement.objects.get(pk=statement["CommissionStatementId"])
    assert sum(Decimal(row["Commission"]) for row in rows) == stored.total
    assert stored.total == sum(Decimal(str(entry["Commission"])) for entry in statement["Entries"])
    assert sum(Decimal(row["LineAmount"]) * Decimal(row["Rate"]) != Decimal(row["Commission"]) for row in rows) > 10
    assert all(re.fullmatch(r"-?\d+\.\d{2}", row[c]) for row in rows for c in ("LineAmount", "Commission"))
    assert all(re.fullmatch(r"\d\.\d{4}", row["Rate"]) for row in rows)
    first = rows[0]
    assert first == {"InvoiceNumber": sales["march"]["InvoiceNumber"], "CustomerNumber": "CUST-0042",
                     "Sku": "WDG-100-BLU", "ProductName": "Widget Blue", "Quantity": "3", "LineAmount": "55.50",
                     "Rate": "0.1500", "RateSource": "Override CUST-0042: Rule: Acme widgets", "Commission": "8.33"}
    assert {row["ProductName"] for row in rows if row["Sku"].startswith("WDG-100-") and row["Sku"] != "WDG-100-BLU"} \
        == {f"'=Widget {n}" for n in range(len(widgets))}  # not a formula in a spreadsheet


def test_csv_clawbacks_are_negative_rows_at_the_original_rate(tenant, sales, generate):
    march = generate()
    act(tenant, march, "approve")
    memo = {"CreditDate": "2026-04-05", "Reason": "Damaged", "Lines": [{"Sku": "WDG-100-BLU", "Quantity": 2}]}
    assert tenant.admin_api.post(f"/api/invoices/{sales['march']['InvoiceId']}/credit-memos", memo,
                                 format="json").status_code == 201
    april = generate(APRIL)
    rows = csv_of(tenant.admin_api.get(f"{URL}/{april['CommissionStatementId']}/export.csv"))
    assert [(r["Sku"], r["Quantity"], r["LineAmount"], r["Rate"], r["Commission"]) for r in rows] == [
        ("WDG-100-BLU", "-2", "-37.00", "0.1500", "-5.55"),  # INV-00001 sorts first
        ("WDG-100-BLU", "4", "74.00", "0.1500", "11.10"),
    ]
    assert rows[0]["RateSource"] == "Clawback (Override CUST-0042: Rule: Acme widgets)"
    assert sum(Decimal(r["Commission"]) for r in rows) == Decimal("5.55") == Decimal(str(april["Total"]))


def test_csv_filename_names_the_dates_and_a_foreign_currency(tenant, sales, generate):
    statement = generate({"PeriodStart": "2026-03-01", "PeriodEnd": "2026-03-15"}, CurrencyCode="EUR")
    response = tenant.admin_api.get(f"{URL}/{statement['CommissionStatementId']}/export.csv",
                                    HTTP_ACCEPT="text/csv")
    assert 'filename="statement-REP-007-2026-03-01_2026-03-15-EUR.csv"' in response["Content-Disposition"]
    assert csv_of(response) == []
    missing = tenant.admin_api.get(f"{URL}/00000000-0000-0000-0000-000000000000/export.csv", HTTP_ACCEPT="text/csv")
    assert missing.status_code == 404 and missing.json()["status"] == 404
