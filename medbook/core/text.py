"""Searching names as people type them: case and accents ignored ("nemeth" finds "Németh"), alike on
PostgreSQL (the unaccent extension) and SQLite (a function registered on each connection)."""

import unicodedata

from django.db.models import Func, TextField


def fold(text: str) -> str:
    """The text without accents, in lower case: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class Folded(Func):
    """A column folded like `fold()`, in SQL."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="medbook_fold", **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="lower(unaccent(%(expressions)s))", **extra_context
        )


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """Give every SQLite connection the `medbook_fold` function (connection_created)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("medbook_fold", 1, fold, deterministic=True)
