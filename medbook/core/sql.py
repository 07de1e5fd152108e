"""SQL expressions the ORM lacks, alike on PostgreSQL and SQLite."""

from datetime import UTC, datetime

from django.db.models import FloatField, Func


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
