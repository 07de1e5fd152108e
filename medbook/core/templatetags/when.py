"""Template filters for dates and times a person reads (medbook.core.timefmt.when)."""

from django import template

from medbook.core.timefmt import when as _when

register = template.Library()


@register.filter
def when(value, where=None) -> str:
    """Date and time in the institution's zone (`where`: an institution or a zone) and the active language."""
    return _when(value, where, "datetime")


@register.filter
def when_date(value, where=None) -> str:
    return _when(value, where, "date")


@register.filter
def when_time(value, where=None) -> str:
    return _when(value, where, "time")


@register.filter
def when_day(value, where=None) -> str:
    return _when(value, where, "day")


@register.filter
def when_born(value) -> str:
    """A birth date (a date, no zone), without a weekday."""
    return _when(value, None, "born")
