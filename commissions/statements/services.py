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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import APIException

from commissions.engine import commission_for
from commissions.models import (
    CommissionStatement,
    EventType,
    StatementEntry,
    StatementEvent,
    StatementLine,
    StatementStatus,
)
from commissions.plans.services import active_plan, plan_compiled
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
    statement's, in its currency, on no live statement; in invoice order, streamed.

    On PostgreSQL the eligible set is first copied into a temporary table and streamed from
    there: a cursor left open on the anti-join would re-read the statement lines this same
    transaction is writing (quadratic when the planner picks a scan), and a plain statement may
    use a parallel plan, which a cursor may not."""
    rows = (
        InvoiceLine.objects.filter(
            invoice__primary_sales_rep_id=statement.sales_rep_id, invoice__status=InvoiceStatus.PAID,
            invoice__currency_code=statement.currency_code,
            invoice__paid_on__gte=statement.period_start, invoice__paid_on__lte=statement.period_end,
        )
        .exclude(_live_line_on("invoice_line"))
        .values_list("invoice_id", "invoice__invoice_number", "invoice__customer__customer_number", "pk", "sku",
                     "product_name", "quantity", "line_total", "invoice__paid_on", "position")
    )
    if connection.vendor == "postgresql":
        stream = _materialized(rows, order_by="1, 10")
    else:
        stream = rows.order_by("invoice_id", "position").iterator(chunk_size=BATCH)
    for invoice_id, number, customer, pk, sku, name, quantity, total, paid_on, _ in stream:
        yield EligibleLine(invoice_id, number, customer, pk, None, sku, name, quantity, total, paid_on)


def _materialized(queryset, *, order_by: str) -> Iterator[tuple]:
    """The queryset's rows copied into a temporary table (dropped at commit), then read back in
    order through a server-side cursor, `BATCH` rows at a time."""
    table = f"eligible_{uuid.uuid4().hex}"
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS {sql}", params)
    with connection.connection.cursor(name=table) as cursor:
        cursor.itersize = BATCH
        cursor.execute(f"SELECT * FROM {table} ORDER BY {order_by}")
        yield from cursor


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
    """Writes rated lines, which arrive in invoice order: an invoice's entry is complete (and its
    commission final) when the next invoice starts, so each entry is written once and only the
    current batch is held in memory."""

    def __init__(self, statement: CommissionStatement):
        self.statement = statement
        self.total = Decimal("0.00")
        self.entry: StatementEntry | None = None
        self.entry_lines: list[tuple] = []
        self.closed: list[tuple[StatementEntry, list[tuple]]] = []
        self.closed_lines = 0

    def add(self, line: EligibleLine, rate: Decimal, source: str) -> None:
        if self.entry is None or self.entry.invoice_id != line.invoice_id:
            self._close_entry()
            self.entry = _new_entry(self.statement, line)
        commission = commission_for(line.amount, rate)
        self.entry.commission += commission
        self.total += commission
        self.entry_lines.append((line, rate, source, commission))

    def _close_entry(self) -> None:
        if self.entry is not None:
            self.closed.append((self.entry, self.entry_lines))
            self.closed_lines += len(self.entry_lines)
            self.entry, self.entry_lines = None, []
            if self.closed_lines >= BATCH:
                self._flush()

    def _flush(self) -> None:
        if self.closed:
            StatementEntry.objects.bulk_create([entry for entry, _ in self.closed], batch_size=BATCH)
            _insert_lines(self.statement, [(entry, *line) for entry, lines in self.closed for line in lines])
        self.closed, self.closed_lines = [], 0

    def finish(self) -> Decimal:
        self._close_entry()
        self._flush()
        return self.total


def _new_entry(statement: CommissionStatement, line: EligibleLine) -> StatementEntry:
    return StatementEntry(statement=statement, invoice_id=line.invoice_id, invoice_number=line.invoice_number,
                          customer_number=line.customer_number, commission=Decimal("0.00"))


def _write_clawbacks(statement: CommissionStatement) -> Decimal:
    """Clawback lines join the entry of their invoice when the statement has one (its commission
    is adjusted), or a new entry. A month's returns for one rep are few: they are held at once."""
    clawbacks = list(eligible_clawbacks(statement))
    if not clawbacks:
        return Decimal("0.00")
    existing = {e.invoice_id: e for e in statement.entries.filter(invoice_id__in={c.invoice_id for c in clawbacks})}
    touched, created, rows, total = {}, {}, [], Decimal("0.00")
    for line in clawbacks:
        entry = existing.get(line.invoice_id) or created.get(line.invoice_id)
        if entry is None:
            entry = created[line.invoice_id] = _new_entry(statement, line)
        elif entry.pk is not None:
            touched[entry.pk] = entry
        commission = commission_for(line.amount, line.clawback_rate)
        entry.commission += commission
        total += commission
        rows.append((entry, line, line.clawback_rate, line.clawback_source, commission))
    StatementEntry.objects.bulk_create(list(created.values()))
    StatementEntry.objects.bulk_update(list(touched.values()), ["commission"])
    _insert_lines(statement, rows)
    return total


def _insert_lines(statement: CommissionStatement, lines: list[tuple]) -> None:
    """(entry, line, rate, source, commission) tuples as statement lines: COPY on PostgreSQL."""
    rows = [
        (statement.pk, entry.pk, line.invoice_line_id, line.credit_memo_line_id, True, line.line_date, line.sku,
         line.product_name, line.quantity, line.amount, rate, source, commission)
        for entry, line, rate, source, commission in lines
    ]
    if connection.vendor == "postgresql":
        table = StatementLine._meta.db_table
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        StatementLine.objects.bulk_create(
            [StatementLine(**dict(zip(LINE_COLUMNS, row))) for row in rows], batch_size=500
        )


def statement_fill(statement: CommissionStatement, *, actor: str, recalculating: bool = False,
                   note: str = "") -> CommissionStatement:
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
        statement.total = writer.finish()
        statement.total += _write_clawbacks(statement)  # after the lines: they may claw back one just taken
        statement.plan = plan
        statement.status = StatementStatus.DRAFT
        statement.failure = ""
        statement.updated_at = timezone.now()
        statement.save(update_fields=["total", "plan", "status", "failure", "updated_at"])
        lines = statement.lines.count()
        summary = f"{lines} line(s), total {statement.total} {statement.currency_code}, plan '{plan.name}'."
        _event(statement, EventType.RECALCULATED if recalculating else EventType.CREATED, actor,
               f"{note} ({summary})" if note else summary)
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
    """Start and fill in-process (the admin's generate page, the demo seed, tests). A fill that fails
    leaves the statement Failed, with the reason, rather than stuck in Generating."""
    statement = statement_start(rep=rep, period_start=period_start, period_end=period_end, currency_code=currency_code)
    try:
        return statement_fill(statement, actor=actor)
    except APIException as exc:
        statement_mark_failed(statement.pk, str(exc.detail), actor)
        raise
    except Exception as exc:
        statement_mark_failed(statement.pk, f"{type(exc).__name__}: {exc}", actor)
        raise


# ---------------------------------------------------------------- workflow


def _transition(statement, allowed: tuple[str, ...], to: str, verb: str):
    statement = CommissionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status not in allowed:
        raise Conflict(f"A {statement.status} statement cannot be {verb}.")
    statement.status = to
    statement.updated_at = timezone.now()
    return statement


@transaction.atomic
def statement_recalculate(*, statement: CommissionStatement, actor: str, note: str = "") -> CommissionStatement:
    """Draft only: re-rates from the current plan and picks up newly eligible lines."""
    return statement_fill(statement, actor=actor, recalculating=True, note=note)


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

