"""The earliest free times across many calendars (issue 23): the call centre's "earliest cardiology?", the
desk's first free time of a service, and the public booking pages' free times.

One core, `free_times_by_day`: the free slots of every calendar over local days, read by
`selectors.calendar_free_days` (the slot engine and the booking rules, as the week calendars show them: holds
by others and a partner's cut-off left out) in the same few queries however many calendars, sorted by time.
`first_free` asks it for growing spans of days from today until enough are found or the horizon is reached.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from medbook.core.tenancy import Actor
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.scheduling import selectors
from medbook.scheduling.selectors import Calendar

FIRST_FREE_SHOWN = 10  # the earliest free times offered at once
HORIZON_WEEKS = 8  # how far ahead the first free time is searched
FIRST_FREE_DAYS = HORIZON_WEEKS * 7
EARLIEST_OFFSET = timedelta(hours=14)  # the zone furthest ahead of UTC
FIRST_SPAN_DAYS = 7  # the first span of days read; each next span is twice as long (few rounds, few queries)


@dataclass(frozen=True)
class FreeTime:
    """A free time of a calendar: when (UTC), where, with whom, for which service."""

    starts_at: datetime
    location: Location
    physician: Physician
    service: Service

    @property
    def institution(self) -> Institution:
        return self.physician.institution

    @property
    def seconds(self) -> int:
        """The start as Unix seconds: how a link names the time (`online.selectors.chosen_time` reads it)."""
        return int(self.starts_at.timestamp())


def free_times_by_day(
    *, actor: Actor, calendars: Sequence[Calendar], date_from: date, date_until: date
) -> Iterator[list[FreeTime]]:
    """The free slots of the calendars as the actor may book them, one local day after another from
    date_from to date_until (the n-th list is day date_from + n in each calendar's zone), each day's earliest
    first (then by physician and location): one read of `selectors.calendar_free_days` (the times of
    bookings and others' holds only, not the bookings), each day cut only when asked for."""
    for free in selectors.calendar_free_days(
        actor=actor, calendars=calendars, date_from=date_from, date_until=date_until
    ):
        found = [
            FreeTime(slot.starts_at, calendar.location, calendar.physician, calendar.service)
            for calendar, slots in zip(calendars, free, strict=True)
            for slot in slots
        ]
        found.sort(key=_order)
        yield found


def first_free(
    *,
    actor: Actor,
    calendars: Sequence[Calendar],
    limit: int = FIRST_FREE_SHOWN,
    horizon_days: int = FIRST_FREE_DAYS,
) -> list[FreeTime]:
    """The `limit` earliest free times of the calendars the actor may book (the caller chose them from the
    actor's offers), from now up to `horizon_days` ahead.

    Read in spans of days (a week, then two, four …), each span in the same few queries however many
    calendars and cut day by day, stopping once `limit` are found that all start before the next day could
    begin in any zone.
    """
    if not calendars or limit <= 0:
        return []
    # A day before today in UTC is today or earlier in every zone: no calendar's today is missed (its past
    # slots the booking rules leave out).
    start = timezone.now().astimezone(UTC).date() - timedelta(days=1)
    end = start + timedelta(days=horizon_days)
    found: list[FreeTime] = []
    span = FIRST_SPAN_DAYS
    while start <= end:
        until = min(start + timedelta(days=span - 1), end)
        by_day = free_times_by_day(actor=actor, calendars=calendars, date_from=start, date_until=until)
        for offset, times in enumerate(by_day):
            found += times
            found.sort(key=_order)
            if _enough(found, limit, next_day=start + timedelta(days=offset + 1)):
                return found[:limit]  # the span's later days are never cut
        start, span = until + timedelta(days=1), span * 2
    return found[:limit]


def _order(free: FreeTime) -> tuple:
    return (free.starts_at, free.physician.full_name, free.location.name, free.physician.pk)


def _enough(found: list[FreeTime], limit: int, *, next_day: date) -> bool:
    """Whether the `limit` earliest are found: as many, the last of them before the next span's day starts
    anywhere (at UTC+14, the earliest zone)."""
    earliest_next = datetime.combine(next_day, time.min, tzinfo=UTC) - EARLIEST_OFFSET
    return len(found) >= limit and found[limit - 1].starts_at < earliest_next
