"""Searching names as people type them: case and accents ignored ("nemeth" finds "Németh"), alike on
PostgreSQL (unaccent, wrapped in an indexable function) and SQLite (a function registered on each connection)."""

import unicodedata

from django.db.models import Func, TextField


def fold(text: str) -> str:
    """The text without accents, in lower case: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class Folded(Func):
    """A column folded like `fold()`, in SQL: `medbook_fold`, a function registered on each SQLite
    connection and, on PostgreSQL, lower(unaccent()) made IMMUTABLE by the patients' migration 0004, so
    that it can compute a stored column (Patient.search_name)."""

    function = "medbook_fold"
    output_field = TextField()


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """Give every SQLite connection the `medbook_fold` function (connection_created)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("medbook_fold", 1, fold, deterministic=True)
