"""Indexes for the dashboard's aggregates over invoices (bench/dashboard.py measures them).

They live with the dashboard, whose reads they serve, as plain SQL on the orders app's table (the
same statement on PostgreSQL and SQLite): twelve months of sales are read from the first one alone
(an index-only scan on PostgreSQL), and the unpaid invoices past due from the small partial one.
"""
from django.db import migrations

SALES = """CREATE INDEX IF NOT EXISTS dashboard_invoice_sales
    ON orders_invoice (organization_id, invoice_date, status, currency_code, total, order_id)"""
UNPAID = """CREATE INDEX IF NOT EXISTS dashboard_invoice_unpaid
    ON orders_invoice (organization_id, due_date) WHERE status IN ('Issued', 'PartiallyPaid')"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        migrations.RunSQL(SALES, "DROP INDEX IF EXISTS dashboard_invoice_sales"),
        migrations.RunSQL(UNPAID, "DROP INDEX IF EXISTS dashboard_invoice_unpaid"),
    ]
