"""The demo's booking history: past bookings that fill the reports, deterministic and made only once."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from medbook.accounts.models import User
from medbook.institutions.models import Institution
from medbook.reports.tests.data import table_rows
from medbook.scheduling.models import Booking

BUDAPEST = ZoneInfo("Europe/Budapest")


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def northside(db) -> Institution:
    seed()
    return Institution.objects.get(name="Northside Clinic")


def local_today():
    return timezone.now().astimezone(BUDAPEST).date()


def past_of(institution: Institution):
    midnight = datetime.combine(local_today(), time(), tzinfo=BUDAPEST)
    return Booking.objects.filter(institution=institution, starts_at__lt=midnight).select_related(
        "channel", "service", "partner", "booked_by"
    )


def test_history_has_past_bookings_of_every_status_and_channel(northside):
    past = list(past_of(northside))
    assert len(past) >= 100
    statuses = {b.status for b in past}
    assert {"completed", "cancelled", "no_show"} <= statuses
    completed = sum(b.status == "completed" for b in past)
    assert completed > 0.7 * len(past) and sum(b.status == "no_show" for b in past) < 0.15 * len(past)
    # Only the last days hold visits whose attendance the desk has still to record.
    recent = local_today() - timedelta(days=4)
    assert all(b.starts_at.astimezone(BUDAPEST).date() >= recent for b in past if b.status == "booked")
    assert {b.channel.code for b in past if b.partner_id is None} == {"online", "phone", "reception"}
    earliest = local_today() - timedelta(days=75)
    for booking in past:
        local = booking.starts_at.astimezone(BUDAPEST)
        assert earliest <= local.date() < local_today() and local.weekday() < 5
        assert booking.price == booking.service.price and booking.currency == booking.service.currency
        assert booking.booked_by is not None and booking.created_at < booking.starts_at
        assert (booking.cancelled_at is not None) == (booking.status == "cancelled")
        # The outcome as the desk records it (booking_attendance_set): when, for a visit that took place.
        recorded = booking.attendance_recorded_at
        assert (recorded is not None) == (booking.status in ("completed", "no_show"))
        if recorded is not None:
            assert booking.starts_at < recorded < timezone.now()
        if booking.cancelled_at:
            assert booking.created_at <= booking.cancelled_at < booking.starts_at
        if booking.partner_id is None:
            paid = booking.status == "completed"  # at the desk, now and then refunded
            assert booking.payment_status in (("paid", "refunded") if paid else ("unpaid",))
            assert booking.booked_by.email == "reception@northside.example"
            assert booking.commission_percent is None and booking.commission_fixed is None


def test_history_has_callcenter_bookings_with_the_captured_commission(northside):
    callcenter = [b for b in past_of(northside) if b.partner_id is not None]
    assert {b.partner.name for b in callcenter} == {"CallCenter Ltd"}  # Westside is only invited
    assert len(callcenter) >= 30
    for booking in callcenter:
        assert booking.commission_percent == Decimal("10.00") and booking.commission_fixed is None
        assert booking.channel.partner_id == booking.partner_id
        # CallCenter's patients pay at the institution: paid once the appointment took place
        paid = booking.status == "completed"
        assert booking.payment_status in (("paid", "refunded") if paid else ("unpaid",))
        assert booking.booked_by.email == "agent@callcenter.example"
        assert booking.service.name in {
            "Cardiology consultation",
            "Resting ECG",
            "Dermatology consultation",
            "Orthopaedic consultation",
        }
        assert booking.location.name in {"Northside Central", "Northside Buda"}


def test_b11_history_is_mostly_paid_and_leaves_some_attendance_for_the_desk(northside, login):
    past = list(past_of(northside))
    completed = [b for b in past if b.status == "completed"]
    assert sum(b.payment_status == "paid" for b in completed) > 0.9 * len(completed)
    reception = User.objects.get(email="reception@northside.example")
    html = login(reception).get(reverse("scheduling:calendar")).content.decode()
    unrecorded = [b for b in past if b.status == "booked"]
    if unrecorded:  # none when the last four days held no working day
        assert f"Attendance not recorded: {len(unrecorded)} appointment" in html


def test_history_never_overlaps_an_active_booking_of_the_same_physician(northside):
    bookings = list(
        Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES).order_by("physician_id", "starts_at")
    )
    for earlier, later in zip(bookings, bookings[1:], strict=False):
        if earlier.physician_id == later.physician_id:
            assert earlier.ends_at <= later.starts_at, (earlier, later)


def test_history_is_made_once(northside):
    count = Booking.objects.count()
    output = seed()
    assert Booking.objects.count() == count
    assert f"… and {past_of(northside).count()} past bookings for the reports (0 new)." in output


def test_traffic_statistics_of_the_last_60_days_show_callcenter_commission(northside, login):
    today = local_today()
    query = {
        "date_from": (today - timedelta(days=60)).isoformat(),
        "date_until": (today - timedelta(days=1)).isoformat(),
    }
    admin = User.objects.get(email="admin@northside.example")
    response = login(admin).get(reverse("reports:traffic"), query)
    assert response.status_code == 200
    rows = table_rows(response.content.decode(), "traffic-partners")
    assert rows["CallCenter Ltd"]["commission"] > 0
    assert rows["CallCenter Ltd"]["completed"] > 0
    channels = table_rows(response.content.decode(), "traffic-channels")
    assert channels["total"]["bookings"] >= 60
