"""The one way a date or time is shown to a person: in the institution's zone and the reader's language.

Times are stored in UTC. Pages, e-mails, exports and the audit log call `when()` (or the `when` template
filters), never `isoformat()` or `strftime()` on a stored time.
"""

from contextlib import nullcontext
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime

# Per language: the formats of Django's date filter; Hungarian writes year, month, day, weekday.
FORMATS = {
    # short_day: a chart's axis; born: a birth date (no weekday, no zone).
    "en": {
        "datetime": "D j M Y, H:i",
        "date": "D j M Y",
        "time": "H:i",
        "day": "D j M",
        "short_day": "j M",
        "born": "j M Y",
    },
    # Hungarian weekday names are written in lower case; "@" stands for it (Django capitalises "l").
    "hu": {
        "datetime": "Y. F j., \\@ H:i",
        "date": "Y. F j., \\@",
        "time": "H:i",
        "day": "F j., \\@",
        "short_day": "m. d.",
        "born": "Y. m. d.",
    },
}
TIME_READS_ALIKE = {formats["time"] for formats in FORMATS.values()} == {"H:i"}


def zone_of(where) -> ZoneInfo | None:
    """The time zone named by an institution (anything with `time_zone`), a zone name, or a tzinfo."""
    if where is None:
        return None
    if isinstance(where, str):
        return ZoneInfo(where)
    name = getattr(where, "time_zone", None)
    if isinstance(name, str):
        return ZoneInfo(name)
    return where


def when(value, where=None, kind: str = "datetime", language: str | None = None) -> str:
    """`value` (an aware datetime, an ISO string, or a date) as a person reads it, in `where`'s zone
    (else the active zone) and `language` (else the active language)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_current_timezone())
        value = timezone.localtime(value, zone_of(where) or timezone.get_current_timezone())
        if kind == "time" and TIME_READS_ALIKE:
            # Hours and minutes read alike in every language: a list of free times shows dozens of them.
            return f"{value.hour:02d}:{value.minute:02d}"
    elif not isinstance(value, date):
        return str(value)
    active = (translation.get_language() or "en").split("-")[0]
    language = (language or active).split("-")[0]
    pattern = FORMATS.get(language, FORMATS["en"])[kind]
    # Switching the language costs more than the formatting: only for a reader of another language.
    with translation.override(language) if language != active else nullcontext():
        text = formats.date_format(value, pattern)
        if "@" in text:
            text = text.replace("@", formats.date_format(value, "l").lower())
        return text
