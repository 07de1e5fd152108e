"""B-5: daylight-saving changes never create, lose or shift a slot (Budapest, New York, Lord Howe)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from conftest import actor_of
from medbook.scheduling import selectors, services
from medbook.scheduling import slots as engine
from medbook.scheduling.models import Booking, WorkingHours

BUDAPEST = ZoneInfo("Europe/Budapest")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SUNDAY = 6
HALF_HOUR = timedelta(minutes=30)
MORNING_LABELS = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]

# (zone, the Sunday the clocks change, the UTC offset on the Sunday before, the offset from that day on)
CHANGES = {
    "budapest-spring-2026": (BUDAPEST, date(2026, 3, 29), "+01:00", "+02:00"),
    "budapest-autumn-2026": (BUDAPEST, date(2026, 10, 25), "+02:00", "+01:00"),
    "budapest-spring-2027": (BUDAPEST, date(2027, 3, 28), "+01:00", "+02:00"),
    "budapest-autumn-2027": (BUDAPEST, date(2027, 10, 31), "+02:00", "+01:00"),
    "new-york-spring-2026": (NEW_YORK, date(2026, 3, 8), "-05:00", "-04:00"),
    "new-york-autumn-2026": (NEW_YORK, date(2026, 11, 1), "-04:00", "-05:00"),
    "lord-howe-autumn-2026": (LORD_HOWE, date(2026, 4, 5), "+11:00", "+10:30"),
    "lord-howe-spring-2026": (LORD_HOWE, date(2026, 10, 4), "+10:30", "+11:00"),
}


def sunday_slots(
    tz: ZoneInfo, day: date, start: time, end: time, duration: timedelta = HALF_HOUR
) -> list[engine.Interval]:
    rules = [engine.Rule(SUNDAY, start, end)]
    return engine.grid_slots(engine.working_intervals(rules, [], tz, day, day), duration)


def labels(slots: list[engine.Interval], tz: ZoneInfo) -> list[str]:
    return [slot.starts_at.astimezone(tz).strftime("%H:%M") for slot in slots]


def offsets(slots: list[engine.Interval], tz: ZoneInfo) -> set[str]:
    return {slot.starts_at.astimezone(tz).isoformat()[-6:] for slot in slots}


def assert_back_to_back(slots: list[engine.Interval], first: datetime, last_end: datetime) -> None:
    """The slots cover [first, last_end) exactly once: no instant twice, none lost."""
    assert slots[0].starts_at == first
    assert slots[-1].ends_at == last_end
    assert all(a.ends_at == b.starts_at for a, b in zip(slots, slots[1:], strict=False))
    assert len({slot.starts_at for slot in slots}) == len(slots)


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_b5_day_hours_on_a_dst_sunday_give_the_same_wall_clock_slots_as_the_sundays_around_it(change):
    tz, day, before, after = change
    week = timedelta(days=7)
    for sunday, offset in ((day - week, before), (day, after), (day + week, after)):
        slots = sunday_slots(tz, sunday, time(8), time(12))
        assert labels(slots, tz) == MORNING_LABELS, sunday
        assert offsets(slots, tz) == {offset}, sunday
        assert all(slot.starts_at.tzinfo is UTC for slot in slots)


def test_b5_budapest_morning_slots_carry_the_right_utc_times():
    spring = sunday_slots(BUDAPEST, date(2026, 3, 29), time(8), time(12))
    autumn = sunday_slots(BUDAPEST, date(2026, 10, 25), time(8), time(12))
    assert spring[0].starts_at == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert autumn[0].starts_at == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert sunday_slots(BUDAPEST, date(2026, 3, 22), time(8), time(12))[0].starts_at == datetime(
        2026, 3, 22, 7, 0, tzinfo=UTC
    )


def test_b5_night_hours_across_spring_forward_skip_the_missing_hour_and_lose_no_time():
    day = date(2026, 3, 29)
    slots = sunday_slots(BUDAPEST, day, time(0), time(6))
    # 00:00 CET to 06:00 CEST is five hours of real time: ten half-hour slots, none in 02:00-02:59.
    assert len(slots) == 10
    assert labels(slots, BUDAPEST) == [
        "00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30", "05:00", "05:30",
    ]  # fmt: skip
    assert_back_to_back(
        slots, datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
    )


def test_b5_night_hours_across_fall_back_offer_the_repeated_hour_twice_as_distinct_times():
    day = date(2026, 10, 25)
    slots = sunday_slots(BUDAPEST, day, time(0), time(6))
    # 00:00 CEST to 06:00 CET is seven hours of real time: 02:00 and 02:30 happen twice, an hour apart.
    assert len(slots) == 14
    assert labels(slots, BUDAPEST).count("02:00") == 2
    assert labels(slots, BUDAPEST).count("02:30") == 2
    twice = [slot.starts_at.astimezone(BUDAPEST).isoformat() for slot in slots][4:8]
    assert twice == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
    ]
    assert_back_to_back(
        slots, datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 5, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("day", "expected_labels"),
    [
        (date(2026, 10, 4), ["00:00", "00:30", "01:00", "01:30", "02:30", "03:00", "03:30", "04:00", "04:30", "05:00", "05:30"]),
        (date(2026, 4, 5), ["00:00", "00:30", "01:00", "01:30", "01:30", "02:00", "02:30", "03:00", "03:30", "04:00", "04:30", "05:00", "05:30"]),
    ],
    ids=["spring-forward-half-hour", "fall-back-half-hour"],
)  # fmt: skip
def test_b5_lord_howe_half_hour_shift_neither_duplicates_nor_loses_time(day, expected_labels):
    slots = sunday_slots(LORD_HOWE, day, time(0), time(6))
    first = datetime.combine(day, time(0), tzinfo=LORD_HOWE).astimezone(UTC)
    last_end = datetime.combine(day, time(6), tzinfo=LORD_HOWE).astimezone(UTC)
    # 5.5 real hours on the spring Sunday (02:00-02:29 never happens), 6.5 in autumn (01:30-01:59 twice).
    assert labels(slots, LORD_HOWE) == expected_labels
    assert_back_to_back(slots, first, last_end)


def test_b5_hours_starting_in_the_skipped_hour_start_when_the_clock_resumes():
    slots = sunday_slots(BUDAPEST, date(2026, 3, 29), time(2, 30), time(5))
    assert labels(slots, BUDAPEST) == ["03:00", "03:30", "04:00", "04:30"]
    assert offsets(slots, BUDAPEST) == {"+02:00"}


def test_b5_hours_starting_in_the_repeated_hour_start_at_its_first_occurrence():
    slots = sunday_slots(BUDAPEST, date(2026, 10, 25), time(2, 30), time(4))
    assert slots[0].starts_at.astimezone(BUDAPEST).isoformat() == "2026-10-25T02:30:00+02:00"
    assert len(slots) == 5  # 02:30 CEST to 04:00 CET is two and a half hours


def test_b5_two_separate_night_rules_around_the_skipped_hour_never_offer_overlapping_slots():
    day = date(2026, 3, 29)
    rules = [engine.Rule(SUNDAY, time(2, 10), time(2, 40)), engine.Rule(SUNDAY, time(3, 0), time(4, 0))]
    intervals = engine.working_intervals(rules, [], BUDAPEST, day, day)
    slots = engine.grid_slots(intervals, HALF_HOUR)
    assert all(a.ends_at <= b.starts_at for a, b in zip(intervals, intervals[1:], strict=False))
    assert all(a.ends_at <= b.starts_at for a, b in zip(slots, slots[1:], strict=False))
    assert labels(slots, BUDAPEST) == ["03:00", "03:30"]


def test_b5_three_quarter_hour_slots_step_in_real_time_across_fall_back():
    slots = sunday_slots(BUDAPEST, date(2026, 10, 25), time(0), time(6), timedelta(minutes=45))
    assert len(slots) == 9  # seven real hours hold nine 45-minute slots
    assert_back_to_back(slots, slots[0].starts_at, slots[0].starts_at + 9 * timedelta(minutes=45))


# The database-backed calendar: physician_a works 08:00-16:00 every day at location_a1 (Budapest).

EARLY_2026 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "offset"),
    [(date(2026, 3, 22), "+01:00"), (date(2026, 3, 29), "+02:00"), (date(2026, 10, 25), "+01:00")],
)
def test_b5_available_slots_on_dst_sundays_are_utc_and_read_08_00_to_15_30_locally(cast, day, offset):
    slots = selectors.available_slots(
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        date_from=day,
        date_until=day,
        now=EARLY_2026,
    )
    assert len(slots) == 16
    assert all(slot.starts_at.utcoffset() == timedelta(0) for slot in slots)
    assert labels(slots, BUDAPEST)[0] == "08:00"
    assert labels(slots, BUDAPEST)[-1] == "15:30"
    assert offsets(slots, BUDAPEST) == {offset}


def test_b5_available_slots_over_the_spring_week_count_every_day_fully(cast):
    slots = selectors.available_slots(
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        date_from=date(2026, 3, 23),
        date_until=date(2026, 4, 5),
        now=EARLY_2026,
    )
    per_day: dict[date, list[str]] = {}
    for slot in slots:
        per_day.setdefault(slot.starts_at.astimezone(BUDAPEST).date(), []).append(labels([slot], BUDAPEST)[0])
    assert len(per_day) == 14
    assert all(day_labels == per_day[date(2026, 3, 23)] for day_labels in per_day.values())


def next_change(tz: ZoneInfo, *, forward: bool, today: date | None = None) -> date:
    """The first day at least two days after today on which the clocks of tz go forward (or back)."""
    day = (today or date.today()) + timedelta(days=2)
    for _ in range(2 * 366):
        before = datetime.combine(day, time(0), tzinfo=tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).utcoffset()
        if (after > before) if forward else (after < before):
            return day
        day += timedelta(days=1)
    raise AssertionError(f"the clocks of {tz} do not change within two years")


@pytest.mark.parametrize(
    ("today", "spring", "autumn"),
    [
        (date(2026, 12, 2), date(2027, 3, 28), date(2027, 10, 31)),
        (date(2027, 3, 26), date(2027, 3, 28), date(2027, 10, 31)),
        (date(2027, 3, 27), date(2028, 3, 26), date(2027, 10, 31)),
        (date(2027, 11, 1), date(2028, 3, 26), date(2028, 10, 29)),
    ],
)
def test_b5_the_booking_tests_below_find_the_next_budapest_clock_changes(today, spring, autumn):
    assert next_change(BUDAPEST, forward=True, today=today) == spring
    assert next_change(BUDAPEST, forward=False, today=today) == autumn


def night_hours(cast) -> None:
    """Give physician_a night hours at location_a2 on Sundays, across the clock change."""
    WorkingHours.objects.create(
        physician=cast.physician_a,
        location=cast.location_a2,
        weekday=SUNDAY,
        start_time=time(0),
        end_time=time(6),
    )


def test_b5_a_night_booking_in_the_repeated_hour_takes_only_that_instant(cast):
    night_hours(cast)
    day = next_change(BUDAPEST, forward=False)  # the next fall-back Sunday: the booking is ahead
    assert day.weekday() == SUNDAY
    first = datetime.combine(day, time(2, 30), tzinfo=BUDAPEST)  # 02:30 CEST
    second = first.replace(fold=1)  # 02:30 CET, an hour later
    assert (first.utcoffset(), second.utcoffset()) == (timedelta(hours=2), timedelta(hours=1))
    booking = services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a2,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=first,
    )
    booking.refresh_from_db()
    assert booking.starts_at == datetime.combine(day, time(0, 30), tzinfo=UTC)
    assert booking.ends_at == datetime.combine(day, time(1, 0), tzinfo=UTC)  # thirty real minutes, not ninety
    free = selectors.available_slots(
        physician=cast.physician_a,
        location=cast.location_a2,
        service=cast.service_a,
        date_from=day,
        date_until=day,
    )
    starts = {slot.starts_at for slot in free}
    assert first.astimezone(UTC) not in starts
    assert second.astimezone(UTC) in starts
    assert len(free) == 13  # fourteen half hours between 00:00 CEST and 06:00 CET, one taken


def test_b5_a_booking_on_the_spring_forward_sunday_is_stored_in_utc_and_shown_in_local_time(cast):
    day = next_change(BUDAPEST, forward=True)  # the next spring-forward Sunday: the booking is ahead
    assert day.weekday() == SUNDAY
    assert datetime.combine(day, time(0), tzinfo=BUDAPEST).utcoffset() == timedelta(hours=1)
    booking = services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=datetime.combine(day, time(10), tzinfo=BUDAPEST),
    )
    stored = Booking.objects.values_list("starts_at", flat=True).get(pk=booking.pk)
    assert stored == datetime.combine(day, time(8), tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)
    rendered = Template(
        '{% load tz %}{% timezone tz %}{{ when|date:"Y-m-d H:i O" }}{% endtimezone %}'
    ).render(Context({"when": stored, "tz": cast.institution_a.time_zone}))
    assert rendered == f"{day.isoformat()} 10:00 +0200"
    week = selectors.calendar_week(
        actor=actor_of(cast.bob),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=day - timedelta(days=6),
    )
    sunday = week[-1]
    assert sunday.day == day
    shown = [
        (entry.starts_at.astimezone(BUDAPEST).strftime("%H:%M"), entry.is_free) for entry in sunday.entries
    ]
    assert len(shown) == 16
    assert shown[4] == ("10:00", False)
    assert [label for label, _ in shown] == [f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 30)]
