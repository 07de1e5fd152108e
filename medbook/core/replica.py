"""Reads of the reports, statements and exports from the streaming replica, while it keeps up.

Every write and every migration goes to `default`, the primary, and so does every read, except inside
code marked replica-readable (`replica_readable` on a view, or `with replica_reads():`). There the reads go
to the `replica` alias (DATABASE_REPLICA_URL) when it exists, answers, and is at most
DATABASE_REPLICA_MAX_LAG_SECONDS behind; otherwise to the primary. Marked code running inside a transaction
on the primary reads the primary (it may read what it wrote). The marker is put on the view's body: the
session, the user and the actor's memberships are read before it (middleware, the page decorators, the
API's token check), from the primary.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest

REPLICA = "replica"
# How long one process trusts its last measure of the lag before it asks the replica again (a constant:
# the bound, DATABASE_REPLICA_MAX_LAG_SECONDS, is the setting; this only spares a query per read).
LAG_CACHE_SECONDS = 5.0
# The replica's delay behind the primary in seconds: 0 when everything received has been replayed (an idle
# primary sends nothing, and the last replayed transaction's age would grow without any lag); NULL when it
# is not a replica (promoted, or pointed at a primary by mistake), which counts as unusable.
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)
SAFE_METHODS = ("GET", "HEAD")

_replica_readable: ContextVar[bool] = ContextVar("replica_readable", default=False)
_measured: dict[str, tuple[float, float | None]] = {}  # alias -> (monotonic time, lag or None)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Let the reads inside go to the replica (when it is there and keeps up)."""
    token = _replica_readable.set(True)
    try:
        yield
    finally:
        _replica_readable.reset(token)


def replica_readable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view's reads replica-readable, for GET and HEAD only: a request that writes reads the primary.

    Put it under the access decorator (the actor is resolved from the primary before the body runs).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> Any:
        if request.method not in SAFE_METHODS:
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper


def replica_lag(alias: str = REPLICA) -> float | None:
    """The replica's lag in seconds as measured at most LAG_CACHE_SECONDS ago; None when it cannot say."""
    now = time.monotonic()
    measured = _measured.get(alias)
    if measured is not None and now - measured[0] < LAG_CACHE_SECONDS:
        return measured[1]
    lag: float | None
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
        lag = None if row is None or row[0] is None else float(row[0])
    except DatabaseError:  # down, refused, or its pool timed out: read the primary
        lag = None
        connections[alias].close()
    _measured[alias] = (now, lag)
    return lag


def replica_forget() -> None:
    """Forget the measured lags (the next marked read asks the replica again)."""
    _measured.clear()


def read_alias() -> str:
    """Where a read goes now."""
    if not _replica_readable.get() or REPLICA not in connections.settings:
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    lag = replica_lag()
    if lag is None or lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    """DATABASE_ROUTERS: writes and migrations on the primary, reads as `read_alias` says."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
