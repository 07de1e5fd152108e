"""The booking service enforces the partner rules whatever the way in (P-3, P-4, P-5, P-6, P-9, P-12)."""

from decimal import Decimal

import pytest

from conftest import actor_of, local, next_weekday
from medbook.core.errors import DomainError, NotPermitted, SlotUnavailable
from medbook.institutions.tests.factories import ServiceFactory, weekly_hours
from medbook.partners.tests import services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _book(cast, user, *, location=None, service=None, hour=10, minute=0):
    return services.booking_create(
        actor=actor_of(user),
        location=location or cast.location_a1,
        physician=cast.physician_a,
        service=service or cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), hour, minute),
    )


def test_p9_partner_books_authorised_service_with_its_channel_and_terms(cast, partners):
    booking = _book(cast, partners.peter)
    assert booking.partner_id == partners.partner_p.pk
    assert booking.channel == partners.partnership_p.channel
    assert booking.commission_percent == Decimal("10.00") and booking.commission_fixed is None
    assert booking.payment_status == Booking.PaymentStatus.UNPAID
    assert booking.booked_by == partners.peter


def test_p6_partner_paid_bookings_show_paid_at_partner(cast, partners):
    partners.partnership_p.payment_location = "partner"
    partners.partnership_p.save()
    assert _book(cast, partners.peter).payment_status == Booking.PaymentStatus.PAID_AT_PARTNER


def test_p9_partner_cannot_book_unauthorised_service(cast, partners):
    other = ServiceFactory(
        institution=cast.institution_a, locations=[cast.location_a1], physicians=[cast.physician_a]
    )
    with pytest.raises(DomainError, match="may not book this service"):
        _book(cast, partners.peter, service=other)
    assert not Booking.objects.exists()


def test_p4_partner_cannot_book_unauthorised_location(cast, partners):
    weekly_hours(cast.physician_a, cast.location_a2)
    with pytest.raises(DomainError, match="may not book at this location"):
        _book(cast, partners.peter, location=cast.location_a2)
    assert not Booking.objects.exists()


@pytest.mark.parametrize("status", ["pending_registration", "pending_approval", "ended", "declined"])
def test_p3_partner_cannot_book_unless_partnership_is_active(cast, partners, status):
    partners.partnership_p.status = status
    partners.partnership_p.save()
    with pytest.raises(DomainError):
        _book(cast, partners.peter)
    assert not Booking.objects.exists()


def test_p10_partner_user_without_permission_cannot_book(cast, partners):
    with pytest.raises(NotPermitted):
        _book(cast, partners.petra)


def test_p3_partner_without_partnership_cannot_book(cast, partners):
    with pytest.raises(DomainError):
        _book(cast, partners.quentin)


def test_p12_partner_gets_the_slot_grid_strictly(cast, partners):
    with pytest.raises(SlotUnavailable):
        _book(cast, partners.peter, hour=10, minute=10)
    assert _book(cast, partners.peter, hour=10, minute=30).starts_at.minute == 30


def test_p5_captured_terms_do_not_change_with_the_partnership(cast, partners):
    booking = _book(cast, partners.peter)
    partners.partnership_p.commission_percent = Decimal("25.00")
    partners.partnership_p.save()
    booking.refresh_from_db()
    assert booking.commission_percent == Decimal("10.00")


def test_p4_partner_cannot_book_at_another_institution(cast, partners):
    with pytest.raises(DomainError):
        services.booking_create(
            actor=actor_of(partners.peter),
            location=cast.location_b,
            physician=cast.physician_b,
            service=cast.service_b,
            patient=cast.patient_b,
            starts_at=local(next_weekday(1), 10),
        )
    assert not Booking.objects.exists()
