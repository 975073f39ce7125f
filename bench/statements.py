"""Benchmark commission statement generation against its floor and the obvious ORM loop (the aims in bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nymble_bench \\
        .venv/bin/python bench/statements.py [--lines 1000000] [--keep] [--repeat N]
                                             [--phases] [--profile] [--tracemalloc] [--vacuum-empty]

Drops and re-creates the database named in DATABASE_URL (PostgreSQL only), migrates it and
loads one organization (America/Chicago), the benchmarked rep and 4 other reps, 2,000
customers, 5,000 products and N paid invoice lines (~5 per invoice, all paid in March 2025)
with fast SQL: every invoice with its Payment row(s) (15% paid in two payments, the first
possibly in February), every order with its SalesCredits (30% split between the rep and 1–2
other reps, the rest the rep's whole) and a few returns (credit memos on ~0.2% of the lines).
Then a plan through `plan_create`: 20 rules (3 of them per unit), 50 customer overrides, a
Quota with 3 Marginal accelerator tiers, effective from March 2nd (so the lines paid on
March 1st are left out and stay eligible). Then, in one run:

  (a)  the floor: one INSERT … SELECT copying the same lines (through the rep's credits and the
       payments in the period, the rep's credited amount) into a scratch table shaped like
       commissions_statementline (same columns, indexes and checks) at a flat 5% rate —
       it ignores the rules and accelerators, writes no entries and computes no totals;
  (a0) the same into a bare UNLOGGED table with no index (for reference only);
  (b)  `statement_generate` for the rep and March, in a fresh process, with its peak memory;
  (c)  the obvious per-line ORM loop (select_related, credits prefetched, engine rate, credited
       amount, marginal multiplier, one INSERT per line, one entry per invoice) on a 20,000-line
       sample, rolled back, scaled to N lines.

It checks (b)'s statement (line and entry counts the seed implies, totals, attainment, no earning
twice, multipliers, and rates, credits, multipliers and commissions of a sample and of every
clawback against a naive evaluation) and exits non-zero when a check fails; missing an aim
((b) within 2× of (a), (b) under 300 MB) is printed, not an error.

--phases adds an untimed run of (b) with timers around the functions of
commissions.statements.generation (pass 1 reading / rating / writing, pass 2, clawbacks,
totals); --profile the same under cProfile; --tracemalloc an untimed run under tracemalloc
(Python heap peak). --keep leaves the database in place.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import resource
import secrets
import subprocess
import sys
import time
import types
import zoneinfo
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratchdb import drop_database, recreate_database, scalar, sql  # noqa: E402

N_CUSTOMERS = 2_000
N_PRODUCTS = 5_000
N_OTHER_REPS = 4
SPLIT_PERCENT = 30  # orders whose credit the rep shares with 1–2 other reps
TWO_PAYMENTS_PERCENT = 15  # invoices paid in two payments
RETURN_ONE_IN = 500  # invoice lines with a return (credit memo)
SAMPLE = 20_000
RATE_CHECK_SAMPLE = 5_000
TIME_ZONE = "America/Chicago"
PERIOD_START = datetime.date(2025, 3, 1)
PERIOD_END = datetime.date(2025, 3, 31)
PLAN_START = datetime.date(2025, 3, 2)
ORM_SAMPLE_FROM = datetime.date(2025, 3, 10)
CURRENCY = "USD"
QUOTA_OF_SALES = Decimal("0.75")  # the quota is 75% of the rep's credited sales: attainment ≈ 1.33
TIERS = [(Decimal("0.5"), Decimal("1.1")), (Decimal("1.0"), Decimal("1.5")), (Decimal("1.25"), Decimal("2"))]
AIM_RATIO = 2.0  # the aim: generation over 1,000,000 lines within 2x the floor
SLOW_QUERY_S = 0.2  # --phases: EXPLAIN a query of the generation that took longer than this
TOP_QUERIES = 6
PLAN_LINES = 45
AIM_MB = 300

CATEGORIES = ["WID", "GAD", "BOLT", "NUT", "PIPE", "VALVE", "PUMP", "CABLE", "HOSE", "CLAMP"]
NOUNS = ["Widget", "Gadget", "Bolt", "Nut", "Pipe", "Valve", "Pump", "Cable", "Hose", "Clamp"]
ADJECTIVES = ["Heavy", "Light", "Pro", "Eco", "Mini", "Max", "Steel", "Brass", "Ultra", "Compact"]
SIZES = [10, 25, 50, 100, 250]

# Sales credits of an order by kind: (position, who, share); R is the benchmarked rep, X and Y
# two other reps. Kind -1 (70% of the orders) credits R whole; the split kinds put R first,
# in the middle and last (the last rep gets the line's remainder, §6 "Credited amounts").
CREDIT_KINDS = {
    -1: [(0, "R", "1")],
    0: [(0, "R", "0.5"), (1, "X", "0.5")],
    1: [(0, "X", "0.6"), (1, "R", "0.4")],
    2: [(0, "R", "0.3333"), (1, "X", "0.3333"), (2, "Y", "0.3334")],
    3: [(0, "X", "0.3333"), (1, "Y", "0.3333"), (2, "R", "0.3334")],
    4: [(0, "X", "0.5"), (1, "R", "0.25"), (2, "Y", "0.25")],
}

# VACUUM ANALYZE after loading covers these. The statement tables stay as `migrate` left them
# (never vacuumed, as on a fresh install and after any real use); --vacuum-empty vacuums them
# while empty, which records "0 pages" for the planner (the plan line printed before (b) shows
# how generation's per-chunk read of the rep's live lines then probes commissions_statementline).
LOADED_TABLES = ("nymble_organization", "nymble_pricetier", "salesreps_organizationsalesrep", "customers_customer",
                 "orders_product", "orders_productprice", "orders_order", "orders_salescredit", "orders_orderitem",
                 "orders_invoice", "orders_invoiceline", "orders_payment", "orders_creditmemo",
                 "orders_creditmemoline", "orders_organizationsequence", "commissions_commissionplan",
                 "commissions_customeroverride", "commissions_commissionrule", "commissions_accelerator")


def H(expr: str, salt: int) -> str:
    """SQL for a deterministic pseudo-random non-negative bigint from an integer expression."""
    return f"(hashint8(({expr})::bigint * 1000003 + {salt})::bigint + 2147483648)"


def sql_array(values) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- database


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        sys.exit(f"bench/{Path(sys.argv[0]).name} needs PostgreSQL: set DATABASE_URL=postgres://… (it refuses SQLite).")
    return url


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nymble.settings")
    # Production settings (DATABASE_URL set) refuse to start without keys: this run's own.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit(f"bench/{Path(sys.argv[0]).name} needs PostgreSQL (DATABASE_URL); refusing to run on "
                 + connection.vendor)


# ---------------------------------------------------------------- data


def load_data(n_lines: int, *, with_plan: bool = True) -> dict:
    """Org, reps, customers, products with SQL; orders, credits, items, invoices, payments, lines
    and returns with INSERT … SELECT; then (with_plan) the rep's plan, its February statement and
    VACUUM ANALYZE. Without, it stops after the sales data (its "plan" is None): bench/monthly_run.py
    spreads the credits over its own reps first."""
    from django.db import transaction

    from nymble.services import organization_create, price_tier_create
    from salesreps.services import sales_rep_create

    zone = zoneinfo.ZoneInfo(TIME_ZONE)
    month_start = datetime.datetime.combine(PERIOD_START, datetime.time(), zone)
    month_end = datetime.datetime.combine(PERIOD_END + datetime.timedelta(days=1), datetime.time(), zone)
    month_seconds = int((month_end - month_start).total_seconds())
    timings = {}

    sql("SET temp_buffers = '512MB'")  # before the session's first temp table
    t0 = time.perf_counter()
    with transaction.atomic():
        org = organization_create(name="Bench Supply Co", org_code="BENCH", admin_email="admin@bench.example",
                                  admin_password="bench-admin-pass", time_zone=TIME_ZONE, currency_code=CURRENCY)
        tier = price_tier_create(organization=org, code="Wholesale", name="Wholesale")
        rep = sales_rep_create(organization=org, rep_number="R-001", first_name="Bea", last_name="Bench",
                               email="rep@bench.example")
        others = [sales_rep_create(organization=org, rep_number=f"R-{k + 2:03d}", first_name="Other",
                                   last_name=f"Rep {k + 2}", email=f"rep{k + 2}@bench.example")
                  for k in range(N_OTHER_REPS)]
        ids = {"org": str(org.pk), "tier": tier.pk, "rep": str(rep.pk), "cur": CURRENCY, "tz": TIME_ZONE}
        sql("SET LOCAL work_mem = '256MB'")
        sql(f"""
            INSERT INTO customers_customer (customer_number, company_name, company_email, company_phone, company_fax,
                active, terms, external_id, currency_code, attributes, created_at, updated_at, organization_id,
                price_tier_id, sales_rep_id)
            SELECT 'C-' || lpad(g::text, 5, '0'), 'Customer ' || g || ' Trading', 'ap' || g || '@customer.example',
                   '', '', true, 'Net30', NULL, %(cur)s, '{{}}', now(), now(), %(org)s, %(tier)s, %(rep)s
            FROM generate_series(1, {N_CUSTOMERS}) g""", ids)
        sql(f"""
            CREATE TEMP TABLE bench_product ON COMMIT DROP AS
            SELECT p, gen_random_uuid() AS id,
                   'SKU-' || ({sql_array(CATEGORIES)})[1 + mod(p, 10)] || '-' || lpad(p::text, 5, '0') AS sku,
                   ({sql_array(ADJECTIVES)})[1 + mod({H('p', 11)}, 10)] || ' '
                     || ({sql_array(NOUNS)})[1 + mod(p, 10)] || ' '
                     || ({sql_array(SIZES)})[1 + mod({H('p', 12)}, 5)] || 'mm' AS name,
                   ({sql_array(NOUNS)})[1 + mod(p, 10)] || 's' AS category,
                   round((50 + mod({H('p', 13)}, 49951)) / 100.0, 2)::numeric(14, 2) AS price
            FROM generate_series(0, {N_PRODUCTS - 1}) p""")
        sql("""
            INSERT INTO orders_product (id, sku, name, description, category, upc, active, minimum_order_quantity,
                quantity_increment, external_id, created_at, updated_at, organization_id)
            SELECT id, sku, name, '', category, '', true, 1, 1, NULL, now(), now(), %(org)s FROM bench_product""", ids)
        sql("""
            INSERT INTO orders_productprice (currency_code, at_quantity, price, price_tier_id, product_id)
            SELECT %(cur)s, 1, price, %(tier)s, id FROM bench_product""", ids)
        sql("CREATE TEMP TABLE bench_customer ON COMMIT DROP AS "
            "SELECT row_number() OVER (ORDER BY customer_number) - 1 AS k, id FROM customers_customer")
        sql("CREATE TEMP TABLE bench_rep (k int, id uuid) ON COMMIT DROP")
        for k, other in enumerate(others):
            sql("INSERT INTO bench_rep VALUES (%s, %s)", [k, str(other.pk)])
        sql("CREATE TEMP TABLE bench_credit_kind (kind int, position int, who text, share numeric(5, 4)) "
            "ON COMMIT DROP")
        for kind, credits in CREDIT_KINDS.items():
            for position, who, share in credits:
                sql("INSERT INTO bench_credit_kind VALUES (%s, %s, %s, %s)", [kind, position, who, Decimal(share)])
        timings["organization, reps, customers, products"] = time.perf_counter() - t0

        # Invoices of 3, 7, 5, 4 and 6 lines in turn: 25 lines per 5 invoices.
        t0 = time.perf_counter()
        sql(f"""
            CREATE TEMP TABLE bench_line ON COMMIT DROP AS
            SELECT l, (l / 25) * 5 + k AS inv, off - (ARRAY[0, 3, 10, 15, 19])[k + 1] + 1 AS pos, p.id AS product_id,
                   p.sku, p.name, q.qty, p.price,
                   CASE WHEN mod({H('l', 20)}, {RETURN_ONE_IN}) = 0 THEN 1 + mod({H('l', 21)}, q.qty) END AS returned
            FROM (SELECT l, mod(l, 25) AS off,
                         CASE WHEN mod(l, 25) < 3 THEN 0 WHEN mod(l, 25) < 10 THEN 1 WHEN mod(l, 25) < 15 THEN 2
                              WHEN mod(l, 25) < 19 THEN 3 ELSE 4 END AS k,
                         mod({H('l', 1)}, {N_PRODUCTS}) AS pk,
                         1 + mod({H('l', 2)}, 40) AS qty
                  FROM generate_series(0, {n_lines - 1}) l) q
            JOIN bench_product p ON p.p = q.pk""")
        # paid_at: when the invoice was paid in full (its last payment); first_at: its first payment
        # (3–22 days earlier when paid in two payments, so some of those fall in February).
        sql(f"""
            CREATE TEMP TABLE bench_invoice ON COMMIT DROP AS
            SELECT t.*, CASE WHEN t.two THEN t.paid_at - (3 + mod({H('t.inv', 10)}, 20)) * interval '1 day'
                             - mod({H('t.inv', 11)}, 36000) * interval '1 second' ELSE t.paid_at END AS first_at,
                   CASE WHEN t.two THEN round(t.total * 0.4, 2) ELSE t.total END AS first_amount
            FROM (SELECT t.inv, gen_random_uuid() AS order_id, gen_random_uuid() AS invoice_id, c.id AS customer_id,
                         %(start)s::timestamptz + mod({H('t.inv', 3)}, {month_seconds}) * interval '1 second'
                           AS paid_at,
                         t.total,
                         CASE WHEN mod({H('t.inv', 5)}, 100) < {SPLIT_PERCENT} THEN mod({H('t.inv', 6)}, 5)::int
                              ELSE -1 END AS kind,
                         mod({H('t.inv', 7)}, {N_OTHER_REPS})::int AS x,
                         mod({H('t.inv', 7)} + 1 + mod({H('t.inv', 8)}, {N_OTHER_REPS - 1}), {N_OTHER_REPS})::int
                           AS y,
                         mod({H('t.inv', 9)}, 100) < {TWO_PAYMENTS_PERCENT} AS two
                  FROM (SELECT inv, sum(qty * price) AS total FROM bench_line GROUP BY inv) t
                  JOIN bench_customer c ON c.k = mod({H('t.inv', 4)}, {N_CUSTOMERS})) t""", {"start": month_start})
        sql("""
            CREATE TEMP TABLE bench_credit ON COMMIT DROP AS
            SELECT i.inv, i.order_id, k.position, k.share,
                   CASE k.who WHEN 'R' THEN %(rep)s::uuid WHEN 'X' THEN x.id ELSE y.id END AS sales_rep_id
            FROM bench_invoice i JOIN bench_credit_kind k ON k.kind = i.kind
            JOIN bench_rep x ON x.k = i.x JOIN bench_rep y ON y.k = i.y""", ids)
        sql("ANALYZE bench_line")
        sql("ANALYZE bench_invoice")
        sql("ANALYZE bench_credit")
        timings["staging (lines, invoices, credits)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        # The primary rep is the first credited (another rep on some split orders): generation goes
        # by the credits, not by the primary rep.
        sql("""
            INSERT INTO orders_order (id, order_number, customer_snapshot, order_type, channel, status, po_number,
                currency_code, terms, placed_by_label, placed_by_role, subtotal, external_id, idempotency_key,
                request_fingerprint, created_at, updated_at, cancelled_at, customer_id, organization_id,
                placed_by_id, price_tier_id, primary_sales_rep_id, taken_by_sales_rep_id)
            SELECT i.order_id, 'ORD-' || lpad((i.inv + 1)::text, 7, '0'), '{}', 'Assisted', 'Phone', 'Complete', '',
                   %(cur)s, 'Net30', 'rep@bench.example', 'SalesRep', i.total, NULL, NULL, '',
                   i.first_at - interval '5 days', i.first_at - interval '5 days', NULL, i.customer_id, %(org)s,
                   NULL, %(tier)s, c.sales_rep_id, c.sales_rep_id
            FROM bench_invoice i JOIN bench_credit c ON c.inv = i.inv AND c.position = 0""", ids)
        sql("""
            INSERT INTO orders_salescredit (order_id, sales_rep_id, share, position)
            SELECT order_id, sales_rep_id, share, position FROM bench_credit""")
        sql("""
            INSERT INTO orders_orderitem (id, position, sku, product_name, quantity, price, catalog_price, line_total,
                order_id, product_id)
            SELECT l + 1, pos, sku, name, qty, price, price, qty * price, i.order_id, product_id
            FROM bench_line JOIN bench_invoice i USING (inv)""")
        timings["orders, sales credits, order items"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        sql("""
            INSERT INTO orders_invoice (id, invoice_number, invoice_date, due_date, currency_code, total, amount_paid,
                status, paid_at, paid_on, created_at, voided_at, customer_id, organization_id, primary_sales_rep_id,
                order_id)
            SELECT i.invoice_id, 'INV-' || lpad((i.inv + 1)::text, 7, '0'),
                   ((i.first_at - interval '4 days') AT TIME ZONE %(tz)s)::date,
                   ((i.first_at - interval '4 days') AT TIME ZONE %(tz)s)::date + 30,
                   %(cur)s, i.total, i.total, 'Paid', i.paid_at, (i.paid_at AT TIME ZONE %(tz)s)::date,
                   i.first_at - interval '4 days', NULL, i.customer_id, %(org)s, c.sales_rep_id, i.order_id
            FROM bench_invoice i JOIN bench_credit c ON c.inv = i.inv AND c.position = 0""", ids)
        sql("""
            INSERT INTO orders_invoiceline (id, position, sku, product_name, quantity, price, line_total, invoice_id,
                order_item_id, product_id)
            SELECT l + 1, pos, sku, name, qty, price, qty * price, i.invoice_id, l + 1, product_id
            FROM bench_line JOIN bench_invoice i USING (inv)""")
        # Payments in the order recorded (their ids): the first, then the one that completed the invoice.
        sql("""
            INSERT INTO orders_payment (id, invoice_id, public_id, amount, paid_at, paid_on, reference, recorded_by,
                created_at)
            SELECT 2 * inv + 1, invoice_id, gen_random_uuid(), first_amount, first_at,
                   (first_at AT TIME ZONE %(tz)s)::date, 'CHK-' || (2 * inv + 1), 'admin@bench.example', first_at
            FROM bench_invoice
            UNION ALL
            SELECT 2 * inv + 2, invoice_id, gen_random_uuid(), total - first_amount, paid_at,
                   (paid_at AT TIME ZONE %(tz)s)::date, 'CHK-' || (2 * inv + 2), 'admin@bench.example', paid_at
            FROM bench_invoice WHERE two""", ids)
        # Returns: one credit memo per invoice with returned lines, 1–10 days after it was paid in full
        # (those after March 31st are April's).
        sql(f"""
            CREATE TEMP TABLE bench_memo ON COMMIT DROP AS
            SELECT i.inv, i.invoice_id, gen_random_uuid() AS id,
                   (i.paid_at AT TIME ZONE %(tz)s)::date + (1 + mod({H('i.inv', 22)}, 10))::int AS credit_date,
                   sum(l.returned * l.price) AS total
            FROM bench_line l JOIN bench_invoice i USING (inv) WHERE l.returned IS NOT NULL
            GROUP BY i.inv, i.invoice_id, i.paid_at""", ids)
        sql("""
            INSERT INTO orders_creditmemo (id, invoice_id, credit_date, reason, total, recorded_by, created_at)
            SELECT id, invoice_id, credit_date, 'Damaged in transit', total, 'admin@bench.example', now()
            FROM bench_memo""")
        sql("""
            INSERT INTO orders_creditmemoline (credit_memo_id, invoice_line_id, quantity, price, amount)
            SELECT m.id, l.l + 1, l.returned, l.price, l.returned * l.price
            FROM bench_line l JOIN bench_memo m USING (inv) WHERE l.returned IS NOT NULL""")
        for table in ("orders_orderitem", "orders_invoiceline", "orders_payment"):
            sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        invoices = scalar("SELECT count(*) FROM bench_invoice")
        sql("""
            INSERT INTO orders_organizationsequence (organization_id, name, last_value)
            VALUES (%(org)s, 'ORD', %(n)s), (%(org)s, 'INV', %(n)s)""", {**ids, "n": invoices})
        counts = sql("""
            SELECT (SELECT count(*) FROM orders_payment), (SELECT count(*) FROM bench_invoice WHERE two),
                   (SELECT count(*) FROM bench_invoice WHERE kind >= 0),
                   (SELECT count(*) FROM bench_line JOIN bench_invoice USING (inv) WHERE kind >= 0),
                   (SELECT count(*) FROM orders_salescredit), (SELECT count(*) FROM orders_creditmemoline)""")[0]
        timings["invoices, invoice lines, payments, returns"] = time.perf_counter() - t0
        t0 = time.perf_counter()
    timings["commit (deferred foreign-key checks)"] = time.perf_counter() - t0
    payments, two_payments, split_orders, split_lines, credits, returns = counts
    data = {"org": org, "rep": rep, "others": others, "plan": None, "invoices": invoices, "timings": timings,
            "payments": payments, "two_payments": two_payments, "split_orders": split_orders,
            "split_lines": split_lines, "credits": credits, "returns": returns}
    if not with_plan:
        return data

    t0 = time.perf_counter()
    sales = scalar("""
        SELECT coalesce(sum(round(il.line_total * sc.share, 2)), 0) FROM orders_invoiceline il
        JOIN orders_invoice i ON i.id = il.invoice_id
        JOIN orders_salescredit sc ON sc.order_id = i.order_id AND sc.sales_rep_id = %(rep)s
        WHERE i.paid_on BETWEEN %(start)s AND %(end)s""",
                   {"rep": str(rep.pk), "start": PLAN_START, "end": PERIOD_END})
    quota = (sales * QUOTA_OF_SALES).quantize(Decimal("0.01"))
    plan = create_plan(org, rep, quota)
    # The rep has a history, as reps do: its February statement (no lines: nothing was paid then).
    # So generation looks for earlier live earnings of every line it reads, as it does for any rep
    # with a live statement (for a rep's very first statement there is nothing to look for).
    from commissions.statements.services import statement_generate

    statement_generate(rep=rep, period_start=datetime.date(2025, 2, 1), period_end=datetime.date(2025, 2, 28),
                       currency_code=CURRENCY, actor="bench")
    timings["plan (plan_create), February statement"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # Autocommit: outside any transaction. Only the tables just loaded: see LOADED_TABLES.
    sql("VACUUM ANALYZE " + ", ".join(LOADED_TABLES))
    sql("CHECKPOINT")
    timings["VACUUM ANALYZE, CHECKPOINT"] = time.perf_counter() - t0
    return {**data, "plan": plan}


def create_plan(org, rep, quota: Decimal):
    """20 rules (SKU globs, name globs, customer lists, amount bounds; 3 paying per unit), 50
    overrides (some of their rules per unit too), a quota and 3 Marginal accelerator tiers."""
    from commissions.plans.services import plan_create

    rng = random.Random(20250301)
    customers = [f"C-{i:05d}" for i in range(1, N_CUSTOMERS + 1)]
    d = Decimal

    def rule(priority, name, rate=None, sku=(), names=(), custs=(), low=None, high=None, per_unit=None):
        return {"priority": priority, "name": name, "rate": None if rate is None else d(rate),
                "amount_per_unit": None if per_unit is None else d(per_unit), "sku_patterns": list(sku),
                "product_name_patterns": list(names), "customer_numbers": list(custs),
                "min_line_amount": None if low is None else d(low),
                "max_line_amount": None if high is None else d(high)}

    rules = [
        rule(10, "Pumps", "0.08", sku=["SKU-PUMP-*"]),
        rule(20, "Big valves", "0.07", sku=["SKU-VALVE-*"], low="1000.00"),
        rule(30, "Heavy items", "0.065", names=["Heavy *"]),
        rule(40, "Pro gadgets", "0.06", sku=["SKU-GAD-*"], names=["*Pro*"]),
        rule(50, "Key accounts", "0.09", custs=rng.sample(customers, 40)),
        rule(60, "Huge lines", "0.02", low="10000.00"),
        rule(70, "Small lines", "0.10", high="20.00"),
        rule(80, "Long cables", per_unit="1.50", sku=["SKU-CABLE-*"], names=["* 250mm"]),
        rule(90, "Eco mid-range", "0.045", names=["Eco *"], low="100.00", high="2000.00"),
        rule(100, "Brass fasteners", "0.05", sku=["SKU-NUT-*", "SKU-BOLT-*"], names=["Brass *"]),
        rule(110, "West widgets", "0.075", sku=["SKU-WID-*"], custs=rng.sample(customers, 60)),
        rule(120, "SKUs ending in 7", "0.04", sku=["SKU-*-???7"]),
        rule(130, "Small minis", "0.035", names=["Mini *"], high="500.00"),
        rule(140, "Hoses and clamps", per_unit="0.35", sku=["SKU-HOSE-*", "SKU-CLAMP-*"]),
        rule(150, "Steel ?0mm", "0.058", names=["Steel * ?0mm"]),
        rule(160, "New accounts", "0.085", custs=rng.sample(customers, 30), low="50.00"),
        rule(170, "Ultra premium", "0.068", names=["ultra*"], low="500.00"),
        rule(180, "Compact", "0.042", names=["COMPACT *"]),
        rule(190, "Mid band", "0.038", low="2500.00", high="5000.00"),
        rule(200, "Light gadgets", per_unit="0.8", names=["Light Gadget*"]),
    ]
    picked = rng.sample(customers, 45)
    overrides = []
    for i, number in enumerate(picked):
        kind = i % 5
        own_rules = [rule(p, f"{number} rule {p}", **spec) for p, spec in
                     [(1, {"rate": f"0.0{rng.randint(1, 9)}", "sku": [f"SKU-{rng.choice(CATEGORIES)}-*"]}),
                      (2, {"rate": f"0.0{rng.randint(1, 9)}", "low": "1500.00"}),
                      (3, {"per_unit": f"0.{rng.randint(10, 60)}", "names": [f"{rng.choice(ADJECTIVES)} *"],
                           "high": "800.00"})][: 1 + i % 3]]
        if kind == 0:  # default only
            overrides.append({"customer_number": number, "default_rate": d("0.03")})
        elif kind == 1:  # rules and a default
            overrides.append({"customer_number": number, "default_rate": d("0.04"), "rules": own_rules})
        elif kind == 2:  # rules only: falls through to the plan
            overrides.append({"customer_number": number, "rules": own_rules})
        elif kind == 3:  # default only, mid-month window
            overrides.append({"customer_number": number, "default_rate": d("0.025"),
                              "effective_start": datetime.date(2025, 3, 10),
                              "effective_end": datetime.date(2025, 3, 20)})
        else:  # rules and a default from the 15th
            overrides.append({"customer_number": number, "default_rate": d("0.045"), "rules": own_rules,
                              "effective_start": datetime.date(2025, 3, 15)})
    for number in picked[:5]:  # five customers get a second override for the second half of the month
        overrides.append({"customer_number": number, "default_rate": d("0.015"),
                          "effective_start": datetime.date(2025, 3, 16)})
    assert len(rules) == 20 and len(overrides) == 50
    accelerators = [{"from_attainment": start, "multiplier": m} for start, m in TIERS]
    return plan_create(organization=org, sales_rep=rep, name="Bench plan 2025", description="bench/statements.py",
                       default_rate=d("0.05"), effective_start=PLAN_START, effective_end=None, rules=rules,
                       overrides=overrides, quota=quota, accelerator_method="Marginal", accelerators=accelerators,
                       active=True)


# ---------------------------------------------------------------- (a) the floor

# The rep's sales lines for March as generation finds them (invoices credited to the rep with a
# payment dated in the period; Invoice basis: the invoice paid in full in the period and the
# plan's window), not yet on a live statement of the rep.
ELIGIBLE = """
    FROM orders_invoiceline il
    JOIN orders_invoice i ON i.id = il.invoice_id
    JOIN orders_salescredit sc ON sc.order_id = i.order_id AND sc.sales_rep_id = %(rep)s
    JOIN customers_customer c ON c.id = i.customer_id
    WHERE i.organization_id = %(org)s AND i.currency_code = %(cur)s AND i.status = 'Paid'
      AND i.paid_on BETWEEN %(start)s AND %(end)s AND i.paid_on >= %(plan_start)s
      AND EXISTS (SELECT 1 FROM orders_payment p WHERE p.invoice_id = i.id AND p.paid_on BETWEEN %(start)s AND %(end)s)
      AND NOT EXISTS (SELECT 1 FROM commissions_statementline sl
                      WHERE sl.invoice_line_id = il.id AND sl.sales_rep_id = %(rep)s AND sl.live)
"""
# The rep's credited amount (§6): round(A × share), or for the last rep A minus the others' credits.
CREDITED = """
    CASE WHEN sc.share = 1 THEN il.line_total
         WHEN EXISTS (SELECT 1 FROM orders_salescredit o WHERE o.order_id = sc.order_id AND o.position > sc.position)
              THEN round(il.line_total * sc.share, 2)
         ELSE il.line_total - (SELECT sum(round(il.line_total * o.share, 2)) FROM orders_salescredit o
                               WHERE o.order_id = sc.order_id AND o.position < sc.position) END
"""
FLOOR_FROM = ELIGIBLE.replace("JOIN customers_customer",
                              f"CROSS JOIN LATERAL (SELECT {CREDITED} AS amount) x\n    JOIN customers_customer")
FLOOR_COLUMNS = ("statement_id, entry_id, sales_rep_id, invoice_line_id, payment_id, credit_memo_line_id, live, "
                 "line_date, sku, product_name, quantity, line_amount, share, rate, amount_per_unit, rate_source, "
                 "multiplier, multiplier_numerator, multiplier_denominator, commission, invoice_number, "
                 "customer_number")


def eligible_params(rep) -> dict:
    return {"org": str(rep.organization_id), "rep": str(rep.pk), "cur": CURRENCY, "start": PERIOD_START,
            "end": PERIOD_END, "plan_start": PLAN_START}


def time_floor(rep, *, table: str, create: str) -> tuple[float, int, Decimal]:
    """One INSERT … SELECT of the eligible lines at a flat 5% (autocommit: the commit is timed)."""
    sql(f"DROP TABLE IF EXISTS {table}")
    sql(create)
    sql("CHECKPOINT")
    t0 = time.perf_counter()
    sql(f"""
        INSERT INTO {table} ({FLOOR_COLUMNS})
        SELECT gen_random_uuid(), 0, sc.sales_rep_id, il.id, NULL, NULL, true, i.paid_on, il.sku, il.product_name,
               il.quantity, x.amount, sc.share, 0.05, NULL, 'Flat 5%%', 1, 1, 1, round(x.amount * 0.05, 2),
               i.invoice_number, c.customer_number
        {FLOOR_FROM}""", eligible_params(rep))
    elapsed = time.perf_counter() - t0
    rows, amount = sql(f"SELECT count(*), coalesce(sum(line_amount), 0) FROM {table}")[0]
    sql(f"DROP TABLE {table}")
    return elapsed, rows, amount


def statement_line_probe(rep) -> str:
    """How the planner probes commissions_statementline in pass 1's per-chunk read of the rep's
    live lines (the same queryset as generation's, on its first chunk of candidate invoices)."""
    from django.db import connection, transaction

    from commissions.models import StatementLine
    from commissions.statements import generation
    from orders.models import Invoice

    chunk = list(Invoice.objects.filter(organization_id=rep.organization_id).order_by("pk")
                 .values_list("pk", flat=True)[:generation.INVOICES_PER_CHUNK])
    query, params = (StatementLine.objects.filter(live=True, sales_rep_id=rep.pk, invoice_line__invoice_id__in=chunk)
                     .values_list("invoice_line_id", "payment_id").query.sql_with_params())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query, params)
        plan = [row[0] for row in cursor.fetchall()]
    return next((line.strip().lstrip("-> ").split("  (")[0] for line in plan
                 if "commissions_statementline" in line and " on " in line), "?")


# ---------------------------------------------------------------- (b) in a child process


def child_generate(rep_id: str, mode: str) -> None:
    """Runs in a fresh process: times statement_generate and reports memory as one JSON line."""
    django_setup()
    import gc

    from commissions.statements import services as statements
    from salesreps.models import OrganizationSalesRep

    rep = OrganizationSalesRep.objects.select_related("organization").get(pk=rep_id)
    gc.collect()
    before_rss, before_max = rss_kb(), maxrss_kb()
    result = {"rss_before_kb": before_rss, "maxrss_before_kb": before_max}

    def generate():
        return statements.statement_generate(rep=rep, period_start=PERIOD_START, period_end=PERIOD_END,
                                             currency_code=CURRENCY, actor="bench")

    if mode == "time":
        t0 = time.perf_counter()
        statement = generate()
        result["seconds"] = time.perf_counter() - t0
    elif mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        statement = generate()
        result["tracemalloc_peak_kb"] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    elif mode in ("phases", "profile"):
        statement, result["phases"], result["profile"] = profile_generate(generate, cprofile=mode == "profile")
    else:
        raise SystemExit(f"unknown mode {mode}")
    result["maxrss_after_kb"] = maxrss_kb()
    result["statement_id"] = str(statement.pk)
    print("RESULT " + json.dumps(result), flush=True)


class PhaseTimer:
    """Exclusive time per call path: each timed call's time, less that of the timed calls inside it."""

    def __init__(self):
        self.totals: dict[tuple, list] = {}  # path -> [self seconds, calls]
        self.stack: list[list] = []  # [path, start, time of timed callees]

    def _enter(self, name: str) -> list:
        path = (self.stack[-1][0] if self.stack else ()) + (name,)
        frame = [path, time.perf_counter(), 0.0]
        self.stack.append(frame)
        return frame

    def _exit(self, frame: list) -> None:
        elapsed = time.perf_counter() - frame[1]
        self.stack.pop()
        if self.stack:
            self.stack[-1][2] += elapsed
        total = self.totals.get(frame[0])
        if total is None:
            total = self.totals[frame[0]] = [0.0, 0]
        total[0] += elapsed - frame[2]
        total[1] += 1

    def wrap(self, name: str, fn, *, lazy_results: bool = False):
        enter, exit_ = self._enter, self._exit

        def timed(*args, **kwargs):
            frame = enter(name)
            try:
                result = fn(*args, **kwargs)
            finally:
                exit_(frame)
            if lazy_results and isinstance(result, types.GeneratorType):
                return self._lazy(name, result)
            return result

        return timed

    def _lazy(self, name: str, iterator):
        """The rows of a server-side cursor, fetched as the caller iterates: timed too."""
        while True:
            frame = self._enter(name)
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self._exit(frame)
            yield item

    def report(self) -> list[tuple[str, float, float, int]]:
        """(indented name, inclusive seconds, self seconds, calls), depth first, biggest first."""
        inclusive: dict[tuple, float] = {}
        for path, (seconds, _) in self.totals.items():
            for depth in range(1, len(path) + 1):
                inclusive[path[:depth]] = inclusive.get(path[:depth], 0.0) + seconds
        out = []

        def walk(prefix: tuple):
            children = sorted((p for p in inclusive if len(p) == len(prefix) + 1 and p[:-1] == prefix),
                              key=lambda p: -inclusive[p])
            for path in children:
                seconds, calls = self.totals.get(path, (0.0, 0))
                out.append(("    " * (len(path) - 1) + path[-1], inclusive[path], seconds, calls))
                walk(path)

        walk(())
        return out


class _Proxy:
    """An object with some attributes replaced (for frozen / slotted objects)."""

    def __init__(self, target, **replaced):
        self.__dict__.update(replaced)
        self.__dict__["_target"] = target

    def __getattr__(self, name):
        return getattr(self.__dict__["_target"], name)


def profile_generate(generate, *, cprofile: bool):
    """Times the parts of statement generation by wrapping the functions of
    commissions.statements.generation and what they call (the product code is untouched), under
    cProfile if asked (which slows Python code several times, so the split shifts)."""
    import cProfile
    import io
    import pstats

    from django.db.backends.base import base as db_base
    from django.db.models.query import QuerySet
    from django.db.models.sql import compiler

    from commissions import engine
    from commissions.statements import generation
    from commissions.statements import services as statements

    from django.db import connection

    timer = PhaseTimer()
    wrap = timer.wrap
    sql_name = "SQL (execute + fetch)"
    queries: dict[str, list] = {}  # the ORM's queries by text: [seconds, calls, plan when first slow]
    timed_execute = wrap(sql_name, compiler.SQLCompiler.execute_sql, lazy_results=True)

    def execute_sql(self, *args, **kwargs):
        t0 = time.perf_counter()
        result = timed_execute(self, *args, **kwargs)
        elapsed = time.perf_counter() - t0
        try:
            text, params = self.as_sql()
        except Exception:  # EmptyResultSet and the like: nothing was run
            return result
        key = re.sub(r"IN \((%s, )*%s\)", "IN (…)", text)
        entry = queries.setdefault(key, [0.0, 0, None])
        entry[0] += elapsed
        entry[1] += 1
        if entry[2] is None and elapsed > SLOW_QUERY_S:
            # The plan the query ran with, in the generation's transaction (the tables as they are now).
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + text, params)
                entry[2] = "\n".join(row[0] for row in cursor.fetchall())
        return result

    compiler.SQLCompiler.execute_sql = execute_sql
    # Statements the generation sends through a raw cursor (pass 1 inside the database, pass 2, totals),
    # each named by its first words with the generated table names' hex left out.
    from django.db.backends import utils as db_utils
    raw_execute = db_utils.CursorWrapper.execute

    def named_execute(self, sql, params=None):
        if timer.stack and timer.stack[-1][0][-1] == sql_name:  # the ORM's: timed already
            return raw_execute(self, sql, params)
        words = " ".join(re.sub(r"_[0-9a-f]{32}", "", sql).split()[:5])
        return wrap(f"raw SQL: {words[:60]}", raw_execute)(self, sql, params)

    db_utils.CursorWrapper.execute = named_execute
    compiler.SQLInsertCompiler.execute_sql = wrap(sql_name, compiler.SQLInsertCompiler.execute_sql)
    QuerySet.bulk_create = wrap("bulk_create (entries)", QuerySet.bulk_create)
    db_base.BaseDatabaseWrapper.commit = wrap("commit (deferred foreign-key checks)",
                                              db_base.BaseDatabaseWrapper.commit)

    compiled_plan, schedule = statements.plan_compiled, statements.plan_schedule

    def plan_compiled(plan):
        compiled = compiled_plan(plan)
        compiled.rate = wrap("rating (CompiledPlan.rate)", compiled.rate)
        return compiled

    def plan_schedule(plan):
        s = schedule(plan)
        return _Proxy(s, marginal=wrap("multiplier (MultiplierSchedule.marginal)", s.marginal),
                      retroactive=wrap("multiplier (MultiplierSchedule.retroactive)", s.retroactive))

    statements.plan_compiled = wrap("load + compile plan", plan_compiled)
    statements.plan_schedule = wrap("load plan schedule", plan_schedule)
    arithmetic = "credits, payment shares, commission (engine)"
    for name in ("credited_amounts", "payment_shares", "line_commission", "clawback_commission"):
        setattr(engine, name, wrap(arithmetic, getattr(engine, name)))
    generation._storage = wrap("multiplier storage (_storage)", generation._storage)
    generation._candidate_invoices = wrap("candidate invoices (building the query)", generation._candidate_invoices)
    generation._copy = wrap("COPY statement lines", generation._copy)
    generation._update_lines = wrap("write multipliers (temp table COPY + UPDATE)", generation._update_lines)
    lines_class = generation.StatementLines
    lines_class.__init__ = wrap("StatementLines() (existing entries)", lines_class.__init__)
    lines_class.entry_for = wrap("entry bookkeeping (entry_for, add)", lines_class.entry_for)
    lines_class.add = wrap("entry bookkeeping (entry_for, add)", lines_class.add)
    lines_class.flush = wrap("flush (rows to tuples)", lines_class.flush)
    generation.write_sales_lines = wrap("pass 1: sales lines (write_sales_lines)", generation.write_sales_lines)
    generation.apply_accelerators = wrap("pass 2: accelerators (apply_accelerators)", generation.apply_accelerators)
    generation.write_clawbacks = wrap("pass 3: clawbacks (write_clawbacks)", generation.write_clawbacks)
    generation.statement_totals = wrap("totals (statement_totals)", generation.statement_totals)

    profiler = cProfile.Profile() if cprofile else None
    timed_generate = wrap("statement_generate" + (" (under cProfile)" if cprofile else ""), generate)
    if profiler:
        profiler.enable()
    statement = timed_generate()
    if profiler:
        profiler.disable()
    phases = {"parts": timer.report(), "queries": sorted(queries.items(), key=lambda kv: -kv[1][0])[:TOP_QUERIES]}
    if not profiler:
        return statement, phases, ""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    return statement, phases, out.getvalue()


def run_child(rep, mode: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", str(rep.pk), mode], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"(b) child process failed ({mode}) with exit code {proc.returncode}")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit("(b) child process printed no result:\n" + proc.stdout + proc.stderr)


# ---------------------------------------------------------------- checks (naive, independent of the engine)


def naive_round(value, places: int = 2) -> Decimal:
    """Half away from zero, exactly, from a Fraction or Decimal."""
    value = Fraction(value)
    q, r = divmod(abs(value.numerator) * 10**places, value.denominator)
    if 2 * r >= value.denominator:
        q += 1
    return (Decimal(-q if value < 0 else q) / 10**places).quantize(Decimal(1).scaleb(-places))


def naive_credit(amount: Decimal, shares: list[Decimal], index: int) -> Decimal:
    if index < len(shares) - 1:
        return naive_round(amount * shares[index])
    return amount - sum((naive_round(amount * s) for s in shares[:-1]), Decimal("0.00"))


def naive_rating(plan, sku, name, cust, amount, day):
    """(rate, amount per unit, source) as §6 words it, or None outside the plan's window."""
    from rate_engine import naive_in_window, naive_matches

    def pays(rule, source):
        return rule.rate, rule.amount_per_unit, source

    if not naive_in_window(day, plan.effective_start, plan.effective_end):
        return None
    for ov in plan.overrides:
        if ov.customer_number == cust and naive_in_window(day, ov.effective_start, ov.effective_end):
            for rule in sorted(ov.rules, key=lambda r: r.priority):
                if naive_matches(rule, sku, name, cust, amount):
                    return pays(rule, f"Override {cust}: Rule: {rule.name}")
            if ov.default_rate is not None:
                return ov.default_rate, None, f"Override {cust}: default"
            break
    for rule in sorted(plan.rules, key=lambda r: r.priority):
        if naive_matches(rule, sku, name, cust, amount):
            return pays(rule, f"Rule: {rule.name}")
    return plan.default_rate, None, "Plan default"


def naive_m(tiers, x) -> Fraction:
    """m(x): the multiplier of the last tier whose threshold ≤ x, 1 below the first."""
    m = Fraction(1)
    for threshold, multiplier in tiers:
        if threshold <= x:
            m = Fraction(multiplier)
    return m


def naive_integral(tiers, s0: Decimal, s1: Decimal) -> Fraction:
    """∫ m over [s0, s1), cutting at the thresholds."""
    cuts = sorted({s0, s1, *(t for t, _ in tiers if s0 < t < s1)})
    return sum((Fraction(b - a) * naive_m(tiers, a) for a, b in zip(cuts, cuts[1:])), Fraction(0))


def naive_commission(rate, per_unit, amount: Decimal, quantity: int, whole: Decimal, share, multiplier) -> Decimal:
    if rate is not None:
        base = Fraction(amount) * Fraction(rate)
    else:
        part = Fraction(amount) / Fraction(whole) if whole else Fraction(share)
        base = quantity * Fraction(per_unit) * part
    return naive_round(base * multiplier)


def verify(statement_id: str, rep, floor_rows: int, floor_amount: Decimal) -> list[str]:
    """What must hold of (b)'s statement; returns the failures."""
    from commissions.models import CommissionStatement
    from commissions.plans.services import plan_spec

    failures = []
    statement = CommissionStatement.objects.select_related("plan").get(pk=statement_id)
    plan = statement.plan
    if statement.status != "Draft":
        failures.append(f"statement status is {statement.status}, not Draft")
    params = {**eligible_params(rep), "sid": statement_id}
    # What the seed implies: each invoice line credited to the rep on an invoice paid in full in
    # the plan's part of the period, once; each return of such a line dated in the period, once.
    expected_sales = scalar("""
        SELECT count(*) FROM orders_invoiceline il JOIN orders_invoice i ON i.id = il.invoice_id
        JOIN orders_salescredit sc ON sc.order_id = i.order_id AND sc.sales_rep_id = %(rep)s
        WHERE i.status = 'Paid' AND i.paid_on BETWEEN %(plan_start)s AND %(end)s""", params)
    expected_clawbacks, expected_invoices = sql("""
        WITH returns AS (
            SELECT i.id AS invoice_id FROM orders_creditmemoline cml
            JOIN orders_creditmemo cm ON cm.id = cml.credit_memo_id
            JOIN orders_invoiceline il ON il.id = cml.invoice_line_id JOIN orders_invoice i ON i.id = il.invoice_id
            JOIN orders_salescredit sc ON sc.order_id = i.order_id AND sc.sales_rep_id = %(rep)s
            WHERE cm.credit_date BETWEEN %(start)s AND %(end)s
              AND i.status = 'Paid' AND i.paid_on BETWEEN %(plan_start)s AND %(end)s)
        SELECT (SELECT count(*) FROM returns), (SELECT count(*) FROM (
            SELECT i.id FROM orders_invoice i JOIN orders_salescredit sc ON sc.order_id = i.order_id
            WHERE sc.sales_rep_id = %(rep)s AND i.status = 'Paid' AND i.paid_on BETWEEN %(plan_start)s AND %(end)s
            UNION SELECT invoice_id FROM returns) u)""", params)[0]
    (sales_lines, claw_lines, line_sum, sales_sum, entries, entry_sum, early, claw_outside, below_one,
     decreasing, weighted) = sql("""
        SELECT count(*) FILTER (WHERE credit_memo_line_id IS NULL), count(*) FILTER (WHERE credit_memo_line_id IS NOT NULL),
               coalesce(sum(commission), 0), coalesce(sum(line_amount) FILTER (WHERE credit_memo_line_id IS NULL), 0),
               (SELECT count(*) FROM commissions_statemententry WHERE statement_id = %(sid)s),
               (SELECT coalesce(sum(commission), 0) FROM commissions_statemententry WHERE statement_id = %(sid)s),
               count(*) FILTER (WHERE credit_memo_line_id IS NULL AND NOT line_date BETWEEN %(plan_start)s AND %(end)s),
               count(*) FILTER (WHERE credit_memo_line_id IS NOT NULL AND NOT line_date BETWEEN %(start)s AND %(end)s),
               count(*) FILTER (WHERE multiplier < 1),
               (SELECT count(*) FROM (
                   SELECT l.multiplier < lag(l.multiplier) OVER (
                       ORDER BY l.line_date, length(e.invoice_number), e.invoice_number, il.position,
                                l.payment_id NULLS FIRST) AS down
                   FROM commissions_statementline l JOIN commissions_statemententry e ON e.id = l.entry_id
                   JOIN orders_invoiceline il ON il.id = l.invoice_line_id
                   WHERE l.statement_id = %(sid)s AND l.credit_memo_line_id IS NULL) o WHERE down),
               coalesce(sum(line_amount * multiplier_numerator / multiplier_denominator)
                        FILTER (WHERE credit_memo_line_id IS NULL), 0)
        FROM commissions_statementline WHERE statement_id = %(sid)s""", params)[0]
    if sales_lines != expected_sales:
        failures.append(f"statement has {sales_lines:,} sales lines; the seed implies {expected_sales:,}")
    if sales_lines != floor_rows:
        failures.append(f"statement has {sales_lines:,} sales lines; the floor copied {floor_rows:,}")
    if claw_lines != expected_clawbacks:
        failures.append(f"statement has {claw_lines:,} clawback lines; the seed implies {expected_clawbacks:,}")
    if entries != expected_invoices:
        failures.append(f"statement has {entries:,} entries; {expected_invoices:,} invoices have lines on it")
    if not (statement.total == statement.lines_total == line_sum == entry_sum):
        failures.append(f"Total {statement.total} / LinesTotal {statement.lines_total} != sum of lines {line_sum} "
                        f"!= sum of entries {entry_sum}")
    if not (statement.sales_total == sales_sum == floor_amount):
        failures.append(f"SalesTotal {statement.sales_total} != sum of sales lines {sales_sum} != the floor's "
                        f"sum of credited amounts {floor_amount}")
    if statement.quota != plan.quota or statement.attainment != naive_round(
            Fraction(sales_sum) / Fraction(plan.quota), 4):
        failures.append(f"Quota {statement.quota} / Attainment {statement.attainment} do not follow from "
                        f"SalesTotal {sales_sum} and the plan's quota {plan.quota}")
    mismatched = scalar("""
        SELECT count(*) FROM commissions_statemententry e
        WHERE e.statement_id = %(sid)s AND e.commission <> (SELECT coalesce(sum(commission), 0)
            FROM commissions_statementline l WHERE l.entry_id = e.id)""", params)
    if mismatched:
        failures.append(f"{mismatched} entries differ from the sum of their lines")
    doubled = scalar("""
        SELECT (SELECT count(*) FROM (SELECT 1 FROM commissions_statementline WHERE live AND invoice_line_id IS NOT NULL
                                      GROUP BY invoice_line_id, sales_rep_id, payment_id HAVING count(*) > 1) d)
             + (SELECT count(*) FROM (SELECT 1 FROM commissions_statementline WHERE live AND credit_memo_line_id IS NOT NULL
                                      GROUP BY credit_memo_line_id, sales_rep_id HAVING count(*) > 1) d)""")
    if doubled:
        failures.append(f"{doubled} (invoice line, rep, payment) or (credit-memo line, rep) earn twice")
    if early or claw_outside:
        failures.append(f"{early} sales lines dated outside the plan's part of the period, {claw_outside} clawbacks "
                        "outside the period")
    tiers = [(plan.quota * start, multiplier) for start, multiplier in TIERS]
    integral = naive_integral(tiers, Decimal(0), sales_sum)
    if below_one or decreasing or abs(Fraction(weighted) - integral) > Fraction(1, 100):
        failures.append(f"multipliers: {below_one} below 1, {decreasing} lower than the line before (§6 order), "
                        f"Σ multiplier × LineAmount {weighted:.4f} vs ∫ m over [0, SalesTotal) {float(integral):.4f}")

    # A sample of sales lines against a naive evaluation of §6: rating, credit, multiplier, commission.
    spec = plan_spec(plan)
    step = max(1, expected_sales // RATE_CHECK_SAMPLE)
    rows = sql("""
        WITH o AS (
            SELECT l.*, coalesce(sum(l.line_amount) OVER (
                       ORDER BY l.line_date, length(e.invoice_number), e.invoice_number, il.position,
                                l.payment_id NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS s0
            FROM commissions_statementline l JOIN commissions_statemententry e ON e.id = l.entry_id
            JOIN orders_invoiceline il ON il.id = l.invoice_line_id
            WHERE l.statement_id = %(sid)s AND l.credit_memo_line_id IS NULL)
        SELECT il.sku, il.product_name, c.customer_number, il.line_total, il.quantity, i.paid_on, i.order_id,
               o.line_date, o.sku, o.product_name, o.quantity, o.line_amount, o.share, o.rate, o.amount_per_unit,
               o.rate_source, o.multiplier, o.multiplier_numerator, o.multiplier_denominator, o.commission, o.s0,
               o.sales_rep_id, o.payment_id
        FROM o JOIN orders_invoiceline il ON il.id = o.invoice_line_id JOIN orders_invoice i ON i.id = il.invoice_id
        JOIN customers_customer c ON c.id = i.customer_id
        WHERE mod(o.invoice_line_id, %(step)s) = 0""", {**params, "step": step})
    credits = order_credits({row[6] for row in rows})
    wrong, kinds = 0, {"split": 0, "per unit": 0, "multiplier ≠ 1": 0}
    for (sku, name, customer, whole, quantity, paid_on, order_id, line_date, l_sku, l_name, l_quantity, amount,
         share, rate, per_unit, source, shown, numerator, denominator, commission, s0, rep_id, payment) in rows:
        order = credits[order_id]
        index = next(i for i, (r, _) in enumerate(order) if r == str(rep.pk))
        credit = naive_credit(whole, [s for _, s in order], index)
        want = naive_rating(spec, sku, name, customer, whole, paid_on)
        multiplier = (naive_integral(tiers, s0, s0 + amount) / Fraction(amount) if amount
                      else naive_m(tiers, s0))
        got = Fraction(numerator) / Fraction(denominator)
        ok = (want is not None and (rate, per_unit, source) == want and line_date == paid_on and amount == credit
              and share == order[index][1] and (l_sku, l_name, l_quantity) == (sku, name, quantity)
              and str(rep_id) == str(rep.pk) and payment is None and got == multiplier
              and shown == naive_round(multiplier, 6)
              and commission == naive_commission(rate, per_unit, amount, quantity, whole, share, multiplier))
        wrong += not ok
        kinds["split"] += len(order) > 1
        kinds["per unit"] += per_unit is not None
        kinds["multiplier ≠ 1"] += got != 1
    if wrong or not rows:
        failures.append(f"{wrong} of {len(rows)} sampled sales lines disagree with a naive evaluation of §6")

    # Every clawback: the original line's rate (or amount per unit) and exact multiplier, the rep's credit.
    claws = sql("""
        SELECT l.quantity, l.line_amount, l.rate, l.amount_per_unit, l.rate_source, l.multiplier_numerator,
               l.multiplier_denominator, l.commission, l.share, cml.quantity, cml.price, i.order_id,
               o.rate, o.amount_per_unit, o.rate_source, o.multiplier_numerator, o.multiplier_denominator
        FROM commissions_statementline l JOIN orders_creditmemoline cml ON cml.id = l.credit_memo_line_id
        JOIN orders_invoiceline il ON il.id = cml.invoice_line_id JOIN orders_invoice i ON i.id = il.invoice_id
        JOIN commissions_statementline o ON o.statement_id = l.statement_id AND o.invoice_line_id = il.id
        WHERE l.statement_id = %(sid)s""", params)
    credits = order_credits({row[11] for row in claws})
    wrong_claws = 0
    for (quantity, amount, rate, per_unit, source, numerator, denominator, commission, share, q, price, order_id,
         o_rate, o_per_unit, o_source, o_numerator, o_denominator) in claws:
        order = credits[order_id]
        index = next(i for i, (r, _) in enumerate(order) if r == str(rep.pk))
        returned = naive_credit(q * price, [s for _, s in order], index)
        multiplier = Fraction(o_numerator) / Fraction(o_denominator)
        ok = (quantity == -q and amount == -returned and (rate, per_unit) == (o_rate, o_per_unit)
              and source == f"Clawback ({o_source})" and Fraction(numerator) / Fraction(denominator) == multiplier
              and commission == -naive_commission(rate, per_unit, returned, q, q * price, share, multiplier))
        wrong_claws += not ok
    if wrong_claws:
        failures.append(f"{wrong_claws} of {len(claws)} clawbacks disagree with a naive evaluation of §6")
    verify.sampled = (len(rows), kinds, len(claws))  # type: ignore[attr-defined]
    return failures


def order_credits(order_ids) -> dict:
    credits: dict = {}
    if order_ids:
        for order_id, rep_id, share in sql("SELECT order_id, sales_rep_id, share FROM orders_salescredit "
                                           "WHERE order_id = ANY(%s) ORDER BY order_id, position",
                                           [list(order_ids)]):
            credits.setdefault(order_id, []).append((str(rep_id), share))
    return credits


# ---------------------------------------------------------------- (c) the obvious ORM loop


def orm_sample_end(rep) -> datetime.date:
    """The last day of the ORM loop's sample: days from March 10th until they hold SAMPLE lines."""
    for day, total in sql(f"""
            SELECT day, sum(n) OVER (ORDER BY day) FROM (
                SELECT i.paid_on AS day, count(*) AS n {ELIGIBLE} AND i.paid_on >= %(from)s GROUP BY 1) d
            ORDER BY 1""", {**eligible_params(rep), "from": ORM_SAMPLE_FROM}):
        if total >= SAMPLE:
            return day
    return PERIOD_END


def time_orm_loop(rep, statement_id: str) -> tuple[float, int, int]:
    """Voids (b)'s statement, then rates a sample line by line through the ORM, in §6's order so
    that the marginal multiplier can be applied as it goes; all rolled back."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef

    from commissions import engine
    from commissions.models import CommissionStatement, StatementEntry, StatementLine, StatementStatus
    from commissions.plans.services import active_plan, plan_compiled, plan_schedule
    from commissions.statements.services import statement_void
    from orders.models import InvoiceLine, InvoiceStatus, Payment

    last_day = orm_sample_end(rep)
    before = scalar("SELECT count(*) FROM commissions_commissionstatement")
    with transaction.atomic():
        statement_void(statement=CommissionStatement.objects.get(pk=statement_id), actor="bench")
        t0 = time.perf_counter()
        plan = active_plan(rep)
        rates = plan_compiled(plan)
        schedule = plan_schedule(plan)
        statement = CommissionStatement.objects.create(
            organization_id=rep.organization_id, sales_rep=rep, plan=plan, period_start=PERIOD_START,
            period_end=PERIOD_END, currency_code=CURRENCY, status=StatementStatus.DRAFT)
        paid_in_period = Payment.objects.filter(invoice=OuterRef("invoice"), paid_on__gte=PERIOD_START,
                                                paid_on__lte=PERIOD_END)
        lines = (
            InvoiceLine.objects.select_related("invoice", "invoice__customer")
            .prefetch_related("invoice__order__sales_credits")
            .filter(invoice__organization_id=rep.organization_id, invoice__order__sales_credits__sales_rep=rep,
                    invoice__status=InvoiceStatus.PAID, invoice__currency_code=CURRENCY,
                    invoice__paid_on__gte=ORM_SAMPLE_FROM, invoice__paid_on__lte=last_day)
            .filter(Exists(paid_in_period))
            .exclude(Exists(StatementLine.objects.filter(invoice_line=OuterRef("pk"), sales_rep=rep, live=True)))
            .order_by("invoice__paid_on", "invoice__invoice_number", "position")[:SAMPLE]
        )
        read = written = 0
        lines_total = sales_total = s0 = Decimal("0.00")
        entry = None
        for line in lines:
            read += 1
            invoice = line.invoice
            credits = list(invoice.order.sales_credits.all())
            index = next(i for i, credit in enumerate(credits) if credit.sales_rep_id == rep.pk)
            share = credits[index].share
            amount = engine.credited_amounts(line.line_total, [c.share for c in credits])[index]
            rating = rates.rate(line.sku, line.product_name, invoice.customer.customer_number, line.line_total,
                                invoice.paid_on)
            if rating is None:
                continue
            multiplier = schedule.marginal(s0, amount)
            s0 += amount
            numerator, denominator = engine.multiplier_to_storage(multiplier)
            commission = engine.line_commission(rating, line_amount=amount, quantity=line.quantity,
                                                whole_amount=line.line_total, share=share, multiplier=multiplier)
            if entry is None or entry.invoice_id != invoice.pk:
                if entry is not None:
                    entry.save(update_fields=["commission"])
                entry = StatementEntry.objects.create(statement=statement, invoice=invoice,
                                                      invoice_number=invoice.invoice_number,
                                                      customer_number=invoice.customer.customer_number,
                                                      commission=Decimal("0.00"))
            StatementLine.objects.create(
                statement=statement, entry=entry, sales_rep=rep, invoice_line=line, payment=None, live=True,
                line_date=invoice.paid_on, sku=line.sku, product_name=line.product_name, quantity=line.quantity,
                line_amount=amount, share=share, rate=rating.rate, amount_per_unit=rating.amount_per_unit,
                rate_source=rating.source, multiplier=engine.display_multiplier(multiplier),
                multiplier_numerator=numerator, multiplier_denominator=denominator, commission=commission)
            entry.commission += commission
            lines_total += commission
            sales_total += amount
            written += 1
        if entry is not None:
            entry.save(update_fields=["commission"])
        statement.lines_total = statement.total = lines_total
        statement.sales_total = sales_total
        statement.quota = plan.quota
        statement.attainment = engine.attainment(sales_total, plan.quota)
        statement.save(update_fields=["lines_total", "total", "sales_total", "quota", "attainment"])
        elapsed = time.perf_counter() - t0
        transaction.set_rollback(True)
    after = scalar("SELECT count(*) FROM commissions_commissionstatement")
    live = scalar("SELECT count(*) FROM commissions_statementline WHERE statement_id = %s AND live", [statement_id])
    if after != before or live == 0:
        raise SystemExit("(c) left something behind or its rollback failed")
    return elapsed, read, written


# ---------------------------------------------------------------- main


def machine() -> str:
    server = scalar("SHOW server_version")
    settings = ", ".join(f"{name}={scalar(f'SHOW {name}')}" for name in
                         ("shared_buffers", "work_mem", "synchronous_commit", "max_wal_size"))
    import django

    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM; "
            f"PostgreSQL {server} ({settings}); Python {platform.python_version()}, Django {django.get_version()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="invoice lines to create (default 1,000,000)")
    parser.add_argument("--keep", action="store_true", help="leave the database in place afterwards")
    parser.add_argument("--phases", action="store_true", help="also time (b)'s parts (an extra, untimed run)")
    parser.add_argument("--profile", action="store_true", help="also profile (b) under cProfile (an extra run)")
    parser.add_argument("--tracemalloc", action="store_true", help="also run (b) under tracemalloc (untimed)")
    parser.add_argument("--repeat", type=int, default=1, help="time (a) and (b) this many times, report the best")
    parser.add_argument("--vacuum-empty", action="store_true",
                        help="also VACUUM ANALYZE the empty statement tables before (b)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.lines < SAMPLE:
        parser.error(f"--lines must be at least {SAMPLE:,}")

    url = database_url()
    started = time.perf_counter()
    load_at_start = loadavg()
    name = recreate_database(url)
    django_setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0
    print(f"database {name}: re-created and migrated in {migrate_s:.1f}s; {machine()}; loadavg {load_at_start}")

    t0 = time.perf_counter()
    data = load_data(args.lines)
    load_s = time.perf_counter() - t0
    rep, plan = data["rep"], data["plan"]
    print(f"loaded {args.lines:,} paid invoice lines on {data['invoices']:,} invoices ({data['payments']:,} payments, "
          f"{data['two_payments']:,} invoices paid in two), {data['split_orders']:,} split orders "
          f"({data['split_lines']:,} lines; {data['credits']:,} sales credits), {data['returns']:,} returned lines, "
          f"{N_CUSTOMERS:,} customers, {N_PRODUCTS:,} products, {1 + N_OTHER_REPS} reps; plan of 20 rules (3 per unit), "
          f"50 overrides, quota {plan.quota:,} with {len(TIERS)} Marginal tiers, in {load_s:.1f}s:")
    for step, seconds in data["timings"].items():
        print(f"    {step:<46} {seconds:7.1f}s")
    print(f"    database size: {scalar('SELECT pg_size_pretty(pg_database_size(current_database()))')}")

    # Warm the caches the same for everyone: read the lines once (untimed).
    sql(f"SELECT count(*), sum(il.line_total) {ELIGIBLE}", eligible_params(rep))

    like = "(LIKE commissions_statementline INCLUDING ALL, invoice_number varchar(20), customer_number varchar(64))"
    bare = """(statement_id uuid, entry_id bigint, sales_rep_id uuid, invoice_line_id bigint, payment_id bigint,
        credit_memo_line_id bigint, live boolean, line_date date, sku varchar(64), product_name varchar(200),
        quantity integer, line_amount numeric(14, 2), share numeric(5, 4), rate numeric(5, 4),
        amount_per_unit numeric(14, 4), rate_source varchar(300), multiplier numeric(16, 6),
        multiplier_numerator numeric(30, 10), multiplier_denominator numeric(14, 2), commission numeric(14, 2),
        invoice_number varchar(20), customer_number varchar(64))"""
    floor_runs, bare_runs = [], []
    for _ in range(args.repeat):
        floor_s, floor_rows, floor_amount = time_floor(rep, table="bench_floor",
                                                       create=f"CREATE TABLE bench_floor {like}")
        bare_s, bare_rows, _ = time_floor(rep, table="bench_floor_bare",
                                          create=f"CREATE UNLOGGED TABLE bench_floor_bare {bare}")
        floor_runs.append(floor_s)
        bare_runs.append(bare_s)
        if bare_rows != floor_rows:
            print(f"floor variants disagree: {floor_rows} vs {bare_rows} rows")
    floor_s, bare_s = min(floor_runs), min(bare_runs)

    if args.vacuum_empty:
        sql("VACUUM ANALYZE commissions_commissionstatement, commissions_statemententry, commissions_statementline")
    probe = statement_line_probe(rep)
    print(f"(b)'s per-chunk read of the rep's live lines probes statement lines with: {probe}")
    from commissions.models import CommissionStatement
    from commissions.statements.services import statement_void

    load_before_b = loadavg()
    gen_runs = []
    for run in range(args.repeat):
        if run:
            statement_void(statement=CommissionStatement.objects.get(pk=gen_runs[-1]["statement_id"]), actor="bench")
        sql("CHECKPOINT")
        gen_runs.append(run_child(rep, "time"))
    load_after_b = loadavg()
    gen = min(gen_runs, key=lambda g: g["seconds"])
    gen_s = gen["seconds"]
    statement_id = gen_runs[-1]["statement_id"]
    peak_kb = max(g["maxrss_after_kb"] for g in gen_runs)
    delta_kb = max(g["maxrss_after_kb"] - g["rss_before_kb"] for g in gen_runs)
    if args.repeat > 1:
        def listed(times):
            return ", ".join(f"{t:.2f}s" for t in times)

        print(f"runs (best taken): (a) {listed(floor_runs)}; (a0) {listed(bare_runs)}; "
              f"(b) {listed(g['seconds'] for g in gen_runs)}")

    failures = verify(statement_id, rep, floor_rows, floor_amount)
    statement = CommissionStatement.objects.get(pk=statement_id)
    entries = statement.entries.count()
    all_lines = statement.lines.count()

    extra = []
    for mode, wanted in (("tracemalloc", args.tracemalloc), ("phases", args.phases), ("profile", args.profile)):
        if not wanted:
            continue
        statement_void(statement=CommissionStatement.objects.get(pk=statement_id), actor="bench")
        result = run_child(rep, mode)
        statement_id = result["statement_id"]
        failures += [f"({mode} run) {f}" for f in verify(statement_id, rep, floor_rows, floor_amount)]
        extra.append((mode, result))

    orm_s, orm_read, orm_written = time_orm_loop(rep, statement_id)
    orm_scaled = orm_s * floor_rows / orm_read

    def aim(ok: bool) -> str:
        return "aim met" if ok else "aim missed"

    ratio = gen_s / floor_s
    print()
    print(f"Statement generation, one rep, {args.lines:,} paid invoice lines (PostgreSQL)")
    print(f"machine: {machine()}")
    print(f"loadavg (1, 5, 15 min): at start {load_at_start}; before (b) {load_before_b}; after (b) {load_after_b}; "
          f"now {loadavg()}")
    print(f"{'statement lines (sales + clawbacks)':<52} {all_lines:>12,}   ({floor_rows:,} + "
          f"{all_lines - floor_rows:,}; {entries:,} entries)")
    print(f"{'SalesTotal / Quota = Attainment':<52} {statement.sales_total:>12,}   / {statement.quota:,} = "
          f"{statement.attainment}")
    print(f"{'(a)  floor: INSERT … SELECT, flat 5%, same indexes':<52} {floor_s:>11.2f}s   "
          f"{floor_rows / floor_s:>10,.0f} lines/s")
    print(f"{'(a0) floor into a bare UNLOGGED table (reference)':<52} {bare_s:>11.2f}s   "
          f"{bare_rows / bare_s:>10,.0f} lines/s")
    print(f"{'(b)  statement_generate':<52} {gen_s:>11.2f}s   {all_lines / gen_s:>10,.0f} lines/s")
    print(f"{'(c)  per-line ORM loop, scaled from ' + f'{orm_read:,} lines':<52} {orm_scaled:>11.1f}s   "
          f"{floor_rows / orm_scaled:>10,.0f} lines/s   (sample took {orm_s:.1f}s, {orm_written:,} lines written)")
    print(f"{'(b)/(a)':<52} {ratio:>11.2f}x   {aim(ratio <= AIM_RATIO)} (≤ {AIM_RATIO:g}x)")
    print(f"{'(b)/(a0)':<52} {gen_s / bare_s:>11.2f}x")
    print(f"{'(c)/(b)':<52} {orm_scaled / gen_s:>11.1f}x")
    print(f"{'(b) peak RSS of the generating process':<52} {mb(peak_kb):>12}   {aim(peak_kb / 1024 < AIM_MB)} "
          f"(< {AIM_MB} MB)")
    print(f"{'(b) peak RSS growth during generation':<52} {mb(delta_kb):>12}   "
          f"(RSS {mb(gen['rss_before_kb'])} before generating, after Django setup)")
    for mode, result in extra:
        if mode == "tracemalloc":
            print(f"{'(b) tracemalloc peak (Python heap; untimed run)':<52} {mb(result['tracemalloc_peak_kb']):>12}")
    print("The floor ignores the rules and accelerators and writes neither entries nor totals: it is the database's "
          "own cost of finding the rep's lines and writing one row per line.")
    print(f"{'(b) per-chunk live-line read probes':<52} {probe}")
    sampled, kinds, claws = getattr(verify, "sampled", (0, {}, 0))
    print(f"verification: {'OK' if not failures else 'FAILED'} — sales lines = the seed's and the floor's, clawbacks "
          f"and entries as the seed implies, Total = Σ lines = Σ entries, SalesTotal = the floor's Σ credits, "
          f"attainment, nothing earned twice, multipliers ≥ 1, non-decreasing in §6 order and Σ M×amount = ∫ m; "
          f"{sampled:,} sampled sales lines ({', '.join(f'{n:,} {k}' for k, n in kinds.items())}) and {claws:,} "
          f"clawbacks agree with a naive evaluation of §6")
    for failure in failures:
        print(f"  FAILED: {failure}")
    for mode, result in extra:
        if mode in ("phases", "profile"):
            title = "an extra run under cProfile" if mode == "profile" else "an extra run with timers"
            print(f"\n(b) time per part ({title}; self = less the timed parts inside it):")
            print(f"    {'':<62} {'incl.':>8} {'self':>8} {'calls':>10}")
            parts = result["phases"]["parts"]
            for label, inclusive, own, calls in parts:
                print(f"    {label:<62} {inclusive:7.2f}s {own:7.2f}s {calls:>10,}")
            total = parts[0][1] if parts else 0.0
            print(f"    (this run took {total:.2f}s, the timed run {gen_s:.2f}s: the difference is the timers' cost "
                  "and run-to-run variation, plans included)")
            print(f"\n(b) the ORM's slowest queries in that run (plans: EXPLAIN in the generation's transaction, "
                  f"the first time one took over {SLOW_QUERY_S:g}s):")
            for text, (seconds, calls, plan) in result["phases"]["queries"]:
                print(f"    {seconds:8.2f}s {calls:>6,}×  {text[:600]}")
                for line in (plan or "").splitlines()[:PLAN_LINES]:
                    print(f"                    {line[:180]}")
            print(result["profile"])
    print(f"(whole run {time.perf_counter() - started:.0f}s)")

    from django.db import connections

    connections.close_all()
    if not args.keep:
        drop_database(url)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        database_url()
        child_generate(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
