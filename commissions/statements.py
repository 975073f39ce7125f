"""Commission statements: generation from paid invoice lines (§6), and the workflow (§7).

Generation streams the eligible lines in invoice order, rates them with the compiled plan,
and writes entries and lines in batches (COPY on PostgreSQL), so memory stays bounded
whatever the line count. It runs in one transaction: a worker killed half-way leaves the
statement as it was (Generating, no lines) and a retry produces the same statement.
Generations for one rep take turns on the rep's row lock; the partial unique index on live
statement lines is the guarantee that no line is ever on two statements that are not void.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from rest_framework import serializers

from commissions.engine import commission_for
from commissions.models import (
    CommissionStatement,
    EventType,
    StatementEntry,
    StatementEvent,
    StatementLine,
    StatementStatus,
)
from commissions.plans import active_plan, plan_compiled
from nymble.api.problems import Conflict
from orders.models import CreditMemoLine, InvoiceLine, InvoiceStatus
from salesreps.models import OrganizationSalesRep

BATCH = 5000
LINE_COLUMNS = ("statement_id", "entry_id", "invoice_line_id", "credit_memo_line_id", "live", "line_date", "sku",
                "product_name", "quantity", "line_amount", "rate", "rate_source", "commission")


# ---------------------------------------------------------------- events


def _event(statement: CommissionStatement, kind: str, actor: str, note: str = "") -> None:
    StatementEvent.objects.create(statement=statement, type=kind, actor=actor, note=note)


# ---------------------------------------------------------------- starting a statement


@transaction.atomic
def statement_start(*, rep: OrganizationSalesRep, period_start: datetime.date, period_end: datetime.date,
                    currency_code: str | None = None) -> CommissionStatement:
    """The statement row, in status Generating, for `statement_fill` to complete (in-request or
    in a worker). 409 when the rep has no active plan, or has a statement for that period and
    currency already that is not void."""
    if period_end < period_start:
        raise serializers.ValidationError({"PeriodEnd": ["Must not be before PeriodStart."]})
    plan = active_plan(rep)
    if plan is None:
        raise Conflict(f"Sales rep {rep.rep_number} has no active commission plan.")
    currency_code = currency_code or rep.organization.currency_code
    try:
        with transaction.atomic():
            return CommissionStatement.objects.create(
                organization_id=rep.organization_id, sales_rep=rep, plan=plan, period_start=period_start,
                period_end=period_end, currency_code=currency_code, status=StatementStatus.GENERATING,
            )
    except IntegrityError:
        raise Conflict(
            f"{rep.rep_number} has a statement for {period_start}–{period_end} in {currency_code} already; "
            "recalculate or void it.",
            errors={"PeriodStart": ["A statement for this period exists."]},
        ) from None


# ---------------------------------------------------------------- eligible lines


@dataclass(frozen=True, slots=True)
class EligibleLine:
    invoice_id: object
    invoice_number: str
    customer_number: str
    invoice_line_id: int | None
    credit_memo_line_id: int | None
    sku: str
    product_name: str
    quantity: int
    amount: Decimal
    line_date: datetime.date
    clawback_rate: Decimal | None = None
    clawback_source: str = ""


def _live_line_on(field: str) -> Exists:
    return Exists(StatementLine.objects.filter(**{field: OuterRef("pk")}, live=True))


def eligible_invoice_lines(statement: CommissionStatement) -> Iterator[EligibleLine]:
    """Lines of Paid invoices paid in the period (org-local days), whose primary rep is the
    statement's, in its currency, on no live statement; in invoice order, streamed."""
    rows = (
        InvoiceLine.objects.filter(
            invoice__primary_sales_rep_id=statement.sales_rep_id, invoice__status=InvoiceStatus.PAID,
            invoice__currency_code=statement.currency_code,
            invoice__paid_on__gte=statement.period_start, invoice__paid_on__lte=statement.period_end,
        )
        .exclude(_live_line_on("invoice_line"))
        .order_by("invoice_id", "position")
        .values_list("invoice_id", "invoice__invoice_number", "invoice__customer__customer_number", "pk", "sku",
                     "product_name", "quantity", "line_total", "invoice__paid_on")
    )
    for invoice_id, number, customer, pk, sku, name, quantity, total, paid_on in rows.iterator(chunk_size=BATCH):
        yield EligibleLine(invoice_id, number, customer, pk, None, sku, name, quantity, total, paid_on)


def eligible_clawbacks(statement: CommissionStatement) -> Iterator[EligibleLine]:
    """Credit-memo lines dated in the period whose invoice line was commissioned (is on a live
    statement), not clawed back yet: negative amounts at the rate the original line was paid at."""
    original = StatementLine.objects.filter(invoice_line_id=OuterRef("invoice_line_id"), live=True)
    rows = (
        CreditMemoLine.objects.filter(
            credit_memo__invoice__primary_sales_rep_id=statement.sales_rep_id,
            credit_memo__invoice__currency_code=statement.currency_code,
            credit_memo__credit_date__gte=statement.period_start, credit_memo__credit_date__lte=statement.period_end,
        )
        .filter(Exists(original))
        .exclude(_live_line_on("credit_memo_line"))
        .annotate(original_rate=Subquery(original.values("rate")[:1]),
                  original_source=Subquery(original.values("rate_source")[:1]))
        .order_by("credit_memo__invoice_id", "pk")
        .values_list("credit_memo__invoice_id", "credit_memo__invoice__invoice_number",
                     "credit_memo__invoice__customer__customer_number", "pk", "invoice_line__sku",
                     "invoice_line__product_name", "quantity", "amount", "credit_memo__credit_date",
                     "original_rate", "original_source")
    )
    for invoice_id, number, customer, pk, sku, name, quantity, amount, day, rate, source in rows.iterator(BATCH):
        yield EligibleLine(invoice_id, number, customer, None, pk, sku, name, -quantity, -amount, day, rate,
                           f"Clawback ({source})")


# ---------------------------------------------------------------- filling


class _Writer:
    """Buffers rated lines; each flush writes their entries, then the lines (COPY on PostgreSQL)."""

    def __init__(self, statement: CommissionStatement):
        self.statement = statement
        self.entries: dict = {}  # invoice_id -> StatementEntry (its commission summed as lines arrive)
        self.pending_entries: list[StatementEntry] = []
        self.pending_lines: list[tuple] = []
        self.total = Decimal("0.00")

    def add(self, line: EligibleLine, rate: Decimal, source: str) -> None:
        commission = commission_for(line.amount, rate)
        entry = self.entries.get(line.invoice_id)
        if entry is None:
            entry = StatementEntry(statement=self.statement, invoice_id=line.invoice_id,
                                   invoice_number=line.invoice_number, customer_number=line.customer_number,
                                   commission=Decimal("0.00"))
            self.entries[line.invoice_id] = entry
            self.pending_entries.append(entry)
        entry.commission += commission
        self.total += commission
        self.pending_lines.append((entry, line, rate, source, commission))
        if len(self.pending_lines) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending_entries:
            StatementEntry.objects.bulk_create(self.pending_entries, batch_size=BATCH)
            self.pending_entries = []
        rows = [
            (self.statement.pk, entry.pk, line.invoice_line_id, line.credit_memo_line_id, True, line.line_date,
             line.sku, line.product_name, line.quantity, line.amount, rate, source, commission)
            for entry, line, rate, source, commission in self.pending_lines
        ]
        self.pending_lines = []
        if rows:
            _insert_lines(rows)

    def finish(self) -> Decimal:
        self.flush()
        # Entry totals are final only now (an invoice's clawbacks come after its lines).
        StatementEntry.objects.bulk_update(list(self.entries.values()), ["commission"], batch_size=BATCH)
        return self.total


def _insert_lines(rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        table = StatementLine._meta.db_table
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        StatementLine.objects.bulk_create(
            [StatementLine(**dict(zip(LINE_COLUMNS, row))) for row in rows], batch_size=500
        )


def statement_fill(statement: CommissionStatement, *, actor: str, recalculating: bool = False) -> CommissionStatement:
    """Rates the eligible lines onto the statement and makes it a Draft, in one transaction."""
    with transaction.atomic():
        statement = CommissionStatement.objects.select_for_update().select_related("sales_rep").get(pk=statement.pk)
        # A generation also retries a failed one; a recalculation needs a Draft.
        expected = (StatementStatus.DRAFT,) if recalculating else (StatementStatus.GENERATING, StatementStatus.FAILED)
        if statement.status not in expected:
            if not recalculating and statement.status == StatementStatus.DRAFT:
                return statement  # a repeated task: already done
            raise Conflict(f"A {statement.status} statement cannot be {'recalculated' if recalculating else 'generated'}.")
        # Generations for one rep take turns, so each sees the lines the other committed.
        OrganizationSalesRep.objects.select_for_update().get(pk=statement.sales_rep_id)
        plan = active_plan(statement.sales_rep)
        if plan is None:
            raise Conflict(f"Sales rep {statement.sales_rep.rep_number} has no active commission plan.")
        if recalculating:
            statement.lines.all().delete()
            statement.entries.all().delete()
        engine = plan_compiled(plan)
        writer = _Writer(statement)
        rate = engine.rate
        for line in eligible_invoice_lines(statement):
            rating = rate(line.sku, line.product_name, line.customer_number, line.amount, line.line_date)
            if rating is not None:  # outside the plan's window: left out, stays eligible
                writer.add(line, rating.rate, rating.source)
        writer.flush()  # clawbacks look for lines this statement has just taken too
        for line in eligible_clawbacks(statement):
            writer.add(line, line.clawback_rate, line.clawback_source)
        statement.total = writer.finish()
        statement.plan = plan
        statement.status = StatementStatus.DRAFT
        statement.failure = ""
        statement.updated_at = timezone.now()
        statement.save(update_fields=["total", "plan", "status", "failure", "updated_at"])
        lines = statement.lines.count()
        _event(statement, EventType.RECALCULATED if recalculating else EventType.CREATED, actor,
               f"{lines} line(s), total {statement.total} {statement.currency_code}, plan '{plan.name}'.")
    return statement


def statement_mark_failed(statement_id, reason: str, actor: str = "system") -> None:
    """Shows a failed generation on the statement (the lines were rolled back with it)."""
    with transaction.atomic():
        statement = CommissionStatement.objects.select_for_update().filter(pk=statement_id).first()
        if statement is None or statement.status != StatementStatus.GENERATING:
            return
        statement.status = StatementStatus.FAILED
        statement.failure = reason[:2000]
        statement.updated_at = timezone.now()
        statement.save(update_fields=["status", "failure", "updated_at"])
        _event(statement, EventType.FAILED, actor, reason[:2000])


def statement_generate(*, rep: OrganizationSalesRep, period_start: datetime.date, period_end: datetime.date,
                       currency_code: str | None = None, actor: str) -> CommissionStatement:
    """Start and fill in-process (the admin's action, the scheduled run's worker, tests)."""
    statement = statement_start(rep=rep, period_start=period_start, period_end=period_end, currency_code=currency_code)
    return statement_fill(statement, actor=actor)


# ---------------------------------------------------------------- workflow


def _transition(statement, allowed: tuple[str, ...], to: str, verb: str):
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status not in allowed:
        raise Conflict(f"A {statement.status} statement cannot be {verb}.")
    statement.status = to
    statement.updated_at = timezone.now()
    return statement


@transaction.atomic
def statement_recalculate(*, statement: CommissionStatement, actor: str) -> CommissionStatement:
    """Draft only: re-rates from the current plan and picks up newly eligible lines."""
    return statement_fill(statement, actor=actor, recalculating=True)


@transaction.atomic
def statement_approve(*, statement: CommissionStatement, actor: str, note: str = "") -> CommissionStatement:
    statement = _transition(statement, (StatementStatus.DRAFT,), StatementStatus.APPROVED, "approved")
    statement.save(update_fields=["status", "updated_at"])
    _event(statement, EventType.APPROVED, actor, note)
    return statement


@transaction.atomic
def statement_mark_paid(*, statement: CommissionStatement, actor: str, paid_at: datetime.datetime | None = None,
                        reference: str = "", note: str = "") -> CommissionStatement:
    statement = _transition(statement, (StatementStatus.APPROVED,), StatementStatus.PAID, "marked paid")
    statement.paid_at = paid_at or timezone.now()
    statement.payment_reference = reference
    statement.save(update_fields=["status", "paid_at", "payment_reference", "updated_at"])
    _event(statement, EventType.PAID, actor, note or (f"Reference {reference}" if reference else ""))
    return statement


@transaction.atomic
def statement_void(*, statement: CommissionStatement, actor: str, note: str = "") -> CommissionStatement:
    """Draft or Approved (or a failed generation, to free its period): its lines become eligible again."""
    statement = _transition(statement, (StatementStatus.DRAFT, StatementStatus.APPROVED, StatementStatus.FAILED),
                            StatementStatus.VOID, "voided")
    statement.save(update_fields=["status", "updated_at"])
    statement.lines.update(live=False)
    _event(statement, EventType.VOIDED, actor, note)
    return statement


# ---------------------------------------------------------------- the schedule


def previous_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end

