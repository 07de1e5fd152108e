"""Database triggers that refuse to change or remove audit entries, whatever code or SQL tries (F9).

PostgreSQL refuses UPDATE and DELETE row by row; the one update allowed is the user column set to NULL (the
foreign key's SET NULL when a user is deleted), everything else equal. TRUNCATE is not refused: the test
suite's flush uses it; the signed tree heads show a truncated log as one shorter than the heads.
SQLite (the quick start) refuses UPDATE of every column but that one; it cannot refuse DELETE, because
Django's flush deletes rows there: the model and its queryset refuse it instead.

A third trigger queues each new entry for the sealer (QUEUE_*): the writer's only extra work is that insert
into audit_auditpending, in its own transaction, so an entry is queued exactly when it commits.
"""

TABLE = "audit_auditentry"
PG_FUNCTION = "audit_auditentry_refuse_change"
PG_TRIGGER = "audit_auditentry_append_only"
SQLITE_TRIGGERS = ("audit_auditentry_no_update", "audit_auditentry_no_user_change")
# Every column but user_id, for SQLite's UPDATE OF (a new column must be added here and to a migration).
SQLITE_GUARDED_COLUMNS = (
    "id",
    "created_at",
    "institution_id",
    "user_email",
    "organization_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "ip_address",
    "request_id",
    "details",
    "prev_hash",
    "row_hash",
    "leaf_hash",
    "personal_hash",
)
MESSAGE = "audit entries are append-only"

PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
       AND (to_jsonb(NEW) - 'user_id') = (to_jsonb(OLD) - 'user_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}: % refused on {TABLE}', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {TABLE};
CREATE TRIGGER {PG_TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}();
"""
PG_REMOVE = f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {TABLE}; DROP FUNCTION IF EXISTS {PG_FUNCTION}();"
SQLITE_INSTALL = (
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGERS[0]} BEFORE UPDATE OF {', '.join(SQLITE_GUARDED_COLUMNS)} "
    f"ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGERS[1]} BEFORE UPDATE OF user_id ON {TABLE} "
    f"WHEN NEW.user_id IS NOT NULL BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
)


QUEUE = "audit_auditentry_enqueue"
QUEUE_INSERT = "INSERT INTO audit_auditpending (entry_id, institution_id) VALUES (NEW.id, NEW.institution_id)"
PG_QUEUE_INSTALL = f"""
CREATE OR REPLACE FUNCTION {QUEUE}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {QUEUE_INSERT};
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS {QUEUE} ON {TABLE};
CREATE TRIGGER {QUEUE} AFTER INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {QUEUE}();
"""
PG_QUEUE_REMOVE = f"DROP TRIGGER IF EXISTS {QUEUE} ON {TABLE}; DROP FUNCTION IF EXISTS {QUEUE}();"
SQLITE_QUEUE_INSTALL = (
    f"CREATE TRIGGER IF NOT EXISTS {QUEUE} AFTER INSERT ON {TABLE} BEGIN {QUEUE_INSERT}; END;"
)


def _pg_enabled(cursor, name: str) -> bool:
    cursor.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass AND tgenabled <> 'D'",
        [name, TABLE],
    )
    return cursor.fetchone()[0] == 1


def _sqlite_count(cursor, names) -> int:
    cursor.execute(
        f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
        f"AND name IN ({', '.join(['%s'] * len(names))})",
        [TABLE, *names],
    )
    return cursor.fetchone()[0]


def installed(connection) -> bool:
    """Whether the append-only triggers are in place on this database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _pg_enabled(cursor, PG_TRIGGER)
        if connection.vendor == "sqlite":
            return _sqlite_count(cursor, SQLITE_TRIGGERS) == len(SQLITE_TRIGGERS)
    return False


def queue_installed(connection) -> bool:
    """Whether new entries are queued for the sealer by the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _pg_enabled(cursor, QUEUE)
        if connection.vendor == "sqlite":
            return _sqlite_count(cursor, [QUEUE]) == 1
    return False


def install(connection) -> None:
    """Create the triggers (idempotent); other databases get none."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_INSTALL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_INSTALL:
                cursor.execute(statement)


def remove(connection) -> None:
    """Drop the triggers (the migration's reverse)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_REMOVE)
        elif connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def queue_install(connection) -> None:
    """Create the trigger that queues new entries for the sealer (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_QUEUE_INSTALL)
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_QUEUE_INSTALL)


def queue_remove(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_QUEUE_REMOVE)
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {QUEUE}")
