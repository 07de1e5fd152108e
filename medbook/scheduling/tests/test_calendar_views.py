"""The staff calendar pages: show calendars, book, move, cancel, and bad input."""

from datetime import timedelta

import pytest
from django.urls import reverse

from conftest import local, next_weekday
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _filters(cast, day):
    return {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": day.isoformat(),
    }


def _book(client, cast, start, **extra):
    data = {
        **_filters(cast, start.date()),
        "slot_physician": cast.physician_a.pk,
        "starts_at": start.isoformat(),
        "channel": cast.institution_a.channels.get(code="reception").pk,
        "patient": cast.patient_a.pk,
        **extra,
    }
    return client.post(reverse("scheduling:booking-create"), data, HTTP_HX_REQUEST="true")


def test_b5_show_calendars_lists_free_slots_green(cast, login):
    day = next_weekday(0)
    response = login(cast.bob).get(reverse("scheduling:calendar"), _filters(cast, day))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="slot free"') == 7 * 16
    assert local(day, 8).isoformat() not in html  # rendered in UTC ISO form
    assert "08:00" in html and "15:30" in html


def test_b7_staff_books_free_slot_it_turns_red(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(1), 10)
    response = _book(client, cast, start)
    assert response.status_code == 200, response.content
    booking = Booking.objects.get()
    assert booking.booked_by == cast.bob and booking.channel.code == "reception"
    page = client.get(reverse("scheduling:calendar"), _filters(cast, start.date())).content.decode()
    assert f'data-booking="{booking.pk}"' in page and "Anna Patient" in page
    assert page.count('class="slot free"') == 7 * 16 - 1


def test_b7_book_new_patient_from_the_form(cast, login):
    start = local(next_weekday(2), 9, 30)
    response = _book(
        login(cast.bob),
        cast,
        start,
        patient="",
        **{"new-full_name": "Nora New", "new-insurance_id": "111111110x"},
    )
    assert response.status_code == 422
    assert "not a valid health-insurance" in response.content.decode()
    response = _book(login(cast.bob), cast, start, patient="", **{"new-full_name": "Nora New"})
    assert response.status_code == 200
    assert Booking.objects.get().patient.full_name == "Nora New"


@pytest.mark.parametrize(
    "when, message",
    [
        (lambda: local(next_weekday(0, weeks_ahead=-2), 10), "past"),
        (lambda: local(next_weekday(0), 20), "outside the physician"),
    ],
)
def test_b7_bad_times_are_refused_with_message(cast, login, when, message):
    response = _book(login(cast.bob), cast, when())
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Booking.objects.exists()


def test_b8_conflicting_slot_says_no_longer_available(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(3), 11)
    assert _book(client, cast, start).status_code == 200
    response = _book(client, cast, start)
    assert response.status_code == 422
    assert "This slot is no longer available." in response.content.decode()
    assert Booking.objects.count() == 1


def test_b7_garbage_time_and_unknown_ids(cast, login):
    client = login(cast.bob)
    assert _book(client, cast, local(next_weekday(3), 11), starts_at="tomorrow").status_code == 422
    assert _book(client, cast, local(next_weekday(3), 11), patient=999999).status_code == 404
    assert _book(client, cast, local(next_weekday(3), 11), slot_physician="abc").status_code == 404
    assert client.get(reverse("scheduling:booking-detail", args=[424242])).status_code == 404
    assert not Booking.objects.exists()


def test_b7_other_tenants_ids_answer_404(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(3), 11)
    assert _book(client, cast, start, patient=cast.patient_b.pk).status_code == 404
    assert _book(client, cast, start, slot_physician=cast.physician_b.pk).status_code == 404
    assert _book(client, cast, start, location=cast.location_b.pk).status_code == 404
    assert _book(client, cast, start, service=cast.service_b.pk).status_code == 404
    assert _book(client, cast, start, location="").status_code == 400
    assert not Booking.objects.exists()


def test_b7_move_and_cancel(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(4), 10)
    _book(client, cast, start)
    booking = Booking.objects.get()
    panel = client.get(reverse("scheduling:booking-detail", args=[booking.pk])).content.decode()
    assert "Anna Patient" in panel and "Reception" in panel
    new_start = start + timedelta(hours=2)
    response = client.post(
        reverse("scheduling:booking-move", args=[booking.pk]),
        {**_filters(cast, start.date()), "starts_at": new_start.isoformat(), "confirm": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.starts_at == new_start
    response = client.post(
        reverse("scheduling:booking-cancel", args=[booking.pk]), _filters(cast, start.date())
    )
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert response.content.decode().count('class="slot free"') == 7 * 16


def test_b7_stranger_cannot_open_or_cancel_booking(cast, login):
    _book(login(cast.bob), cast, local(next_weekday(4), 10))
    booking = Booking.objects.get()
    client = login(cast.charlie)
    assert client.get(reverse("scheduling:booking-detail", args=[booking.pk])).status_code == 404
    assert client.post(reverse("scheduling:booking-cancel", args=[booking.pk])).status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_b5_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("scheduling:calendar"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_b7_move_to_the_end_of_time_is_refused_not_a_server_error(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(4), 10)
    _book(client, cast, start)
    booking = Booking.objects.get()
    response = client.post(
        reverse("scheduling:booking-move", args=[booking.pk]), {"starts_at": "9999-12-31T23:59:59+14:00"}
    )
    assert response.status_code == 422 and b"Enter a date between 1900 and 2999." in response.content
    booking.refresh_from_db()
    assert booking.starts_at == start


def test_b5_calendar_week_far_away_gets_a_message(cast, login):
    filters = {**_filters(cast, next_weekday(1)), "week": "9999-12-31"}
    response = login(cast.bob).get(reverse("scheduling:calendar"), filters)
    assert response.status_code < 500 and b"Enter a date between 1900 and 2999." in response.content
