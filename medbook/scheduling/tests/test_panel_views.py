"""The booking panel and the calendars' keyboard landmarks as the server draws them (issue 23): after a move
or a cancellation the calendars name the slot the focus returns to (the new time, the slot freed), a panel
drawn without htmx shows open in the page, and the skip link leads to the calendars."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import local, next_weekday
from medbook.scheduling.models import Booking
from medbook.scheduling.tests.test_calendar_views import _book, _filters

pytestmark = pytest.mark.django_db


def test_b7_after_a_move_and_a_cancellation_the_focus_goes_to_the_new_time_then_the_freed_slot(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(4), 10)
    _book(client, cast, start)
    booking = Booking.objects.get()
    new_start = start + timedelta(hours=2)
    moved = client.post(
        reverse("scheduling:booking-move", args=[booking.pk]),
        {**_filters(cast, start.date()), "starts_at": new_start.isoformat(), "confirm": "1"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    new_iso = new_start.astimezone(UTC).isoformat()
    assert f'data-focus-start="{new_iso}" data-focus-physician="{cast.physician_a.pk}"' in moved
    assert f'data-start="{new_iso}" data-booking="{booking.pk}"' in moved  # the slot it names is there
    cancelled = client.post(
        reverse("scheduling:booking-cancel", args=[booking.pk]),
        _filters(cast, start.date()),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f'data-focus-start="{new_iso}"' in cancelled
    assert f'class="slot free" data-start="{new_iso}"' in cancelled  # the freed slot


def test_b7_a_panel_drawn_without_htmx_shows_open_in_the_page(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(4), 10)
    _book(client, cast, start)
    booking = Booking.objects.get()
    closed = client.get(reverse("scheduling:calendar"), _filters(cast, start.date())).content.decode()
    assert '<dialog id="panel-dialog" class="panel-dialog">' in closed
    ended = timezone.now() - timedelta(hours=2)  # its time came and went: attendance may be recorded
    Booking.objects.filter(pk=booking.pk).update(starts_at=ended - timedelta(minutes=30), ends_at=ended)
    response = client.post(
        reverse("scheduling:booking-attendance", args=[booking.pk]),
        {**_filters(cast, start.date()), "status": "completed"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<dialog id="panel-dialog" class="panel-dialog" open>' in html
    assert 'data-testid="booking-status">Completed' in html


def test_b7_the_skip_link_leads_to_the_calendars_and_elsewhere_to_the_page(cast, partners, login):
    to_calendars = '<a class="skip-link" href="#calendars">Skip to calendar</a>'
    calendar = login(cast.bob).get(reverse("scheduling:calendar")).content.decode()
    assert calendar.index(to_calendars) < calendar.index("<header") and 'id="calendars"' in calendar
    book = login(partners.peter).get(reverse("partners:book")).content.decode()
    assert to_calendars in book and 'id="calendars"' in book
    agenda = login(cast.bob).get(reverse("scheduling:agenda")).content.decode()
    assert 'href="#agenda-body">Skip to calendar</a>' in agenda and 'id="agenda-body"' in agenda
    patients = login(cast.bob).get(reverse("patients:patient-list")).content.decode()
    assert 'href="#main">Skip to main content</a>' in patients and 'id="main"' in patients
