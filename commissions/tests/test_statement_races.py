"""Statement generations racing each other and a replacement of an order's credits (PostgreSQL only).

Threads each with their own connection (closed when they finish) start together at a barrier; what
they leave behind is held to the plain reference of §6 (`commissions/tests/reference.py`), taking the
statements in the order their fills ran (generations for one rep take turns), and to §7: "Two
generations racing for the same rep and period never put a line on two statements."
"""
from __future__ import annotations

import datetime
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count

from commissions.models import CommissionPlan, CommissionStatement, EventType, StatementEvent, StatementLine
from commissions.plans import services as plans
from commissions.statements import services as statements
from commissions.tests import reference as ref
from commissions.tests.test_statement_properties import CATALOG, UTC, admin_principal, assert_agrees, local_day, shop
from nymble.api.problems import Conflict
from orders import services as orders
from orders.models import Invoice, InvoiceStatus, SalesCredit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


# ---------------------------------------------------------------- the database as the reference's plain data


def plain_plan(plan: CommissionPlan) -> ref.Plan:
    def rules(queryset):
        return tuple(ref.Rule(
            priority=r.priority, name=r.name, rate=r.rate, amount_per_unit=r.amount_per_unit,
            sku_patterns=tuple(r.sku_patterns), product_name_patterns=tuple(r.product_name_patterns),
            customer_numbers=tuple(r.customer_numbers), min_line_amount=r.min_line_amount,
            max_line_amount=r.max_line_amount) for r in queryset)

    plan = CommissionPlan.objects.get(pk=plan.pk)
    return ref.Plan(
        default_rate=plan.default_rate, basis=plan.commission_basis, rules=rules(plan.rules.all()),
        overrides=tuple(ref.Override(customer_number=o.customer.customer_number, default_rate=o.default_rate,
                                     start=o.effective_start, end=o.effective_end, rules=rules(o.rules.all()))
                        for o in plan.overrides.order_by("position")),
        start=plan.effective_start, end=plan.effective_end, quota=plan.quota,
        tiers=tuple(ref.Tier(a.from_attainment, a.multiplier) for a in plan.accelerators.order_by("from_attainment")),
        method=plan.accelerator_method)


def plain_invoices(org, only=None) -> list[ref.Invoice]:
    """Every invoice as it is now (or those of `only`); reps are keyed by their OrganizationSalesRep pk."""
    out = []
    invoices = Invoice.objects.filter(organization=org)
    if only is not None:
        invoices = invoices.filter(pk__in=only)
    for invoice in invoices.select_related("customer").order_by("invoice_number"):
        out.append(ref.Invoice(
            key=invoice.pk, number=invoice.invoice_number, customer_number=invoice.customer.customer_number,
            currency_code=invoice.currency_code,
            lines=tuple(ref.InvoiceLine(key=line.pk, position=line.position, sku=line.sku,
                                        product_name=line.product_name, quantity=line.quantity, price=line.price)
                        for line in invoice.lines.order_by("position")),
            credits=tuple(SalesCredit.objects.filter(order_id=invoice.order_id).order_by("position").values_list(
                "sales_rep_id", "share")),
            payments=tuple(ref.Payment(key=p.pk, amount=p.amount, day=local_day(p.paid_at))
                           for p in invoice.payments.order_by("pk")),
            memos=tuple(ref.CreditMemo(day=memo.credit_date, lines=tuple(
                ref.MemoLine(key=line.pk, invoice_line_key=line.invoice_line_id, quantity=line.quantity,
                             price=line.price) for line in memo.lines.order_by("pk")))
                        for memo in invoice.credit_memos.order_by("created_at", "pk")),
        ))
    return out


def in_fill_order(made: list[CommissionStatement]) -> list[CommissionStatement]:
    """The statements in the order their fills ran: each one's Created event is written inside its
    fill, after the rep's lock, so a later fill's event comes after the earlier one committed."""
    at = dict(StatementEvent.objects.filter(statement__in=made, type=EventType.CREATED).values_list("statement_id",
                                                                                                     "at"))
    return sorted(made, key=lambda s: at[s.pk])


def assert_in_turn_agrees(org, rep, plan, made: list[CommissionStatement], live=(), only=None) -> list[ref.Line]:
    """Each statement, in fill order, is what the reference makes of the lines the ones before left
    (`only`: the invoices that can be on them, when the others are known to be out of their periods)."""
    invoices, plain = plain_invoices(org, only), plain_plan(plan)
    live = list(live)
    for statement in in_fill_order(made):
        expected = ref.statement(rep=rep.pk, plan=plain, invoices=invoices, period_start=statement.period_start,
                                 period_end=statement.period_end, include_earlier=statement.include_earlier,
                                 currency_code=statement.currency_code, live=live)
        assert_agrees(statement, expected, f"{rep.rep_number} {statement.period_start}–{statement.period_end}")
        live += expected.lines
    return live


def assert_no_earning_twice() -> None:
    live = StatementLine.objects.filter(live=True)
    assert not live.filter(invoice_line__isnull=False).values("invoice_line", "sales_rep", "payment").annotate(
        n=Count("pk")).filter(n__gt=1).exists()
    assert not live.filter(credit_memo_line__isnull=False).values("credit_memo_line", "sales_rep").annotate(
        n=Count("pk")).filter(n__gt=1).exists()


def race(calls: list) -> list:
    """Runs the calls at once, each in its own thread with its own connection; returns what each
    returned or raised."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        except Exception as exc:  # noqa: BLE001 — handed back to be judged
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def generating(rep, period, include_earlier=False):
    return lambda: statements.statement_generate(rep=rep, period_start=period[0], period_end=period[1],
                                                 include_earlier=include_earlier, actor="race")


def sell(tenant, principal, *, items, credits, payments, customer=None) -> Invoice:
    """An order with these credits, invoiced, and paid as given ((amount or None for the rest, UTC moment))."""
    order, _ = orders.order_place(
        organization=tenant.org, actor=principal, actor_label="race", customer=customer or tenant.customer,
        items=[{"sku": sku, "quantity": quantity, "price": Decimal(price)} for sku, quantity, price in items],
        sales_credits=[{"rep_number": rep.rep_number, "share": Decimal(share)} for rep, share in credits],
    )
    invoice = orders.invoice_create(order=order)
    for amount, moment in payments:
        invoice = orders.payment_record(invoice=invoice, amount=invoice.balance if amount is None else Decimal(amount),
                                        paid_at=moment, actor_label="race")
    return invoice


def random_split(rng: random.Random) -> str:
    return str(Decimal(rng.randint(1, 9999)).scaleb(-4))


# ---------------------------------------------------------------- two reps, shared invoices


def test_two_reps_generating_at_once_over_shared_split_invoices_both_get_their_lines(tenant, postgres_only):
    shop(tenant.org)
    rng = random.Random(5)
    rep, other = tenant.rep, tenant.other_rep
    rep_plan = plans.plan_create(organization=tenant.org, sales_rep=rep, name="Invoice basis", active=True,
                                 default_rate=Decimal("0.10"), quota=Decimal("2500.00"),
                                 accelerators=[{"from_attainment": Decimal("0.5"), "multiplier": Decimal("1.5")},
                                               {"from_attainment": Decimal("1"), "multiplier": Decimal("2")}],
                                 rules=[{"priority": 1, "name": "Widgets", "rate": Decimal("0.125"),
                                         "sku_patterns": ["wdg-*"]}])
    other_plan = plans.plan_create(organization=tenant.org, sales_rep=other, name="Payment basis", active=True,
                                   default_rate=Decimal("0.05"), commission_basis="Payment",
                                   quota=Decimal("1000.00"), accelerator_method="Retroactive",
                                   accelerators=[{"from_attainment": Decimal("1"), "multiplier": Decimal("1.25")}],
                                   rules=[{"priority": 1, "name": "Gadgets per unit",
                                           "amount_per_unit": Decimal("0.3333"), "sku_patterns": ["GAD-?"]}])
    principal = admin_principal(tenant)
    for n in range(40):
        share = random_split(rng)
        credits = [(rep, share), (other, str(1 - Decimal(share)))]
        if n % 3 == 0:
            credits.reverse()
        items = [(CATALOG[rng.randrange(len(CATALOG))][0], rng.randint(1, 12), f"{rng.randint(1, 20000) / 100:.2f}")
                 for _ in range(rng.randint(1, 3))]
        day = datetime.datetime(2026, 3, rng.randint(1, 31), rng.choice([3, 12, 23]), tzinfo=UTC)
        payments = [(None, day)] if n % 4 else [("1.00", day), (None, day + datetime.timedelta(days=2))]
        if n % 5 == 0:
            payments = payments[:1] if len(payments) == 2 else [("0.50", day)]  # partly paid
        sell(tenant, principal, items=items, credits=credits, payments=payments,
             customer=tenant.customer if n % 2 else tenant.other_customer)

    mine, theirs = race([generating(rep, MARCH), generating(other, MARCH)])
    assert isinstance(mine, CommissionStatement) and isinstance(theirs, CommissionStatement), (mine, theirs)
    assert mine.lines.exists() and theirs.lines.exists()
    assert_in_turn_agrees(tenant.org, rep, rep_plan, [mine])
    assert_in_turn_agrees(tenant.org, other, other_plan, [theirs])
    assert_no_earning_twice()
    # An invoice paid in full in March: the two reps' amounts of each line add up to the line's.
    for invoice in Invoice.objects.filter(status=InvoiceStatus.PAID):
        if all(MARCH[0] <= local_day(p.paid_at) <= MARCH[1] for p in invoice.payments.all()):
            for line in invoice.lines.all():
                amounts = StatementLine.objects.filter(live=True, invoice_line=line).values_list("line_amount",
                                                                                                 flat=True)
                assert sum(amounts) == line.line_total, (invoice.invoice_number, line.sku, list(amounts))


def test_a_generation_holding_its_transaction_open_does_not_hold_up_another_reps_over_the_same_invoices(
        tenant, postgres_only):
    """Generations lock the invoices they read FOR SHARE, and nothing else of theirs (not the customers
    the read joins): the other rep's generation over the same split invoices and customers finishes
    while the first is still open. Two exclusive locks there made them queue, and deadlock when two
    runs took overlapping invoices in different orders."""
    from django.db import transaction

    shop(tenant.org)
    rep, other = tenant.rep, tenant.other_rep
    for who in (rep, other):
        plans.plan_create(organization=tenant.org, sales_rep=who, name=who.rep_number, active=True,
                          default_rate=Decimal("0.10"))
    for n in range(4):
        sell(tenant, admin_principal(tenant), items=[("GAD-1", 1 + n, "100.00")], credits=[(rep, "0.5"), (other, "0.5")],
             payments=[(None, datetime.datetime(2026, 3, 10 + n, 18, tzinfo=UTC))],
             customer=tenant.customer if n % 2 else tenant.other_customer)
    first_open, second_done = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            made = generating(rep, MARCH)()
            first_open.set()
            second_done.wait(10)
            return made, second_done.is_set()

    def second():
        first_open.wait(10)
        made = generating(other, MARCH)()
        second_done.set()
        return made

    (mine, finished_meanwhile), theirs = race([first, second])
    assert finished_meanwhile, "the second generation waited for the first one's transaction"
    assert mine.lines.count() == theirs.lines.count() == 4
    assert_no_earning_twice()


# ---------------------------------------------------------------- one rep, overlapping periods


@pytest.mark.parametrize("basis", ["Invoice", "Payment"])
def test_generations_for_one_rep_over_overlapping_periods_never_share_an_earning(tenant, postgres_only, basis):
    shop(tenant.org)
    rng = random.Random(basis)
    rep, other = tenant.rep, tenant.other_rep
    plan = plans.plan_create(organization=tenant.org, sales_rep=rep, name="Plan", active=True,
                             default_rate=Decimal("0.0725"), commission_basis=basis, quota=Decimal("3000.00"),
                             accelerators=[{"from_attainment": Decimal("0.25"), "multiplier": Decimal("1.1")},
                                           {"from_attainment": Decimal("0.75"), "multiplier": Decimal("1.6")}])
    principal = admin_principal(tenant)
    for n in range(36):
        credits = [(rep, "1")] if n % 3 else [(other, "0.3333"), (rep, "0.6667")]
        first = datetime.datetime(2026, 2, 20, 18, tzinfo=UTC) + datetime.timedelta(days=rng.randint(0, 60))
        payments = [("10.00", first), (None, first + datetime.timedelta(days=rng.randint(0, 25)))]
        invoice = sell(tenant, principal, items=[("GAD-1", rng.randint(1, 9), "37.45"), ("WDG-2", 3, "2.50")],
                       credits=credits, payments=payments)
        if n % 6 == 0:
            orders.credit_memo_create(invoice=invoice, credit_date=local_day(first) + datetime.timedelta(days=20),
                                      lines=[{"sku": "GAD-1", "quantity": 1}], actor_label="race")
    periods = [
        (MARCH, False), (MARCH, False),  # the same period twice: one of them is refused
        ((datetime.date(2026, 3, 10), datetime.date(2026, 4, 10)), False),
        ((datetime.date(2026, 2, 1), datetime.date(2026, 3, 15)), False),
        ((datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)), True),
        ((datetime.date(2026, 3, 20), datetime.date(2026, 3, 20)), True),
    ]
    outcomes = race([generating(rep, period, include_earlier) for period, include_earlier in periods])
    made = [o for o in outcomes if isinstance(o, CommissionStatement)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(made) + len(refused) == len(outcomes), outcomes  # nothing else went wrong
    assert len(refused) == 1 and len(made) == len(periods) - 1, outcomes
    assert not CommissionStatement.objects.exclude(status="Draft").exists()
    assert_no_earning_twice()
    live = assert_in_turn_agrees(tenant.org, rep, plan, made)
    # April's catch-up ran among them, so between them they took everything up to April 30.
    rest = ref.statement(rep=rep.pk, plan=plain_plan(plan), invoices=plain_invoices(tenant.org),
                         period_start=datetime.date(2026, 4, 30), period_end=datetime.date(2026, 4, 30),
                         include_earlier=True, currency_code="USD", live=live)
    assert rest.lines == () and live


# ---------------------------------------------------------------- a generation and a replacement of credits


def test_a_generation_racing_a_replacement_of_credits_never_uses_credits_that_are_gone(tenant, postgres_only):
    """Either the replacement is refused (409: lines of the invoice are on the statement, by the old
    credits, which are still there) or the statement used the new credits (with the generating rep at
    another share, or without it)."""
    from salesreps.tests.factories import SalesRepFactory

    shop(tenant.org)
    rng = random.Random(11)
    rep, other = tenant.rep, tenant.other_rep
    third = SalesRepFactory(organization=tenant.org, rep_number="REP-020")
    plan = plans.plan_create(organization=tenant.org, sales_rep=rep, name="Rep", active=True,
                             default_rate=Decimal("0.10"), commission_basis="Payment")
    others = {other: plans.plan_create(organization=tenant.org, sales_rep=other, name="Other", active=True,
                                       default_rate=Decimal("0.04")),
              third: plans.plan_create(organization=tenant.org, sales_rep=third, name="Third", active=True,
                                       default_rate=Decimal("0.06"), commission_basis="Payment")}
    principal = admin_principal(tenant)
    outcomes = {"replaced": 0, "refused": 0}
    live = {rep: [], other: [], third: []}
    for round_ in range(12):
        year, month = 2027 + round_ // 12, round_ % 12 + 1
        start = datetime.date(year, month, 1)
        period = (start, (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1))
        moment = datetime.datetime(year, month, 10, 18, tzinfo=UTC)
        this_month = [  # the generation has more than one invoice to read
            sell(tenant, principal, items=[("WDG-2", rng.randint(1, 30), "3.10")], credits=[(rep, "1")],
                 payments=[(None, moment)]).pk for _ in range(15)]
        contested = sell(tenant, principal, items=[("GAD-1", 3, "33.33"), ("pen.x", 7, "1.25")],
                         credits=[(rep, "0.6"), (other, "0.4")] if round_ % 2 else [(rep, "1")],
                         payments=[("50.00", moment), (None, moment + datetime.timedelta(hours=1))])
        this_month.append(contested.pk)
        new = [
            [{"rep_number": other.rep_number, "share": Decimal("1")}],
            [{"rep_number": third.rep_number, "share": Decimal("0.3333")},
             {"rep_number": other.rep_number, "share": Decimal("0.6667")}],
            [{"rep_number": other.rep_number, "share": Decimal("0.5")},
             {"rep_number": rep.rep_number, "share": Decimal("0.5")}],
            [{"rep_number": third.rep_number, "share": Decimal("0.25")},
             {"rep_number": rep.rep_number, "share": Decimal("0.75")}],
        ][round_ % 4]
        delay = rng.choice([0, 0.005, 0.02, 0.05, 0.1])

        def replace():
            time.sleep(delay)
            return statements.sales_credits_replace(order=contested.order, credits=new)

        made, replaced = race([generating(rep, period), replace])
        assert isinstance(made, CommissionStatement), made
        assert not isinstance(replaced, Exception) or isinstance(replaced, Conflict), replaced
        now = list(SalesCredit.objects.filter(order_id=contested.order_id).order_by("position").values_list(
            "sales_rep__rep_number", "share"))
        mine = made.lines.filter(invoice_line__invoice=contested)
        if isinstance(replaced, Conflict):
            outcomes["refused"] += 1
            assert mine.exists() and now != [(c["rep_number"], c["share"]) for c in new]
        else:
            outcomes["replaced"] += 1
            assert now == [(c["rep_number"], c["share"]) for c in new]
            assert mine.exists() == any(c["rep_number"] == rep.rep_number for c in new)
        # The statement is what the credits as they are now give: never credits that are gone.
        live[rep] = assert_in_turn_agrees(tenant.org, rep, plan, [made], live[rep], this_month)
        # And the reps credited now, generating afterwards, get their shares by the same credits.
        for someone, their_plan in others.items():
            live[someone] = assert_in_turn_agrees(tenant.org, someone, their_plan, [generating(someone, period)()],
                                                  live[someone], this_month)
        for line in contested.lines.all():
            amounts = StatementLine.objects.filter(live=True, invoice_line=line).values_list("line_amount", flat=True)
            assert sum(amounts) == line.line_total, (line.sku, list(amounts))
        assert_no_earning_twice()
    assert sum(outcomes.values()) == 12
    print(f"replacement refused {outcomes['refused']} times, taken {outcomes['replaced']} times")


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees one snapshot throughout
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_replacement_that_keeps_the_generating_rep_does_not_deadlock_with_its_generation(tenant, postgres_only):
    """The race above with its timing pinned: the replacement has locked the order and the invoice (its
    own first two steps) when the generation reaches the invoice; then it writes the new credits."""
    from django.db import transaction

    from orders.models import Order

    shop(tenant.org)
    rep, other = tenant.rep, tenant.other_rep
    plans.plan_create(organization=tenant.org, sales_rep=rep, name="Rep", active=True, default_rate=Decimal("0.10"))
    invoice = sell(tenant, admin_principal(tenant), items=[("GAD-1", 1, "100.00")], credits=[(rep, "1")],
                   payments=[(None, datetime.datetime(2026, 3, 10, 18, tzinfo=UTC))])
    locked, new = threading.Event(), [{"rep_number": other.rep_number, "share": Decimal("0.5")},
                                      {"rep_number": rep.rep_number, "share": Decimal("0.5")}]

    def replace():
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=invoice.order_id)
            Invoice.objects.select_for_update().get(pk=invoice.pk)
            locked.set()
            deadline = time.monotonic() + 10
            while not lock_waiters() and time.monotonic() < deadline:  # the generation waits for the invoice
                time.sleep(0.01)
            return statements.sales_credits_replace(order=invoice.order, credits=new)

    def generate():
        locked.wait(10)
        return generating(rep, MARCH)()

    replaced, made = race([replace, generate])
    assert isinstance(made, CommissionStatement), made
    assert not isinstance(replaced, Exception), replaced
    assert list(made.lines.values_list("line_amount", flat=True)) == [Decimal("50.00")]
