"""Benchmark commission statement generation against its floor and the obvious ORM loop (SPEC §11).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nymble_bench \\
        .venv/bin/python bench/statements.py [--lines 1000000] [--keep] [--profile] [--tracemalloc]

Drops and re-creates the database named in DATABASE_URL (PostgreSQL only), migrates it and
loads one organization (America/Chicago), one rep, 2,000 customers, 5,000 products and
N paid invoice lines (~5 per invoice, all paid in March 2025, all the rep's) with fast SQL,
then a plan of 20 rules and 50 customer overrides through `plan_create`, effective from
March 2nd (so the lines paid on March 1st are left out and stay eligible). Then, in one run:

  (a)  the floor: one INSERT … SELECT copying the same lines into a scratch table shaped like
       commissions_statementline (same columns, indexes and checks) at a flat 5% rate —
       it ignores the rules, writes no entries and computes no totals;
  (a0) the same into a bare UNLOGGED table with no index (for reference only);
  (b)  `statement_generate` for the rep and March, in a fresh process, with its peak memory;
  (c)  the obvious per-line ORM loop (select_related, engine rate, one INSERT per line,
       one entry per invoice) on a 20,000-line sample, rolled back, scaled to N lines.

It checks (b)'s statement (line count, totals, no line on two live statements, rates of a
sample against a naive evaluation) and exits non-zero when a check fails; missing an aim
((b) within 3× of (a), (b) under 300 MB) is printed, not an error.

--profile adds an untimed run of (b) under cProfile with time per phase; --tracemalloc an
untimed run under tracemalloc (Python heap peak). --keep leaves the database in place.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import platform
import random
import resource
import subprocess
import sys
import time
import zoneinfo
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratchdb import drop_database, recreate_database, scalar, sql  # noqa: E402

N_CUSTOMERS = 2_000
N_PRODUCTS = 5_000
SAMPLE = 20_000
RATE_CHECK_SAMPLE = 5_000
TIME_ZONE = "America/Chicago"
PERIOD_START = datetime.date(2025, 3, 1)
PERIOD_END = datetime.date(2025, 3, 31)
PLAN_START = datetime.date(2025, 3, 2)
CURRENCY = "USD"
AIM_RATIO = 3.0
AIM_MB = 300

CATEGORIES = ["WID", "GAD", "BOLT", "NUT", "PIPE", "VALVE", "PUMP", "CABLE", "HOSE", "CLAMP"]
NOUNS = ["Widget", "Gadget", "Bolt", "Nut", "Pipe", "Valve", "Pump", "Cable", "Hose", "Clamp"]
ADJECTIVES = ["Heavy", "Light", "Pro", "Eco", "Mini", "Max", "Steel", "Brass", "Ultra", "Compact"]
SIZES = [10, 25, 50, 100, 250]


# VACUUM ANALYZE after loading covers these. The statement tables stay as `migrate` left them
# (never vacuumed, as on a fresh install and after any real use): vacuuming them while empty
# records "0 pages" and makes the planner probe commissions_statementline with a sequential scan
# per eligible line, which statement generation then re-runs over the lines it is writing
# (quadratic; --vacuum-empty shows it, the plan line printed before (b) tells which case ran).
LOADED_TABLES = ("nymble_organization", "nymble_pricetier", "salesreps_organizationsalesrep", "customers_customer",
                 "orders_product", "orders_productprice", "orders_order", "orders_orderitem", "orders_invoice",
                 "orders_invoiceline", "orders_organizationsequence", "commissions_commissionplan",
                 "commissions_customeroverride", "commissions_commissionrule")


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


# ---------------------------------------------------------------- database


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        sys.exit("bench/statements.py needs PostgreSQL: set DATABASE_URL=postgres://… (it refuses SQLite).")
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
        sys.exit("bench/statements.py needs PostgreSQL (DATABASE_URL); refusing to run on " + connection.vendor)


# ---------------------------------------------------------------- data


def load_data(n_lines: int) -> dict:
    """Org, rep, customers, products with SQL; orders, items, invoices, lines with INSERT … SELECT."""
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
        ids = {"org": str(org.pk), "tier": tier.pk, "rep": str(rep.pk)}
        sql("SET LOCAL work_mem = '256MB'")
        sql(f"""
            INSERT INTO customers_customer (customer_number, company_name, company_email, company_phone, company_fax,
                active, terms, external_id, currency_code, attributes, created_at, updated_at, organization_id,
                price_tier_id, sales_rep_id)
            SELECT 'C-' || lpad(g::text, 5, '0'), 'Customer ' || g || ' Trading', 'ap' || g || '@customer.example',
                   '', '', true, 'Net30', NULL, %(cur)s, '{{}}', now(), now(), %(org)s, %(tier)s, %(rep)s
            FROM generate_series(1, {N_CUSTOMERS}) g""", {**ids, "cur": CURRENCY})
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
            SELECT %(cur)s, 1, price, %(tier)s, id FROM bench_product""", {**ids, "cur": CURRENCY})
        sql("CREATE TEMP TABLE bench_customer ON COMMIT DROP AS "
            "SELECT row_number() OVER (ORDER BY customer_number) - 1 AS k, id FROM customers_customer")
        timings["organization, rep, customers, products"] = time.perf_counter() - t0

        # Invoices of 3, 7, 5, 4 and 6 lines in turn: 25 lines per 5 invoices.
        t0 = time.perf_counter()
        sql(f"""
            CREATE TEMP TABLE bench_line ON COMMIT DROP AS
            SELECT l, (l / 25) * 5 + k AS inv, off - (ARRAY[0, 3, 10, 15, 19])[k + 1] + 1 AS pos, p.id AS product_id,
                   p.sku, p.name, q.qty, p.price
            FROM (SELECT l, mod(l, 25) AS off,
                         CASE WHEN mod(l, 25) < 3 THEN 0 WHEN mod(l, 25) < 10 THEN 1 WHEN mod(l, 25) < 15 THEN 2
                              WHEN mod(l, 25) < 19 THEN 3 ELSE 4 END AS k,
                         mod({H('l', 1)}, {N_PRODUCTS}) AS pk,
                         1 + mod({H('l', 2)}, 40) AS qty
                  FROM generate_series(0, {n_lines - 1}) l) q
            JOIN bench_product p ON p.p = q.pk""")
        sql(f"""
            CREATE TEMP TABLE bench_invoice ON COMMIT DROP AS
            SELECT t.inv, gen_random_uuid() AS order_id, gen_random_uuid() AS invoice_id, c.id AS customer_id,
                   %(start)s::timestamptz + mod({H('t.inv', 3)}, {month_seconds}) * interval '1 second' AS paid_at,
                   t.total
            FROM (SELECT inv, sum(qty * price) AS total FROM bench_line GROUP BY inv) t
            JOIN bench_customer c ON c.k = mod({H('t.inv', 4)}, {N_CUSTOMERS})""", {"start": month_start})
        sql("ANALYZE bench_line")
        sql("ANALYZE bench_invoice")
        timings["staging (lines, invoices)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        sql("""
            INSERT INTO orders_order (id, order_number, customer_snapshot, order_type, channel, status, po_number,
                currency_code, terms, placed_by_label, placed_by_role, subtotal, external_id, idempotency_key,
                request_fingerprint, created_at, updated_at, cancelled_at, customer_id, organization_id,
                placed_by_id, price_tier_id, primary_sales_rep_id, taken_by_sales_rep_id)
            SELECT order_id, 'ORD-' || lpad((inv + 1)::text, 7, '0'), '{}', 'Assisted', 'Phone', 'Complete', '',
                   %(cur)s, 'Net30', 'rep@bench.example', 'SalesRep', total, NULL, NULL, '',
                   paid_at - interval '5 days', paid_at - interval '5 days', NULL, customer_id, %(org)s,
                   NULL, %(tier)s, %(rep)s, %(rep)s
            FROM bench_invoice""", {**ids, "cur": CURRENCY})
        sql("""
            INSERT INTO orders_orderitem (id, position, sku, product_name, quantity, price, catalog_price, line_total,
                order_id, product_id)
            SELECT l + 1, pos, sku, name, qty, price, price, qty * price, i.order_id, product_id
            FROM bench_line JOIN bench_invoice i USING (inv)""")
        timings["orders, order items"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        sql("""
            INSERT INTO orders_invoice (id, invoice_number, invoice_date, due_date, currency_code, total, amount_paid,
                status, paid_at, paid_on, created_at, voided_at, customer_id, organization_id, primary_sales_rep_id,
                order_id)
            SELECT invoice_id, 'INV-' || lpad((inv + 1)::text, 7, '0'),
                   ((paid_at - interval '4 days') AT TIME ZONE %(tz)s)::date,
                   ((paid_at - interval '4 days') AT TIME ZONE %(tz)s)::date + 30,
                   %(cur)s, total, total, 'Paid', paid_at, (paid_at AT TIME ZONE %(tz)s)::date,
                   paid_at - interval '4 days', NULL, customer_id, %(org)s, %(rep)s, order_id
            FROM bench_invoice""", {**ids, "cur": CURRENCY, "tz": TIME_ZONE})
        sql("""
            INSERT INTO orders_invoiceline (id, position, sku, product_name, quantity, price, line_total, invoice_id,
                order_item_id, product_id)
            SELECT l + 1, pos, sku, name, qty, price, qty * price, i.invoice_id, l + 1, product_id
            FROM bench_line JOIN bench_invoice i USING (inv)""")
        for table in ("orders_orderitem", "orders_invoiceline"):
            sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        invoices = scalar("SELECT count(*) FROM bench_invoice")
        sql("""
            INSERT INTO orders_organizationsequence (organization_id, name, last_value)
            VALUES (%(org)s, 'ORD', %(n)s), (%(org)s, 'INV', %(n)s)""", {**ids, "n": invoices})
        timings["invoices, invoice lines"] = time.perf_counter() - t0
        t0 = time.perf_counter()
    timings["commit (deferred foreign-key checks)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    plan = create_plan(org, rep)
    timings["plan (plan_create)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # Autocommit: outside any transaction. Only the tables just loaded: see LOADED_TABLES.
    sql("VACUUM ANALYZE " + ", ".join(LOADED_TABLES))
    sql("CHECKPOINT")
    timings["VACUUM ANALYZE, CHECKPOINT"] = time.perf_counter() - t0
    return {"org": org, "rep": rep, "plan": plan, "invoices": invoices, "timings": timings}


def create_plan(org, rep):
    """20 rules (SKU globs, name globs, customer lists, amount bounds) and 50 overrides."""
    from commissions.plans.services import plan_create

    rng = random.Random(20250301)
    customers = [f"C-{i:05d}" for i in range(1, N_CUSTOMERS + 1)]
    d = Decimal

    def rule(priority, name, rate, sku=(), names=(), custs=(), low=None, high=None):
        return {"priority": priority, "name": name, "rate": d(rate), "sku_patterns": list(sku),
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
        rule(80, "Long cables", "0.055", sku=["SKU-CABLE-*"], names=["* 250mm"]),
        rule(90, "Eco mid-range", "0.045", names=["Eco *"], low="100.00", high="2000.00"),
        rule(100, "Brass fasteners", "0.05", sku=["SKU-NUT-*", "SKU-BOLT-*"], names=["Brass *"]),
        rule(110, "West widgets", "0.075", sku=["SKU-WID-*"], custs=rng.sample(customers, 60)),
        rule(120, "SKUs ending in 7", "0.04", sku=["SKU-*-???7"]),
        rule(130, "Small minis", "0.035", names=["Mini *"], high="500.00"),
        rule(140, "Hoses and clamps", "0.03", sku=["SKU-HOSE-*", "SKU-CLAMP-*"]),
        rule(150, "Steel ?0mm", "0.058", names=["Steel * ?0mm"]),
        rule(160, "New accounts", "0.085", custs=rng.sample(customers, 30), low="50.00"),
        rule(170, "Ultra premium", "0.068", names=["ultra*"], low="500.00"),
        rule(180, "Compact", "0.042", names=["COMPACT *"]),
        rule(190, "Mid band", "0.038", low="2500.00", high="5000.00"),
        rule(200, "Light gadgets", "0.052", names=["Light Gadget*"]),
    ]
    picked = rng.sample(customers, 45)
    overrides = []
    for i, number in enumerate(picked):
        kind = i % 5
        own_rules = [rule(p, f"{number} rule {p}", f"0.0{rng.randint(1, 9)}", **spec) for p, spec in
                     [(1, {"sku": [f"SKU-{rng.choice(CATEGORIES)}-*"]}), (2, {"low": "1500.00"}),
                      (3, {"names": [f"{rng.choice(ADJECTIVES)} *"], "high": "800.00"})][: 1 + i % 3]]
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
    return plan_create(organization=org, sales_rep=rep, name="Bench plan 2025", description="bench/statements.py",
                       default_rate=d("0.05"), effective_start=PLAN_START, effective_end=None, rules=rules,
                       overrides=overrides, active=True)


# ---------------------------------------------------------------- (a) the floor

ELIGIBLE = """
    FROM orders_invoiceline il
    JOIN orders_invoice i ON i.id = il.invoice_id
    JOIN customers_customer c ON c.id = i.customer_id
    WHERE i.primary_sales_rep_id = %(rep)s AND i.status = 'Paid' AND i.currency_code = %(cur)s
      AND i.paid_on BETWEEN %(start)s AND %(end)s AND i.paid_on >= %(plan_start)s
      AND NOT EXISTS (SELECT 1 FROM commissions_statementline sl WHERE sl.invoice_line_id = il.id AND sl.live)
"""


def eligible_params(rep) -> dict:
    return {"rep": str(rep.pk), "cur": CURRENCY, "start": PERIOD_START, "end": PERIOD_END, "plan_start": PLAN_START}


def time_floor(rep, *, table: str, create: str) -> tuple[float, int]:
    """One INSERT … SELECT of the eligible lines at a flat 5% (autocommit: the commit is timed)."""
    sql(f"DROP TABLE IF EXISTS {table}")
    sql(create)
    sql("CHECKPOINT")
    t0 = time.perf_counter()
    sql(f"""
        INSERT INTO {table} (statement_id, entry_id, invoice_line_id, credit_memo_line_id, live, line_date, sku,
            product_name, quantity, line_amount, rate, rate_source, commission, invoice_number, customer_number)
        SELECT gen_random_uuid(), 0, il.id, NULL, true, i.paid_on, il.sku, il.product_name, il.quantity,
               il.line_total, 0.05, 'Flat 5%%', round(il.line_total * 0.05, 2), i.invoice_number, c.customer_number
        {ELIGIBLE}""", eligible_params(rep))
    elapsed = time.perf_counter() - t0
    rows = scalar(f"SELECT count(*) FROM {table}")
    sql(f"DROP TABLE {table}")
    return elapsed, rows


def statement_line_probe(rep) -> str:
    """How the planner would probe commissions_statementline in (b)'s eligibility cursor (the same query)."""
    from django.db import connection, transaction

    from commissions.statements.services import _live_line_on
    from orders.models import InvoiceLine, InvoiceStatus

    query, params = (
        InvoiceLine.objects.filter(invoice__primary_sales_rep_id=rep.pk, invoice__status=InvoiceStatus.PAID,
                                   invoice__currency_code=CURRENCY, invoice__paid_on__gte=PERIOD_START,
                                   invoice__paid_on__lte=PERIOD_END)
        .exclude(_live_line_on("invoice_line")).order_by("invoice_id", "position")
        .values_list("invoice_id", "invoice__invoice_number", "invoice__customer__customer_number", "pk", "sku",
                     "product_name", "quantity", "line_total", "invoice__paid_on")
        .query.sql_with_params()
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN DECLARE bench_probe NO SCROLL CURSOR FOR " + query, params)
        plan = [row[0] for row in cursor.fetchall()]
    def node(word: str) -> str:
        return next((line.strip().lstrip("-> ").split("  (")[0] for line in plan if word in line), "?")

    probe, anti = node("commissions_statementline"), node("Anti Join")
    return f"{anti} / {probe}"


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


def profile_generate(generate, *, cprofile: bool):
    """Times the phases of statement_fill by wrapping what it calls (product code is untouched),
    under cProfile if asked (which slows Python code several times, so the split shifts)."""
    import cProfile
    import io
    import pstats

    from django.db.models.query import QuerySet

    from commissions.statements import services as statements

    phases: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    def timed_iter(name, fn):
        def wrapper(*args, **kwargs):
            it = fn(*args, **kwargs)
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
                    return
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
                yield item
        return wrapper

    originals = {
        "eligible_invoice_lines": statements.eligible_invoice_lines,
        "eligible_clawbacks": statements.eligible_clawbacks,
        "_insert_lines": statements._insert_lines,
        "plan_compiled": statements.plan_compiled,
    }
    bulk_create, bulk_update = QuerySet.bulk_create, QuerySet.bulk_update
    writer_add = statements._Writer.add
    statements.eligible_invoice_lines = timed_iter("read eligible lines (query + rows -> EligibleLine)",
                                                   originals["eligible_invoice_lines"])
    statements.eligible_clawbacks = timed_iter("read clawbacks", originals["eligible_clawbacks"])
    statements._insert_lines = timed("COPY statement lines (incl. building rows)", originals["_insert_lines"])
    statements.plan_compiled = timed("load + compile plan", originals["plan_compiled"])
    QuerySet.bulk_create = timed("bulk_create entries", bulk_create)
    QuerySet.bulk_update = timed("bulk_update entry commissions", bulk_update)

    def add(self, line, rate, source):  # time only add()'s own work, not the flush it may trigger
        t0 = time.perf_counter()
        self._flush = lambda: None
        try:
            writer_add(self, line, rate, source)
        finally:
            del self._flush  # the class's again
            phases["_Writer.add (commission, entry bookkeeping)"] = (
                phases.get("_Writer.add (commission, entry bookkeeping)", 0.0) + time.perf_counter() - t0)
        if self.closed_lines >= statements.BATCH:
            self._flush()

    statements._Writer.add = add
    from django.db.backends.base import base as db_base

    commit = db_base.BaseDatabaseWrapper.commit
    db_base.BaseDatabaseWrapper.commit = timed("commit", commit)
    profiler = cProfile.Profile() if cprofile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    statement = generate()
    if profiler:
        profiler.disable()
    total = time.perf_counter() - t0
    phases["rest: rating with the engine, loop, statement row, event"] = total - sum(phases.values())
    phases["total" + (" (under cProfile)" if cprofile else "")] = total
    if not profiler:
        return statement, phases, ""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(22)
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


# ---------------------------------------------------------------- checks


def verify(statement_id: str, rep, floor_rows: int) -> list[str]:
    """What must hold of (b)'s statement; returns the failures."""
    from commissions.engine import commission_for
    from commissions.models import CommissionStatement
    from commissions.plans.services import plan_spec
    from rate_engine import naive_rate

    failures = []
    statement = CommissionStatement.objects.select_related("plan").get(pk=statement_id)
    if statement.status != "Draft":
        failures.append(f"statement status is {statement.status}, not Draft")
    params = {**eligible_params(rep), "sid": statement_id}
    expected = scalar("""
        SELECT count(*) FROM orders_invoiceline il JOIN orders_invoice i ON i.id = il.invoice_id
        WHERE i.primary_sales_rep_id = %(rep)s AND i.status = 'Paid' AND i.currency_code = %(cur)s
          AND i.paid_on BETWEEN %(start)s AND %(end)s AND i.paid_on >= %(plan_start)s""", params)
    expected_invoices = scalar("""
        SELECT count(*) FROM orders_invoice i
        WHERE i.primary_sales_rep_id = %(rep)s AND i.status = 'Paid' AND i.currency_code = %(cur)s
          AND i.paid_on BETWEEN %(start)s AND %(end)s AND i.paid_on >= %(plan_start)s""", params)
    lines, line_sum, entries, entry_sum = sql("""
        SELECT (SELECT count(*) FROM commissions_statementline WHERE statement_id = %(sid)s),
               (SELECT coalesce(sum(commission), 0) FROM commissions_statementline WHERE statement_id = %(sid)s),
               (SELECT count(*) FROM commissions_statemententry WHERE statement_id = %(sid)s),
               (SELECT coalesce(sum(commission), 0) FROM commissions_statemententry WHERE statement_id = %(sid)s)
        """, params)[0]
    if lines != expected:
        failures.append(f"statement has {lines:,} lines; {expected:,} eligible lines fall in the plan window")
    if lines != floor_rows:
        failures.append(f"statement has {lines:,} lines; the floor copied {floor_rows:,}")
    if entries != expected_invoices:
        failures.append(f"statement has {entries:,} entries; {expected_invoices:,} invoices are eligible")
    if not (statement.total == line_sum == entry_sum):
        failures.append(f"Total {statement.total} != sum of lines {line_sum} != sum of entries {entry_sum}")
    mismatched = scalar("""
        SELECT count(*) FROM commissions_statemententry e
        WHERE e.statement_id = %(sid)s AND e.commission <> (SELECT coalesce(sum(commission), 0)
            FROM commissions_statementline l WHERE l.entry_id = e.id)""", params)
    if mismatched:
        failures.append(f"{mismatched} entries differ from the sum of their lines")
    doubled = scalar("""
        SELECT count(*) FROM (SELECT invoice_line_id FROM commissions_statementline
                              WHERE live AND invoice_line_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d""")
    if doubled:
        failures.append(f"{doubled} invoice lines are on two live statements")
    outside = scalar("SELECT count(*) FROM commissions_statementline WHERE statement_id = %(sid)s "
                     "AND line_date < %(plan_start)s", params)
    if outside:
        failures.append(f"{outside} lines dated before the plan window are on the statement")

    # Rates of a sample against a naive evaluation of the plan (bench/rate_engine.py's).
    spec = plan_spec(statement.plan)
    rows = sql("""
        SELECT l.sku, l.product_name, c.customer_number, il.line_total, i.paid_on, l.line_date, l.line_amount,
               l.quantity, il.quantity, l.rate, l.rate_source, l.commission
        FROM commissions_statementline l
        JOIN orders_invoiceline il ON il.id = l.invoice_line_id
        JOIN orders_invoice i ON i.id = il.invoice_id
        JOIN customers_customer c ON c.id = i.customer_id
        WHERE l.statement_id = %(sid)s AND mod(l.invoice_line_id, %(step)s) = 0""",
               {**params, "step": max(1, expected // RATE_CHECK_SAMPLE)})
    wrong = 0
    for sku, name, customer, amount, paid_on, line_date, line_amount, qty, il_qty, rate, source, commission in rows:
        want = naive_rate(spec, sku, name, customer, amount, paid_on)
        if (want is None or (rate, source) != (want.rate, want.source) or line_date != paid_on
                or line_amount != amount or qty != il_qty or commission != commission_for(amount, want.rate)):
            wrong += 1
    if wrong or not rows:
        failures.append(f"{wrong} of {len(rows)} sampled lines disagree with a naive evaluation of the plan")
    verify.sampled = len(rows)  # type: ignore[attr-defined]
    return failures


# ---------------------------------------------------------------- (c) the obvious ORM loop


def time_orm_loop(rep, statement_id: str) -> tuple[float, int, int]:
    """Voids (b)'s statement, then rates a sample line by line through the ORM; all rolled back."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef

    from commissions.engine import commission_for
    from commissions.models import CommissionStatement, StatementEntry, StatementLine, StatementStatus
    from commissions.plans.services import active_plan, plan_compiled
    from commissions.statements.services import statement_void
    from orders.models import InvoiceLine, InvoiceStatus

    before = scalar("SELECT count(*) FROM commissions_commissionstatement")
    with transaction.atomic():
        statement_void(statement=CommissionStatement.objects.get(pk=statement_id), actor="bench")
        t0 = time.perf_counter()
        plan = active_plan(rep)
        engine = plan_compiled(plan)
        statement = CommissionStatement.objects.create(
            organization_id=rep.organization_id, sales_rep=rep, plan=plan, period_start=PERIOD_START,
            period_end=PERIOD_END, currency_code=CURRENCY, status=StatementStatus.DRAFT)
        lines = (
            InvoiceLine.objects.select_related("invoice", "invoice__customer")
            .filter(invoice__primary_sales_rep=rep, invoice__status=InvoiceStatus.PAID,
                    invoice__currency_code=CURRENCY, invoice__paid_on__gte=PERIOD_START,
                    invoice__paid_on__lte=PERIOD_END)
            .exclude(Exists(StatementLine.objects.filter(invoice_line=OuterRef("pk"), live=True)))
            .order_by("invoice_id", "position")[:SAMPLE]
        )
        read = written = 0
        total = Decimal("0.00")
        entry = None
        for line in lines:
            read += 1
            invoice = line.invoice
            rating = engine.rate(line.sku, line.product_name, invoice.customer.customer_number, line.line_total,
                                 invoice.paid_on)
            if rating is None:
                continue
            commission = commission_for(line.line_total, rating.rate)
            if entry is None or entry.invoice_id != invoice.pk:
                if entry is not None:
                    entry.save(update_fields=["commission"])
                entry = StatementEntry.objects.create(statement=statement, invoice=invoice,
                                                      invoice_number=invoice.invoice_number,
                                                      customer_number=invoice.customer.customer_number,
                                                      commission=Decimal("0.00"))
            StatementLine.objects.create(statement=statement, entry=entry, invoice_line=line, live=True,
                                         line_date=invoice.paid_on, sku=line.sku, product_name=line.product_name,
                                         quantity=line.quantity, line_amount=line.line_total, rate=rating.rate,
                                         rate_source=rating.source, commission=commission)
            entry.commission += commission
            total += commission
            written += 1
        if entry is not None:
            entry.save(update_fields=["commission"])
        statement.total = total
        statement.save(update_fields=["total"])
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
    parser.add_argument("--phases", action="store_true", help="also time (b)'s phases (an extra, untimed run)")
    parser.add_argument("--profile", action="store_true", help="also profile (b) under cProfile (an extra run)")
    parser.add_argument("--tracemalloc", action="store_true", help="also run (b) under tracemalloc (untimed)")
    parser.add_argument("--repeat", type=int, default=1, help="time (a) and (b) this many times, report the best")
    parser.add_argument("--vacuum-empty", action="store_true",
                        help="also VACUUM ANALYZE the empty statement tables before (b) (shows the seq-scan plan)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.lines < SAMPLE:
        parser.error(f"--lines must be at least {SAMPLE:,}")

    url = database_url()
    started = time.perf_counter()
    name = recreate_database(url)
    django_setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0
    print(f"database {name}: re-created and migrated in {migrate_s:.1f}s; {machine()}")

    t0 = time.perf_counter()
    data = load_data(args.lines)
    load_s = time.perf_counter() - t0
    rep = data["rep"]
    print(f"loaded {args.lines:,} paid invoice lines on {data['invoices']:,} invoices, {N_CUSTOMERS:,} customers, "
          f"{N_PRODUCTS:,} products, plan of 20 rules and 50 overrides in {load_s:.1f}s:")
    for step, seconds in data["timings"].items():
        print(f"    {step:<42} {seconds:7.1f}s")
    print(f"    database size: {scalar('SELECT pg_size_pretty(pg_database_size(current_database()))')}")

    # Warm the caches the same for everyone: read the lines once (untimed).
    sql(f"SELECT count(*), sum(il.line_total) {ELIGIBLE}", eligible_params(rep))

    like = "(LIKE commissions_statementline INCLUDING ALL, invoice_number varchar(20), customer_number varchar(64))"
    bare = """(statement_id uuid, entry_id bigint, invoice_line_id bigint, credit_memo_line_id bigint, live boolean,
        line_date date, sku varchar(64), product_name varchar(200), quantity integer, line_amount numeric(14, 2),
        rate numeric(5, 4), rate_source varchar(300), commission numeric(14, 2), invoice_number varchar(20),
        customer_number varchar(64))"""
    floor_runs, bare_runs = [], []
    for _ in range(args.repeat):
        floor_s, floor_rows = time_floor(rep, table="bench_floor", create=f"CREATE TABLE bench_floor {like}")
        bare_s, bare_rows = time_floor(rep, table="bench_floor_bare",
                                       create=f"CREATE UNLOGGED TABLE bench_floor_bare {bare}")
        floor_runs.append(floor_s)
        bare_runs.append(bare_s)
        if bare_rows != floor_rows:
            print(f"floor variants disagree: {floor_rows} vs {bare_rows} rows")
    floor_s, bare_s = min(floor_runs), min(bare_runs)

    if args.vacuum_empty:
        sql("VACUUM ANALYZE commissions_commissionstatement, commissions_statemententry, commissions_statementline")
    probe = statement_line_probe(rep)
    print(f"(b)'s eligibility cursor probes statement lines with: {probe}")
    if "Seq Scan" in probe:
        print("    warning: a sequential scan per line, re-run over the lines (b) writes: expect quadratic time")
    from commissions.models import CommissionStatement
    from commissions.statements.services import statement_void

    gen_runs = []
    for run in range(args.repeat):
        if run:
            statement_void(statement=CommissionStatement.objects.get(pk=gen_runs[-1]["statement_id"]), actor="bench")
        sql("CHECKPOINT")
        gen_runs.append(run_child(rep, "time"))
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

    failures = verify(statement_id, rep, floor_rows)
    statement = CommissionStatement.objects.get(pk=statement_id)
    entries = statement.entries.count()

    extra = []
    if args.tracemalloc or args.phases or args.profile:
        for mode, wanted in (("tracemalloc", args.tracemalloc), ("phases", args.phases), ("profile", args.profile)):
            if not wanted:
                continue
            statement_void(statement=CommissionStatement.objects.get(pk=statement_id), actor="bench")
            result = run_child(rep, mode)
            statement_id = result["statement_id"]
            failures += [f"({mode} run) {f}" for f in verify(statement_id, rep, floor_rows)]
            extra.append((mode, result))

    orm_s, orm_read, orm_written = time_orm_loop(rep, statement_id)
    orm_scaled = orm_s * args.lines / orm_read

    def aim(ok: bool) -> str:
        return "aim met" if ok else "aim missed"

    ratio = gen_s / floor_s
    print()
    print(f"Statement generation, one rep, {args.lines:,} paid invoice lines (PostgreSQL)")
    print(f"machine: {machine()}")
    print(f"{'lines in the plan window (statement lines)':<52} {floor_rows:>12,}   ({entries:,} entries)")
    print(f"{'(a)  floor: INSERT … SELECT, flat 5%, same indexes':<52} {floor_s:>11.2f}s   "
          f"{floor_rows / floor_s:>10,.0f} lines/s")
    print(f"{'(a0) floor into a bare UNLOGGED table (reference)':<52} {bare_s:>11.2f}s   "
          f"{bare_rows / bare_s:>10,.0f} lines/s")
    print(f"{'(b)  statement_generate':<52} {gen_s:>11.2f}s   {floor_rows / gen_s:>10,.0f} lines/s")
    print(f"{'(c)  per-line ORM loop, scaled from ' + f'{orm_read:,} lines':<52} {orm_scaled:>11.1f}s   "
          f"{args.lines / orm_scaled:>10,.0f} lines/s   (sample took {orm_s:.1f}s, {orm_written:,} lines written)")
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
    print("The floor ignores the rules and writes neither entries nor totals: it is the database's own cost of "
          "reading the eligible lines and writing one row per line.")
    print(f"{'(b) eligibility cursor, statement-line probe':<52} {probe}")
    print(f"verification: {'OK' if not failures else 'FAILED'} — statement lines = eligible lines in the plan "
          f"window, Total = Σ lines = Σ entries, no invoice line on two live statements, "
          f"{getattr(verify, 'sampled', 0):,} sampled rates agree with a naive evaluation")
    for failure in failures:
        print(f"  FAILED: {failure}")
    for mode, result in extra:
        if mode in ("phases", "profile"):
            print(f"\n(b) time per phase ({'an extra run under cProfile' if mode == 'profile' else 'an extra run'}):")
            for phase, seconds in sorted(result["phases"].items(), key=lambda kv: -kv[1]):
                print(f"    {phase:<55} {seconds:8.2f}s")
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
