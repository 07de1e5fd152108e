"""What the desk reads on the calendars: every calendar listed, slot names with day, time and physician,
built-in channel names in the reader's language."""

import pytest
from django.urls import reverse
from django.utils import translation

from conftest import next_weekday

pytestmark = pytest.mark.django_db


def test_built_in_channel_names_follow_the_readers_language(cast):
    phone = cast.institution_a.channels.get(code="phone")
    with translation.override("hu"):
        assert phone.display_name == "Telefon"
    with translation.override("en"):
        assert str(phone) == "Phone"


def test_slot_names_carry_day_time_and_physician(cast, login):
    day = next_weekday(0)
    query = {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": day.isoformat(),
    }
    html = login(cast.bob).get(reverse("scheduling:calendar"), query).content.decode()
    assert (
        f'aria-label="Free slot, {day:%a} {day.day} {day:%b} {day.year}, 08:00, {cast.physician_a.full_name}"'
        in html
    )


def test_book_to_partner_says_how_many_calendars_it_lists(cast, partners, login):
    html = login(partners.peter).get(reverse("partners:book"), {"show": "1"}).content.decode()
    assert 'data-testid="calendar-count"' in html and "one below the other" in html
    assert "calendars-side-by-side" not in html


def test_reception_calendar_remembers_the_last_filters_and_shows_them_at_once(cast, login):
    client = login(cast.bob)
    chosen = {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": next_weekday(0).isoformat(),
    }
    client.get(reverse("scheduling:calendar"), chosen)
    html = client.get(reverse("scheduling:calendar")).content.decode()  # the next visit, no query
    assert 'class="slot free"' in html and cast.physician_a.full_name in html
    other = login(cast.alice).get(reverse("scheduling:calendar")).content.decode()
    assert 'class="slot free"' not in other  # remembered per user


def test_a_partners_booking_user_lands_on_book_to_partner_with_its_calendars(cast, partners, login):
    client = login(partners.peter)
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"] == reverse("partners:book")
    html = client.get(reverse("partners:book")).content.decode()
    assert 'class="slot free"' in html  # no "Show calendars" press needed


def test_book_to_partner_remembers_the_narrowed_choice(cast, partners, login):
    client = login(partners.peter)
    client.get(reverse("partners:book"), {"physician": cast.physician_a.pk, "show": "1"})
    html = client.get(reverse("partners:book")).content.decode()
    assert f'<option value="{cast.physician_a.pk}" selected>' in html


def test_booking_errors_are_summarised_beside_the_book_button(cast, login):
    start = next_weekday(1)
    data = {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": start.isoformat(),
        "slot_physician": cast.physician_a.pk,
        "starts_at": "not a time",
        "channel": cast.institution_a.channels.get(code="reception").pk,
        "new-full_name": "",
        "new-phone": "12",
    }
    response = login(cast.bob).post(reverse("scheduling:booking-create"), data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 422
    summary = html.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]
    assert html.index('data-testid="error-summary"') < html.index(">Book</button>")
    assert "<li>" in summary or "<li><a" in summary
