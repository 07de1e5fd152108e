"""FHIR search as R4 §3.1.1 reads it, in one place for every resource type of this server.

- Parameters: each search declares the ones it supports; any other is refused (400) under
  `Prefer: handling=strict` and otherwise ignored, and left out of the Bundle's `self` link, which shows
  only the parameters applied. Empty values are ignored (§3.1.1.5). `POST [type]/_search` takes the same
  parameters from a form-encoded body (and the URL).
- Paging: `_count` is capped at MAX_COUNT (a bigger one is applied as MAX_COUNT, and `self` says so);
  `_offset` is this server's own, written into the `next` links.
- Dates (§3.1.1.5.6): a value's precision gives it an implicit range (`2026-03-05` is that whole local day,
  `2026-03` the month, `2026-03-05T12:00Z` that minute), and the prefixes compare the target with it:
  `eq` within, `ne` outside, `gt`/`sa` after its end, `lt`/`eb` before its start, `ge` from its start,
  `le` before its end, `ap` within it widened by a tenth of its distance from now. A value without an offset
  is read in the server's time zone.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.db.models import Q
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.core.errors import DomainError

DEFAULT_COUNT, MAX_COUNT = 50, 200
MAX_OFFSET = 100_000  # deeper than any page a person or a client walks
PAGING = ("_count", "_offset")
WHOLE = re.compile(r"[0-9]{1,12}")
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
DATE_TEXT = re.compile(
    r"(?P<year>[0-9]{4})(-(?P<month>[0-9]{2})(-(?P<day>[0-9]{2})"
    r"(T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(:(?P<second>[0-9]{2})(\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)


class BadRequest(DomainError):
    """A request FHIR refuses as malformed (400 OperationOutcome): a search it cannot carry out as asked, an
    update whose body names another resource."""


def _clamped(moment: datetime) -> datetime:
    """The moment in UTC; beyond what a date-time holds, the earliest or latest one."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if moment.year < 2000 else LATEST


def _shifted(moment: datetime, delta: timedelta) -> datetime:
    try:
        return moment + delta
    except OverflowError:
        return EARLIEST if delta < timedelta(0) else LATEST


def _next_day(day: date, tz: tzinfo, *, years: int = 0, months: int = 0, days: int = 0) -> datetime:
    """Local midnight `years`, `months` or `days` after `day`, in UTC (the latest moment past year 9999)."""
    try:
        month_index = day.year * 12 + day.month - 1 + months + years * 12
        later = date(month_index // 12, month_index % 12 + 1, 1) if years or months else day
        later += timedelta(days=days)
    except (ValueError, OverflowError):
        return LATEST
    return _clamped(datetime.combine(later, datetime.min.time(), tzinfo=tz))


@dataclass(frozen=True)
class DateCondition:
    """One date parameter: its prefix and the implicit range [low, high) of its value, in UTC."""

    prefix: str
    low: datetime
    high: datetime

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The [from, until) a matching moment lies in (None: open), or (None, None) for `ne`."""
        prefix = self.prefix
        if prefix == "ap":
            margin = abs(self.low - timezone.now()) / 10
            return _shifted(self.low, -margin), _shifted(self.high, margin)
        return {
            "eq": (self.low, self.high),
            "gt": (self.high, None),
            "sa": (self.high, None),
            "ge": (self.low, None),
            "lt": (None, self.low),
            "eb": (None, self.low),
            "le": (None, self.high),
        }.get(prefix, (None, None))

    def q(self, name: str) -> Q:
        """The condition on a model's date-time field `name`."""
        if self.prefix == "ne":
            return ~Q(**{f"{name}__gte": self.low, f"{name}__lt": self.high})
        low, high = self.bounds()
        found = Q()
        if low is not None:
            found &= Q(**{f"{name}__gte": low})
        if high is not None:
            found &= Q(**{f"{name}__lt": high})
        return found

    def matches(self, moment: datetime) -> bool:
        if self.prefix == "ne":
            return not self.low <= moment < self.high
        low, high = self.bounds()
        return (low is None or moment >= low) and (high is None or moment < high)


def date_condition(value: str, tz: tzinfo | None = None) -> DateCondition:
    """The date parameter `value` (`[prefix]YYYY[-MM[-DD[Thh:mm[:ss[.f]][offset]]]]`), or BadRequest."""
    prefix, text = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
    found = DATE_TEXT.fullmatch(text)
    if found is None:
        raise BadRequest(
            _("Dates are searched as [prefix]YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss]Z, e.g. ge2026-01-31.")
        )
    part = found.groupdict()
    tz = tz or timezone.get_current_timezone()
    if part["offset"]:
        tz = UTC if part["offset"] == "Z" else _offset(part["offset"])
    try:
        low_local = datetime(
            int(part["year"]),
            int(part["month"] or 1),
            int(part["day"] or 1),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int((part["fraction"] or "0")[:6].ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        raise BadRequest(_("%(value)s is not a date.") % {"value": text[:40]}) from None
    low = _clamped(low_local)
    day = low_local.date()
    if part["fraction"]:
        high = _shifted(low, timedelta(microseconds=max(1, 10 ** (6 - min(len(part["fraction"]), 6)))))
    elif part["second"]:
        high = _shifted(low, timedelta(seconds=1))
    elif part["minute"]:
        high = _shifted(low, timedelta(minutes=1))
    elif part["day"]:
        high = _next_day(day, tz, days=1)
    elif part["month"]:
        high = _next_day(day, tz, months=1)
    else:
        high = _next_day(day, tz, years=1)
    return DateCondition(prefix, low, high)


def _offset(text: str) -> tzinfo:
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 14 or minutes > 59:
        raise BadRequest(_("%(value)s is not a time-zone offset.") % {"value": text})
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone.get_fixed_timezone(delta if text[0] == "+" else -delta)


def date_window(conditions: list[DateCondition]) -> tuple[datetime | None, datetime | None]:
    """The narrowest [from, until) every condition but `ne` allows (None: open)."""
    low: datetime | None = None
    high: datetime | None = None
    for condition in conditions:
        start, end = condition.bounds()
        if start is not None:
            low = start if low is None else max(low, start)
        if end is not None:
            high = end if high is None else min(high, end)
    return low, high


# --- Parameters ------------------------------------------------------------------------------------


def strict(request: HttpRequest) -> bool:
    """`Prefer: handling=strict` (the preference may sit among others, comma-separated)."""
    preferences = request.headers.get("Prefer", "")
    return any(p.strip().replace(" ", "").lower() == "handling=strict" for p in preferences.split(","))


@dataclass
class Search:
    """The parameters of one search that this server applies, with the page asked for."""

    params: dict[str, list[str]]
    offset: int = 0
    count: int = DEFAULT_COUNT
    path: str = field(default="")

    def get(self, name: str, default: str = "") -> str:
        values = self.params.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.params.get(name, []))

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def query(self, offset: int) -> list[tuple[str, str]]:
        """The applied parameters with the page starting at `offset`, for `self` and `next`."""
        pairs = [(k, v) for k, values in self.params.items() if k not in PAGING for v in values]
        return [*pairs, ("_count", str(self.count)), ("_offset", str(offset))]


def search_of(request: HttpRequest, supported: tuple[str, ...]) -> Search:
    """The search the request asks for: its parameters (the URL's, and a `_search` form's), of which those
    not `supported` are refused under `Prefer: handling=strict` and otherwise dropped."""
    merged: dict[str, list[str]] = {}
    sources: list[QueryDict] = [request.GET]
    if request.method == "POST" and request.body:  # an empty form: no parameters, whatever its type
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise BadRequest(_("POST _search takes its parameters as application/x-www-form-urlencoded."))
        sources.append(request.POST)
    for source in sources:
        for name, values in source.lists():
            merged.setdefault(name, []).extend(values)
    return search_from(request, merged, supported)


def search_from(request: HttpRequest, given: dict[str, list[str]], supported: tuple[str, ...]) -> Search:
    """The search of these parameters (a URL's, a form's or an operation's Parameters): empty values
    ignored, those not `supported` refused under `Prefer: handling=strict` and otherwise dropped."""
    merged = {name: kept for name, values in given.items() if (kept := [v for v in values if v != ""])}
    unknown = sorted(name for name in merged if name not in (*supported, *PAGING))
    if unknown and strict(request):
        raise BadRequest(
            _("This server does not support the search parameter(s) %(names)s here.")
            % {"names": ", ".join(name[:60] for name in unknown[:5])}
        )
    params = {name: values for name, values in merged.items() if name not in unknown}
    search = Search(params, path=request.path.removesuffix("/_search"))
    search.offset, search.count = _paging(search)
    return search


def _paging(search: Search) -> tuple[int, int]:
    count_text, offset_text = search.get("_count", str(DEFAULT_COUNT)), search.get("_offset", "0")
    if not (WHOLE.fullmatch(count_text) and WHOLE.fullmatch(offset_text)):  # ASCII digits: not "¹", "١٢"
        raise BadRequest(_("_count and _offset must be whole numbers."))
    count, offset = int(count_text), int(offset_text)
    if count < 1 or not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(_("_count must be at least 1 and _offset 0 to %(offset)s.") % {"offset": MAX_OFFSET})
    return offset, min(count, MAX_COUNT)
