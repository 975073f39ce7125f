"""What a statement pays (§6): the rep's eligible earnings, rated, multiplied and written.

Three passes, in the generator's one transaction:

1. **Sales earnings.** Invoices credited to the rep (its `SalesCredits`) in the statement's
   currency with a payment dated in range are read a chunk at a time with their lines, the
   order's credits, the payments in recording order and the rep's live earnings of those lines.
   Each line's credited amount, its mode (earned whole under `Invoice`; by payment shares under
   `Payment`, or once any payment share of it is live; nothing more once it earned whole) and
   its rating come from the pure engine. Lines go out in batches (COPY on PostgreSQL) at
   multiplier 1.
2. **Accelerators.** With a quota and tiers, a line's multiplier depends on the sales before it
   in §6's order (date, invoice number, position, payment order), which pass 1 does not read in.
   On PostgreSQL pass 1 therefore stages its lines in a temporary table (no indexes, no WAL), and
   pass 2 writes them from there in one INSERT … SELECT, the running total by a window function
   in §6's order; only the few lines straddling a threshold come back to the engine. (SQLite, the
   embedded default, writes them at multiplier 1 and updates them.) Without tiers there is no
   pass 2: pass 1 writes the lines as they are.
3. **Clawbacks.** Credit-memo lines against lines commissioned to the rep, on no live statement
   of the rep, at the rate (or amount per unit) and exact multiplier of the rep's latest live
   line for the original — this statement's included, which is why they come last.

Entries (one per invoice) and the statement's totals are sums taken by the database at the end.
"""
from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Length

from commissions import engine
from commissions.models import (
    CommissionBasis,
    CommissionPlan,
    CommissionStatement,
    StatementEntry,
    StatementLine,
    StatementStatus,
)
from orders.models import CreditMemoLine, Invoice, InvoiceLine, InvoiceStatus, Payment, SalesCredit

BATCH = 5000
INVOICES_PER_CHUNK = 2000
ZERO = Decimal("0.00")
# A line's columns: the statement's three, its entry's, then what `StatementLines.add` is given (EARNING).
EARNING = (
    "invoice_line_id", "payment_id", "credit_memo_line_id", "line_date", "sku", "product_name", "quantity",
    "line_amount", "share", "rate", "amount_per_unit", "rate_source", "multiplier", "multiplier_numerator",
    "multiplier_denominator", "commission",
)
LINE_COLUMNS = ("statement_id", "sales_rep_id", "live", "entry_id", *EARNING)
# Staged sales lines: the entry and the earning (not the statement's constants), and what §6's
# order and the final commission need besides.
STAGED_COLUMNS = ("entry_id", *EARNING, "invoice_number", "position", "whole_amount")
_AMOUNT, _QUANTITY, _SHARE, _RATE, _PER_UNIT, _SOURCE = (STAGED_COLUMNS.index(c) for c in (
    "line_amount", "quantity", "share", "rate", "amount_per_unit", "rate_source"))
_MULTIPLIER = STAGED_COLUMNS.index("multiplier")


@dataclass(frozen=True, slots=True)
class Window:
    """The days a statement takes lines from: its period, or everything up to its end (catch-up)."""

    start: datetime.date | None
    end: datetime.date

    @classmethod
    def of(cls, statement: CommissionStatement) -> Window:
        return cls(None if statement.include_earlier else statement.period_start, statement.period_end)

    def __contains__(self, day: datetime.date | None) -> bool:
        return day is not None and (self.start is None or self.start <= day) and day <= self.end

    def q(self, field: str) -> Q:
        q = Q(**{f"{field}__lte": self.end})
        return q & Q(**{f"{field}__gte": self.start}) if self.start else q


class StatementLines:
    """Statement lines waiting to be written, and the entries they belong to. With `staged`, sales
    lines go to a temporary table until pass 2 gives them their multipliers (see the module)."""

    def __init__(self, statement: CommissionStatement, schedule: engine.MultiplierSchedule):
        self.statement = statement
        self.schedule = schedule
        self.staged = bool(schedule.thresholds) and connection.vendor == "postgresql"
        self.staging = f"staged_lines_{uuid.uuid4().hex}" if self.staged else None
        self.to_staging = False  # while pass 1 writes a staged statement's sales lines
        # Invoice → its entry: the entry's id (a million model instances would not fit the memory
        # aim). On PostgreSQL ids are taken from the entries' sequence ahead and new entries written by
        # COPY as rows; on SQLite an entry is an unsaved instance until bulk_create gives it its id.
        self.entries: dict[object, StatementEntry | int] = dict(
            StatementEntry.objects.filter(statement=statement).values_list("invoice_id", "pk"))
        self.new_entries: list[StatementEntry | tuple] = []
        self.free_ids: list[int] = []
        self.rows: list[tuple] = []
        # As COPY's text reads them: dumped once, not once per line.
        self.prefix = (str(statement.pk), str(statement.sales_rep_id), True)

    def entry_for(self, invoice_id, invoice_number: str, customer_number: str) -> StatementEntry | int:
        entry = self.entries.get(invoice_id)
        if entry is None:
            if connection.vendor == "postgresql":
                if not self.free_ids:
                    self.free_ids = _entry_ids(BATCH)
                entry = self.free_ids.pop()
                self.new_entries.append((entry, self.prefix[0], invoice_id, invoice_number, customer_number, ZERO))
            else:
                entry = StatementEntry(statement=self.statement, invoice_id=invoice_id, invoice_number=invoice_number,
                                       customer_number=customer_number, commission=ZERO)
                self.new_entries.append(entry)
            self.entries[invoice_id] = entry
        return entry

    def add(self, entry: StatementEntry | int, earning: tuple, staged: tuple = ()) -> None:
        """One line: `earning` holds the EARNING columns; `staged` the staging's extra ones, for a
        sales line while the lines are staged."""
        self.rows.append((entry, earning, staged))
        if len(self.rows) >= BATCH:
            self.flush()

    def add_row(self, row: tuple) -> None:
        """A line whose entry is written already: its entry's id and EARNING (pass 2)."""
        self.rows.append((None, row, ()))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.new_entries:
            if connection.vendor == "postgresql":
                _copy(StatementEntry._meta.db_table, ENTRY_COLUMNS, self.new_entries)
            else:
                StatementEntry.objects.bulk_create(self.new_entries, batch_size=BATCH)
                for entry in self.new_entries:
                    self.entries[entry.invoice_id] = entry.pk
            self.new_entries = []
        if not self.rows:
            return
        prefix = self.prefix

        def pk(entry):
            return entry if type(entry) is int else entry.pk

        if self.to_staging:
            _copy(self.staging, STAGED_COLUMNS, [(pk(entry), *earning, *staged) for entry, earning, staged in self.rows])
        else:
            rows = [(*prefix, *earning) if entry is None else (*prefix, pk(entry), *earning)
                    for entry, earning, _ in self.rows]
            _copy(StatementLine._meta.db_table, LINE_COLUMNS, rows)
        self.rows = []

    def stage(self) -> None:
        """Pass 1 is about to write a staged statement's sales lines: the table for them (dropped at
        commit)."""
        if self.staged:
            self.to_staging = True
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {self.staging} ON COMMIT DROP AS SELECT entry_id, {', '.join(EARNING)}, "
                    f"''::text AS invoice_number, 0 AS position, line_amount AS whole_amount "
                    f"FROM {StatementLine._meta.db_table} WHERE false")


ENTRY_COLUMNS = ("id", "statement_id", "invoice_id", "invoice_number", "customer_number", "commission")


def _entry_ids(count: int) -> list[int]:
    """`count` fresh ids of statement entries, from their sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [StatementEntry._meta.db_table, count])
        return [row[0] for row in cursor.fetchall()][::-1]


def _copy(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:  # SQLite (never staged)
        StatementLine.objects.bulk_create([StatementLine(**dict(zip(columns, row))) for row in rows], batch_size=500)


def _storage(multiplier) -> tuple:
    """The multiplier's three columns: as shown, and exact (numerator, denominator)."""
    return engine.display_multiplier(multiplier), *engine.multiplier_to_storage(multiplier)




# ---------------------------------------------------------------- pass 1: sales earnings


def _candidate_invoices(statement: CommissionStatement, window: Window) -> list:
    """The rep's invoices in the statement's currency with a payment dated in the window. With
    catch-up (a window with no start) that would be every invoice the rep ever had, so only those
    with something left to earn: a line neither earned whole by the rep nor earned by it for some
    payment dated by the window's end. (Pass 1 decides what each line earns; this only leaves out
    invoices it would find nothing on.)"""
    rep_id = statement.sales_rep_id
    invoices = Invoice.objects.filter(organization_id=statement.organization_id,
                                      currency_code=statement.currency_code,
                                      order__sales_credits__sales_rep_id=rep_id)
    if window.start is not None:
        invoices = invoices.filter(Exists(Payment.objects.filter(window.q("paid_on"), invoice_id=OuterRef("pk"))))
    else:
        earned = StatementLine.objects.filter(invoice_line_id=OuterRef("pk"), sales_rep_id=rep_id, live=True)
        share_earned = StatementLine.objects.filter(invoice_line_id=OuterRef(OuterRef("pk")), payment_id=OuterRef("pk"),
                                                    sales_rep_id=rep_id, live=True)
        unearned_payment = Payment.objects.filter(invoice_id=OuterRef("invoice_id"), paid_on__lte=window.end).exclude(
            Exists(share_earned))
        open_line = InvoiceLine.objects.filter(invoice_id=OuterRef("pk")).exclude(
            Exists(earned.filter(payment__isnull=True))).filter(Exists(unearned_payment))
        invoices = invoices.filter(Exists(open_line))
    return list(invoices.order_by("pk").values_list("pk", flat=True))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _share_lock(invoice_ids: list[int]) -> None:
    """Locks the invoices (alone: not the customers they join) FOR SHARE, in id order: replacing an
    order's credits, recording a payment or a credit memo (FOR UPDATE) waits for this statement and
    the reverse, while generations of reps sharing an invoice do not wait for each other. (SQLite
    writes take the whole database.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {Invoice._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR SHARE",
                           [invoice_ids])


def write_sales_lines(statement: CommissionStatement, plan: CommissionPlan, compiled: engine.CompiledPlan,
                      lines: StatementLines) -> None:
    """Pass 1 (see the module docstring)."""
    rep_id, window = statement.sales_rep_id, Window.of(statement)
    by_payment = plan.commission_basis == CommissionBasis.PAYMENT
    one = _storage(1)
    rate, staged = compiled.rate, lines.staged
    # Live earnings of the rep are on its other statements that are not void (its generations take
    # turns: the rep lock), each dated by a payment of the line's invoice (or its paid-in-full day,
    # which is one) no later than that statement's end. So only invoices with a payment dated up to
    # the latest such end can have earned before: the others need no look-up (a rep's first
    # statement, and in a monthly run every invoice paid within the month).
    earlier_end = CommissionStatement.objects.filter(sales_rep_id=rep_id).exclude(pk=statement.pk).exclude(
        status=StatementStatus.VOID).aggregate(end=Max("period_end"))["end"]
    lines.stage()
    for chunk in _chunks(_candidate_invoices(statement, window), INVOICES_PER_CHUNK):
        _share_lock(chunk)
        # (The invoices alone, not joined to their lines: a planner that expects few lines per chunk then
        # hashes the whole invoice table once per chunk.)
        invoices = {row[0]: row[1:] for row in Invoice.objects.filter(pk__in=chunk).order_by().values_list(
            "pk", "invoice_number", "customer__customer_number", "status", "paid_on", "total", "order_id")}
        # The rep's place among each order's credits and all their shares, once per order.
        order_credits = defaultdict(list)
        for order_id, sales_rep_id, share in SalesCredit.objects.filter(
                order_id__in=[row[5] for row in invoices.values()]).order_by(
                "order_id", "position").values_list("order_id", "sales_rep_id", "share"):
            order_credits[order_id].append((sales_rep_id, share))
        credits = {}
        for order_id, listed in order_credits.items():
            index = next((i for i, (rep, _) in enumerate(listed) if rep == rep_id), None)
            if index is not None:
                credits[order_id] = (index, listed[index][1], [share for _, share in listed])
        payments = defaultdict(list)
        for invoice_id, pk, amount, paid_on in Payment.objects.filter(invoice_id__in=chunk).order_by(
                "invoice_id", "pk").values_list("invoice_id", "pk", "amount", "paid_on"):
            payments[invoice_id].append((pk, amount, paid_on))
        chunk_lines = list(InvoiceLine.objects.filter(invoice_id__in=chunk).order_by("invoice_id", "position")
                           .values_list("invoice_id", "pk", "sku", "product_name", "quantity", "line_total", "position"))
        # Probed by the lines' own ids (see StatementLine.Meta.indexes): probing by rep would read every
        # line this very statement has written so far, once per chunk — quadratic in its size.
        earned = defaultdict(set)
        first_paid = {invoice_id: min(day for _, _, day in paid) for invoice_id, paid in payments.items()}
        may_have_earned = [row[1] for row in chunk_lines
                           if earlier_end and first_paid.get(row[0], earlier_end) <= earlier_end]
        if may_have_earned:
            for line_id, payment_id in StatementLine.objects.filter(
                    invoice_line_id__in=may_have_earned, live=True, sales_rep_id=rep_id).order_by().values_list(
                    "invoice_line_id", "payment_id"):
                earned[line_id].add(payment_id)
        for invoice_id, line_id, sku, name, quantity, whole, position in chunk_lines:
            number, customer, status, paid_on, total, order_id = invoices[invoice_id]
            credit = credits.get(order_id)
            if credit is None:
                continue
            index, share, shares = credit
            credited = engine.credited_amounts(whole, shares)[index]
            prior = earned.get(line_id, ())
            if None in prior:
                continue  # earned whole: done
            if prior or by_payment:  # began by payments: finishes by payments
                invoice_payments = payments[invoice_id]
                parts = engine.payment_shares(credited, total, [amount for _, amount, _ in invoice_payments])
                earnings = [(amount, day, pk) for (pk, _, day), amount in zip(invoice_payments, parts)
                            if amount and pk not in prior and day in window]
            elif status == InvoiceStatus.PAID and paid_on in window:
                earnings = [(credited, paid_on, None)]
            else:
                earnings = []
            for amount, day, payment_id in earnings:
                rating = rate(sku, name, customer, whole, day)
                if rating is None:
                    continue  # outside the plan's window: left out, stays eligible
                lines.add(
                    lines.entry_for(invoice_id, number, customer),
                    (line_id, payment_id, None, day, sku, name, quantity, amount, share, rating.rate,
                     rating.amount_per_unit, rating.source, *one,
                     engine.line_commission(rating, line_amount=amount, quantity=quantity, whole_amount=whole,
                                            share=share)),
                    (number, position, whole) if staged else (),
                )
    lines.flush()


# ---------------------------------------------------------------- pass 2: accelerators


def apply_accelerators(statement: CommissionStatement, lines: StatementLines) -> None:
    """Pass 2: each sales line's multiplier and final commission, in §6's order."""
    schedule = lines.schedule
    if not schedule.thresholds:
        return
    fixed = schedule.retroactive(_sales_total(statement, lines)) if schedule.method == engine.RETROACTIVE else None
    if lines.staged:
        lines.to_staging = False
        _accelerate_staged(lines, fixed)
        return
    rows = (
        StatementLine.objects.filter(statement=statement, credit_memo_line__isnull=True)
        .annotate(number_length=Length("entry__invoice_number"))
        .order_by("line_date", "number_length", "entry__invoice_number", "invoice_line__position",
                  F("payment_id").asc(nulls_first=True))
        .values_list("line_amount", "quantity", "share", "rate", "amount_per_unit", "rate_source",
                     "invoice_line__line_total", "pk")
        .iterator(chunk_size=BATCH)
    )
    updates: list[tuple] = []
    s0, last, stored = Decimal(0), None, None
    for amount, quantity, share, rate, per_unit, source, whole, pk in rows:
        multiplier = fixed if fixed is not None else schedule.marginal(s0, amount)
        s0 += amount
        if multiplier is not last:  # most lines lie inside one tier: the same multiplier, stored once
            last, stored = multiplier, _storage(multiplier)
        updates.append((pk, *stored, engine.line_commission(
            engine.Rating(rate, source, per_unit), line_amount=amount, quantity=quantity, whole_amount=whole,
            share=share, multiplier=multiplier)))
        if len(updates) >= BATCH:
            _update_lines(updates)
            updates.clear()
    _update_lines(updates)


# §6's order of a statement's sales lines, in the staging table's columns.
STAGED_ORDER = "line_date, length(invoice_number), invoice_number, position, payment_id NULLS FIRST"
# round(B x m) for a line's multiplier m, a decimal (a tier's, or 1), exactly as engine.line_commission:
# B = LineAmount x Rate; or for a per-unit line Quantity x AmountPerUnit x (LineAmount / A), rounded half
# away from zero by integer division (numeric division would round on its own); Share when A is 0.
STAGED_COMMISSION = """CASE
    WHEN rate IS NOT NULL THEN round(line_amount * rate * m, 2)
    WHEN whole_amount = 0 THEN round(quantity * amount_per_unit * share * m, 2)
    ELSE sign(quantity * amount_per_unit * line_amount * m * whole_amount)
         * div(200 * abs(quantity * amount_per_unit * line_amount * m) + abs(whole_amount), 2 * abs(whole_amount))
         * 0.01 END"""


def _accelerate_staged(lines: StatementLines, fixed: Fraction | None) -> None:
    """Pass 2 on PostgreSQL, in the database: one INSERT … SELECT from the staging table, the running
    sales total s0 by a window function in §6's order. A line inside one tier (s0 and s0 + LineAmount
    with no threshold strictly between: nearly all) has that tier's multiplier, a decimal, and its
    commission is exact in SQL; Retroactive's m is one decimal for every line. The few lines that
    straddle a threshold come back to the engine for their exact mean multiplier."""
    if fixed is not None:
        multiplier, spans, params = "%(fixed)s", "false", {"fixed": engine.display_multiplier(fixed)}
    else:
        tiers = lines.schedule.tiers
        params = {f"t{i}": threshold for i, (threshold, _) in enumerate(tiers)}
        params |= {f"m{i}": tier_multiplier for i, (_, tier_multiplier) in enumerate(tiers)}
        multiplier = "CASE " + " ".join(f"WHEN s0 >= %(t{i})s THEN %(m{i})s" for i in reversed(range(len(tiers))))
        multiplier += " ELSE 1 END"
        spans = "line_amount < 0 OR " + " OR ".join(
            f"(s0 < %(t{i})s AND %(t{i})s < s0 + line_amount)" for i in range(len(tiers)))
    params |= {"statement": lines.statement.pk, "rep": lines.statement.sales_rep_id}
    staged = ", ".join(STAGED_COLUMNS)
    earning = ", ".join(c for c in EARNING if not c.startswith("multiplier") and c != "commission")
    sql = f"""
        WITH ordered AS MATERIALIZED (
            SELECT {staged}, coalesce(sum(line_amount) OVER (ORDER BY {STAGED_ORDER}
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS s0
            FROM {lines.staging}
        ), tiered AS (
            SELECT *, ({multiplier})::numeric AS m, ({spans}) AS spans FROM ordered
        ), written AS (
            INSERT INTO {StatementLine._meta.db_table} ({', '.join(LINE_COLUMNS)})
            SELECT %(statement)s, %(rep)s, true, entry_id, {earning}, m, m, 1, {STAGED_COMMISSION}
            FROM tiered WHERE NOT spans
        )
        SELECT {staged}, s0 FROM tiered WHERE spans"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        straddling = cursor.fetchall()
    for *row, s0 in straddling:
        amount = row[_AMOUNT]
        multiplier = lines.schedule.marginal(s0, amount)
        commission = engine.line_commission(
            engine.Rating(row[_RATE], row[_SOURCE], row[_PER_UNIT]), line_amount=amount, quantity=row[_QUANTITY],
            whole_amount=row[-1], share=row[_SHARE], multiplier=multiplier)
        lines.add_row((*row[:_MULTIPLIER], *_storage(multiplier), commission))
    lines.flush()


def _sales_total(statement: CommissionStatement, lines: StatementLines) -> Decimal:
    if not lines.staged:
        return StatementLine.objects.filter(statement=statement, credit_memo_line__isnull=True).aggregate(
            total=Coalesce(Sum("line_amount"), ZERO))["total"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(line_amount), 0) FROM {lines.staging}")
        return cursor.fetchone()[0]


def _update_lines(updates: list[tuple]) -> None:
    if not updates:
        return
    columns = ("id", "multiplier", "multiplier_numerator", "multiplier_denominator", "commission")
    if connection.vendor == "postgresql":
        table = f"multipliers_{uuid.uuid4().hex}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (id bigint, multiplier numeric, multiplier_numerator "
                           f"numeric, multiplier_denominator numeric, commission numeric) ON COMMIT DROP")
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in updates:
                    copy.write_row(row)
            lines = StatementLine._meta.db_table
            cursor.execute(
                f"UPDATE {lines} l SET multiplier = t.multiplier, multiplier_numerator = t.multiplier_numerator, "
                f"multiplier_denominator = t.multiplier_denominator, commission = t.commission "
                f"FROM {table} t WHERE l.id = t.id"
            )
            cursor.execute(f"DROP TABLE {table}")
    else:
        objects = [StatementLine(pk=pk, multiplier=m, multiplier_numerator=n, multiplier_denominator=d, commission=c)
                   for pk, m, n, d, c in updates]
        StatementLine.objects.bulk_update(objects, list(columns[1:]), batch_size=500)


# ---------------------------------------------------------------- pass 3: clawbacks


def write_clawbacks(statement: CommissionStatement, plan: CommissionPlan, lines: StatementLines) -> None:
    """Pass 3: returns of lines commissioned to the rep. A month's returns for one rep are few. A
    return dated outside the plan's effective window is left out and stays eligible, like any line."""
    rep_id, window = statement.sales_rep_id, Window.of(statement)
    original = StatementLine.objects.filter(
        invoice_line_id=OuterRef("invoice_line_id"), sales_rep_id=rep_id, live=True,
    ).order_by("-line_date", F("payment_id").desc(nulls_last=True))
    rows = list(
        CreditMemoLine.objects.filter(
            window.q("credit_memo__credit_date"),
            credit_memo__invoice__currency_code=statement.currency_code,
            credit_memo__invoice__organization_id=statement.organization_id,
        )
        .filter(Exists(original))
        .exclude(Exists(StatementLine.objects.filter(credit_memo_line_id=OuterRef("pk"), sales_rep_id=rep_id,
                                                     live=True)))
        .annotate(**{f"original_{field}": Subquery(original.values(field)[:1]) for field in (
            "rate", "amount_per_unit", "rate_source", "multiplier_numerator", "multiplier_denominator", "share")})
        .order_by("credit_memo__invoice_id", "credit_memo__credit_date", "pk")
        .values_list("credit_memo__invoice_id", "credit_memo__invoice__invoice_number",
                     "credit_memo__invoice__customer__customer_number", "credit_memo__invoice__order_id", "pk",
                     "invoice_line__sku", "invoice_line__product_name", "quantity", "price",
                     "credit_memo__credit_date", "original_rate", "original_amount_per_unit", "original_rate_source",
                     "original_multiplier_numerator", "original_multiplier_denominator", "original_share")
    )
    if not rows:
        return
    credits = defaultdict(list)
    for order_id, sales_rep_id, share in SalesCredit.objects.filter(
            order_id__in={row[3] for row in rows}).order_by("order_id", "position").values_list(
            "order_id", "sales_rep_id", "share"):
        credits[order_id].append((sales_rep_id, share))
    for (invoice_id, number, customer, order_id, pk, sku, name, quantity, price, day, rate, per_unit, source,
         numerator, denominator, share) in rows:
        if not engine.in_window(day, plan.effective_start, plan.effective_end):
            continue
        order_credits = credits[order_id]
        index = next(i for i, (rep, _) in enumerate(order_credits) if rep == rep_id)
        returned = engine.credited_amounts(quantity * price, [s for _, s in order_credits])[index]
        multiplier = engine.multiplier_from_storage(numerator, denominator)
        rating = engine.Rating(rate, source, per_unit)
        lines.add(lines.entry_for(invoice_id, number, customer), (
            None, None, pk, day, sku, name, -quantity, -returned, share, rate, per_unit, f"Clawback ({source})",
            *_storage(multiplier),
            engine.clawback_commission(rating, line_amount=returned, quantity=quantity, price=price, share=share,
                                       multiplier=multiplier),
        ))
    lines.flush()


# ---------------------------------------------------------------- totals


def statement_totals(statement: CommissionStatement) -> tuple[Decimal, Decimal]:
    """Each entry's commission and the statement's (lines total, sales total), summed by the database."""
    if connection.vendor == "postgresql":
        # One grouped pass over the statement's lines, not a subquery per entry (entries without lines
        # keep the 0.00 they were written with).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {StatementEntry._meta.db_table} e SET commission = t.total FROM (SELECT entry_id, "
                f"sum(commission) AS total FROM {StatementLine._meta.db_table} WHERE statement_id = %s "
                f"GROUP BY entry_id) t WHERE e.id = t.entry_id", [statement.pk])
    else:
        by_entry = StatementLine.objects.filter(entry_id=OuterRef("pk")).values("entry_id").annotate(
            total=Sum("commission")).values("total")
        StatementEntry.objects.filter(statement=statement).update(commission=Coalesce(Subquery(by_entry), ZERO))
    totals = StatementLine.objects.filter(statement=statement).aggregate(
        lines=Coalesce(Sum("commission"), ZERO),
        sales=Coalesce(Sum("line_amount", filter=Q(credit_memo_line__isnull=True)), ZERO),
    )
    cent = Decimal("0.01")  # SQLite's sums come back with more places
    return totals["lines"].quantize(cent), totals["sales"].quantize(cent)
