"""X-6: the partner's bookings as an iCalendar feed at a secret, revocable address."""

import re

import pytest
from django.urls import reverse
from icalendar import Calendar

from conftest import actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.partners.models import CalendarFeed
from medbook.partners.tests import services

pytestmark = pytest.mark.django_db

FEED_SETTINGS = reverse("partners:feed-settings")


def _book(cast, user, hour=9, note=""):
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), hour),
        note=note,
    )


def _feed_url(client) -> str:
    client.post(FEED_SETTINGS, {"action": "renew"})
    page = client.get(reverse("partners:booking-list")).content.decode()
    return re.search(r'data-testid="feed-url">https?://[^/]+(/[^<]+)<', page).group(1)


def test_x6_feed_lists_the_partners_bookings_in_utc_without_patient_names(cast, partners, login, client):
    booking = _book(cast, partners.peter, note="Long note; with, commas and a very long text " * 3)
    _book(cast, cast.bob, hour=11)  # the institution's own booking: not in the partner's feed
    url = _feed_url(login(partners.paula))
    client.logout()
    response = client.get(url)  # no login: calendar applications fetch it
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    assert body.count("BEGIN:VEVENT") == 1
    unfolded = body.replace("\r\n ", "")
    assert f"UID:booking-{booking.pk}@" in unfolded
    start = booking.starts_at.strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}\r\n" in unfolded and "DTSTAMP:" in unfolded and "DTEND:" in unfolded
    assert "Long note" not in unfolded  # the free-text note may hold patient details
    assert "Anna Patient" not in unfolded
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_x6_cancelled_booking_shows_as_cancelled(cast, partners, login, client):
    booking = _book(cast, partners.peter)
    services.booking_cancel(actor=actor_of(partners.peter), booking=booking)
    url = _feed_url(login(partners.peter))
    assert "STATUS:CANCELLED" in client.get(url).content.decode()


def test_x6_new_address_revokes_the_old_one_and_switching_off_kills_it(cast, partners, login):
    client = login(partners.peter)
    old = _feed_url(client)
    new = _feed_url(client)
    assert old != new
    assert client.get(old).status_code == 404 and client.get(new).status_code == 200
    client.post(FEED_SETTINGS, {"action": "revoke"})
    assert client.get(new).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_x6_deactivated_user_or_lost_permission_kills_the_feed(cast, partners, login):
    client = login(partners.peter)
    url = _feed_url(client)
    membership = Membership.objects.get(user=partners.peter)
    membership.can_book = False
    membership.save()
    assert client.get(url).status_code == 404
    membership.can_book, membership.is_active = True, False
    membership.save()
    assert client.get(url).status_code == 404


def test_x6_ended_partnership_bookings_leave_the_feed(cast, partners, login):
    _book(cast, partners.peter)
    client = login(partners.peter)
    url = _feed_url(client)
    partners.partnership_p.status = "ended"
    partners.partnership_p.save()
    assert "BEGIN:VEVENT" not in client.get(url).content.decode()


def test_x6_feed_reads_back_as_icalendar_without_the_free_text_note(cast, partners, login, client):
    note = "Kérjük, éhgyomorra érkezzen; hozza a leleteit. " * 4
    booking = _book(cast, partners.peter, note=note)
    url = _feed_url(login(partners.paula))
    client.logout()
    calendar = Calendar.from_ical(client.get(url).content)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == booking.starts_at
    assert event.decoded("dtend") == booking.ends_at
    assert str(event["summary"]) == f"{cast.service_a.name} – {cast.physician_a.full_name}"
    assert note.strip() not in str(event["description"])
    assert str(event["description"]).startswith(cast.institution_a.name)
    assert str(event["status"]) == "CONFIRMED"


def test_x6_bookings_list_filters_by_institution_period_and_status(cast, partners, login):
    kept = _book(cast, partners.peter)
    gone = _book(cast, partners.peter, hour=11)
    services.booking_cancel(actor=actor_of(partners.peter), booking=gone)
    client = login(partners.peter)
    page = client.get(reverse("partners:booking-list"), {"status": "booked"}).content.decode()
    assert f'data-booking="{kept.pk}"' in page and f'data-booking="{gone.pk}"' not in page
    day = next_weekday(1)
    later = client.get(
        reverse("partners:booking-list"), {"date_from": (day.replace(year=day.year + 1)).isoformat()}
    )
    assert 'data-booking="' not in later.content.decode()
    same = client.get(
        reverse("partners:booking-list"), {"date_from": day.isoformat(), "date_until": day.isoformat()}
    )
    assert f'data-booking="{kept.pk}"' in same.content.decode()
    other = client.get(reverse("partners:booking-list"), {"institution": cast.institution_b.pk})
    assert other.status_code == 200 and 'data-booking="' not in other.content.decode()
