"""Time the reports over many bookings: `.venv/bin/python bench/bench_reports.py [--sizes 2000 20000]`.

Builds a throw-away test database (SQLite in memory, or `medbook_bench_reports` on PostgreSQL when
DATABASE_URL points there) with an institution, a year of bookings spread over channels and partners
(both commission kinds, every status), then times the report selectors as the pages call them and the
statement exports, printing the query count of each: it must not grow with the data.
"""

import argparse
import os
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from medbook.accounts.models import Membership, Organization, User  # noqa: E402
from medbook.core.tenancy import Actor  # noqa: E402
from medbook.institutions.models import Location, Physician, Service  # noqa: E402
from medbook.partners.models import Partner  # noqa: E402
from medbook.patients.models import Patient  # noqa: E402
from medbook.reports import exports, selectors, statements  # noqa: E402
from medbook.scheduling.models import Booking, TrafficChannel  # noqa: E402
from medbook.scheduling.services import institution_create  # noqa: E402

PHYSICIANS = 20
PARTNERS = 12
STATUSES = ["booked", "completed", "completed", "cancelled", "no_show"]


def build(size: int, tag: str) -> dict:
    """An institution with `size` bookings over 2026 from its own channels and PARTNERS partners."""
    institution = institution_create(name=f"Bench Clinic {tag}", registration_number="01-09-123456")
    location = Location.objects.create(institution=institution, name="Main", address="1 Main Street")
    service = Service.objects.create(institution=institution, name="Check", duration_minutes=30, price=9000)
    physicians = Physician.objects.bulk_create(
        Physician(institution=institution, full_name=f"Dr. {n}") for n in range(PHYSICIANS)
    )
    patients = Patient.objects.bulk_create(
        Patient(institution=institution, full_name=f"Patient {n}") for n in range(200)
    )
    partners, channels = [], list(TrafficChannel.objects.filter(institution=institution))
    for n in range(PARTNERS):
        partner = Partner.objects.create(
            kind=Organization.Kind.PARTNER,
            name=f"Partner {tag}-{n}",
            registry_key=f"HU:bench-{tag}-{n}",
            contact_name="Contact",
            contact_email=f"p{n}@bench.test",
            contact_phone="+36 1 234 5678",
        )
        channel = TrafficChannel.objects.create(
            institution=institution, code=f"partner-{partner.pk}", name=partner.name, partner=partner
        )
        partners.append((partner, channel, n % 2))
    rng = random.Random(size)
    start = datetime(2026, 1, 1, 7, tzinfo=UTC)
    bookings = []
    for n in range(size):
        starts_at = start + timedelta(minutes=30 * (n // PHYSICIANS))
        referred = rng.random() < 0.6
        partner, channel, fixed = rng.choice(partners) if referred else (None, rng.choice(channels), 0)
        bookings.append(
            Booking(
                institution=institution,
                location=location,
                physician=physicians[n % PHYSICIANS],
                service=service,
                patient=rng.choice(patients),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=30),
                status=rng.choice(STATUSES),
                channel=channel,
                partner=partner,
                price=Decimal(rng.randrange(100, 5_000_000)) / 100,
                currency="HUF",
                commission_percent=Decimal("12.50") if referred and not fixed else None,
                commission_fixed=Decimal("1500.00") if referred and fixed else None,
            )
        )
    Booking.objects.bulk_create(bookings, batch_size=2000)
    user = User.objects.create_user(f"bench-{tag}@example.test", "bench-password-1")
    membership = Membership.objects.create(user=user, organization=institution, role=Membership.Role.ADMIN)
    return {
        "actor": Actor(user=user, membership=membership, memberships=(membership,)),
        "institution": institution,
        "partner": partners[0][0],
    }


def measure(label: str, repeat: int, call: Callable[[], object]) -> None:
    """Run the call `repeat` times and print its median and best time and its query count."""
    with CaptureQueriesContext(connection) as queries:
        call()
    timings = []
    for _ in range(repeat):
        started = clock.perf_counter()
        call()
        timings.append((clock.perf_counter() - started) * 1000)
    print(
        f"  {label:<44} median {statistics.median(timings):9.2f} ms   best {min(timings):9.2f} ms   "
        f"{len(queries):3d} queries"
    )


def bench(size: int, repeat: int) -> None:
    started = clock.perf_counter()
    cast = build(size, str(size))
    print(
        f"{size} bookings, {PARTNERS} partners, built in {clock.perf_counter() - started:.1f} s on {connection.vendor}"
    )
    actor, institution = cast["actor"], cast["institution"]
    year = selectors.Period(date(2026, 1, 1), date(2026, 12, 31), institution.time_zone)
    month = selectors.Period(date(2026, 3, 1), date(2026, 3, 31), institution.time_zone)

    def first_page(queryset):
        return list(queryset[:50]) + [queryset.count()]

    measure(
        "traffic_report, a month (per day)",
        repeat,
        lambda: selectors.traffic_report(actor=actor, period=month),
    )
    measure(
        "traffic_report, a year (per week)",
        repeat,
        lambda: selectors.traffic_report(actor=actor, period=year),
    )
    measure(
        "booking_report, a year, first page",
        repeat,
        lambda: first_page(selectors.booking_report(actor=actor, period=year, partners_only=True)),
    )
    measure(
        "partner_bookings, a year, first page",
        repeat,
        lambda: first_page(selectors.partner_bookings(actor=actor, period=year)),
    )

    def statement():
        return statements.statement(institution=institution, partner=cast["partner"], period=year)

    shown = statement()
    print(
        f"  statement: {shown.bookings} held lines, {shown.figures.unsettled} unsettled, "
        f"commission {shown.figures.commission}"
    )
    measure("statement, a year (selector)", repeat, statement)
    measure("statement + CSV, a year", max(1, repeat // 4), lambda: exports.statement_csv(statement()))
    measure("statement + XLSX, a year", max(1, repeat // 4), lambda: exports.statement_xlsx(statement()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000], help="bookings per run")
    parser.add_argument("--repeat", type=int, default=8, help="timed runs per figure")
    arguments = parser.parse_args()
    # A separate test database, so that a running pytest session's database is left alone.
    connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = "medbook_bench_reports"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        for size in arguments.sizes:
            bench(size, arguments.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
