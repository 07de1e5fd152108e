"""Traffic statistics read the period's bookings once, and the partner-submitted list reads its rows in one
query without a model object per row, however many bookings and partners there are (issue 13)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import actor_of
from medbook.institutions.tests.factories import PhysicianFactory
from medbook.reports.selectors import Period, partner_booking_lines, partner_bookings, traffic_report
from medbook.reports.tests.data import PERIOD, generate
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _counted(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return len(queries), result


@pytest.mark.parametrize("period", [PERIOD, (date(2026, 1, 1), date(2026, 12, 31))], ids=["daily", "weekly"])
def test_r2_traffic_statistics_is_one_query_however_many_bookings_and_partners(cast, partners, period):
    actor = actor_of(cast.alice)
    chosen = Period(*period, cast.institution_a.time_zone)
    generate(cast, partners, count=10, partner_count=1, seed=1)
    small, report = _counted(lambda: traffic_report(actor=actor, period=chosen))
    assert report.channel_total.bookings > 0
    other = PhysicianFactory(institution=cast.institution_a, locations=[cast.location_a1])
    generate(cast, partners, count=100, partner_count=4, seed=2, physician=other, tag="x")
    large, report = _counted(lambda: traffic_report(actor=actor, period=chosen))
    assert small == large == 1
    assert [row.name for row in report.partners] == sorted(row.name for row in report.partners)
    start, end = chosen.bounds()
    referred = Booking.objects.filter(partner__isnull=False, starts_at__gte=start, starts_at__lt=end)
    assert len(report.partners) == referred.values("partner").distinct().count() > 1
    assert report.channel_total.bookings == sum(sum(counts.values()) for counts in report.series.values())
    assert report.partner_total.commission == sum(row.commission for row in report.partners)


def test_r3_partner_submitted_rows_are_one_query_and_say_what_the_bookings_say(cast, partners):
    actor = actor_of(cast.alice)
    period = Period(*PERIOD, cast.institution_a.time_zone)
    generate(cast, partners, count=100, partner_count=3, seed=3)
    count, lines = _counted(lambda: partner_booking_lines(partner_bookings(actor=actor, period=period)))
    assert count == 1
    start, end = period.bounds()
    expected = Booking.objects.filter(
        institution=cast.institution_a, partner__isnull=False, starts_at__gte=start, starts_at__lt=end
    ).order_by("starts_at", "pk")
    assert [line.pk for line in lines] == [booking.pk for booking in expected]
    for line, booking in zip(lines, expected, strict=True):
        assert (line.partner_name, line.patient_name, line.physician_name) == (
            booking.partner.name,
            booking.patient.full_name,
            booking.physician.full_name,
        )
        assert (line.status_display, line.payment_display) == (
            booking.get_status_display(),
            booking.get_payment_status_display(),
        )
        assert line.booked_by_name == (booking.booked_by.get_full_name() if booking.booked_by else "")
