"""Time the slot engine over a busy month: `.venv/bin/python bench/bench_slots.py [--repeat 20]`.

Builds a throw-away test database (SQLite in memory, or `medbook_bench` on PostgreSQL when DATABASE_URL
points there), books about three quarters of a physician's month, then times available_slots and
calendar_week as a calendar page would call them, and the pure engine on a large input.
"""

import argparse
import os
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from medbook.accounts.models import Membership, User  # noqa: E402
from medbook.core.tenancy import Actor  # noqa: E402
from medbook.institutions.models import Location, Physician, Service  # noqa: E402
from medbook.patients.models import Patient  # noqa: E402
from medbook.scheduling import selectors  # noqa: E402
from medbook.scheduling import slots as engine  # noqa: E402
from medbook.scheduling.models import Booking, ScheduleException, WorkingHours  # noqa: E402
from medbook.scheduling.services import institution_create  # noqa: E402

MONTH_DAYS = 31
FILL = 0.75


def build(first_day: date) -> dict:
    """One institution, one physician working 08:00-16:00 Monday to Saturday, a month three quarters booked."""
    institution = institution_create(name="Bench Clinic", registration_number="01-09-123456")
    location = Location.objects.create(institution=institution, name="Main", address="1 Main Street")
    physician = Physician.objects.create(
        institution=institution, full_name="Dr. Bench", specialty="Cardiology"
    )
    physician.locations.add(location)
    short, long = (
        Service.objects.create(
            institution=institution,
            name=f"{minutes}-minute check",
            duration_minutes=minutes,
            price=Decimal(9000),
        )
        for minutes in (30, 45)
    )
    for service in (short, long):
        service.locations.add(location)
        service.physicians.add(physician)
    WorkingHours.objects.bulk_create(
        WorkingHours(physician=physician, location=location, weekday=d, start_time=time(8), end_time=time(16))
        for d in range(6)
    )
    leave_day = first_day + timedelta(days=10)
    ScheduleException.objects.create(physician=physician, date_from=leave_day, date_until=leave_day)
    patients = Patient.objects.bulk_create(
        Patient(institution=institution, full_name=f"Patient {n}") for n in range(200)
    )
    user = User.objects.create_user("bench@example.test", "bench-password-1")
    membership = Membership.objects.create(user=user, organization=institution, role=Membership.Role.STAFF)
    grid = selectors.available_slots(
        physician=physician,
        location=location,
        service=short,
        date_from=first_day,
        date_until=first_day + timedelta(days=MONTH_DAYS - 1),
    )
    rng = random.Random(2026)
    channel = selectors.default_channel(institution=institution)
    Booking.objects.bulk_create(
        Booking(
            institution=institution,
            location=location,
            physician=physician,
            service=short,
            patient=rng.choice(patients),
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            channel=channel,
            booked_by=user,
            price=short.price,
            currency=short.currency,
        )
        for slot in grid
        if rng.random() < FILL
    )
    return {
        "physician": physician,
        "location": location,
        "short": short,
        "long": long,
        "actor": Actor(user=user, membership=membership, memberships=(membership,)),
        "grid": len(grid),
    }


def measure(label: str, repeat: int, call: Callable[[], object], size: Callable[[object], int]) -> None:
    """Run the call `repeat` times and print its median and best time, query count and result size."""
    timings = []
    with CaptureQueriesContext(connection) as queries:
        result = call()
    for _ in range(repeat):
        started = clock.perf_counter()
        call()
        timings.append((clock.perf_counter() - started) * 1000)
    print(
        f"{label:<48} median {statistics.median(timings):8.2f} ms   best {min(timings):8.2f} ms   "
        f"{len(queries):3d} queries   {size(result):5d} results"
    )


def bench_database(repeat: int) -> None:
    first_day = date.today() + timedelta(days=7)
    last_day = first_day + timedelta(days=MONTH_DAYS - 1)
    started = clock.perf_counter()
    cast = build(first_day)
    booked = Booking.objects.count()
    print(
        f"data: {cast['grid']} half-hour slots over {MONTH_DAYS} days, {booked} booked ({booked / cast['grid']:.0%}), "
        f"built in {clock.perf_counter() - started:.1f} s on {connection.vendor}"
    )
    where = {"physician": cast["physician"], "location": cast["location"]}
    for service in ("short", "long"):
        measure(
            f"available_slots, month, {cast[service].duration_minutes}-minute service",
            repeat,
            lambda s=service: selectors.available_slots(
                **where, service=cast[s], date_from=first_day, date_until=last_day
            ),
            len,
        )
    measure(
        "available_slots, one week, 30-minute service",
        repeat,
        lambda: selectors.available_slots(
            **where, service=cast["short"], date_from=first_day, date_until=first_day + timedelta(days=6)
        ),
        len,
    )
    measure(
        "calendar_week, 30-minute service",
        repeat,
        lambda: selectors.calendar_week(
            actor=cast["actor"], **where, service=cast["short"], week_start=first_day
        ),
        lambda week: sum(len(day.entries) for day in week),
    )


def bench_engine(repeat: int) -> None:
    """The pure engine on a year of 10-minute slots against a year of bookings."""
    tz = ZoneInfo("Europe/Budapest")
    rules = [engine.Rule(d, time(7), time(19)) for d in range(7)]
    first_day = date(2027, 1, 1)
    intervals = engine.working_intervals(rules, [], tz, first_day, date(2027, 12, 31))
    grid = engine.grid_slots(intervals, timedelta(minutes=10))
    rng = random.Random(5)
    busy = [
        engine.Interval(slot.starts_at, slot.starts_at + timedelta(minutes=rng.choice((15, 30, 45))))
        for slot in grid
        if rng.random() < 0.2
    ]
    not_before = datetime(2027, 1, 1, tzinfo=UTC)
    measure(
        f"engine: free_slots, {len(grid)} slots x {len(busy)} bookings",
        repeat,
        lambda: engine.free_slots(grid, busy, not_before=not_before),
        len,
    )
    measure(
        "engine: working_intervals + grid_slots, one year",
        repeat,
        lambda: engine.grid_slots(
            engine.working_intervals(rules, [], tz, first_day, date(2027, 12, 31)), timedelta(minutes=10)
        ),
        len,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per figure")
    arguments = parser.parse_args()
    # A separate test database, so that a running pytest session's database is left alone.
    connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = "medbook_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        bench_database(arguments.repeat)
        bench_engine(max(1, arguments.repeat // 4))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
