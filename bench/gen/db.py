"""The database side: a fresh database with the application's migrations, COPY, and the constraints
dropped for the load and put back afterwards, so that PostgreSQL validates every row against them."""

import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import psycopg

# Loaded with their indexes and constraints (but the primary key) dropped, and re-made afterwards.
BIG_TABLES = ("patients_patient", "scheduling_booking", "audit_auditentry", "notifications_outboxmessage")
SAFE_NAME = re.compile(r"^medbook_bench[a-z0-9_]*$")


def database_url(name: str, base: str | None) -> str:
    """The URL of database `name` on the server of `base` (DATABASE_URL), else on 127.0.0.1:5432."""
    parts = urlsplit(base or "postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def recreate(url: str, name: str) -> None:
    """Drop and create the database; only one named medbook_bench… (never anybody else's)."""
    if not SAFE_NAME.match(name):
        raise SystemExit(
            f"refusing to drop {name!r}: the generator only recreates databases named medbook_bench…"
        )
    with psycopg.connect(database_url("postgres", url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def connect(url: str) -> psycopg.Connection:
    connection = psycopg.connect(url)
    connection.execute("SET synchronous_commit = off")
    connection.execute("SET maintenance_work_mem = '1GB'")
    return connection


def copy_rows(
    connection: psycopg.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple]
) -> None:
    with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def saved_constraints(connection: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """The table's constraints and indexes but its primary key, as (name, statement that re-makes it)."""
    found = []
    for name, definition in connection.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
        " AND contype <> 'p' ORDER BY contype = 'f', conname",
        [table],
    ):
        found.append((name, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
    for name, definition in connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN"
        " (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) ORDER BY indexname",
        [table, table],
    ):
        found.insert(0, (name, definition))
    return found


def drop_constraints(connection: psycopg.Connection) -> dict[str, list[tuple[str, str]]]:
    saved = {table: saved_constraints(connection, table) for table in BIG_TABLES}
    for table, items in saved.items():
        for name, statement in items:
            if statement.startswith("ALTER TABLE"):
                connection.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            else:
                connection.execute(f"DROP INDEX {name}")
    connection.commit()
    return saved


def restore_constraints(url: str, saved: dict[str, list[tuple[str, str]]]) -> dict[str, float]:
    """Re-make the indexes and constraints (validating every row), two tables at a time; seconds per table."""

    # A foreign key locks its table and the one it references: two threads adding them at once can deadlock
    # (booking → patient beside patient's own), so the foreign keys are added afterwards, by one connection.
    def foreign(statement: str) -> bool:
        return " FOREIGN KEY " in statement

    def restore(table: str) -> tuple[str, float]:
        started = time.monotonic()
        with connect(url) as connection:
            for _name, statement in saved[table]:
                if not foreign(statement):
                    connection.execute(statement)
            connection.commit()
        return table, time.monotonic() - started

    order = sorted(saved, key=lambda table: table != "scheduling_booking")
    with ThreadPoolExecutor(max_workers=2) as pool:
        seconds = dict(pool.map(restore, order))
    with connect(url) as connection:
        for table in order:
            started = time.monotonic()
            for _name, statement in saved[table]:
                if foreign(statement):
                    connection.execute(statement)
            connection.commit()
            seconds[table] += time.monotonic() - started
    return seconds


def vacuum_analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def database_size(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
