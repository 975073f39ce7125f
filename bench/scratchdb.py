"""The benchmarks' scratch PostgreSQL database: named by DATABASE_URL, dropped and re-created
through the `postgres` maintenance database, never one of PostgreSQL's own."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

PROTECTED = ("postgres", "template0", "template1")


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres", query=""))


def database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database_name(url),)).fetchone() is not None


def recreate_database(url: str) -> str:
    import psycopg

    name = database_name(url)
    if not name or name in PROTECTED:
        raise SystemExit(f"Refusing to drop database {name!r}: name a scratch database such as nymble_bench.")
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(url: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def sql(query: str, params=None):
    """A query on Django's connection: its rows, or None for a statement without any."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def scalar(query: str, params=None):
    return sql(query, params)[0][0]
