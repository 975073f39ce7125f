"""Statement generation (§6) and the workflow (§7), on the services and the tasks."""
import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from commissions.plans import services as plans

from commissions.statements import services as statements
from commissions.models import CommissionStatement, StatementLine
from commissions.tasks import generate_monthly_statements, generate_statement
from nymble.api.problems import Conflict
from orders import services as orders
from orders.models import Product, ProductPrice

pytestmark = pytest.mark.django_db

FEB = (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
MAR = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def plan(tenant, catalog):
    """REP-007's active plan: widgets 10%, Acme's override 7% default, everything else 5%."""
    return plans.plan_create(
        organization=tenant.org, sales_rep=tenant.rep, name="Standard", default_rate=Decimal("0.05"), active=True,
        rules=[{"priority": 10, "name": "Widgets", "rate": Decimal("0.10"), "sku_patterns": ["WDG-*"]}],
        overrides=[{"customer_number": "CUST-0099", "default_rate": Decimal("0.07")}],
    )


def sell(tenant, *, customer=None, items=(("WDG-100-BLU", 2),), paid_at=None, pay=None, primary=None, currency=None):
    """An order placed by the admin, invoiced, and paid (in full unless `pay` says how much)."""
    customer = customer or tenant.customer
    order, _ = orders.order_place(
        organization=tenant.org, actor=tenant.admin_api and _admin(tenant), actor_label="test", customer=customer,
        items=[{"sku": sku, "quantity": quantity} for sku, quantity in items], currency_code=currency,
        primary_rep_number=primary,
    )
    invoice = orders.invoice_create(order=order)
    if paid_at:
        invoice = orders.payment_record(invoice=invoice, amount=pay or invoice.total, paid_at=utc(paid_at),
                                        actor_label="test")
    return invoice


def _admin(tenant):
    from nymble.tokens import principal_for_membership

    return principal_for_membership(tenant.admin)


def generate(tenant, period, rep=None, currency=None):
    return statements.statement_generate(rep=rep or tenant.rep, period_start=period[0], period_end=period[1],
                                         currency_code=currency, actor="tester")


def lines_of(statement):
    return list(statement.lines.order_by("pk").values_list("sku", "quantity", "line_amount", "rate", "rate_source",
                                                           "commission"))


def test_a_paid_invoice_becomes_an_entry_with_rated_lines(tenant, plan):
    invoice = sell(tenant, items=(("WDG-100-BLU", 3), ("BLT-7", 15)), paid_at="2026-02-10T15:00:00Z")
    statement = generate(tenant, FEB)
    assert statement.status == "Draft"
    assert lines_of(statement) == [
        ("WDG-100-BLU", 3, Decimal("55.50"), Decimal("0.1000"), "Rule: Widgets", Decimal("5.55")),
        ("BLT-7", 15, Decimal("46.50"), Decimal("0.0500"), "Plan default", Decimal("2.33")),  # 2.325 half-up
    ]
    entry = statement.entries.get()
    assert (entry.invoice_id, entry.invoice_number, entry.customer_number, entry.commission) == (
        invoice.pk, invoice.invoice_number, "CUST-0042", Decimal("7.88"))
    assert statement.total == Decimal("7.88")
    assert [(e.type, e.actor) for e in statement.events.all()] == [("Created", "tester")]


def test_override_applies_to_its_customer(tenant, plan):
    sell(tenant, customer=tenant.other_customer, primary="REP-007", paid_at="2026-02-10T15:00:00Z")
    assert lines_of(generate(tenant, FEB))[0][3:5] == (Decimal("0.0700"), "Override CUST-0099: default")


def test_period_boundaries_are_the_organizations_calendar_days(tenant, plan):
    sell(tenant, paid_at="2026-03-01T05:59:00Z")  # Feb 28, 23:59 in Chicago
    sell(tenant, paid_at="2026-03-01T06:00:00Z")  # Mar 1, 00:00 in Chicago
    sell(tenant, paid_at="2026-02-01T05:59:00Z")  # Jan 31 in Chicago
    feb, mar = generate(tenant, FEB), generate(tenant, MAR)
    assert feb.lines.count() == 1 and mar.lines.count() == 1
    assert feb.lines.get().line_date == datetime.date(2026, 2, 28)


def test_unpaid_partly_paid_other_reps_and_other_currencies_are_not_eligible(tenant, plan):
    sell(tenant)  # issued, unpaid
    sell(tenant, paid_at="2026-02-10T15:00:00Z", pay=Decimal("1.00"))  # partly paid
    sell(tenant, customer=tenant.other_customer, paid_at="2026-02-10T15:00:00Z")  # REP-012's
    euro = Product.objects.get(sku="WDG-100-BLU")
    ProductPrice.objects.create(product=euro, price_tier=tenant.customer.price_tier, currency_code="EUR",
                                at_quantity=1, price=Decimal("16.00"))
    sell(tenant, currency="EUR", paid_at="2026-02-10T15:00:00Z")
    assert generate(tenant, FEB).lines.count() == 0
    euro_statement = generate(tenant, FEB, currency="EUR")
    assert [line[2] for line in lines_of(euro_statement)] == [Decimal("32.00")]


def test_lines_outside_the_plan_window_are_left_out_and_stay_eligible(tenant, plan):
    plans.plan_update(plan=plan, effective_start=datetime.date(2026, 2, 15))
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    sell(tenant, paid_at="2026-02-20T15:00:00Z")
    statement = generate(tenant, FEB)
    assert [line.line_date for line in statement.lines.all()] == [datetime.date(2026, 2, 20)]
    plans.plan_update(plan=plan, effective_start=None)
    statements.statement_recalculate(statement=statement, actor="tester")
    assert statement.lines.count() == 2


def test_no_active_plan_is_409_and_no_statement(tenant, catalog):
    with pytest.raises(Conflict):
        generate(tenant, FEB)
    assert not CommissionStatement.objects.exists()


def test_one_statement_per_rep_period_and_currency_until_voided(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    first = generate(tenant, FEB)
    with pytest.raises(Conflict):
        generate(tenant, FEB)
    statements.statement_void(statement=first, actor="tester")
    second = generate(tenant, FEB)
    assert second.lines.count() == 1  # the voided statement's lines are free again


def test_a_line_is_never_on_two_live_statements(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    generate(tenant, FEB)
    overlapping = generate(tenant, (datetime.date(2026, 2, 1), datetime.date(2026, 3, 31)))
    assert overlapping.lines.count() == 0


def test_clawback_at_the_original_rate(tenant, plan):
    invoice = sell(tenant, items=(("WDG-100-BLU", 5),), paid_at="2026-02-10T15:00:00Z")
    feb = generate(tenant, FEB)
    plans.plan_update(plan=plan, rules=[])  # the rate changes later: the clawback keeps the old one
    orders.credit_memo_create(invoice=invoice, credit_date=datetime.date(2026, 3, 5), reason="Damaged",
                              lines=[{"sku": "WDG-100-BLU", "quantity": 2}], actor_label="test")
    mar = generate(tenant, MAR)
    assert lines_of(mar) == [("WDG-100-BLU", -2, Decimal("-37.00"), Decimal("0.1000"), "Clawback (Rule: Widgets)",
                              Decimal("-3.70"))]
    assert mar.total == Decimal("-3.70") and mar.entries.get().invoice_id == invoice.pk
    assert feb.lines.get().commission == Decimal("9.25")  # untouched
    assert generate(tenant, (datetime.date(2026, 3, 1), datetime.date(2026, 3, 2))).lines.count() == 0


def test_credit_for_a_line_never_commissioned_is_not_clawed_back(tenant, plan):
    invoice = sell(tenant, paid_at="2026-02-10T15:00:00Z")
    orders.credit_memo_create(invoice=invoice, credit_date=datetime.date(2026, 2, 20), lines=[
        {"sku": "WDG-100-BLU", "quantity": 1}], actor_label="test")
    # The invoice line and its credit fall in one statement: the credit is taken after the line.
    statement = generate(tenant, FEB)
    assert [line[1] for line in lines_of(statement)] == [2, -1]
    assert statement.total == Decimal("3.70") - Decimal("1.85")


def test_workflow_and_its_events(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    statement = generate(tenant, FEB)
    for illegal in (statements.statement_mark_paid,):
        with pytest.raises(Conflict):
            illegal(statement=statement, actor="a")
    statement = statements.statement_approve(statement=statement, actor="boss", note="ok")
    for illegal in (statements.statement_approve, statements.statement_recalculate):
        with pytest.raises(Conflict):
            illegal(statement=statement, actor="a")
    statement = statements.statement_mark_paid(statement=statement, actor="boss", reference="ACH-1")
    assert statement.status == "Paid" and statement.payment_reference == "ACH-1" and statement.paid_at
    for illegal in (statements.statement_void, statements.statement_approve, statements.statement_mark_paid,
                    statements.statement_recalculate):
        with pytest.raises(Conflict):
            illegal(statement=statement, actor="a")
    assert [e.type for e in statement.events.all()] == ["Created", "Approved", "Paid"]
    assert [e.note for e in statement.events.all()][1:] == ["ok", "Reference ACH-1"]


def test_approved_statements_never_change(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    statement = statements.statement_approve(statement=generate(tenant, FEB), actor="boss")
    before = lines_of(statement), statement.total
    plans.plan_update(plan=plan, default_rate=Decimal("0.5"), rules=[])
    Product.objects.update(name="Renamed")
    sell(tenant, paid_at="2026-02-11T15:00:00Z")  # newly eligible
    with pytest.raises(Conflict):
        statements.statement_recalculate(statement=statement, actor="a")
    statement.refresh_from_db()
    assert (lines_of(statement), statement.total) == before


def test_recalculate_rerates_and_picks_up_new_lines(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    statement = generate(tenant, FEB)
    plans.plan_update(plan=plan, rules=[])
    sell(tenant, paid_at="2026-02-12T15:00:00Z")
    statement = statements.statement_recalculate(statement=statement, actor="boss")
    assert [line[4] for line in lines_of(statement)] == ["Plan default", "Plan default"]
    assert statement.total == Decimal("3.70")
    assert [e.type for e in statement.events.all()] == ["Created", "Recalculated"]


def test_totals_are_sums_of_rounded_lines(tenant, plan):
    for day in range(1, 20):
        sell(tenant, items=(("WDG-100-BLU", day), ("BLT-7", 10 + 5 * (day % 3))), paid_at=f"2026-02-{day:02d}T15:00:00Z")
    statement = generate(tenant, FEB)
    assert statement.total == statement.lines.aggregate(s=Sum("commission"))["s"]
    assert statement.total == statement.entries.aggregate(s=Sum("commission"))["s"]
    for entry in statement.entries.all():
        assert entry.commission == entry.lines.aggregate(s=Sum("commission"))["s"]


def test_the_task_is_safe_to_run_twice(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    statement = statements.statement_start(rep=tenant.rep, period_start=FEB[0], period_end=FEB[1])
    assert generate_statement(str(statement.pk), "worker") == "Draft"
    assert generate_statement(str(statement.pk), "worker") == "Draft"
    assert StatementLine.objects.count() == 1 and statement.events.count() == 1


def test_a_refused_generation_shows_on_the_statement(tenant, plan):
    statement = statements.statement_start(rep=tenant.rep, period_start=FEB[0], period_end=FEB[1])
    plans.plan_set_active(plan=plan, active=False)
    assert generate_statement(str(statement.pk), "worker") == "failed"
    statement.refresh_from_db()
    assert statement.status == "Failed" and "no active commission plan" in statement.failure
    assert statement.events.get().type == "Failed"
    plans.plan_set_active(plan=plan, active=True)
    assert generate_statement(str(statement.pk), "worker") == "Draft"  # a retry completes it


def test_the_monthly_run_makes_each_statement_once(tenant, other_tenant, plan, django_capture_on_commit_callbacks):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        assert generate_monthly_statements("2026-03-01") == 1  # REP-007 only: REP-012 has no plan
    assert len(enqueued) == 1  # the fill is queued after the statement row commits
    assert generate_monthly_statements("2026-03-15") == 0
    statement = CommissionStatement.objects.get()
    assert (statement.period_start, statement.period_end, statement.status) == (*FEB, "Draft")
    assert statement.lines.count() == 1 and statement.events.get().actor == "schedule"


def test_the_schedule_is_in_the_database_for_staff_to_edit(tenant):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="commissions.tasks.generate_monthly_statements",
                                    name__endswith=tenant.org.org_code)  # one per organization
    assert task.enabled and task.crontab.day_of_month == "1"


@pytest.mark.django_db(transaction=True)
def test_racing_generations_never_share_a_line(tenant, plan, postgres_only):
    for day in range(1, 28):
        sell(tenant, paid_at=f"2026-02-{day:02d}T15:00:00Z")
    periods = [FEB, (datetime.date(2026, 2, 10), datetime.date(2026, 3, 10)), (datetime.date(2026, 1, 1), datetime.date(2026, 2, 15))]
    barrier = threading.Barrier(len(periods))

    def run(period):
        barrier.wait()
        try:
            return generate(tenant, period)
        finally:
            connection.close()

    with ThreadPoolExecutor(len(periods)) as pool:
        made = list(pool.map(run, periods))
    assert sum(s.lines.count() for s in made) == 27
    shared = StatementLine.objects.filter(live=True).values("invoice_line").annotate(n=Count("pk")).filter(n__gt=1)
    assert not shared.exists()


def test_recalculation_note_is_kept_on_its_event(tenant, plan):
    sell(tenant, paid_at="2026-02-10T15:00:00Z")
    statement = statements.statement_recalculate(statement=generate(tenant, FEB), actor="boss", note="new prices")
    assert statement.events.last().note.startswith("new prices (1 line(s)")


def test_a_failed_in_process_generation_does_not_block_its_period(tenant, plan, monkeypatch):
    """Regression: statement_generate left a statement in Generating for good when the fill failed."""
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(statements, "plan_compiled", broken)
    with pytest.raises(RuntimeError):
        generate(tenant, FEB)
    failed = CommissionStatement.objects.get()
    assert failed.status == "Failed" and "disk full" in failed.failure
    statements.statement_void(statement=failed, actor="boss")
    monkeypatch.undo()
    assert generate(tenant, FEB).status == "Draft"
