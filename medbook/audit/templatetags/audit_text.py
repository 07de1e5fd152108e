"""The audit log's details as a person reads them: times in the institution's zone, not ISO/UTC."""

from django import template
from django.utils.dateparse import parse_datetime

from medbook.core.timefmt import when

register = template.Library()


def _readable(value, where):
    if isinstance(value, str) and "T" in value and parse_datetime(value) is not None:
        return when(value, where)
    if isinstance(value, list):
        return ", ".join(str(_readable(item, where)) for item in value)
    if isinstance(value, dict):
        return "{" + "; ".join(f"{k}: {_readable(v, where)}" for k, v in value.items()) + "}"
    return value


@register.filter
def readable_details(details, where=None) -> str:
    """`key: value` pairs of an entry's details, the times shown in `where`'s zone (an institution)."""
    if not isinstance(details, dict):
        return str(details or "")
    return "; ".join(f"{key}: {_readable(value, where)}" for key, value in details.items())
