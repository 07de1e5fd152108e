"""The slot engine: free slots from weekly rules, exceptions and busy times, DST-safe.

Pure functions over plain values so that the invariants can be tested with hypothesis without a database.
Rules are wall-clock times in the institution's zone; every slot is an absolute (UTC) interval.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open absolute interval [starts_at, ends_at) in UTC."""

    starts_at: datetime
    ends_at: datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def contains(self, other: "Interval") -> bool:
        return self.starts_at <= other.starts_at and other.ends_at <= self.ends_at


@dataclass(frozen=True)
class Rule:
    """A weekly working-hours rule (weekday 0 = Monday)."""

    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or day >= self.valid_from)
            and (self.valid_until is None or day <= self.valid_until)
        )


def local_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """Turn a wall-clock time on a day into UTC (a time skipped by DST maps past the gap)."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def days(date_from: date, date_until: date) -> Iterator[date]:
    """Every day from date_from to date_until inclusive."""
    day = date_from
    while day <= date_until:
        yield day
        day += timedelta(days=1)


def working_intervals(
    rules: Iterable[Rule],
    closed_days: Iterable[tuple[date, date]],
    tz: ZoneInfo,
    date_from: date,
    date_until: date,
) -> list[Interval]:
    """The absolute intervals of work over local days date_from..date_until, minus closed days."""
    rules = list(rules)
    closed = list(closed_days)
    intervals = []
    for day in days(date_from, date_until):
        if any(start <= day <= end for start, end in closed):
            continue
        for rule in rules:
            if rule.applies_on(day):
                start = local_to_utc(day, rule.start_time, tz)
                end = local_to_utc(day, rule.end_time, tz)
                if end > start:
                    intervals.append(Interval(start, end))
    return sorted(set(intervals))


def grid_slots(intervals: Iterable[Interval], duration: timedelta) -> list[Interval]:
    """Cut each working interval into back-to-back slots of the duration, anchored at its start.

    Steps are taken in absolute time, so a DST change inside an interval neither adds nor drops a slot.
    """
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    slots = []
    for interval in intervals:
        start = interval.starts_at
        while start + duration <= interval.ends_at:
            slots.append(Interval(start, start + duration))
            start += duration
    return sorted(set(slots))


def free_slots(
    candidates: Iterable[Interval], busy: Iterable[Interval], not_before: datetime | None = None
) -> list[Interval]:
    """The candidate slots that overlap no busy interval and do not start before not_before."""
    busy = sorted(busy)
    result = []
    for slot in candidates:
        if not_before is not None and slot.starts_at < not_before:
            continue
        if any(slot.overlaps(b) for b in busy if b.starts_at < slot.ends_at):
            continue
        result.append(slot)
    return result


def inside_working_hours(candidate: Interval, intervals: Iterable[Interval]) -> bool:
    """Tell whether the interval lies wholly inside one working interval."""
    return any(interval.contains(candidate) for interval in intervals)
