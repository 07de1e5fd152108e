"""B-5, B-8: invariants of the pure slot engine over random rules, leave, durations, bookings and time zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbook.scheduling import slots as engine

ZONES = [ZoneInfo(name) for name in ("Europe/Budapest", "America/New_York", "UTC", "Australia/Lord_Howe")]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2027, 12, 31)


def is_transition_day(tz: ZoneInfo, day: date) -> bool:
    """Tell whether the zone's UTC offset changes during the local day."""
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return midnight.utcoffset() != (midnight + timedelta(days=1)).utcoffset()


TRANSITIONS = [
    (tz, day) for tz in ZONES for day in engine.days(FIRST_DAY, LAST_DAY) if is_transition_day(tz, day)
]


def as_time(minute_of_day: int) -> time:
    return time(minute_of_day // 60, minute_of_day % 60)


# The hours around 02:00, where these zones change their clocks, are drawn more often.
minutes_of_day = st.one_of(st.integers(0, 1439), st.integers(60, 240))
zone_days = st.one_of(
    st.sampled_from(TRANSITIONS),
    st.tuples(
        st.sampled_from(ZONES),
        st.integers(0, (LAST_DAY - FIRST_DAY).days).map(lambda n: FIRST_DAY + timedelta(n)),
    ),
)


@st.composite
def disjoint_rules(draw) -> list[engine.Rule]:
    """Weekly rules that never overlap on the clock (the way an admin normally enters them)."""
    rules, cursors = [], [0] * 7
    # Short first gaps put many rules across the night, where the DST changes happen.
    for weekday, gap, length in draw(
        st.lists(
            st.tuples(st.integers(0, 6), st.integers(0, 240), st.integers(1, 60) | st.integers(1, 600)),
            max_size=12,
        )
    ):
        start, end = cursors[weekday] + gap, cursors[weekday] + gap + length
        if end <= 1439:
            rules.append(engine.Rule(weekday, as_time(start), as_time(end)))
            cursors[weekday] = end
    return rules


@st.composite
def any_rules(draw) -> list[engine.Rule]:
    """Weekly rules that may overlap each other and may be limited to a validity period."""
    valid_from = st.none() | zone_days.map(lambda zone_day: zone_day[1])
    drawn = draw(
        st.lists(st.tuples(st.integers(0, 6), minutes_of_day, minutes_of_day, valid_from), max_size=8)
    )
    return [
        engine.Rule(weekday, as_time(min(a, b)), as_time(max(a, b)), valid_from=since)
        for weekday, a, b, since in drawn
        if a != b
    ]


DISJOINT_RULES, ANY_RULES = disjoint_rules(), any_rules()


@st.composite
def scenarios(draw, rules: st.SearchStrategy = DISJOINT_RULES) -> dict:
    """A calendar window near a DST change (often), with rules, leave, a duration and bookings."""
    tz, day = draw(zone_days)
    date_from = day - timedelta(days=draw(st.integers(0, 3)))
    date_until = date_from + timedelta(days=draw(st.integers(0, 4)))
    span = (date_until - date_from).days
    closed = [
        (date_from + timedelta(first), date_from + timedelta(first + length))
        for first, length in draw(st.lists(st.tuples(st.integers(0, span), st.integers(0, 2)), max_size=2))
    ]
    window_start = datetime.combine(date_from, time(0), tzinfo=tz).astimezone(UTC)
    busy = [
        engine.Interval(
            window_start + timedelta(minutes=offset), window_start + timedelta(minutes=offset + length)
        )
        for offset, length in draw(
            st.lists(st.tuples(st.integers(-240, (span + 1) * 1440), st.integers(1, 240)), max_size=10)
        )
    ]
    return {
        "tz": tz,
        "rules": draw(rules),
        "closed": closed,
        "date_from": date_from,
        "date_until": date_until,
        "duration": timedelta(minutes=draw(st.integers(5, 120))),
        "busy": busy,
    }


def compute(s: dict, busy: list[engine.Interval] | None = None):
    """Working intervals, the slot grid and the free slots of a scenario."""
    intervals = engine.working_intervals(s["rules"], s["closed"], s["tz"], s["date_from"], s["date_until"])
    grid = engine.grid_slots(intervals, s["duration"])
    free = engine.free_slots(grid, s["busy"] if busy is None else busy)
    return intervals, grid, free


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def assert_sorted_and_disjoint(intervals: list[engine.Interval]) -> None:
    assert intervals == sorted(set(intervals))
    assert all(a.ends_at <= b.starts_at for a, b in zip(intervals, intervals[1:], strict=False))


@PROPERTY_SETTINGS
@given(scenarios(rules=ANY_RULES), st.integers(-1440, 8 * 1440))
def test_b8_free_slots_are_the_future_grid_slots_that_no_booking_touches(s, minutes):
    _, grid, free = compute(s)
    assert not [(slot, b) for slot in free for b in s["busy"] if slot.overlaps(b)]
    assert free == [slot for slot in grid if not any(slot.overlaps(b) for b in s["busy"])]
    now = datetime.combine(s["date_from"], time(0), tzinfo=s["tz"]) + timedelta(minutes=minutes)
    assert engine.free_slots(grid, s["busy"], not_before=now) == [
        slot for slot in free if slot.starts_at >= now
    ]


@PROPERTY_SETTINGS
@given(scenarios(rules=ANY_RULES))
def test_b5_every_slot_lasts_the_service_duration_inside_working_hours_off_leave_days(s):
    intervals, grid, free = compute(s)
    assert_sorted_and_disjoint(intervals)
    assert_sorted_and_disjoint(grid)
    assert_sorted_and_disjoint(free)
    for slot in grid:
        assert slot.ends_at - slot.starts_at == s["duration"]
        assert engine.inside_working_hours(slot, intervals)
        day = local_day(slot.starts_at, s["tz"])
        assert s["date_from"] <= day <= s["date_until"]
        assert not any(first <= day <= last for first, last in s["closed"])


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_b5_a_new_booking_only_removes_the_slots_it_overlaps(s, data):
    _, grid, free = compute(s)
    start = data.draw(st.sampled_from(grid)).starts_at if grid else datetime(2026, 6, 1, tzinfo=UTC)
    shift = timedelta(minutes=data.draw(st.integers(-90, 90)))
    extra = engine.Interval(start + shift, start + shift + timedelta(minutes=data.draw(st.integers(1, 180))))
    _, _, fewer = compute(s, busy=[*s["busy"], extra])
    assert set(fewer) <= set(free)
    assert set(free) - set(fewer) == {slot for slot in free if slot.overlaps(extra)}


@PROPERTY_SETTINGS
@given(scenarios(rules=ANY_RULES))
def test_b5_slots_step_from_a_rule_start_in_absolute_time_and_none_is_lost(s):
    intervals, grid, _ = compute(s)
    tz = s["tz"]
    for slot in grid:
        day = local_day(slot.starts_at, tz)
        anchors = [engine.local_to_utc(day, r.start_time, tz) for r in s["rules"] if r.applies_on(day)]
        assert any(
            anchor <= slot.starts_at and (slot.starts_at - anchor) % s["duration"] == timedelta(0)
            for anchor in anchors
        )
    for interval in intervals:
        inside = [slot for slot in grid if interval.contains(slot)]
        assert len(inside) == (interval.ends_at - interval.starts_at) // s["duration"]


@PROPERTY_SETTINGS
@given(scenarios())
def test_b5_rules_that_do_not_overlap_give_working_hours_of_their_wall_clock_length(s):
    intervals, _, _ = compute(s)
    tz = s["tz"]
    assert_sorted_and_disjoint(intervals)
    assert len(intervals) == sum(
        1
        for day in engine.days(s["date_from"], s["date_until"])
        if not any(first <= day <= last for first, last in s["closed"])
        for rule in s["rules"]
        if rule.applies_on(day)
        and engine.local_to_utc(day, rule.start_time, tz) < engine.local_to_utc(day, rule.end_time, tz)
    )
    for interval in intervals:
        if is_transition_day(tz, local_day(interval.starts_at, tz)):
            continue
        wall_start = interval.starts_at.astimezone(tz).replace(tzinfo=None)
        wall_end = interval.ends_at.astimezone(tz).replace(tzinfo=None)
        assert wall_end - wall_start == interval.ends_at - interval.starts_at


@settings(PROPERTY_SETTINGS, max_examples=1000)
@given(zone_days, minutes_of_day, st.integers(0, 90))
def test_b5_a_later_wall_clock_time_is_never_an_earlier_instant(zone_day, minute, later_by):
    tz, day = zone_day
    late = min(minute + later_by, 1439)
    assert engine.local_to_utc(day, as_time(minute), tz) <= engine.local_to_utc(day, as_time(late), tz)


@PROPERTY_SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 600)), max_size=8),
    st.integers(5, 120),
    st.none() | st.integers(5, 60),
)
def test_b5_the_grid_of_any_intervals_is_every_slot_once_by_time(spans, duration, step):
    # Unsorted, overlapping or touching intervals (not only `merge_overlapping`'s): each slot once, in order.
    origin = datetime(2026, 3, 29, tzinfo=UTC)
    intervals = [
        engine.Interval(origin + timedelta(minutes=start), origin + timedelta(minutes=start + length))
        for start, length in spans
    ]
    length, every = timedelta(minutes=duration), timedelta(minutes=step or duration)
    expected = set()
    for interval in intervals:
        start = interval.starts_at
        while start + length <= interval.ends_at:
            expected.add(engine.Interval(start, start + length))
            start += every
    assert engine.grid_slots(intervals, length, every) == sorted(expected, key=engine.BY_TIME)
