"""The desk's day agenda (issue 23): a location's day, its physicians side by side, bookings by service and
status, free time that opens the booking form; only for the institution's own people."""

import re
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.institutions.tests.factories import PhysicianFactory, ServiceFactory, weekly_hours
from medbook.partners.tests import services as scheduling_services
from medbook.scheduling.agenda import institution_today
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db
AGENDA = reverse("scheduling:agenda")
DST_SUNDAY = date(2027, 3, 28)  # Budapest: 02:00 becomes 03:00


def _book(cast, user, starts_at, **extra):
    return scheduling_services.booking_create(
        actor=actor_of(user),
        location=extra.pop("location", cast.location_a1),
        physician=extra.pop("physician", cast.physician_a),
        service=extra.pop("service", cast.service_a),
        patient=extra.pop("patient", cast.patient_a),
        starts_at=starts_at,
        **extra,
    )


def _agenda(client, cast, day, **extra):
    query = {"location": cast.location_a1.pk, "service": cast.service_a.pk, "date": day.isoformat(), **extra}
    return client.get(AGENDA, query)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_b5_agenda_opens_on_today_at_the_first_location(cast, login):
    response = login(cast.bob).get(AGENDA)
    assert response.status_code == 200
    today = institution_today(actor_of(cast.bob))
    assert f'data-day="{today.isoformat()}"' in response.content.decode()
    assert response.context["location"] == cast.location_a1
    assert b'aria-current="date"' in response.content


def test_b5_agenda_shows_every_physician_of_the_location_with_bookings_status_and_service(cast, login):
    day = next_weekday(1)
    second = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Second", locations=[cast.location_a1]
    )
    ultrasound = ServiceFactory(
        institution=cast.institution_a, name="Ultrasound", locations=[cast.location_a1], physicians=[second]
    )
    weekly_hours(second, cast.location_a1, start=time(10), end=time(14))
    _book(cast, cast.bob, local(day, 9))
    completed = _book(cast, cast.bob, local(day, 10))
    no_show = _book(cast, cast.bob, local(day, 11))
    _book(cast, cast.bob, local(day, 12), physician=second, service=ultrasound)
    Booking.objects.filter(pk=completed.pk).update(status=Booking.Status.COMPLETED)
    Booking.objects.filter(pk=no_show.pk).update(status=Booking.Status.NO_SHOW)
    cancelled = _book(cast, cast.bob, local(day, 13))
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)

    response = _agenda(login(cast.bob), cast, day)
    text = _text(response)
    assert response.status_code == 200
    assert "Dr. Alpha" in text and "Dr. Second" in text
    # Side by side: one column header per physician; the second does not give the service shown.
    assert len(re.findall(r'<th scope="col" data-physician', text)) == 2
    assert "Does not give Cardiology check" in text
    grid = text.split('class="agenda-list"')[0]
    assert grid.count('class="agenda-booking service-') == 4
    for status in ("Booked", "Completed", "No-show"):
        assert f'data-testid="agenda-status">{status}</span>' in grid
    assert "status-completed" in grid and "status-no_show" in grid
    assert "09:00–09:30" in grid and "12:00–12:30" in grid and "13:00–13:30" not in grid  # cancelled: free
    # Coloured by service and named: the legend lists both services with their colours.
    legend = re.search(r'<ul class="agenda-legend".*?</ul>', text).group(0)
    assert "Cardiology check" in legend and "Ultrasound" in legend
    assert len(set(re.findall(r"service-(\d)", legend))) == 2
    assert "Ultrasound" in grid and "Anna Patient" in grid


def test_b5_agenda_free_time_opens_the_week_calendars_booking_form(cast, login):
    day = next_weekday(1)
    client = login(cast.bob)
    response = _agenda(client, cast, day)
    urls = re.findall(r'hx-get="(/calendar/book/\?[^"]+)"', response.content.decode())
    assert len(urls) == 2 * 16  # 08:00–16:00 in half hours, once in the grid and once in the list
    first = urls[0].replace("&amp;", "&")
    assert f"slot_physician={cast.physician_a.pk}" in first and f"slot_service={cast.service_a.pk}" in first
    assert "starts_at=" in first
    # With the agenda's filters (#calendar-filters) the booking form opens for that slot.
    path, query = first.split("?", 1)
    filters = {"location": cast.location_a1.pk, "service": cast.service_a.pk, "week": day.isoformat()}
    form = client.get(path, {**dict(parse_qsl(query)), **filters}, HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert b'id="booking-form"' in form.content


def test_b5_agenda_free_time_leaves_out_the_booked_and_the_past(cast, login):
    day = next_weekday(1)
    _book(cast, cast.bob, local(day, 9))
    response = _agenda(login(cast.bob), cast, day)
    free = re.findall(r'class="slot free agenda-slot" data-start="([^"]+)"', response.content.decode())
    assert local(day, 9).isoformat() not in {datetime.fromisoformat(s).isoformat() for s in free}
    assert len(free) == 2 * 15
    yesterday = _agenda(login(cast.bob), cast, institution_today(actor_of(cast.bob)) - timedelta(days=1))
    assert yesterday.status_code == 200 and b"slot free agenda-slot" not in yesterday.content


def test_b5_agenda_shows_a_physicians_booking_at_another_location_as_busy_there(cast, login):
    day = next_weekday(1)
    weekly_hours(cast.physician_a, cast.location_a2, start=time(16), end=time(18))
    _book(cast, cast.bob, local(day, 16), location=cast.location_a2)
    text = _text(_agenda(login(cast.bob), cast, day))
    assert "16:00–16:30" in text and "A North" in text


def test_b5_agenda_times_are_in_the_institutions_zone_on_a_dst_day(cast, login):
    client = login(cast.bob)
    for day in (DST_SUNDAY - timedelta(days=1), DST_SUNDAY):
        booking = _book(cast, cast.bob, local(day, 9))
        offset = booking.starts_at.astimezone(ZoneInfo("Europe/Budapest")).utcoffset()
        assert offset == timedelta(hours=2 if day == DST_SUNDAY else 1)
        text = _text(_agenda(client, cast, day))
        assert "09:00–09:30" in text
        assert '<th scope="row" class="agenda-time">08:00</th>' in text
        assert '<th scope="row" class="agenda-time">15:30</th>' in text


def test_b5_agenda_in_another_zone_shows_its_own_wall_clock(cast, login):
    cast.institution_a.time_zone = "America/New_York"
    cast.institution_a.save(update_fields=["time_zone"])
    day = next_weekday(1)
    _book(cast, cast.bob, datetime.combine(day, time(9), tzinfo=ZoneInfo("America/New_York")))
    text = _text(_agenda(login(cast.bob), cast, day))
    assert "09:00–09:30" in text


def test_b5_agenda_remembers_the_last_location(cast, login):
    client = login(cast.bob)
    weekly_hours(cast.physician_a, cast.location_a2)
    assert _agenda(client, cast, next_weekday(1), location=cast.location_a2.pk).status_code == 200
    response = client.get(AGENDA)
    assert response.context["location"] == cast.location_a2
    # Another user's choice is their own.
    assert login(cast.alice).get(AGENDA).context["location"] == cast.location_a1


def test_b5_agenda_falls_back_to_the_week_calendars_location(cast, login):
    client = login(cast.bob)
    client.get(
        reverse("scheduling:calendar"),
        {"location": cast.location_a2.pk, "service": cast.service_a.pk, "week": next_weekday(1).isoformat()},
    )
    assert client.get(AGENDA).context["location"] == cast.location_a2


def test_b5_agenda_navigation_links_go_a_day_back_and_forth(cast, login):
    day = next_weekday(1)
    response = _agenda(login(cast.bob), cast, day)
    content = response.content.decode()
    assert f"date={(day - timedelta(days=1)).isoformat()}" in content
    assert f"date={(day + timedelta(days=1)).isoformat()}" in content
    assert f"week={day.isoformat()}" in content  # the week view stays, one click away


def test_t1_agenda_of_another_tenants_location_or_service_is_404(cast, login):
    client = login(cast.bob)
    day = next_weekday(1)
    assert _agenda(client, cast, day, location=cast.location_b.pk).status_code == 404
    assert _agenda(client, cast, day, service=cast.service_b.pk).status_code == 404
    assert _agenda(client, cast, day, location="x").status_code == 404
    assert _agenda(login(cast.charlie), cast, day).status_code == 404


def test_b5_agenda_bad_date_is_refused_with_a_message(cast, login):
    for bad in ("2026-02-30", "0001-01-01", "x" * 300):
        response = _agenda(login(cast.bob), cast, date.today(), date=bad)
        assert response.status_code == 400
        assert b"errorlist" in response.content


def test_p13_partner_users_are_refused_the_agenda(cast, partners, login):
    for user in (partners.paula, partners.peter, partners.petra):
        response = login(user).get(AGENDA)
        assert response.status_code == 403


def test_b5_agenda_htmx_draws_only_the_day(cast, login):
    response = login(cast.bob).get(
        AGENDA, {"location": cast.location_a1.pk, "service": cast.service_a.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b'id="agenda-day"' in response.content


def test_b5_agenda_of_a_location_nobody_works_at_says_so(cast, login):
    response = _agenda(login(cast.bob), cast, next_weekday(1), location=cast.location_a2.pk)
    assert response.status_code == 200
    assert b'data-testid="agenda-nobody"' in response.content


def test_b5_agenda_rows_are_as_fine_as_the_bookings_need(cast, login):
    day = next_weekday(1)
    echo = ServiceFactory(
        institution=cast.institution_a,
        name="Echocardiography",
        duration_minutes=45,
        locations=[cast.location_a1],
        physicians=[cast.physician_a],
    )
    _book(cast, cast.bob, local(day, 8), service=echo)
    text = _text(_agenda(login(cast.bob), cast, day))
    grid = text.split('class="agenda-list"')[0]
    assert '<th scope="row" class="agenda-time">08:15</th>' in grid  # quarter-hour rows
    assert re.search(r'<td rowspan="3" class="agenda-booking service-\d status-booked">', grid)
    assert "08:00–08:45" in grid and "Echocardiography" in grid
    # The next free half hour on the grid after the booking is 09:00 (08:45 is free but off the grid).
    starts = re.findall(r'class="slot free agenda-slot" data-start="([^"]+)"', grid)
    assert min(datetime.fromisoformat(s) for s in starts) == local(day, 9)
