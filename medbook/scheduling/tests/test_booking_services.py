"""B-5, B-7, B-8, B-9: booking_create, booking_move and booking_cancel as the acting user sees them."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.http import Http404
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.core.errors import DomainError, NotPermitted, SlotUnavailable
from medbook.institutions.tests.factories import (
    LocationFactory,
    MembershipFactory,
    ServiceFactory,
    UserFactory,
    weekly_hours,
)
from medbook.scheduling import selectors, services
from medbook.scheduling.models import Booking, ScheduleException, TrafficChannel

WEDNESDAY = 2
BUDAPEST = ZoneInfo("Europe/Budapest")


@pytest.fixture
def day() -> date:
    return next_weekday(WEDNESDAY)


def book(cast, starts_at: datetime, *, user=None, **overrides) -> Booking:
    """Book service_a with physician_a at location_a1 for patient_a, as bob unless told otherwise."""
    arguments = {
        "actor": actor_of(user or cast.bob),
        "location": cast.location_a1,
        "physician": cast.physician_a,
        "service": cast.service_a,
        "patient": cast.patient_a,
        "starts_at": starts_at,
        **overrides,
    }
    return services.booking_create(**arguments)


def free_starts(cast, day: date, location=None) -> list[str]:
    """The local start times (HH:MM) offered for service_a with physician_a on a day."""
    slots = selectors.available_slots(
        physician=cast.physician_a,
        location=location or cast.location_a1,
        service=cast.service_a,
        date_from=day,
        date_until=day,
    )
    return [slot.starts_at.astimezone(BUDAPEST).strftime("%H:%M") for slot in slots]


def bookings_table() -> list[dict]:
    return list(Booking.objects.order_by("pk").values())


def refused(error_type, message: str, action, *args, **kwargs) -> None:
    """Assert the action is refused with the message and that no booking row changed."""
    before = bookings_table()
    with pytest.raises(error_type) as refusal:
        action(*args, **kwargs)
    assert str(refusal.value) == message
    assert bookings_table() == before


# B-7: what a booking records


def test_b7_booking_captures_price_currency_channel_booker_and_times(cast, day):
    booking = book(cast, local(day, 10))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert booking.payment_status == Booking.PaymentStatus.UNPAID
    assert (booking.price, booking.currency) == (Decimal("12000.00"), "HUF")
    assert booking.channel.code == "reception"
    assert booking.booked_by == cast.bob
    assert booking.institution == cast.institution_a
    assert booking.starts_at == local(day, 10).astimezone(UTC)
    assert booking.ends_at - booking.starts_at == timedelta(minutes=30)


def test_b7_a_later_price_change_does_not_rewrite_the_booking(cast, day):
    booking = book(cast, local(day, 10))
    cast.service_a.price = Decimal("15500.00")
    cast.service_a.currency = "EUR"
    cast.service_a.save()
    booking.refresh_from_db()
    assert (booking.price, booking.currency) == (Decimal("12000.00"), "HUF")
    assert book(cast, local(day, 11)).price == Decimal("15500.00")


def test_b9_booking_records_the_chosen_channel(cast, day):
    phone = selectors.default_channel(institution=cast.institution_a, code="phone")
    booking = book(cast, local(day, 10), user=cast.alice, channel=phone)
    booking.refresh_from_db()
    assert booking.channel == phone
    assert booking.booked_by == cast.alice


def test_b9_every_institution_gets_online_phone_and_reception_channels_once(cast):
    services.channels_create_defaults(institution=cast.institution_a)
    codes = TrafficChannel.objects.filter(institution=cast.institution_a).values_list("code", flat=True)
    assert sorted(codes) == ["online", "phone", "reception"]
    assert selectors.default_channel(institution=cast.institution_b).institution == cast.institution_b


def test_b9_a_channel_of_another_institution_is_refused(cast, day):
    foreign = selectors.default_channel(institution=cast.institution_b)
    refused(DomainError, "Unknown traffic channel.", book, cast, local(day, 10), channel=foreign)


# B-5: the slot a booking takes, and gives back


def test_b5_a_booked_slot_disappears_and_cancelling_brings_it_back(cast, day):
    assert "10:00" in free_starts(cast, day)
    booking = book(cast, local(day, 10))
    assert "10:00" not in free_starts(cast, day)
    assert len(free_starts(cast, day)) == 15
    cancelled = services.booking_cancel(actor=actor_of(cast.bob), booking=booking)
    assert cancelled.status == Booking.Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert "10:00" in free_starts(cast, day)
    assert book(cast, local(day, 10)).status == Booking.Status.BOOKED  # the slot can be booked again


def test_b5_moving_frees_the_old_slot_and_takes_the_new_one(cast, day):
    booking = book(cast, local(day, 10))
    moved = services.booking_move(actor=actor_of(cast.bob), booking=booking, starts_at=local(day, 14, 30))
    moved.refresh_from_db()
    assert moved.starts_at == local(day, 14, 30).astimezone(UTC)
    assert moved.ends_at == local(day, 15).astimezone(UTC)
    assert (moved.price, moved.patient, moved.booked_by) == (Decimal("12000.00"), cast.patient_a, cast.bob)
    starts = free_starts(cast, day)
    assert "10:00" in starts
    assert "14:30" not in starts
    assert Booking.objects.count() == 1


def test_b8_a_booking_moved_by_a_quarter_hour_does_not_clash_with_itself(cast, day):
    booking = book(cast, local(day, 10))
    moved = services.booking_move(actor=actor_of(cast.alice), booking=booking, starts_at=local(day, 10, 15))
    assert moved.starts_at == local(day, 10, 15).astimezone(UTC)


def test_b5_the_calendar_shows_free_slots_green_and_the_booking_red(cast, day):
    booking = book(cast, local(day, 10))
    week_start = day - timedelta(days=day.weekday())
    week = selectors.calendar_week(
        actor=actor_of(cast.bob),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=week_start,
    )
    assert [calendar_day.day for calendar_day in week] == [week_start + timedelta(n) for n in range(7)]
    wednesday = week[WEDNESDAY].entries
    assert len(wednesday) == 16
    assert [entry.booking for entry in wednesday if not entry.is_free] == [booking]


def test_b8_bookings_next_to_each_other_do_not_clash(cast, day):
    book(cast, local(day, 10))
    book(cast, local(day, 9, 30))
    book(cast, local(day, 10, 30))
    assert Booking.objects.filter(status=Booking.Status.BOOKED).count() == 3


# B-8 and input errors: refused with a clear message, nothing written


def test_b8_a_booked_slot_is_refused_as_no_longer_available(cast, day):
    book(cast, local(day, 10))
    refused(SlotUnavailable, "This slot is no longer available.", book, cast, local(day, 10))


def test_b8_an_overlapping_time_is_refused_even_for_another_patient_and_service(cast, day):
    book(cast, local(day, 10))
    hour = ServiceFactory(
        institution=cast.institution_a,
        duration_minutes=60,
        locations=[cast.location_a1],
        physicians=[cast.physician_a],
    )
    refused(SlotUnavailable, "This slot is no longer available.", book, cast, local(day, 9, 45), service=hour)
    refused(SlotUnavailable, "This slot is no longer available.", book, cast, local(day, 10, 15))


def test_b8_the_physician_cannot_be_booked_at_two_locations_at_once(cast, day):
    weekly_hours(cast.physician_a, cast.location_a2)
    book(cast, local(day, 10))
    assert "10:00" not in free_starts(cast, day, location=cast.location_a2)
    refused(
        SlotUnavailable,
        "This slot is no longer available.",
        book,
        cast,
        local(day, 10),
        location=cast.location_a2,
    )


def test_b7_a_start_in_the_past_is_refused(cast):
    yesterday = timezone.localdate() - timedelta(days=1)
    refused(DomainError, "A booking cannot start in the past.", book, cast, local(yesterday, 10))


def test_b7_a_start_without_a_time_zone_is_refused(cast, day):
    refused(
        DomainError, "The start time must carry a time zone.", book, cast, datetime.combine(day, time(10))
    )


@pytest.mark.parametrize(("hour", "minute"), [(7, 30), (15, 45), (16, 0), (20, 0)])
def test_b5_a_time_outside_working_hours_is_refused(cast, day, hour, minute):
    refused(
        DomainError,
        "This time is outside the physician's working hours.",
        book,
        cast,
        local(day, hour, minute),
    )


def test_b5_a_day_of_leave_is_refused_and_offers_no_slots(cast, day):
    ScheduleException.objects.create(physician=cast.physician_a, date_from=day, date_until=day + timedelta(1))
    assert free_starts(cast, day) == []
    refused(DomainError, "This time is outside the physician's working hours.", book, cast, local(day, 10))
    assert len(free_starts(cast, day + timedelta(days=2))) == 16


def test_b5_leave_at_one_location_leaves_the_other_open(cast, day):
    weekly_hours(cast.physician_a, cast.location_a2)
    ScheduleException.objects.create(
        physician=cast.physician_a, location=cast.location_a2, date_from=day, date_until=day
    )
    assert free_starts(cast, day, location=cast.location_a2) == []
    assert book(cast, local(day, 10)).location == cast.location_a1


def test_b4_a_service_not_offered_at_the_location_is_refused(cast, day):
    elsewhere = LocationFactory(institution=cast.institution_a, name="A South")
    cast.physician_a.locations.add(elsewhere)
    weekly_hours(cast.physician_a, elsewhere)
    refused(
        DomainError,
        "This service is not offered at this location.",
        book,
        cast,
        local(day, 10),
        location=elsewhere,
    )


def test_b4_a_service_the_physician_does_not_provide_is_refused(cast, day):
    other = ServiceFactory(institution=cast.institution_a, name="X-ray", locations=[cast.location_a1])
    refused(
        DomainError,
        "This physician does not provide this service.",
        book,
        cast,
        local(day, 10),
        service=other,
    )


def test_b3_a_location_the_physician_does_not_work_at_is_refused(cast, day):
    elsewhere = LocationFactory(institution=cast.institution_a, name="A South")
    cast.service_a.locations.add(elsewhere)
    refused(
        DomainError,
        "The physician does not work at this location.",
        book,
        cast,
        local(day, 10),
        location=elsewhere,
    )


def test_b4_an_inactive_service_cannot_be_booked(cast, day):
    cast.service_a.is_active = False
    cast.service_a.save()
    refused(
        DomainError,
        "This location, physician or service is not available for booking.",
        book,
        cast,
        local(day, 10),
    )


def test_b4_a_service_of_another_institution_is_refused(cast, day):
    refused(
        DomainError,
        "The location, physician and service must belong to one institution.",
        book,
        cast,
        local(day, 10),
        service=cast.service_b,
    )


def test_b6_a_patient_of_another_institution_is_refused(cast, day):
    refused(DomainError, "Unknown patient.", book, cast, local(day, 10), patient=cast.patient_b)


# Who may act


def test_b7_staff_of_another_institution_cannot_book_at_a_location_of_a(cast, day):
    refused(Http404, "", book, cast, local(day, 10), user=cast.charlie)


def test_b7_staff_of_another_institution_cannot_move_or_cancel_a_booking_of_a(cast, day):
    booking = book(cast, local(day, 10))
    stranger = actor_of(cast.charlie)
    refused(Http404, "", services.booking_move, actor=stranger, booking=booking, starts_at=local(day, 11))
    refused(Http404, "", services.booking_cancel, actor=stranger, booking=booking)
    assert "10:00" not in free_starts(cast, day)


def test_b10_a_user_without_membership_or_with_a_deactivated_one_cannot_book(cast, day):
    outsider = UserFactory(email="dave@nowhere.test")
    refused(NotPermitted, "You do not have permission to do this.", book, cast, local(day, 10), user=outsider)
    former = UserFactory(email="erin@a.test")
    MembershipFactory(user=former, organization=cast.institution_a, is_active=False)
    refused(NotPermitted, "You do not have permission to do this.", book, cast, local(day, 10), user=former)


def test_b7_institution_b_books_its_own_calendar(cast, day):
    booking = services.booking_create(
        actor=actor_of(cast.charlie),
        location=cast.location_b,
        physician=cast.physician_b,
        service=cast.service_b,
        patient=cast.patient_b,
        starts_at=local(day, 10),
    )
    assert booking.institution_id == cast.institution_b.pk
    assert "10:00" in free_starts(cast, day)  # A's physician is untouched


# Moving and cancelling: only what is still booked and ahead


def test_b7_a_cancelled_booking_cannot_be_cancelled_again_or_moved(cast, day):
    booking = book(cast, local(day, 10))
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)
    actor = actor_of(cast.bob)
    refused(
        DomainError,
        "Only a booked appointment can be cancelled.",
        services.booking_cancel,
        actor=actor,
        booking=booking,
    )
    refused(
        DomainError,
        "Only a booked appointment can be moved.",
        services.booking_move,
        actor=actor,
        booking=booking,
        starts_at=local(day, 11),
    )


def test_b8_moving_onto_a_booked_slot_is_refused_and_keeps_the_booking(cast, day):
    first = book(cast, local(day, 10))
    book(cast, local(day, 11))
    refused(
        SlotUnavailable,
        "This slot is no longer available.",
        services.booking_move,
        actor=actor_of(cast.bob),
        booking=first,
        starts_at=local(day, 10, 45),
    )


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda day: local(day, 15, 45), "This time is outside the physician's working hours."),
        (
            lambda day: local(timezone.localdate() - timedelta(days=1), 10),
            "A booking cannot start in the past.",
        ),
    ],
    ids=["outside-hours", "past"],
)
def test_b5_moving_to_a_time_that_cannot_be_booked_is_refused(cast, day, when, message):
    booking = book(cast, local(day, 10))
    refused(
        DomainError,
        message,
        services.booking_move,
        actor=actor_of(cast.bob),
        booking=booking,
        starts_at=when(day),
    )


def test_b7_an_appointment_that_has_started_cannot_be_moved(cast):
    now = timezone.now()
    started = Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=20),
        channel=selectors.default_channel(institution=cast.institution_a),
        price=Decimal("12000.00"),
        currency="HUF",
    )
    refused(
        DomainError,
        "An appointment that has started cannot be moved.",
        services.booking_move,
        actor=actor_of(cast.bob),
        booking=started,
        starts_at=now + timedelta(days=7),
    )


def test_b9_inactive_channel_is_refused(cast):
    channel = cast.institution_a.channels.get(code="phone")
    channel.is_active = False
    channel.save()
    with pytest.raises(DomainError, match="not in use"):
        services.booking_create(
            actor=cast.actor(cast.bob),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(2), 9),
            channel=channel,
        )
    assert not Booking.objects.exists()
