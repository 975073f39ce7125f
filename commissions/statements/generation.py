"""What a statement pays (§6): the rep's eligible earnings, rated, multiplied and written.

Three passes, in the generator's one transaction:

1. **Sales earnings.** Invoices credited to the rep (its `SalesCredits`) in the statement's
   currency with a payment dated in range are read a chunk at a time with their lines, the
   order's credits, the payments in recording order and the rep's live earnings of those lines.
   Each line's credited amount, its mode (earned whole under `Invoice`; by payment shares under
   `Payment`, or once any payment share of it is live; nothing more once it earned whole) and
   its rating come from the pure engine. Lines go out in batches (COPY on PostgreSQL) at
   multiplier 1. On PostgreSQL the same pass runs inside the database instead
   (`_write_sales_lines_in_database`): one INSERT … SELECT stages every sales line, rated by
   masks the engine computes per distinct product and (customer, day); no line travels to Python.
2. **Accelerators.** With a quota and tiers, a line's multiplier depends on the sales before it
   in §6's order (date, invoice number, position, payment order), which pass 1 does not read in.
   On PostgreSQL pass 1 therefore stages its lines in a temporary table (no indexes, no WAL), and
   pass 2 writes them from there in one INSERT … SELECT, the running total by a window function
   in §6's order; only the few lines straddling a threshold come back to the engine. (SQLite, the
   embedded default, writes them at multiplier 1 and updates them.) Without tiers pass 2 only
   copies the staged lines at multiplier 1 (and on SQLite there is none).
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
# PostgreSQL takes pass 1 in SQL (see _write_sales_lines_in_database); off, it runs in Python as on SQLite,
# which the property tests use to hold the two equal.
RATE_IN_DATABASE = True
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
        # Pass 1 inside the database (PostgreSQL, unless RATE_IN_DATABASE is off): every sales line staged.
        self.in_database = RATE_IN_DATABASE and connection.vendor == "postgresql"
        self.staged = self.in_database or (bool(schedule.thresholds) and connection.vendor == "postgresql")
        self.staging = f"staged_lines_{uuid.uuid4().hex}" if self.staged else None
        # Pass 1 inside the database gives the entries their ids in this temporary table (invoice_id → id,
        # `new` when the statement has no entry for it yet); statement_totals writes the new ones once,
        # with their totals.
        self.pending_entries = f"pending_entries_{uuid.uuid4().hex}" if self.in_database else None
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

    def load_entries(self, invoice_ids: list) -> None:
        """Learns the entries pass 1 inside the database gave these invoices."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT invoice_id, id FROM {self.pending_entries} WHERE invoice_id = ANY(%s)",
                           [invoice_ids])
            self.entries.update(cursor.fetchall())

    def staged_source(self) -> str:
        """The staged sales lines with STAGED_COLUMNS (in the database they carry their invoice instead of
        their entry, whose id the database gave after them)."""
        if not self.in_database:
            return self.staging
        return (f"(SELECT e.id AS entry_id, s.* FROM {self.staging} s JOIN {self.pending_entries} e "
                f"ON e.invoice_id = s.invoice_id) staged")

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


def _candidate_invoices(statement: CommissionStatement, window: Window):
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
    return invoices.order_by("pk").values_list("pk", flat=True)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _earlier_end(statement: CommissionStatement) -> datetime.date | None:
    """The latest end of the rep's other statements that are not void: only invoices with a payment dated
    by then can have earned before (see _write_sales_lines_in_python)."""
    return CommissionStatement.objects.filter(sales_rep_id=statement.sales_rep_id).exclude(pk=statement.pk).exclude(
        status=StatementStatus.VOID).aggregate(end=Max("period_end"))["end"]


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
    if lines.in_database:
        _write_sales_lines_in_database(statement, plan, compiled, lines)
    else:
        _write_sales_lines_in_python(statement, plan, compiled, lines)


def _write_sales_lines_in_python(statement: CommissionStatement, plan: CommissionPlan,
                                 compiled: engine.CompiledPlan, lines: StatementLines) -> None:
    rep_id, window = statement.sales_rep_id, Window.of(statement)
    by_payment = plan.commission_basis == CommissionBasis.PAYMENT
    one = _storage(1)
    rate, staged = compiled.rate, lines.staged
    # Live earnings of the rep are on its other statements that are not void (its generations take
    # turns: the rep lock), each dated by a payment of the line's invoice (or its paid-in-full day,
    # which is one) no later than that statement's end. So only invoices with a payment dated up to
    # the latest such end can have earned before: the others need no look-up (a rep's first
    # statement, and in a monthly run every invoice paid within the month).
    earlier_end = _earlier_end(statement)
    lines.stage()
    for chunk in _chunks(list(_candidate_invoices(statement, window)), INVOICES_PER_CHUNK):
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


# ---------------------------------------------------------------- pass 1 inside PostgreSQL


def _bits(mask: int, width: int) -> str:
    """A compiled plan's mask as a bit string, bit 0 first (so the first '1' is the winning slot)."""
    return format(mask, f"0{width}b")[::-1]


def _lookup_table(cursor, name: str, columns: str, key: str, rows: list[tuple]) -> None:
    """A temporary table of `rows`, indexed by its `key`: whatever join order the planner takes for a
    small statement (where it may expect a single line), a look-up is an index probe, not a scan."""
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP")
    with cursor.copy(f"COPY {name} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(f"CREATE INDEX ON {name} ({key})")
    cursor.execute(f"ANALYZE {name}")


# round(n / d) to cents, half away from zero, exactly (d > 0): numeric division would round on its own.
def _cents(numerator: str, denominator: str) -> str:
    return f"(sign({numerator}) * div(200 * abs({numerator}) + {denominator}, 2 * {denominator}) * 0.01)"


def _write_sales_lines_in_database(statement: CommissionStatement, plan: CommissionPlan,
                                   compiled: engine.CompiledPlan, lines: StatementLines) -> None:
    """Pass 1 on PostgreSQL: the same decisions as `_write_sales_lines_in_python`, taken by the database
    in one INSERT … SELECT into the staging table, so that no line travels to Python and back.

    The rating stays the engine's: it rates each distinct product (SKU and name) and each distinct
    (customer, day) of the candidates into a mask of the plan's outcomes (CompiledPlan.product_mask,
    day_mask), loaded as two small tables; a line's outcome is the first bit set in the AND of its two
    masks and its amount's (two bisections by width_bucket), as in CompiledPlan.rate. Credits, payment
    shares and the earned-before look-up are §6's arithmetic written in SQL, exact: numeric products
    and round() (half away from zero) for credits, integer division for the shares' rounding."""
    rep_id, window = statement.sales_rep_id, Window.of(statement)
    earlier_end = _earlier_end(statement)
    tag = uuid.uuid4().hex
    candidates, rep_credits = f"candidates_{tag}", f"rep_credits_{tag}"
    products, days = f"product_masks_{tag}", f"day_masks_{tag}"
    invoice, invoice_line, payment = Invoice._meta.db_table, InvoiceLine._meta.db_table, Payment._meta.db_table
    customer = Invoice._meta.get_field("customer").related_model._meta.db_table
    params = {"rep": rep_id, "start": window.start, "end": window.end, "earlier_end": earlier_end,
              "by_payment": plan.commission_basis == CommissionBasis.PAYMENT, "paid": InvoiceStatus.PAID}

    def in_window(day: str) -> str:
        return f"({day} <= %(end)s AND (%(start)s::date IS NULL OR {day} >= %(start)s::date))"

    width, ratings = compiled.slot_count, compiled.slot_ratings
    with connection.cursor() as cursor:
        query, query_params = _candidate_invoices(statement, window).query.sql_with_params()
        cursor.execute(f"CREATE TEMPORARY TABLE {candidates} ON COMMIT DROP AS SELECT q.pk AS id FROM ({query}) q",
                       query_params)
        cursor.execute(f"ANALYZE {candidates}")
        # FOR SHARE in id order, as _share_lock (one statement instead of one per chunk); what follows reads
        # the invoices' credits and payments as they are under the lock.
        cursor.execute(f"SELECT 1 FROM {invoice} WHERE id IN (SELECT id FROM {candidates}) ORDER BY id FOR SHARE")
        # The rep's credit on each (its share, whether it is the last, the shares before it), a table of its
        # own: so the planner, which has its statistics, knows that nearly every candidate has one.
        credits = SalesCredit._meta.db_table
        cursor.execute(
            f"CREATE TEMPORARY TABLE {rep_credits} ON COMMIT DROP AS SELECT i.id, mine.share, "
            f"NOT EXISTS (SELECT FROM {credits} o WHERE o.order_id = mine.order_id AND o.position > mine.position) "
            f"AS last, ARRAY(SELECT o.share FROM {credits} o WHERE o.order_id = mine.order_id "
            f"AND o.position < mine.position ORDER BY o.position) AS before "
            f"FROM {candidates} k JOIN {invoice} i ON i.id = k.id "
            f"JOIN {credits} mine ON mine.order_id = i.order_id AND mine.sales_rep_id = %s", [rep_id])
        cursor.execute(f"ANALYZE {rep_credits}")
        cursor.execute(f"SELECT DISTINCT sku, product_name FROM {invoice_line} "
                       f"WHERE invoice_id IN (SELECT id FROM {candidates})")
        _lookup_table(cursor, products, "sku text, product_name text, mask varbit", "sku, product_name", [
            (sku, name, _bits(compiled.product_mask(sku, name), width)) for sku, name in cursor.fetchall()])
        cursor.execute(
            f"SELECT c.customer_number, d.day FROM (SELECT p.invoice_id, p.paid_on AS day FROM {payment} p "
            f"WHERE p.invoice_id IN (SELECT id FROM {candidates}) UNION SELECT i.id, i.paid_on FROM {invoice} i "
            f"WHERE i.id IN (SELECT id FROM {candidates}) AND i.paid_on IS NOT NULL) d "
            f"JOIN {invoice} i ON i.id = d.invoice_id JOIN {customer} c ON c.id = i.customer_id "
            f"WHERE {in_window('d.day')} GROUP BY 1, 2", params)
        _lookup_table(cursor, days, "customer_number text, day date, mask varbit", "customer_number, day", [
            (number, day, _bits(compiled.day_mask(number, day), width)) for number, day in cursor.fetchall()])
        # The outcome: position of the first 1 (bit b at position b + 1); bit 0 rates None (left out).
        mins, min_ok, maxes, max_ok = compiled.amount_bounds
        outcome = "pm.mask & dm.mask"
        if mins:
            params |= {"mins": mins, "min_ok": [_bits(mask, width) for mask in min_ok]}
            outcome += " & (%(min_ok)s::varbit[])[width_bucket(e.whole, %(mins)s::numeric[]) + 1]"
        if maxes:  # count of maxes < A = len - count of -maxes <= -A
            params |= {"negated_maxes": sorted(-value for value in maxes),
                       "max_ok": [_bits(mask, width) for mask in max_ok]}
            outcome += (f" & (%(max_ok)s::varbit[])[{len(maxes)} - width_bucket(-e.whole, "
                        f"%(negated_maxes)s::numeric[]) + 1]")
        # Each outcome's rating, by position (NULLs for bit 0, which rates None).
        params |= {"rates": [rating and rating.rate for rating in ratings],
                   "per_unit": [rating and rating.amount_per_unit for rating in ratings],
                   "sources": [rating and rating.source for rating in ratings]}
        credited = ("CASE WHEN NOT inv.last THEN round(l.line_total * inv.share, 2) "
                    "WHEN cardinality(inv.before) = 0 THEN l.line_total "
                    "ELSE l.line_total - (SELECT sum(round(l.line_total * s, 2)) FROM unnest(inv.before) s) END")
        by_payments = "(line.prior IS NOT NULL OR %(by_payment)s)"
        share = (f"{_cents('line.credited * p.received', 'line.total')} - "
                 f"{_cents('line.credited * (p.received - p.amount)', 'line.total')}")
        sql = f"""
            CREATE TEMPORARY TABLE {lines.staging} ON COMMIT DROP AS
            WITH inv AS MATERIALIZED (
                SELECT i.id, i.invoice_number, c.customer_number, i.status, i.paid_on, i.total, k.share, k.last,
                       k.before, (SELECT min(p.paid_on) FROM {payment} p WHERE p.invoice_id = i.id) AS first_paid
                FROM {rep_credits} k JOIN {invoice} i ON i.id = k.id JOIN {customer} c ON c.id = i.customer_id
            ), pay AS MATERIALIZED (
                SELECT p.invoice_id, p.id, p.paid_on, p.amount,
                       sum(p.amount) OVER (PARTITION BY p.invoice_id ORDER BY p.id) AS received
                FROM {payment} p WHERE p.invoice_id IN (SELECT id FROM {candidates})
            ), line AS (
                SELECT l.id, l.invoice_id, l.sku, l.product_name, l.quantity, l.line_total AS whole, l.position,
                       inv.invoice_number, inv.customer_number, inv.status, inv.paid_on, inv.total, inv.share,
                       {credited} AS credited, earned.payments AS prior
                FROM {invoice_line} l JOIN inv ON inv.id = l.invoice_id
                LEFT JOIN LATERAL (
                    SELECT bool_or(s.payment_id IS NULL) AS whole, array_agg(s.payment_id) AS payments
                    FROM {StatementLine._meta.db_table} s
                    WHERE %(earlier_end)s::date IS NOT NULL
                      AND coalesce(inv.first_paid, %(earlier_end)s::date) <= %(earlier_end)s::date
                      AND s.invoice_line_id = l.id AND s.live AND s.sales_rep_id = %(rep)s
                ) earned ON true
                WHERE earned.whole IS NOT TRUE
            ), earning AS (
                SELECT line.*, p.id AS payment_id, coalesce(p.paid_on, line.paid_on) AS day,
                       CASE WHEN p.id IS NULL THEN line.credited ELSE {share} END AS amount
                FROM line LEFT JOIN pay p ON {by_payments} AND p.invoice_id = line.invoice_id
                     AND {in_window('p.paid_on')} AND (line.prior IS NULL OR p.id <> ALL(line.prior))
                WHERE CASE WHEN {by_payments} THEN p.id IS NOT NULL
                           ELSE line.status = %(paid)s AND {in_window('line.paid_on')} END
            ), rated AS (
                SELECT e.*, position(B'1' IN {outcome}) AS outcome
                FROM earning e
                JOIN {products} pm ON pm.sku = e.sku AND pm.product_name = e.product_name
                JOIN {days} dm ON dm.customer_number = e.customer_number AND dm.day = e.day
                WHERE e.payment_id IS NULL OR e.amount <> 0
            )
            SELECT invoice_id, customer_number, id AS invoice_line_id, payment_id,
                   NULL::bigint AS credit_memo_line_id, day AS line_date, sku, product_name, quantity,
                   amount AS line_amount, share, (%(rates)s::numeric[])[outcome] AS rate,
                   (%(per_unit)s::numeric[])[outcome] AS amount_per_unit,
                   (%(sources)s::text[])[outcome] AS rate_source,
                   1::numeric AS multiplier, 1::numeric AS multiplier_numerator, 1::numeric AS multiplier_denominator,
                   0::numeric AS commission, invoice_number, position, whole AS whole_amount
            FROM rated WHERE outcome > 1"""
        cursor.execute(sql, params)
        # An id per invoice with lines: the statement's entry, or a new one from the entries' sequence
        # (COALESCE takes nextval only when there is none). The lines point at it before it is written.
        entries = StatementEntry._meta.db_table
        cursor.execute(
            f"CREATE TEMPORARY TABLE {lines.pending_entries} ON COMMIT DROP AS "
            f"SELECT coalesce(e.id, nextval(pg_get_serial_sequence(%s, 'id'))) AS id, e.id IS NULL AS new, s.* "
            f"FROM (SELECT invoice_id, min(invoice_number) AS invoice_number, min(customer_number) AS customer_number "
            f"FROM {lines.staging} GROUP BY invoice_id) s "
            f"LEFT JOIN {entries} e ON e.statement_id = %s AND e.invoice_id = s.invoice_id",
            [entries, statement.pk])
        cursor.execute(f"ANALYZE {lines.pending_entries}")


# ---------------------------------------------------------------- pass 2: accelerators


def apply_accelerators(statement: CommissionStatement, lines: StatementLines) -> None:
    """Pass 2: each sales line's multiplier and final commission, in §6's order."""
    schedule = lines.schedule
    if not schedule.thresholds and not lines.in_database:
        return
    fixed = None
    if schedule.thresholds and schedule.method == engine.RETROACTIVE:
        fixed = schedule.retroactive(_sales_total(statement, lines))
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
    if not lines.schedule.thresholds:  # (pass 1 inside the database staged them all)
        multiplier, spans, params = "1", "false", {}
    elif fixed is not None:
        multiplier, spans, params = "%(fixed)s", "false", {"fixed": engine.display_multiplier(fixed)}
    else:
        tiers = lines.schedule.tiers
        params = {f"t{i}": threshold for i, (threshold, _) in enumerate(tiers)}
        params |= {f"m{i}": tier_multiplier for i, (_, tier_multiplier) in enumerate(tiers)}
        multiplier = "CASE " + " ".join(f"WHEN s0 >= %(t{i})s THEN %(m{i})s" for i in reversed(range(len(tiers))))
        multiplier += " ELSE 1 END"
        spans = "line_amount < 0 OR " + " OR ".join(
            f"(s0 < %(t{i})s AND %(t{i})s < s0 + line_amount)" for i in range(len(tiers)))
    # Without a running total the lines go in as pass 1 in Python writes them (entry, position, payment):
    # their ids are the order a statement shows an entry's lines in. (With one they go in §6's order.)
    running, written_order = "0", "ORDER BY entry_id, position, payment_id NULLS FIRST"
    if spans != "false":
        running = (f"coalesce(sum(line_amount) OVER (ORDER BY {STAGED_ORDER} "
                   f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)")
        written_order = ""
    params |= {"statement": lines.statement.pk, "rep": lines.statement.sales_rep_id}
    staged = ", ".join(STAGED_COLUMNS)
    earning = ", ".join(c for c in EARNING if not c.startswith("multiplier") and c != "commission")
    sql = f"""
        WITH ordered AS MATERIALIZED (
            SELECT {staged}, {running} AS s0
            FROM {lines.staged_source()}
        ), tiered AS (
            SELECT *, ({multiplier})::numeric AS m, ({spans}) AS spans FROM ordered
        ), written AS (
            INSERT INTO {StatementLine._meta.db_table} ({', '.join(LINE_COLUMNS)})
            SELECT %(statement)s, %(rep)s, true, entry_id, {earning}, m, m, 1, {STAGED_COMMISSION}
            FROM tiered WHERE NOT spans {written_order}
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
    if lines.in_database:
        lines.load_entries(list({row[0] for row in rows}))
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


def statement_totals(statement: CommissionStatement, lines: StatementLines) -> tuple[Decimal, Decimal]:
    """Each entry's commission and the statement's (lines total, sales total), summed by the database."""
    cent = Decimal("0.01")  # SQLite's sums come back with more places
    if connection.vendor == "postgresql":
        # One grouped pass over the statement's lines, not a subquery per entry (entries without lines
        # keep the 0.00 they were written with); the entries pass 1 left pending are written once, with
        # their totals, instead of written and updated.
        totals, entries = f"entry_totals_{uuid.uuid4().hex}", StatementEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                # (OFFSET 0: the statement's lines by its index, then grouped. Left to itself, the planner,
                # which has no statistics of a new statement yet, walks the whole table by entry.)
                f"CREATE TEMPORARY TABLE {totals} ON COMMIT DROP AS SELECT entry_id, sum(commission) AS commission, "
                f"sum(line_amount) FILTER (WHERE credit_memo_line_id IS NULL) AS sales FROM (SELECT entry_id, "
                f"commission, line_amount, credit_memo_line_id FROM {StatementLine._meta.db_table} "
                f"WHERE statement_id = %s OFFSET 0) l GROUP BY entry_id", [statement.pk])
            cursor.execute(f"UPDATE {entries} e SET commission = t.commission FROM {totals} t "
                           f"WHERE e.statement_id = %s AND e.id = t.entry_id", [statement.pk])
            if lines.pending_entries:
                cursor.execute(
                    f"INSERT INTO {entries} ({', '.join(ENTRY_COLUMNS)}) SELECT p.id, %s, p.invoice_id, "
                    f"p.invoice_number, p.customer_number, coalesce(t.commission, 0) FROM {lines.pending_entries} p "
                    f"LEFT JOIN {totals} t ON t.entry_id = p.id WHERE p.new", [statement.pk])
            cursor.execute(f"SELECT coalesce(sum(commission), 0), coalesce(sum(sales), 0) FROM {totals}")
            lines_total, sales_total = cursor.fetchone()
        return lines_total.quantize(cent), sales_total.quantize(cent)
    else:
        by_entry = StatementLine.objects.filter(entry_id=OuterRef("pk")).values("entry_id").annotate(
            total=Sum("commission")).values("total")
        StatementEntry.objects.filter(statement=statement).update(commission=Coalesce(Subquery(by_entry), ZERO))
    totals = StatementLine.objects.filter(statement=statement).aggregate(
        lines=Coalesce(Sum("commission"), ZERO),
        sales=Coalesce(Sum("line_amount", filter=Q(credit_memo_line__isnull=True)), ZERO),
    )
    return totals["lines"].quantize(cent), totals["sales"].quantize(cent)
