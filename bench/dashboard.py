"""The admin's dashboard (its index page) on 100,000 customers: time and queries per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nymble_dash .venv/bin/python bench/dashboard.py \
        [--invoices 240000] [--repeat 20] [--reseed]

It drops and re-creates the database named in DATABASE_URL (a scratch name, never one you work in)
unless it already holds this seed (`--reseed` forces a fresh one). Seed: bench/load_seed.py's
organization (100,000 customers, 50 reps, 10,000 products), then N invoiced orders over the last
13 months (one line each, credited to the customer's rep), paid for the most part, one in ten left
unpaid past its due date, 1 % voided; an active plan with a quota per rep; last month's statement
per rep (Draft or Approved) and ten open disputes. Orders, items, invoices, lines and credits are
INSERT … SELECT, so the database checks every constraint (line totals, paid in full, unique numbers).

Then, with Django's test client logged in as the organization's staff admin, it times GET /admin/
(the dashboard) beside two baselines measured in the same run: a trivial admin page (the list of
the 5 price tiers) and a bare `SELECT 1` round trip; it prints median and p90 wall time and the
number of queries of each, and the dashboard's slowest queries.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load_seed  # noqa: E402
from load_seed import H, recreate_database, scalar, sql  # noqa: E402

MARKER = "dashboard-bench"  # placed_by_label of the seeded orders: tells a reusable seed


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nymble.settings")
    os.environ.setdefault("HTTPS_ONLY", "false")
    for name in ("SECRET_KEY", "JWT_SIGNING_KEY"):
        os.environ.setdefault(name, f"bench-only-{name.lower()}-" + "x" * 40)
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/dashboard.py needs PostgreSQL (DATABASE_URL); refusing to run on " + connection.vendor)


def seed_invoices(n: int) -> dict:
    """N invoiced orders of the LOAD organization over the last 13 months, and the commission side."""
    import datetime
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from commissions.plans.services import plan_create
    from dashboard.selectors import month_start
    from nymble.models import Organization
    from salesreps.models import OrganizationSalesRep

    timings = {}
    org = Organization.objects.get(org_code=load_seed.ORG_CODE)
    ids = {"org": str(org.pk), "marker": MARKER}
    t0 = time.perf_counter()
    with transaction.atomic():
        sql("SET LOCAL work_mem = '256MB'")
        sql("""CREATE TEMP TABLE bc ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY customer_number) AS rn, id, sales_rep_id, price_tier_id
               FROM customers_customer WHERE organization_id = %(org)s""", ids)
        sql("""CREATE TEMP TABLE bp ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY p.sku) AS rn, p.id, p.sku, p.name, min(pp.price) AS price
               FROM orders_product p JOIN orders_productprice pp ON pp.product_id = p.id
               WHERE p.organization_id = %(org)s GROUP BY p.id""", ids)
        customers, products = scalar("SELECT count(*) FROM bc"), scalar("SELECT count(*) FROM bp")
        # g's day: up to 395 days ago; its kind (0-99): < 1 voided, < 11 unpaid, else paid 20 days later
        # (or not yet, for the last 20 days' invoices).
        sql(f"""CREATE TEMP TABLE bi ON COMMIT DROP AS
                SELECT g, gen_random_uuid() AS order_id, gen_random_uuid() AS invoice_id,
                       c.id AS customer_id, c.sales_rep_id, c.price_tier_id, p.id AS product_id, p.sku, p.name,
                       p.price, 1 + mod({H('g', 21)}, 20) AS qty,
                       round((1 + mod({H('g', 21)}, 20)) * p.price, 2) AS total,
                       (current_date - mod({H('g', 22)}, 395)::int) AS day, mod({H('g', 23)}, 100) AS kind
                FROM generate_series(1, {n}) g
                JOIN bc c ON c.rn = 1 + mod({H('g', 24)}, {customers})
                JOIN bp p ON p.rn = 1 + mod({H('g', 25)}, {products})""")
        sql("""INSERT INTO orders_order (id, organization_id, order_number, customer_id, customer_snapshot, order_type,
                   channel, status, po_number, price_tier_id, currency_code, terms, primary_sales_rep_id,
                   placed_by_label, placed_by_role, subtotal, request_fingerprint, created_at, updated_at)
               SELECT order_id, %(org)s, 'ORD-' || lpad(g::text, 7, '0'), customer_id, '{}', 'Assisted', 'Web',
                   'Complete', '', price_tier_id, 'USD', 'Net30', sales_rep_id, %(marker)s, 'Admin', total, '',
                   day::timestamptz, now()
               FROM bi""", ids)
        sql("""INSERT INTO orders_orderitem (order_id, position, product_id, sku, product_name, quantity, price,
                   catalog_price, line_total)
               SELECT order_id, 0, product_id, sku, name, qty, price, price, total FROM bi""")
        sql("""INSERT INTO orders_salescredit (order_id, sales_rep_id, share, position)
               SELECT order_id, sales_rep_id, 1, 0 FROM bi WHERE sales_rep_id IS NOT NULL""")
        sql("""INSERT INTO orders_invoice (id, organization_id, order_id, customer_id, primary_sales_rep_id,
                   invoice_number, invoice_date, due_date, currency_code, total, amount_paid, status, paid_at, paid_on,
                   created_at, voided_at)
               SELECT invoice_id, %(org)s, order_id, customer_id, sales_rep_id, 'INV-' || lpad(g::text, 7, '0'), day,
                   day + 30, 'USD', total,
                   CASE WHEN kind >= 11 AND day + 20 <= current_date THEN total ELSE 0 END,
                   CASE WHEN kind < 1 THEN 'Voided' WHEN kind >= 11 AND day + 20 <= current_date THEN 'Paid'
                        ELSE 'Issued' END,
                   CASE WHEN kind >= 11 AND day + 20 <= current_date THEN (day + 20)::timestamptz END,
                   CASE WHEN kind >= 11 AND day + 20 <= current_date THEN day + 20 END,
                   day::timestamptz, CASE WHEN kind < 1 THEN day::timestamptz END
               FROM bi""", ids)
        sql("""INSERT INTO orders_invoiceline (invoice_id, position, order_item_id, product_id, sku, product_name,
                   quantity, price, line_total)
               SELECT bi.invoice_id, 0, item.id, bi.product_id, bi.sku, bi.name, bi.qty, bi.price, bi.total
               FROM bi JOIN orders_orderitem item ON item.order_id = bi.order_id""")
    timings[f"{n:,} orders, items, credits, invoices, lines (INSERT … SELECT)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    today = timezone.localdate(timezone.now(), org.zone)
    previous = month_start(today, 1)
    last_day = month_start(today) - datetime.timedelta(days=1)
    reps = list(OrganizationSalesRep.objects.filter(organization=org).order_by("rep_number"))
    with transaction.atomic():
        for index, rep in enumerate(reps):
            plan_create(organization=org, sales_rep=rep, name=f"Plan {rep.rep_number}", default_rate=Decimal("0.05"),
                        quota=Decimal("40000.00") + index * 1000, active=True)
        sql("""INSERT INTO commissions_commissionstatement (id, organization_id, sales_rep_id, plan_id, period_start,
                   period_end, currency_code, include_earlier, status, sales_total, quota, lines_total,
                   adjustments_total, total, payment_reference, failure, created_at, updated_at)
               SELECT gen_random_uuid(), %(org)s, r.id, p.id, %(start)s, %(end)s, 'USD', true,
                   CASE WHEN mod(row_number() OVER (ORDER BY r.rep_number), 3) = 0 THEN 'Approved' ELSE 'Draft' END,
                   1000 + mod(abs(hashtext(r.rep_number)), 5000), p.quota, 50 + mod(abs(hashtext(r.rep_number)), 250), 0,
                   50 + mod(abs(hashtext(r.rep_number)), 250), '', '', now(), now()
               FROM salesreps_organizationsalesrep r
               JOIN commissions_commissionplan p ON p.sales_rep_id = r.id AND p.active
               WHERE r.organization_id = %(org)s""", {**ids, "start": previous, "end": last_day})
        sql("""INSERT INTO commissions_statementdispute (id, statement_id, status, note, invoice_number, sku, raised_by,
                   raised_at, resolution, resolved_by)
               SELECT gen_random_uuid(), id, 'Open', 'Missing an invoice', '', '', 'rep', now(), '', ''
               FROM commissions_commissionstatement WHERE organization_id = %(org)s AND status = 'Draft'
               ORDER BY sales_rep_id LIMIT 10""", ids)
    timings["50 plans (plan_create), 50 statements, 10 disputes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sql("VACUUM ANALYZE orders_order, orders_orderitem, orders_salescredit, orders_invoice, orders_invoiceline, "
        "commissions_commissionplan, commissions_commissionstatement, commissions_statementdispute")
    timings["VACUUM ANALYZE"] = time.perf_counter() - t0
    return timings


def prepare(url: str, invoices: int, reseed: bool) -> str:
    fresh = reseed or not load_seed.database_exists(url)
    if fresh:
        recreate_database(url)
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    seeded = load_seed.seeded_counts() == load_seed.EXPECTED and scalar(
        "SELECT count(*) FROM orders_order WHERE placed_by_label = %s", [MARKER]) == invoices
    if seeded:
        return "reused (already seeded; --reseed forces a fresh one)"
    if not fresh:
        connection.close()
        recreate_database(url)
        call_command("migrate", verbosity=0)
    for step, seconds in {**load_seed.load(), **seed_invoices(invoices)}.items():
        print(f"  seed: {step:<62} {seconds:7.2f} s")
    return "seeded"


def measure(get, repeat: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get()  # warm: templates, caches, connection
    times, counts = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            get()
            times.append(time.perf_counter() - t0)
        counts.add(len(captured))
    return times, max(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=240_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/nymble_dash")
    how = prepare(url, args.invoices, args.reseed)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from nymble.models import Membership, Organization, Role

    org = Organization.objects.get(org_code=load_seed.ORG_CODE)
    staff = Membership.objects.get(organization=org, role=Role.ADMIN).user
    if not staff.is_staff:
        staff.is_staff = True
        staff.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(staff)

    def page(path):
        def get():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        return get

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    counts = scalar("SELECT count(*) FROM customers_customer"), scalar("SELECT count(*) FROM orders_invoice")
    print(f"database {load_seed.database_name(url)}: {how}; {counts[0]:,} customers, {counts[1]:,} invoices")
    print(f"{'':32} {'median':>10} {'p90':>10} {'queries':>8}   ({args.repeat} requests each)")
    results = {}
    for name, get in (("GET /admin/ (the dashboard)", page("/admin/")),
                      ("GET /admin/nymble/pricetier/", page("/admin/nymble/pricetier/")),
                      ("SELECT 1 round trip", select_one)):
        times, queries = measure(get, args.repeat)
        results[name] = times
        p90 = sorted(times)[max(0, int(len(times) * 0.9) - 1)]
        print(f"{name:32} {statistics.median(times) * 1000:8.1f} ms {p90 * 1000:8.1f} ms {queries:8d}")
    ratio = statistics.median(results["GET /admin/ (the dashboard)"]) / statistics.median(
        results["GET /admin/nymble/pricetier/"])
    print(f"the dashboard takes {ratio:.1f}x the trivial admin page")

    with CaptureQueriesContext(connection) as captured:
        page("/admin/")()
    print("slowest queries of one dashboard request:")
    for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
