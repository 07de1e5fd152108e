"""Times a person reads are in the institution's zone and the reader's language (one helper), never UTC/ISO."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import formats, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import actor_of, local, next_weekday
from medbook.core.timefmt import when
from medbook.partners.tests import services

pytestmark = pytest.mark.django_db
BUDAPEST = ZoneInfo("Europe/Budapest")


def test_when_shows_the_institutions_wall_clock_across_a_dst_change():
    summer = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)  # 15:00 CEST
    winter = datetime(2026, 10, 26, 14, 0, tzinfo=UTC)  # 15:00 CET
    assert when(summer, "Europe/Budapest", language="en") == "Sat 24 Oct 2026, 15:00"
    assert when(winter, "Europe/Budapest", language="en") == "Mon 26 Oct 2026, 15:00"
    assert when(summer.isoformat(), "Europe/Budapest", "time") == "15:00"


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Europe/Budapest", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
    language=st.sampled_from(["en", "hu"]),
)
def test_when_a_time_of_day_reads_as_djangos_formatter_writes_it(moment, zone, language):
    # "time" skips the language machinery (a page lists dozens of them): it must still read the same.
    with translation.override(language):
        expected = formats.date_format(moment.astimezone(ZoneInfo(zone)), "H:i")
    assert when(moment, zone, "time", language=language) == expected


def test_when_writes_hungarian_in_hungarian_order():
    value = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    text = when(value, "Europe/Budapest", language="hu")
    assert text == "2026. december 3., csütörtök 15:00"


def test_staff_booking_form_header_reads_the_local_time_not_iso(cast, login):
    start = local(next_weekday(3), 15)
    query = {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": start.date().isoformat(),
        "slot_physician": cast.physician_a.pk,
        "starts_at": start.astimezone(UTC).isoformat(),
    }
    html = login(cast.bob).get(reverse("scheduling:booking-create"), query).content.decode()
    header = html.split('data-testid="slot-time">', 1)[1].split("<", 1)[0]
    assert header.endswith("15:00") and "T15" not in header and "+00:00" not in header


def test_partner_booking_form_header_reads_the_local_time_not_iso(cast, partners, login):
    start = local(next_weekday(3), 10)
    query = {
        "slot_location": cast.location_a1.pk,
        "slot_physician": cast.physician_a.pk,
        "slot_service": cast.service_a.pk,
        "starts_at": start.astimezone(UTC).isoformat(),
    }
    html = login(partners.peter).get(reverse("partners:book-slot"), query).content.decode()
    header = html.split('data-testid="slot-time">', 1)[1].split("<", 1)[0]
    assert header.endswith("10:00") and "+00:00" not in header


def test_booking_confirmation_text_is_in_the_institutions_zone(cast):
    booking = services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 8),
    )
    with translation.override("en"):
        assert ", 08:00 " in str(booking)


def test_money_is_grouped_in_the_readers_language():
    from decimal import Decimal

    from medbook.core.templatetags.money import money

    with translation.override("en"):
        assert money(Decimal("1234567.5")) == "1,234,567.50"
    with translation.override("hu"):
        assert money(Decimal("1234567.5")).replace("\xa0", " ") == "1 234 567,50"
