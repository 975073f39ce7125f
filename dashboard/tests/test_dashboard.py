"""The dashboard on the admin's index page: its numbers to the cent against data made through the
services, scoped to the staff user's organization, in a constant number of queries."""
import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commissions.plans import services as plans
from commissions.statements import services as statements
from customers.tests.factories import CustomerFactory
from dashboard.selectors import dashboard_for, month_start
from nymble.scoping import Principal
from orders import services as orders
from orders.tests.conftest import add_product
from salesreps.tests.factories import SalesRepFactory

INDEX = "/admin/"


def admin_of(tenant) -> Principal:
    return Principal(organization_id=tenant.org.pk, role="Admin", membership_id=tenant.admin.pk)


def invoice(tenant, customer, items, day, credits=None, paid=None):
    """An invoice of `items` dated `day`; `paid` = (amount, moment) records a payment."""
    order, _ = orders.order_place(organization=tenant.org, actor=admin_of(tenant), actor_label="test",
                                  customer=customer, items=items, sales_credits=credits)
    made = orders.invoice_create(order=order, invoice_date=day)
    if paid:
        made = orders.payment_record(invoice=made, amount=Decimal(paid[0]), paid_at=paid[1], actor_label="test")
    return made


def noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.timezone.utc)


@pytest.fixture
def world(tenant, other_tenant, catalog):
    """Acme (UTC, USD): REP-007 has a plan at 10 % with a quota of 200.00, REP-012 one at 5 %.
    Last month: 55.50 (REP-007, paid) and 31.00 (REP-012, paid), each on a statement (5.55 Draft
    with an open dispute, 1.55 Approved). This month: 37.00 (REP-007) and 18.50 split 1/3–2/3,
    plus a voided invoice. Eleven months ago 46.50 (REP-012, 10.00 paid), a year ago 18.50: both past due."""
    today = timezone.localdate(timezone.now(), tenant.org.zone)
    current, previous = month_start(today), month_start(today, 1)
    widget, bolt = "WDG-100-BLU", "BLT-7"
    acme, zenith = tenant.customer, tenant.other_customer
    plans.plan_create(organization=tenant.org, sales_rep=tenant.rep, name="Rep 7", default_rate=Decimal("0.10"),
                      quota=Decimal("200.00"), active=True)
    plans.plan_create(organization=tenant.org, sales_rep=tenant.other_rep, name="Rep 12",
                      default_rate=Decimal("0.05"), active=True)
    last_day = current - datetime.timedelta(days=1)
    invoice(tenant, acme, [{"sku": widget, "quantity": 3}], previous, paid=("55.50", noon(previous)))
    invoice(tenant, zenith, [{"sku": bolt, "quantity": 10}], previous, paid=("31.00", noon(previous)))
    draft = statements.statement_generate(rep=tenant.rep, period_start=previous, period_end=last_day, actor="test")
    statements.statement_dispute_raise(statement=draft, note="Missing the March rebate", actor="test")
    approved = statements.statement_generate(rep=tenant.other_rep, period_start=previous, period_end=last_day,
                                             actor="test")
    statements.statement_approve(statement=approved, actor="test")
    invoice(tenant, acme, [{"sku": widget, "quantity": 2}], current)
    invoice(tenant, acme, [{"sku": widget, "quantity": 1}], current,
            credits=[{"rep_number": "REP-007", "share": Decimal("0.3333")},
                     {"rep_number": "REP-012", "share": Decimal("0.6667")}])
    orders.invoice_void(invoice=invoice(tenant, acme, [{"sku": widget, "quantity": 5}], current))
    old = invoice(tenant, zenith, [{"sku": bolt, "quantity": 15}], month_start(today, 11) + datetime.timedelta(days=14))
    orders.payment_record(invoice=old, amount=Decimal("10.00"), actor_label="test")
    invoice(tenant, acme, [{"sku": widget, "quantity": 1}], month_start(today, 12))

    # Globex: the same rep numbers and customer numbers, other figures, never shown to Acme.
    add_product(other_tenant.org, "GX-1", "Globex gear", [("Wholesale", 1, "111.11")])
    invoice(other_tenant, other_tenant.customer, [{"sku": "GX-1", "quantity": 7}], current)
    invoice(other_tenant, other_tenant.customer, [{"sku": "GX-1", "quantity": 3}], month_start(today, 3))
    return {"today": today, "current": current, "previous": previous, "draft": draft, "approved": approved}


def test_the_figures_to_the_cent(tenant, world):
    board = dashboard_for(tenant.org)
    usd = board.sales_by_month["USD"]
    assert list(board.sales_by_month) == ["USD"]
    assert usd[11] == Decimal("55.50")  # 37.00 + 18.50 this month (the voided 92.50 not)
    assert usd[10] == Decimal("86.50")  # 55.50 + 31.00 last month
    assert usd[0] == Decimal("46.50")  # eleven months ago; a year ago is outside the twelve months
    assert sum(usd[1:10]) == 0
    rep7, rep12 = board.reps
    current, previous = world["current"], world["previous"]
    assert rep7.sales == {(previous, "USD"): Decimal("55.50"), (current, "USD"): Decimal("43.17")}  # 37.00 + 6.17
    assert rep12.sales == {(previous, "USD"): Decimal("31.00"), (current, "USD"): Decimal("12.33")}
    assert rep7.commission == {(previous, "USD"): Decimal("5.55")}  # the Draft
    assert rep12.commission == {(previous, "USD"): Decimal("1.55")}  # the Approved
    assert (rep7.quota, rep7.attainment) == (Decimal("200.00"), Decimal("0.2159"))  # 43.17 / 200
    assert (rep12.quota, rep12.attainment) == (None, None)
    assert [s.pk for s in board.statements_waiting] == [world["draft"].pk] and board.statements_waiting_count == 1
    assert [d.note for d in board.open_disputes] == ["Missing the March rebate"] and board.open_disputes_count == 1
    assert board.past_due_count == 2 and board.past_due_totals == {"USD": Decimal("55.00")}  # 36.50 + 18.50
    assert [i.balance for i in board.past_due] == [Decimal("18.50"), Decimal("36.50")]  # the oldest first


def test_a_statement_that_is_void_or_failed_counts_no_commission(tenant, world):
    statements.statement_void(statement=world["draft"], actor="test")
    board = dashboard_for(tenant.org)
    assert board.reps[0].commission == {}
    assert board.statements_waiting_count == 0


def test_the_page_shows_the_charts_data_and_the_tables_with_currencies(staff_client, tenant, world):
    page = staff_client.get(INDEX)
    assert page.status_code == 200
    html = page.content.decode()
    assert "chart.umd.min.js" in html and "dashboard/dashboard.js" in html and 'id="chart-sales-by-month"' in html
    data = json.loads(html.split('<script id="dashboard-data" type="application/json">')[1].split("</script>")[0])
    assert data["salesByMonth"] == [{"currency": "USD", "amounts": ["46.50"] + ["0.00"] * 9 + ["86.50", "55.50"]}]
    assert data["reps"] == ["REP-007", "REP-012"]
    assert data["repSales"] == {"current": ["43.17", "12.33"], "previous": ["55.50", "31.00"]}
    assert data["attainment"] == [{"rep": "REP-007", "percent": "21.6"}]
    reps = html.split('id="dash-reps"')[1].split("</table>")[0]
    row7 = reps.split('data-rep="REP-007"')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row7.split('<td class="num">')[1:]] == [
        '<span class="amount">55.50 USD</span>', '<span class="amount">5.55 USD</span>',
        '<span class="amount">43.17 USD</span>', "—", "200.00 USD", "21.6 %"]
    assert 'id="dash-statements-waiting">1<' in html and 'id="dash-open-disputes">1<' in html
    assert 'id="dash-past-due">2<' in html and "55.00 USD" in html
    assert "Back office" in html and 'href="/admin/customers/customer/"' in html  # the app list is still there


def test_another_organizations_sales_never_show(staff_client, tenant, other_tenant, world):
    html = staff_client.get(INDEX).content.decode()
    assert "777.77" not in html and "333.33" not in html and "Globex" not in html
    board = dashboard_for(other_tenant.org)
    assert board.sales_by_month["USD"][11] == Decimal("777.77") and board.sales_by_month["USD"][8] == Decimal("333.33")
    assert board.statements_waiting_count == 0
    assert board.past_due_count == 1 and board.past_due_totals == {"USD": Decimal("333.33")}


def test_a_superuser_picks_the_organization(client, tenant, other_tenant, world, django_user_model):
    root = django_user_model.objects.create_superuser(email="root@nymble.test", password="x" * 12)
    client.force_login(root)
    first = client.get(INDEX).content.decode()  # Acme Corp comes first by name
    assert "Acme Corp" in first and 'id="dash-organization"' in first and "86.50 USD" in first
    chosen = client.get(INDEX, {"organization": str(other_tenant.org.pk)}).content.decode()
    assert "777.77 USD" in chosen and "86.50 USD" not in chosen
    assert client.get(INDEX, {"organization": "not-an-id"}).status_code == 200


def test_a_staff_user_without_an_organization_sees_the_app_list_only(client, tenant, django_user_model):
    lone = django_user_model.objects.create_user(email="lone@nymble.test", password="x" * 12, is_staff=True)
    client.force_login(lone)
    page = client.get(INDEX)
    assert page.status_code == 200 and b"nymble-dashboard" not in page.content


def queries_of(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(INDEX).status_code == 200
    return len(captured)


def test_the_query_count_does_not_grow_with_reps_invoices_or_statements(staff_client, tenant, world):
    before = queries_of(staff_client)
    for number in range(3):
        rep = SalesRepFactory(organization=tenant.org, rep_number=f"REP-1{number}")
        plans.plan_create(organization=tenant.org, sales_rep=rep, name=f"P{number}", default_rate=Decimal("0.02"),
                          quota=Decimal("50.00"), active=True)
        customer = CustomerFactory(organization=tenant.org, sales_rep=rep)
        for _ in range(2):
            invoice(tenant, customer, [{"sku": "WDG-100-BLU", "quantity": 1}], world["current"])
            invoice(tenant, customer, [{"sku": "BLT-7", "quantity": 10}], month_start(world["today"], 13))
    after = queries_of(staff_client)
    assert after == before
    assert len(dashboard_for(tenant.org).reps) == 5
