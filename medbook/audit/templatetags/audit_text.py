"""The audit log's entries as a person reads them: acts and details in words of the reader's language
(medbook.audit.words), times in the institution's zone, not ISO/UTC."""

from django import template
from django.utils.dateparse import parse_datetime

from medbook.audit.words import ACTION_WORDS, DETAIL_WORDS, VALUE_WORDS
from medbook.core.timefmt import when

register = template.Library()


def _readable(value, where):
    if isinstance(value, str) and "T" in value and parse_datetime(value) is not None:
        return when(value, where)
    if isinstance(value, bool | str) and value in VALUE_WORDS:
        return VALUE_WORDS[value]
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(_readable(item, where)) for item in value)
    if isinstance(value, dict):
        return "{" + "; ".join(f"{_key(k)}: {_readable(v, where)}" for k, v in value.items()) + "}"
    return value


def _key(key: str) -> str:
    return str(DETAIL_WORDS.get(key, key))


@register.filter
def action_words(code: str) -> str:
    """An act's name (`booking.cancel` → "Booking cancelled"); a code without words stays as it is."""
    return str(ACTION_WORDS.get(code, code))


@register.filter
def readable_details(details, where=None) -> str:
    """`name: value` pairs of an entry's details in words, the times shown in `where`'s zone (an institution)."""
    if not isinstance(details, dict):
        return str(details or "")
    return "; ".join(f"{_key(key)}: {_readable(value, where)}" for key, value in details.items())
