"""The patient's record lists the patient's visits at the institution (issue 23, B-15): upcoming first, then
the latest past ones, each with its time, physician, service, status, who booked it and through which
channel; never another institution's visits; the same queries for one visit or many."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.partners.tests import services as booking_services
from medbook.patients.selectors import VISITS_SHOWN
from medbook.scheduling import services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _record(client, patient):
    return client.get(reverse("patients:patient-edit", args=[patient.pk]))


def _book(cast, user, day, hour, patient=None, physician=None, location=None, service=None):
    return booking_services.booking_create(
        actor=actor_of(user),
        location=location or cast.location_a1,
        physician=physician or cast.physician_a,
        service=service or cast.service_a,
        patient=patient or cast.patient_a,
        starts_at=local(day, hour),
    )


def _into_the_past(booking: Booking, days: int) -> None:
    """Booked ahead like any other, then its time came and went (a booking service refuses the past)."""
    length = booking.ends_at - booking.starts_at
    ended = timezone.now() - timedelta(days=days)
    Booking.objects.filter(pk=booking.pk).update(starts_at=ended - length, ends_at=ended)


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def test_b15_record_lists_upcoming_and_past_visits_with_status_booker_and_channel(cast, partners, login):
    day = next_weekday(1)
    upcoming = _book(cast, cast.bob, day, 9)
    by_partner = _book(cast, partners.peter, day, 11)
    completed = _book(cast, cast.bob, day, 10)
    _into_the_past(completed, days=3)
    services.booking_attendance_set(
        actor=actor_of(cast.bob), booking=Booking.objects.get(pk=completed.pk), status="completed"
    )
    cancelled = _book(cast, cast.bob, day, 12)
    services.booking_cancel(actor=actor_of(cast.bob), booking=cancelled)

    response = _record(login(cast.bob), cast.patient_a)
    assert response.status_code == 200
    html = response.content.decode()
    ahead, past = _section(html, "visits-upcoming"), _section(html, "visits-past")
    # Upcoming, soonest first: reception's, the partner's, the cancelled one; each with its details.
    assert ahead.index(f'data-booking="{upcoming.pk}"') < ahead.index(f'data-booking="{by_partner.pk}"')
    assert ahead.index(f'data-booking="{by_partner.pk}"') < ahead.index(f'data-booking="{cancelled.pk}"')
    row = ahead[ahead.index(f'data-booking="{by_partner.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Dr. Alpha" in row and "Cardiology check" in row and "A Central" in row
    assert "Booked" in row and "Peter Booker (CallCenter Ltd)" in row
    assert '<td data-testid="visit-channel">CallCenter Ltd</td>' in row
    assert "09:00" in ahead and "Bob Reception" in ahead and "Reception" in ahead
    assert "Cancelled" in ahead
    # Past: the completed visit, not in the upcoming list.
    assert f'data-booking="{completed.pk}"' in past and "Completed" in past
    assert f'data-booking="{completed.pk}"' not in ahead
    # A visit still booked opens on the calendar (its panel); a cancelled or completed one does not.
    assert f"booking={upcoming.pk}" in ahead and f"booking={cancelled.pk}" not in ahead
    assert f"booking={completed.pk}" not in past
    assert 'data-testid="attendance-memory"' in html  # the attendance memory stays


def test_b15_the_record_link_opens_the_booking_on_the_calendar(cast, login):
    booking = _book(cast, cast.bob, next_weekday(1), 9)
    client = login(cast.bob)
    html = _record(client, cast.patient_a).content.decode()
    link = html[html.index(f"booking={booking.pk}") :].split('"')[0]
    start = html.rindex('href="', 0, html.index(f"booking={booking.pk}")) + len('href="')
    url = html[start : html.index(f"booking={booking.pk}")].replace("&amp;", "&") + link
    calendar = client.get(url)
    assert calendar.status_code == 200
    assert 'data-testid="booking-patient">Anna Patient<' in calendar.content.decode()


def test_b15_the_calendar_opens_no_booking_of_another_institution(cast, login):
    theirs = _book(
        cast,
        cast.charlie,
        next_weekday(1),
        9,
        patient=cast.patient_b,
        physician=cast.physician_b,
        location=cast.location_b,
        service=cast.service_b,
    )
    response = login(cast.bob).get(reverse("scheduling:calendar"), {"booking": theirs.pk})
    assert response.status_code == 404
    assert login(cast.bob).get(reverse("scheduling:calendar"), {"booking": "x1"}).status_code == 404


def test_b15_another_institutions_patient_is_404_and_its_visits_never_shown(cast, login):
    theirs = _book(
        cast,
        cast.charlie,
        next_weekday(1),
        9,
        patient=cast.patient_b,
        physician=cast.physician_b,
        location=cast.location_b,
        service=cast.service_b,
    )
    assert _record(login(cast.bob), cast.patient_b).status_code == 404
    html = _record(login(cast.bob), cast.patient_a).content.decode()
    assert f'data-booking="{theirs.pk}"' not in html and "Dr. Beta" not in html
    assert "No upcoming visit." in html and "No past visit." in html


def test_b15_the_record_reads_the_same_queries_for_one_visit_or_many(
    cast, partners, login, django_assert_num_queries
):
    client = login(cast.bob)
    day = next_weekday(1)
    _book(cast, cast.bob, day, 9)
    _into_the_past(_book(cast, partners.peter, day, 10), days=1)
    _record(client, cast.patient_a)  # the session's first writes out of the way
    with CaptureQueriesContext(connection) as few:
        assert _record(client, cast.patient_a).status_code == 200
    for hour in (11, 12, 13):
        _book(cast, cast.bob, day, hour)
        _into_the_past(_book(cast, partners.peter, day + timedelta(days=1), hour), days=hour)
    with django_assert_num_queries(len(few)):
        html = _record(client, cast.patient_a).content.decode()
    assert html.count("data-booking=") == 8


def test_b15_only_the_nearest_visits_are_listed(cast, login, monkeypatch):
    monkeypatch.setattr("medbook.patients.selectors.VISITS_SHOWN", 2)
    day = next_weekday(1)
    for hour in (9, 10, 11):
        _book(cast, cast.bob, day, hour)
    html = _record(login(cast.bob), cast.patient_a).content.decode()
    ahead = _section(html, "visits-upcoming")
    assert ahead.count("data-booking=") == 2 and "09:00" in ahead and "11:00" not in ahead
    assert 'data-testid="visits-more"' in ahead
    assert VISITS_SHOWN == 50
