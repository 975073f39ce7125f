"""Trigram indexes for customer search (customers.selectors.customer_search), PostgreSQL only.

`icontains` is `UPPER(col) LIKE UPPER('%word%')`, which a GIN index over `UPPER(col)` with
pg_trgm's operator class serves. pg_trgm is a trusted extension (PostgreSQL 13+): the database
owner may create it. Where it cannot be created, search still works, unindexed, and this says so.
Other databases (SQLite, the embedded default) get nothing.
"""
from django.db import DatabaseError, migrations, transaction

INDEXES = {
    "customers_customer": ("company_name", "customer_number", "company_email"),
    "customers_contact": ("first_name", "last_name", "email"),
}


def _name(table, column):
    return f"{table}_{column}_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        print(f"\n  pg_trgm is not available ({exc}); customer search runs without its indexes.")
        return
    for table, columns in INDEXES.items():
        for column in columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {_name(table, column)} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in INDEXES.items():
        for column in columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
