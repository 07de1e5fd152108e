"""DATABASES from the environment (see .env.example): the one home of the database settings.

`default` is the primary; every write and migration goes there. DATABASE_REPLICA_URL adds `replica`, a
streaming replica of the primary that only the views marked replica-readable read from, while its lag is
within DATABASE_REPLICA_MAX_LAG_SECONDS (medbook/core/replica.py routes). DATABASE_PGBOUNCER=true says both
addresses are a PgBouncer in transaction mode (docs/deployment-db.md). A multi-host DATABASE_URL
(`postgres://u@db1:5432,db2:5432/medbook?target_session_attrs=read-write`, a pg_auto_failover pair) becomes
HOST "db1,db2", PORT "5432,5432" and OPTIONS target_session_attrs, which psycopg 3 connects with as given.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"
# The replica's waits are short: when it cannot answer, the reads fall back to the primary at once.
REPLICA_CONNECT_TIMEOUT_SECONDS = 2


def databases(env: environ.Env, var_dir: Path) -> dict:
    """The DATABASES setting: `default`, and `replica` when DATABASE_REPLICA_URL is set."""
    default = env.db_url("DATABASE_URL", default=f"sqlite:///{var_dir / 'db.sqlite3'}")
    if default["ENGINE"] == SQLITE:
        var_dir.mkdir(exist_ok=True)
        # A file, not memory, so that concurrent test connections wait on the write lock as in production.
        default["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=str(var_dir / "test.sqlite3"))}
        # BEGIN IMMEDIATE takes the write lock before the overlap check, so two bookings cannot interleave.
        default.setdefault("OPTIONS", {}).update(
            {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
        )
    elif default["ENGINE"] == POSTGRESQL:
        _postgresql(env, default)
    result = {"default": default}
    replica_url = env.str("DATABASE_REPLICA_URL", default="")
    if replica_url:
        replica = env.db_url_config(replica_url)
        if replica["ENGINE"] != POSTGRESQL or default["ENGINE"] != POSTGRESQL:
            raise ImproperlyConfigured("DATABASE_REPLICA_URL needs PostgreSQL on both sides.")
        _postgresql(env, replica, connect_timeout=REPLICA_CONNECT_TIMEOUT_SECONDS)
        # The test runner makes no second test database: in tests the alias reads the primary's.
        replica["TEST"] = {"MIRROR": "default"}
        result["replica"] = replica
    return result


def _postgresql(env: environ.Env, settings: dict, connect_timeout: int | None = None) -> None:
    """A psycopg pool per process, or, behind PgBouncer in transaction mode, nothing that needs a session."""
    options = settings.setdefault("OPTIONS", {})
    if connect_timeout is not None:
        options["connect_timeout"] = connect_timeout
    if env.bool("DATABASE_PGBOUNCER", default=False):
        # PgBouncer pools the server connections; each process keeps its one client connection to it.
        # A server connection serves another client after each transaction: no prepared statements, no
        # cursors held across transactions.
        options["prepare_threshold"] = None
        settings["DISABLE_SERVER_SIDE_CURSORS"] = True
        settings["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        settings["CONN_HEALTH_CHECKS"] = True
        return
    # A query run five times on a connection is prepared: the compiled queries of the hot pages, bound on
    # the server (`medbook.core.sql.Compiled`), are no longer planned at each run. (The ORM binds in the
    # client: its queries are never prepared.)
    options["prepare_threshold"] = 5
    if env.bool("DATABASE_POOL", default=True):
        options["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": connect_timeout or 10,
        }


def replica_max_lag_seconds(env: environ.Env) -> float:
    """How far behind the primary the replica may be and still serve the replica-readable views."""
    return env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=30.0)
