"""The reception calendar week and a staff booking cost the same number of queries however many physicians
and bookings there are (issue 13: five physicians took 36 queries, a booking 14 round trips)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.institutions.tests.factories import PhysicianFactory, ScheduleExceptionFactory, weekly_hours
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling import services
from medbook.scheduling.models import Booking
from medbook.scheduling.selectors import default_channel

pytestmark = pytest.mark.django_db

CALENDAR = reverse("scheduling:calendar")
# The page whatever the number of physicians: the session and actor, the filter choices, the physicians,
# the working hours, leave and bookings of every calendar at once, the remembered filters, the overdue list.
CALENDAR_MAX = 20
# A staff booking from the calendar's form: offer, channel, working hours, leave, overlap, the insert, the
# audit row (with PostgreSQL's chain lock), webhooks and the patient's e-mail.
STAFF_CREATE_MAX = 14


def _more_physicians(cast, count: int) -> None:
    """`count` more physicians giving the cast's service at A Central, working every day; one on leave."""
    for _ in range(count):
        physician = PhysicianFactory(institution=cast.institution_a, locations=[cast.location_a1])
        weekly_hours(physician, cast.location_a1)
        cast.service_a.physicians.add(physician)
    ScheduleExceptionFactory(physician=physician, date_from=next_weekday(0), date_until=next_weekday(0))


def _book(day, count: int, cast) -> None:
    """`count` bookings over the week of the physicians of the cast's service, round robin."""
    physicians = list(cast.service_a.physicians.order_by("pk"))
    patient = PatientFactory(institution=cast.institution_a)
    channel = default_channel(institution=cast.institution_a)
    made = []
    for n in range(count):
        physician = physicians[n % len(physicians)]
        slot = Booking.objects.filter(physician=physician).count() + sum(
            1 for b in made if b.physician_id == physician.pk
        )
        starts = local(day + timedelta(days=slot % 7), 8) + timedelta(minutes=30 * (slot // 7))
        made.append(
            Booking(
                institution=cast.institution_a,
                location=cast.location_a1,
                physician=physician,
                service=cast.service_a,
                patient=patient,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                channel=channel,
                price=1000,
                currency="HUF",
            )
        )
    Booking.objects.bulk_create(made)


def _show(client, cast, day) -> tuple[int, str]:
    query = {"location": cast.location_a1.pk, "service": cast.service_a.pk, "week": day.isoformat()}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CALENDAR, query)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_b5_calendar_week_query_count_does_not_grow_with_physicians_or_bookings(cast, client):
    day = next_weekday(0)
    client.force_login(cast.bob)
    _show(client, cast, day)  # the session settles and the chosen filters are remembered
    _book(day, 10, cast)
    small, page = _show(client, cast, day)
    assert page.count('class="physician-calendar"') == 1
    assert page.count("slot booked") == 10
    _more_physicians(cast, 4)
    _book(day, 100, cast)
    large, page = _show(client, cast, day)
    assert page.count('class="physician-calendar"') == 5
    assert page.count("slot booked") == 110
    # Five physicians, 16 slots a day; the last one is on leave on Monday, where 3 of its 20 bookings are.
    assert page.count('class="slot free"') == 5 * 7 * 16 - 16 - (110 - 3)
    assert large == small
    assert large <= CALENDAR_MAX


def test_b7_staff_booking_create_query_count(cast):
    day = next_weekday(1)
    actor = actor_of(cast.bob)
    channel = default_channel(institution=cast.institution_a)

    def count(hour: int) -> int:
        # As the calendar's form reads them: without their institution.
        target = {
            "location": type(cast.location_a1).objects.get(pk=cast.location_a1.pk),
            "physician": type(cast.physician_a).objects.get(pk=cast.physician_a.pk),
            "service": type(cast.service_a).objects.get(pk=cast.service_a.pk),
        }
        with CaptureQueriesContext(connection) as queries:
            services.booking_create(
                actor=actor,
                **target,
                patient=cast.patient_a,
                starts_at=local(day, hour),
                channel=channel,
            )
        return len(queries)

    small = count(9)
    _more_physicians(cast, 4)
    _book(day + timedelta(days=7), 100, cast)
    large = count(15)
    assert Booking.objects.filter(patient=cast.patient_a).count() == 2
    assert large == small <= STAFF_CREATE_MAX


@pytest.mark.postgres
def test_b5_the_overdue_list_reads_the_still_booked_index_not_the_history(cast):
    # Ten million bookings later the overdue count of a calendar page read a month of one institution's
    # history (600 ms): the partial index holds only the bookings still booked.
    from medbook.scheduling.selectors import attendance_overdue

    with CaptureQueriesContext(connection) as queries:
        attendance_overdue(actor=actor_of(cast.bob))
    [count, *_] = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + count)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "booking_still_booked_by_end" in plan
