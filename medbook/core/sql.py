"""SQL the ORM lacks, alike on PostgreSQL and SQLite: expressions, and queries compiled once per process."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import count
from typing import TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import FloatField, Func, Model, QuerySet


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
STAND_IN = -(2**62)  # the first stand-in id a `Compiled` query is compiled with (no row has a negative id)


class Compiled:
    """A query written with the ORM, compiled once per process, database and shape, then run with new ids.

    On the hottest pages (the public free-time search) building and compiling a queryset costs several
    times what PostgreSQL takes to answer it. `build(**ids)` returns a `values_list` queryset of `model` in
    which each keyword (an id, or a list of ids) is a lookup's parameter as it is given; it is compiled with
    stand-ins, twice over, to find each one's place among the parameters, and refused (ValueError) if the
    SQL depends on the ids or an id is transformed on its way in. A list compiles once per length.
    `rows(**ids)` runs it: the rows as the queryset gives them (the fields' converters applied)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet]):
        self.model = model
        self.build = build
        self.compiled: dict[tuple, tuple | None] = {}

    def rows(self, **ids: int | Sequence[int]) -> list[tuple]:
        using = router.db_for_read(self.model)
        shape = (using, *sorted((name, _length(value)) for name, value in ids.items()))
        if shape not in self.compiled:
            self.compiled[shape] = self._compile(using, ids)
        found = self.compiled[shape]
        if found is None:  # the ORM knows without asking: nothing (an empty list of ids)
            return []
        sql, params, places, compiler = found
        filled = list(params)
        for index, name, item in places:
            filled[index] = ids[name] if item is None else ids[name][item]  # type: ignore[index]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, filled)
            return list(compiler.results_iter([cursor.fetchall()], tuple_expected=True))

    def _compile(self, using: str, ids: dict) -> tuple | None:
        first, second = _stand_ins(ids, STAND_IN), _stand_ins(ids, STAND_IN // 2)
        compiler = self.build(**first).query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
            again, other = self.build(**second).query.get_compiler(using).as_sql()
        except EmptyResultSet:
            return None
        where = {value: place for place, value in _places(first).items()}
        elsewhere = {value: place for place, value in _places(second).items()}
        if again != sql or len(other) != len(params):
            raise ValueError(f"{self.build.__qualname__}: its SQL depends on the ids")
        places = []
        for index, (one, two) in enumerate(zip(params, other, strict=True)):
            if one == two:
                continue
            if one not in where or where[one] != elsewhere.get(two):
                raise ValueError(f"{self.build.__qualname__}: an id is transformed on its way into the SQL")
            places.append((index, *where[one]))
        return sql, list(params), places, compiler


def _length(value: object) -> int | None:
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    raise TypeError(f"Compiled queries take ids and lists of ids, not {type(value).__name__}")


def _stand_ins(ids: dict, start: int) -> dict:
    """A distinct negative id for each id (and each item of a list), from `start` on."""
    numbers = count(start)
    return {
        name: [next(numbers) for _ in value] if isinstance(value, list | tuple) else next(numbers)
        for name, value in ids.items()
    }


def _places(stand_ins: dict) -> dict[tuple[str, int | None], int]:
    """Each stand-in's keyword and item (None for a single id)."""
    found: dict[tuple[str, int | None], int] = {}
    for name, value in stand_ins.items():
        if isinstance(value, list):
            found.update({(name, item): number for item, number in enumerate(value)})
        else:
            found[(name, None)] = value
    return found


def columns(model: type[Model], through: str = "") -> list[str]:
    """Every column of `model` for `values_list`, reached through the relation `through` ("institution__")."""
    return [through + field.attname for field in model._meta.concrete_fields]


def loaded(row: Sequence, first: type[M], second: type[N]) -> tuple[M, N]:
    """The instances of two models whose `columns` follow one another in `row`, as the ORM loads them."""
    split = len(first._meta.concrete_fields)
    return _instance(first, row[:split]), _instance(second, row[split:])


def _instance(model: type[M], values: Sequence) -> M:
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(router.db_for_read(model), names, values)
