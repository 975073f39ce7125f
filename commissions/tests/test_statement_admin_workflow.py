"""A statement's workflow as buttons on its own admin page (§9): recalculate, adjust, resolve,
approve, mark paid with a reference, void — and the list's bulk "Mark paid…", all or none."""
from decimal import Decimal

import pytest

from commissions.models import CommissionStatement, StatementDispute
from commissions.tests import test_statement_admin as admin_tests

pytestmark = pytest.mark.django_db

eager_tasks = admin_tests.eager_tasks
sales = admin_tests.sales
statement = admin_tests.statement
theirs = admin_tests.theirs
ADMIN_URL = admin_tests.ADMIN_URL
APRIL = {"period_start": "2026-04-01", "period_end": "2026-04-30"}


def page_of(staff_client, statement) -> str:
    response = staff_client.get(f"{ADMIN_URL}{statement.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def step(staff_client, statement, name):
    return staff_client.post(f"{ADMIN_URL}{statement.pk}/step/{name}/", follow=True)


def workflow_box(page: str) -> str:
    return page.split('id="statement-workflow"')[1].split("</div>")[0]


def test_a_draft_offers_recalculate_adjust_approve_and_void_and_each_goes_through_the_services(
        staff_client, tenant, statement):
    box = workflow_box(page_of(staff_client, statement))
    assert all(label in box for label in ('value="Recalculate"', "Add an adjustment…", 'value="Approve"',
                                          'value="Void"'))
    assert "Mark paid…" not in box

    assert "Recalculated." in step(staff_client, statement, "recalculate").content.decode()
    approved = step(staff_client, statement, "approve").content.decode()
    assert "Approved." in approved
    statement.refresh_from_db()
    assert statement.status == "Approved"
    box = workflow_box(approved)
    assert "Mark paid…" in box and 'value="Void"' in box and 'value="Recalculate"' not in box and 'value="Approve"' not in box
    email = tenant.admin.user.email
    assert list(statement.events.values_list("type", "actor")) == [
        ("Created", email), ("Recalculated", email), ("Approved", email)]


def test_a_refused_step_is_a_message_and_changes_nothing(staff_client, statement):
    step(staff_client, statement, "approve")
    refused = step(staff_client, statement, "recalculate")
    assert refused.status_code == 200
    assert "Refused: A Approved statement cannot be recalculated" in refused.content.decode()
    assert "No such step: pay." in step(staff_client, statement, "pay").content.decode()
    assert staff_client.get(f"{ADMIN_URL}{statement.pk}/step/void/").status_code == 405
    statement.refresh_from_db()
    assert statement.status == "Approved" and statement.events.count() == 2


def test_adjustments_are_added_with_their_reason_kept_by_recalculation_and_removed(staff_client, tenant, statement):
    adjust_url = f"{ADMIN_URL}{statement.pk}/adjustments/"
    form = staff_client.get(adjust_url)
    assert form.status_code == 200 and b'name="amount"' in form.content and b"13.93 USD" in form.content
    zero = staff_client.post(adjust_url, {"amount": "0", "reason": "Nothing"})
    assert zero.status_code == 400
    assert zero.context["form"].errors["amount"] == ["An adjustment is not 0."]
    assert b'value="Nothing"' in zero.content  # filled in as it was sent
    blank = staff_client.post(adjust_url, {"amount": "5", "reason": "   "})
    assert blank.status_code == 400 and blank.context["form"].errors["reason"]
    huge = staff_client.post(adjust_url, {"amount": "1e20", "reason": "Too much"})
    assert huge.status_code == 400 and huge.context["form"].errors["amount"]
    assert not statement.adjustments.exists()

    done = staff_client.post(adjust_url, {"amount": "-2.50", "reason": "Freight charged back",
                                          "invoice_number": ""}, follow=True)
    assert "Adjusted by -2.50 USD." in done.content.decode()
    staff_client.post(adjust_url, {"amount": "10", "reason": "Trade-show bonus"})
    step(staff_client, statement, "recalculate")
    statement.refresh_from_db()
    assert (statement.lines_total, statement.adjustments_total, statement.total) == (
        Decimal("13.93"), Decimal("7.50"), Decimal("21.43"))
    page = page_of(staff_client, statement)
    assert "Adjustments, in USD (total 7.50)" in page and "-2.50 USD" in page and "Trade-show bonus" in page

    freight = statement.adjustments.get(reason="Freight charged back")
    assert f'form="remove-{freight.pk}"' in page
    removed = staff_client.post(f"{adjust_url}{freight.pk}/remove/", follow=True)
    assert "Adjustment removed." in removed.content.decode()
    statement.refresh_from_db()
    assert statement.total == Decimal("23.93")
    assert list(statement.events.values_list("type", flat=True)) == [
        "Created", "Adjusted", "Adjusted", "Recalculated", "Adjusted"]

    step(staff_client, statement, "approve")
    assert staff_client.post(adjust_url, {"amount": "1", "reason": "Late"}).status_code == 400
    assert "Add an adjustment" not in page_of(staff_client, statement)
    assert statement.adjustments.count() == 1


def test_an_open_dispute_holds_approval_until_it_is_resolved_from_the_statement_page(staff_client, tenant, statement):
    raised = tenant.rep_api.post(f"/api/commissions/statements/{statement.pk}/disputes",
                                 {"Note": "The gadget line looks low", "Sku": "GAD-1"}, format="json")
    assert raised.status_code == 201, raised.json()
    dispute = StatementDispute.objects.get()
    page = page_of(staff_client, statement)
    assert "1 open dispute: approval and payment wait for it." in page
    assert "The gadget line looks low" in page and "disabled" in workflow_box(page)
    resolve_url = f"/admin/commissions/statementdispute/{dispute.pk}/resolve/"
    assert resolve_url in page

    refused = step(staff_client, statement, "approve").content.decode()
    assert "Refused:" in refused and str(dispute.pk) in refused
    statement.refresh_from_db()
    assert statement.status == "Draft"

    staff_client.post(resolve_url, {"resolution": "Rate is right: 7% on gadgets."})
    page = page_of(staff_client, statement)
    assert "Rate is right: 7% on gadgets." in page and "open dispute" not in page
    step(staff_client, statement, "approve")
    statement.refresh_from_db()
    assert statement.status == "Approved"


def test_mark_paid_asks_for_the_reference(staff_client, tenant, statement):
    url = f"{ADMIN_URL}{statement.pk}/mark-paid/"
    assert staff_client.post(url, {"reference": "PAY-1"}).status_code == 400  # a Draft: refused
    statement.refresh_from_db()
    assert statement.status == "Draft"
    step(staff_client, statement, "approve")
    form = staff_client.get(url)
    assert form.status_code == 200 and b'name="reference"' in form.content and b"13.93 USD" in form.content
    missing = staff_client.post(url, {"reference": ""})
    assert missing.status_code == 400 and missing.context["form"].errors["reference"]
    paid = staff_client.post(url, {"reference": "PAYROLL-2026-04", "paid_at": "2026-04-05T09:30"}, follow=True)
    assert "Marked paid 1 statement(s), reference PAYROLL-2026-04." in paid.content.decode()
    statement.refresh_from_db()
    assert (statement.status, statement.payment_reference) == ("Paid", "PAYROLL-2026-04")
    assert statement.paid_at.date().isoformat() == "2026-04-05"
    assert not workflow_box_or_none(page_of(staff_client, statement))  # Paid: nothing left to do


def workflow_box_or_none(page: str) -> str:
    return workflow_box(page) if 'id="statement-workflow"' in page else ""


def test_bulk_mark_paid_is_all_or_none(staff_client, tenant, statement):
    admin_tests.generate(staff_client, tenant.rep, period=APRIL)
    april = CommissionStatement.objects.get(period_start="2026-04-01")
    step(staff_client, statement, "approve")  # March Approved, April still a Draft
    chosen = staff_client.post(ADMIN_URL, {"action": "mark_paid", "_selected_action": [statement.pk, april.pk]},
                               follow=True)
    page = chosen.content.decode()
    assert "Mark 2 statements paid" in page and "Together, in USD" in page
    bulk_url = f"{ADMIN_URL}mark-paid/"
    refused = staff_client.post(bulk_url, {"ids": [statement.pk, april.pk], "reference": "RUN-7"})
    assert refused.status_code == 400 and "Nothing was marked paid" in refused.content.decode()
    assert not CommissionStatement.objects.filter(status="Paid").exists()

    step(staff_client, april, "approve")
    staff_client.post(bulk_url, {"ids": [statement.pk, april.pk], "reference": "RUN-7"})
    assert set(CommissionStatement.objects.values_list("status", "payment_reference")) == {("Paid", "RUN-7")}


def test_the_buttons_do_not_reach_another_organizations_statement(staff_client, statement, theirs):
    theirs.status = "Draft"
    theirs.save(update_fields=["status"])
    for url in (f"{ADMIN_URL}{theirs.pk}/step/approve/", f"{ADMIN_URL}{theirs.pk}/adjustments/",
                f"{ADMIN_URL}{theirs.pk}/mark-paid/"):
        assert staff_client.post(url, {"amount": "5", "reason": "x", "reference": "R"}).status_code == 404
    assert staff_client.post(f"{ADMIN_URL}mark-paid/", {"ids": [theirs.pk], "reference": "R"},
                             follow=True).redirect_chain[-1][0] == ADMIN_URL
    theirs.refresh_from_db()
    assert theirs.status == "Draft" and not theirs.adjustments.exists()
