"""Statements finance can close (§4 "Commission statements", §7): adjustments, disputes, catch-up,
bulk payouts — through the API, with the totals and the CSV to the cent."""
import csv
import io

import pytest
from django.test import TestCase

from commissions.models import CommissionStatement
from commissions.tasks import generate_monthly_statements
from commissions.tests.test_commission_rules import (
    APRIL,
    MARCH,
    STATEMENTS,
    credit,
    lines,
    make_shop,
    order,
    pay,
    plan,
    statement,
)
from commissions.tests.test_statement_api import eager_tasks  # noqa: F401  (tasks in-process)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant):
    return make_shop(tenant)


@pytest.fixture
def draft(shop):
    """REP-007's March: one 100.00 gadget at 10% = 10.00."""
    plan(shop)
    invoice = order(shop, [("GAD-1", 1)])
    pay(shop, invoice, "100.00", "2026-03-20T12:00:00-05:00")
    made = statement(shop, shop.rep, *MARCH)
    return {"statement": made, "invoice": invoice, "url": f"{STATEMENTS}/{made['CommissionStatementId']}"}


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_adjustments_change_the_total_survive_recalculation_and_show_in_the_csv(shop, draft):
    api, url = shop.admin_api, draft["url"]
    bonus = api.post(f"{url}/adjustments", {"Amount": "25.00", "Reason": "Q1 bonus"}, format="json")
    assert bonus.status_code == 201, bonus.json()
    cut = api.post(f"{url}/adjustments", {"Amount": "-3.50", "Reason": "Freight charged back",
                                          "InvoiceNumber": draft["invoice"]["InvoiceNumber"]}, format="json").json()
    assert (cut["LinesTotal"], cut["AdjustmentsTotal"], cut["Total"]) == (10.00, 21.50, 31.50)
    assert [(a["Amount"], a["Reason"], a["InvoiceNumber"], a["Actor"]) for a in cut["Adjustments"]] == [
        (25.00, "Q1 bonus", "", shop.admin.user.email),
        (-3.50, "Freight charged back", draft["invoice"]["InvoiceNumber"], shop.admin.user.email)]
    recalculated = api.post(f"{url}/recalculate", {}, format="json").json()
    assert (recalculated["Total"], len(recalculated["Adjustments"])) == (31.50, 2)
    rows = csv_rows(api.get(f"{url}/export.csv"))
    assert [r["RateSource"] for r in rows][-2:] == ["Adjustment: Q1 bonus", "Adjustment: Freight charged back"]
    assert sum(float(r["Commission"]) * 100 for r in rows) == 3150
    removed = api.delete(f"{url}/adjustments/{cut['Adjustments'][0]['AdjustmentId']}").json()
    assert (removed["AdjustmentsTotal"], removed["Total"]) == (-3.50, 6.50)
    assert [e["Type"] for e in removed["Events"]].count("Adjusted") == 3


def test_adjustments_are_admins_on_drafts_and_refuse_bad_input(shop, draft):
    api, url = shop.admin_api, draft["url"]
    for body, field in (({"Amount": "0", "Reason": "x"}, "Amount"), ({"Amount": "5"}, "Reason"),
                        ({"Amount": "5", "Reason": "x", "InvoiceNumber": "INV-99999"}, "InvoiceNumber")):
        refused = api.post(f"{url}/adjustments", body, format="json")
        assert refused.status_code == 400 and field in refused.json()["errors"], refused.json()
    assert shop.rep_api.post(f"{url}/adjustments", {"Amount": "5", "Reason": "me"}, format="json").status_code == 403
    api.post(f"{url}/approve", {}, format="json")
    assert api.post(f"{url}/adjustments", {"Amount": "5", "Reason": "late"}, format="json").status_code == 409
    assert CommissionStatement.objects.get(pk=draft["statement"]["CommissionStatementId"]).total == 10


def test_a_rep_disputes_its_statement_and_approval_and_payment_wait_for_the_resolution(shop, draft):
    api, url = shop.admin_api, draft["url"]
    raised = shop.rep_api.post(f"{url}/disputes", {"Note": "Missing the March 28 order", "Sku": "GAD-1"},
                               format="json")
    assert raised.status_code == 201, raised.json()
    [dispute] = raised.json()["Disputes"]
    assert (dispute["Status"], dispute["RaisedBy"], dispute["Sku"]) == ("Open", shop.rep.email, "GAD-1")
    blocked = api.post(f"{url}/approve", {}, format="json")
    assert blocked.status_code == 409 and dispute["DisputeId"] in blocked.json()["errors"]["Disputes"]
    assert shop.other_rep_api.post(f"{url}/disputes", {"Note": "not mine"}, format="json").status_code == 404
    assert shop.rep_api.post(f"{url}/disputes/{dispute['DisputeId']}/resolve", {"Resolution": "x"},
                             format="json").status_code == 403
    resolved = api.post(f"{url}/disputes/{dispute['DisputeId']}/resolve", {"Resolution": "Paid in April"},
                        format="json").json()
    assert resolved["Disputes"][0]["Status"] == "Resolved" and resolved["Disputes"][0]["ResolvedAt"]
    again = api.post(f"{url}/disputes/{dispute['DisputeId']}/resolve", {"Resolution": "twice"}, format="json")
    assert again.status_code == 409
    assert api.post(f"{url}/approve", {}, format="json").status_code == 200
    shop.rep_api.post(f"{url}/disputes", {"Note": "Still wrong"}, format="json")  # Approved: may be disputed
    assert api.post(f"{url}/mark-paid", {"Reference": "PAY-1"}, format="json").status_code == 409
    types = [e["Type"] for e in api.get(url).json()["Events"]]
    assert types == ["Created", "Disputed", "DisputeResolved", "Approved", "Disputed"]


def test_bulk_mark_paid_is_all_or_none_and_payouts_csv_has_a_row_per_statement(shop, draft):
    api = shop.admin_api
    plan(shop, shop.other_rep)
    theirs = order(shop, [("GAD-1", 2)], customer="CUST-0099")
    pay(shop, theirs, "200.00", "2026-03-21T12:00:00-05:00")
    other = statement(shop, shop.other_rep, *MARCH)
    ids = [draft["statement"]["CommissionStatementId"], other["CommissionStatementId"]]
    api.post(f"{draft['url']}/approve", {}, format="json")
    refused = api.post(f"{STATEMENTS}/mark-paid", {"CommissionStatementIds": ids, "Reference": "RUN-3"}, format="json")
    assert refused.status_code == 409 and refused.json()["errors"]["CommissionStatementIds"] == [ids[1]]
    assert CommissionStatement.objects.get(pk=ids[0]).status == "Approved"  # none were paid
    api.post(f"{STATEMENTS}/{ids[1]}/approve", {}, format="json")
    paid = api.post(f"{STATEMENTS}/mark-paid", {"CommissionStatementIds": ids, "Reference": "RUN-3"}, format="json")
    assert paid.status_code == 200 and {s["Status"] for s in paid.json()} == {"Paid"}
    payouts = api.get("/api/commissions/payouts.csv", {"periodStart": "2026-03-01", "periodEnd": "2026-03-31"})
    rows = csv_rows(payouts)
    assert [(r["RepNumber"], r["Status"], r["Total"]) for r in rows] == [("REP-007", "Paid", "10.00"),
                                                                         ("REP-012", "Paid", "20.00")]
    assert list(rows[0]) == ["RepNumber", "FirstName", "LastName", "Email", "PeriodStart", "PeriodEnd", "CurrencyCode",
                             "Status", "LinesTotal", "AdjustmentsTotal", "Total", "CommissionStatementId"]
    assert shop.rep_api.get("/api/commissions/payouts.csv").status_code == 403


def test_oca_607_an_april_credit_memo_against_a_march_line_commissioned_after_april_closed(shop):
    """OCA #607: March's sale is commissioned late (the plan is activated after April was closed);
    the April return must still be clawed back, not lost with the closed month."""
    made = plan(shop, Active=False)
    invoice = order(shop, [("GAD-1", 2)])
    pay(shop, invoice, "200.00", "2026-03-20T12:00:00-05:00")
    credit(shop, invoice, "GAD-1", 1, "2026-04-10")
    shop.admin_api.post(f"/api/commissions/plans/{made['CommissionPlanId']}/activate")
    april = statement(shop, shop.rep, *APRIL)  # April closes: March's line was not commissioned yet
    assert lines(april) == []
    shop.admin_api.post(f"{STATEMENTS}/{april['CommissionStatementId']}/approve", {}, format="json")
    # The May run (catch-up) commissions March's line and claws back April's return.
    with TestCase.captureOnCommitCallbacks(execute=True):
        generate_monthly_statements("2026-06-01")
    may = CommissionStatement.objects.get(sales_rep=shop.rep, period_start="2026-05-01")
    detail = shop.admin_api.get(f"{STATEMENTS}/{may.pk}").json()
    assert sorted((line["LineDate"], line["LineAmount"], line["Commission"]) for line in lines(detail)) == [
        ("2026-03-20", 200.00, 20.00), ("2026-04-10", -100.00, -10.00)]
    assert detail["Total"] == 10.00


def test_without_catch_up_a_period_takes_only_its_own_days(shop):
    plan(shop)
    invoice = order(shop, [("GAD-1", 1)])
    pay(shop, invoice, "100.00", "2026-03-20T12:00:00-05:00")
    assert lines(statement(shop, shop.rep, *APRIL)) == []
    assert len(lines(statement(shop, shop.rep, "2026-05-01", "2026-05-31", IncludeEarlier=True))) == 1


def test_reps_hear_of_approval_and_payment_and_admins_of_disputes(shop, draft, mailoutbox):
    url = draft["url"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        shop.rep_api.post(f"{url}/disputes", {"Note": "Where is the March 28 order?"}, format="json")
    [to_admin] = mailoutbox
    assert to_admin.to == [shop.admin.user.email] and "REP-007 disputes" in to_admin.subject
    assert "Where is the March 28 order?" in to_admin.body and "/admin/commissions/commissionstatement/" in to_admin.body
    dispute_id = shop.admin_api.get(url).json()["Disputes"][0]["DisputeId"]
    shop.admin_api.post(f"{url}/disputes/{dispute_id}/resolve", {"Resolution": "In April"}, format="json")
    with TestCase.captureOnCommitCallbacks(execute=True):
        shop.admin_api.post(f"{url}/approve", {}, format="json")
        shop.admin_api.post(f"{url}/mark-paid", {"Reference": "PAY-9"}, format="json")
    approved, paid = mailoutbox[1:]
    assert approved.to == paid.to == [shop.rep.email]
    assert "approved" in approved.subject and "10.00 USD" in approved.subject
    assert "2026-03-01 – 2026-03-31" in approved.body and f"/api/commissions/statements/{draft['statement']['CommissionStatementId']}" in approved.body
    assert "paid" in paid.subject and "PAY-9" in paid.body


def test_each_mail_has_a_plain_text_part_and_an_html_one_each_escaped_as_it_should(shop, draft, mailoutbox):
    note = 'Order <b>"A&B"</b> is missing'
    with TestCase.captureOnCommitCallbacks(execute=True):
        shop.rep_api.post(f"{draft['url']}/disputes", {"Note": note}, format="json")
    [mail] = mailoutbox
    assert note in mail.body  # plain text is not HTML: nothing escaped
    [(html, kind)] = mail.alternatives
    assert kind == "text/html" and "Order &lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt; is missing" in html
    assert "<b>" not in html and 'href="http' in html and "Resolve it" in html
    dispute_id = shop.admin_api.get(draft["url"]).json()["Disputes"][0]["DisputeId"]
    shop.admin_api.post(f"{draft['url']}/disputes/{dispute_id}/resolve", {"Resolution": "ok"}, format="json")
    with TestCase.captureOnCommitCallbacks(execute=True):
        shop.admin_api.post(f"{draft['url']}/approve", {}, format="json")
    approved_html = mailoutbox[1].alternatives[0][0]
    assert "<strong>10.00 USD</strong>" in approved_html and "See the statement" in approved_html


def test_a_refused_approval_sends_nothing(shop, draft, mailoutbox):
    shop.rep_api.post(f"{draft['url']}/disputes", {"Note": "wrong"}, format="json")
    mailoutbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert shop.admin_api.post(f"{draft['url']}/approve", {}, format="json").status_code == 409
    assert mailoutbox == []


def test_the_admin_lists_open_disputes_and_resolves_them(shop, draft, other_tenant, staff_client):
    shop.rep_api.post(f"{draft['url']}/disputes", {"Note": "Missing an order", "Sku": "GAD-1"}, format="json")
    listing = staff_client.get("/admin/commissions/statementdispute/", follow=True)
    assert listing.status_code == 200 and b"Missing an order" in listing.content  # open ones by default
    from commissions.models import StatementDispute

    dispute = StatementDispute.objects.get()
    page = staff_client.get(f"/admin/commissions/statementdispute/{dispute.pk}/change/")
    assert page.status_code == 200 and b"/resolve/" in page.content
    url = f"/admin/commissions/statementdispute/{dispute.pk}/resolve/"
    assert staff_client.post(url, {"resolution": ""}).status_code == 400
    assert staff_client.post(url, {"resolution": "Added in April"}).status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution, dispute.resolved_by) == ("Resolved", "Added in April",
                                                                         shop.admin.user.email)
    other = other_tenant.admin.user
    other.is_staff = True
    other.save(update_fields=["is_staff"])
    from django.test import Client

    outsider = Client()
    outsider.force_login(other)
    assert b"Missing an order" not in outsider.get("/admin/commissions/statementdispute/?status__exact=Resolved").content
    assert outsider.post(url, {"resolution": "mine now"}).status_code == 302
    dispute.refresh_from_db()
    assert dispute.resolution == "Added in April"


def test_the_printable_statement_shows_the_adjustments_and_the_totals(shop, draft, staff_client):
    shop.admin_api.post(f"{draft['url']}/adjustments", {"Amount": "-1.25", "Reason": "Freight"}, format="json")
    page = staff_client.get(
        f"/admin/commissions/commissionstatement/{draft['statement']['CommissionStatementId']}/print/").content.decode()
    assert "Freight" in page and "-1.25" in page and "8.75 USD" in page and "Lines total" in page
