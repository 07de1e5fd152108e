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
