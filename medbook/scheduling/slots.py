"""The slot engine: free slots from weekly rules, exceptions and busy times, DST-safe.

Pure functions over plain values so that the invariants can be tested with hypothesis without a database.
Rules are wall-clock times in the institution's zone; every slot is an absolute (UTC) interval.
"""

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from operator import attrgetter
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


# Intervals' order as a sort key: what `order=True` compares, without a Python call per comparison.
BY_TIME = attrgetter("starts_at", "ends_at")


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
    """Turn a wall-clock time on a day into UTC (a time skipped by DST maps to the end of the gap).

    An ambiguous time (DST ending) means its first occurrence. Every wall time inside a gap maps to the
    same instant so that the mapping keeps the order of wall times: two rules that do not overlap on the
    clock never give overlapping intervals.
    """
    local = datetime.combine(day, wall, tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # fold=1 reads a skipped time with the offset after the change, which lands before the gap.
    return _transition(tz, before=local.replace(fold=1).astimezone(UTC), after=instant)


def _transition(tz: ZoneInfo, *, before: datetime, after: datetime) -> datetime:
    """The first instant of the UTC offset that holds at `after`, searched back to `before` (whole seconds)."""
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    offset = datetime.fromtimestamp(low, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


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
    return merge_overlapping(intervals)


def merge_overlapping(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort the intervals and join those that overlap, so that overlapping rules never offer overlapping slots.

    Intervals that only touch stay apart: each keeps the slot grid anchored at its own start.
    """
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.starts_at < merged[-1].ends_at:
            last = merged[-1]
            merged[-1] = Interval(last.starts_at, max(last.ends_at, interval.ends_at))
        else:
            merged.append(interval)
    return merged


def grid_slots(
    intervals: Iterable[Interval], duration: timedelta, step: timedelta | None = None
) -> list[Interval]:
    """Cut each working interval into slots of the duration starting every `step` (by default back to
    back), anchored at its start.

    Steps are taken in absolute time, so a DST change inside an interval neither adds nor drops a slot.
    """
    step = step or duration
    if duration <= timedelta(0) or step <= timedelta(0):
        raise ValueError("duration and step must be positive")
    slots = []
    for interval in intervals:
        start = interval.starts_at
        while start + duration <= interval.ends_at:
            slots.append(Interval(start, start + duration))
            start += step
    if all(a.starts_at < b.starts_at for a, b in pairwise(slots)):
        return slots  # sorted intervals apart from one another (`merge_overlapping`'s): nothing to sort out
    return sorted(set(slots), key=BY_TIME)


def free_slots(
    candidates: Iterable[Interval], busy: Iterable[Interval], not_before: datetime | None = None
) -> list[Interval]:
    """The candidate slots that overlap no busy interval and do not start before not_before."""
    busy = sorted(busy, key=BY_TIME)
    starts = [b.starts_at for b in busy]
    # latest_end[i] is the latest end among busy[:i]: a slot overlaps a busy interval exactly when one of
    # those starting before the slot ends also ends after the slot starts.
    latest_end: list[datetime | None] = [None]
    for b in busy:
        previous = latest_end[-1]
        latest_end.append(b.ends_at if previous is None else max(previous, b.ends_at))
    result = []
    for slot in candidates:
        if not_before is not None and slot.starts_at < not_before:
            continue
        end = latest_end[bisect_left(starts, slot.ends_at)]
        if end is not None and end > slot.starts_at:
            continue
        result.append(slot)
    return result


def inside_working_hours(candidate: Interval, intervals: Iterable[Interval]) -> bool:
    """Tell whether the interval lies wholly inside one working interval."""
    return any(interval.contains(candidate) for interval in intervals)
