"""SQL the ORM lacks, alike on PostgreSQL and SQLite: expressions, and queries compiled once per process."""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import FloatField, Func, Model, QuerySet
from django.utils import timezone


class UnixSeconds(Func):
    """A timestamp column as Unix seconds (a float, exact to the microsecond: `instant()` turns it back).

    For the hot reads of many booking times (the free-time searches): psycopg parses a float several times
    faster than Django's pure-Python time-zone loader parses a timestamp."""

    output_field = FloatField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: the whole seconds of the first 19 characters
        # by julianday (exact once rounded), plus the fraction as written (not strftime: its '%s' would read
        # as a placeholder). The column is written twice: a column, not an expression with parameters.
        template = (
            "(CAST(round((julianday(substr(%(expressions)s, 1, 19)) - 2440587.5) * 86400.0) AS INTEGER)"
            " + CAST('0' || substr(%(expressions)s, 20) AS REAL))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def instant(seconds: float) -> datetime:
    """The aware UTC datetime of Unix seconds read by `UnixSeconds`."""
    return datetime.fromtimestamp(seconds, UTC)


M = TypeVar("M", bound=Model)
N = TypeVar("N", bound=Model)
Value = int | str | date | datetime  # what a `Compiled` query takes, alone or in a list


class Compiled:
    """A query written with the ORM, compiled once per process, database and shape, then run with new values.

    On the hottest pages (the public free-time search) building and compiling a queryset costs several
    times what PostgreSQL takes to answer it. `build(**values)` returns a `values_list` queryset of `model`
    in which each keyword (an id, a string, a date, an aware datetime, or a list of them) is a lookup's
    parameter as given, or for a date or time, shifted by a fixed span (`starts - 3 hours`). It is compiled
    twice with different stand-ins to find each one's places among the parameters, and refused
    (ValueError) when the SQL depends on the values or a value is otherwise transformed on its way in. A
    list compiles once per length. `rows(**values)` runs it: the rows as the queryset gives them (the
    fields' converters applied)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet]):
        self.model = model
        self.build = build
        self.compiled: dict[tuple, tuple | None] = {}

    def rows(self, **values: Value | Sequence[Value]) -> list[tuple]:
        using = router.db_for_read(self.model)
        # The active zone too: a lookup on a local date writes it into the SQL.
        shape = (
            using,
            timezone.get_current_timezone_name(),
            *sorted((name, *_shape(value)) for name, value in values.items()),
        )
        if shape not in self.compiled:
            self.compiled[shape] = self._compile(using, values)
        found = self.compiled[shape]
        if found is None:  # the ORM knows without asking: nothing (an empty list, say)
            return []
        sql, params, places, compiler = found
        connection = connections[using]
        filled = list(params)
        for index, (name, item), shift in places:
            value: Any = values[name] if item is None else values[name][item]  # type: ignore[index]
            filled[index] = _adapted(connection, value if shift is None else value + shift)
        with _cursor(connection) as cursor:
            cursor.execute(sql, filled)
            return list(compiler.results_iter([cursor.fetchall()], tuple_expected=True))

    def _compile(self, using: str, values: dict) -> tuple | None:
        connection = connections[using]
        first, second = _stand_ins(values, 0), _stand_ins(values, 1)
        compiler = self.build(**_filled(values, first)).query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
            again, other = self.build(**_filled(values, second)).query.get_compiler(using).as_sql()
        except EmptyResultSet:
            if any(isinstance(value, list | tuple) and not value for value in values.values()):
                return None  # an empty list of ids: nothing, whatever the ids
            raise ValueError(f"{self.build.__qualname__}: the ORM found it empty for the stand-ins") from None
        if again != sql or len(other) != len(params):
            raise ValueError(f"{self.build.__qualname__}: its SQL depends on the values")
        places = []
        for index, (one, two) in enumerate(zip(params, other, strict=True)):
            if one != two:
                places.append((index, *_place_of(connection, one, two, first, second, self.build)))
        if set(first) - {place for _, place, _ in places}:
            # A lookup the ORM dropped or decided alone (an id out of a field's range, say): not filled in.
            raise ValueError(f"{self.build.__qualname__}: a value does not reach the SQL")
        return sql, list(params), places, compiler


def _cursor(connection):
    """A cursor for a compiled query. On PostgreSQL one that binds its parameters on the server (the
    ORM's binds them in the client, so every query is new to PostgreSQL): psycopg prepares a query run
    `prepare_threshold` times on the connection (5; none behind PgBouncer, `config.databases`), and
    PostgreSQL no longer plans it each time. Through Django's cursor wrapper (logging, execute wrappers)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    # What `connection.cursor()` does first: a persistent connection that fails its health check is
    # replaced, and a connection is never shared by threads.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    bound = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(bound) if connection.queries_logged else connection.make_cursor(bound)


def _shape(value: object) -> tuple[str, int | None]:
    if isinstance(value, list | tuple):
        kinds = {_kind(item) for item in value}
        return (kinds.pop() if len(kinds) == 1 else "", len(value))
    return _kind(value), None


def _kind(value: object) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return "datetime"
    if isinstance(value, int | str | date) and not isinstance(value, bool | datetime):
        return type(value).__name__
    raise TypeError(f"Compiled queries take ids, strings, dates and aware datetimes, not {value!r}")


def _stand_ins(values: dict, second: int) -> dict[tuple[str, int | None], Value]:
    """A distinct stand-in for each value (and each item of a list); the second set spaced otherwise than
    the first, so a shifted stand-in matches only its own in both."""
    found: dict[tuple[str, int | None], Value] = {}
    number = 0
    for name, value in values.items():
        for item, one in enumerate(value) if isinstance(value, list | tuple) else [(None, value)]:
            number += 1
            step = number * (3 if second else 2)
            if isinstance(one, datetime):  # at an odd time: a build that truncates one is caught
                found[(name, item)] = datetime(
                    2001 + 50 * second, 1, 1, 13, 17, 29, 123457, tzinfo=UTC
                ) + timedelta(days=100 * step)
            elif isinstance(one, date):
                found[(name, item)] = date(2001 + 50 * second, 1, 1) + timedelta(days=100 * step)
            elif isinstance(one, str):
                found[(name, item)] = f"\x1fstand-in {second} {number}"
            else:  # within every integer field's range; the two sets apart
                found[(name, item)] = (25_000 if second else 20_000) + step * (11 if second else 7) // 3
    return found


def _filled(values: dict, stand_ins: dict) -> dict:
    return {
        name: [stand_ins[(name, item)] for item in range(len(value))]
        if isinstance(value, list | tuple)
        else stand_ins[(name, None)]
        for name, value in values.items()
    }


def _place_of(
    connection, one, two, first: dict, second: dict, build
) -> tuple[tuple[str, int | None], object]:
    """Which value a parameter that differs between the two compilations is, and by how much it is shifted
    (None: not at all)."""
    for place, stand_in in first.items():
        if _adapted(connection, stand_in) == one and _adapted(connection, second[place]) == two:
            return place, None
    read_one, read_two = _read_back(connection, one), _read_back(connection, two)
    if read_one is not None and read_two is not None:
        for place, stand_in in first.items():
            if type(stand_in) is type(read_one) and isinstance(stand_in, date):
                shift = read_one - stand_in
                if read_two - second[place] == shift and abs(shift) < timedelta(days=50):
                    return place, shift
    raise ValueError(f"{build.__qualname__}: a value is transformed on its way into the SQL")


def _adapted(connection, value: Value) -> object:
    """A value as a lookup hands it to the database (SQLite takes dates and times as text)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _read_back(connection, value: object) -> date | datetime | None:
    """A date or time parameter as the value it was made from (`_adapted` undone), else None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if " " in value else date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is None:
        return timezone.make_aware(value, connection.timezone)
    return value if isinstance(value, date) else None


def columns(model: type[Model], through: str = "") -> list[str]:
    """Every column of `model` for `values_list`, reached through the relation `through` ("institution__")."""
    return [through + field.attname for field in model._meta.concrete_fields]


def loaded(row: Sequence, first: type[M], second: type[N]) -> tuple[M, N]:
    """The instances of two models whose `columns` follow one another in `row`, as the ORM loads them."""
    split = len(first._meta.concrete_fields)
    return _instance(first, row[:split]), _instance(second, row[split:])


def _instance(model: type[M], values: Sequence) -> M:
    return model.from_db(router.db_for_read(model), columns(model), values)
