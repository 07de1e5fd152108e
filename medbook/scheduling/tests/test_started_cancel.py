"""F6: a visit that has started cannot be cancelled (its value and commission stay), by staff or partners."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError
from medbook.partners.services.booking import partner_booking_cancel
from medbook.partners.tests import services as partner_services
from medbook.scheduling import services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db
MESSAGE = "An appointment that has started cannot be cancelled."


@pytest.fixture
def started(cast, partners) -> Booking:
    """Peter (partner P) booked a visit at institution A that began ten minutes ago."""
    booking = partner_services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 9),
    )
    now = timezone.now()
    length = booking.ends_at - booking.starts_at
    Booking.objects.filter(pk=booking.pk).update(starts_at=now - timedelta(minutes=10), ends_at=now + length)
    booking.refresh_from_db()
    return booking


def _still_booked(booking: Booking) -> bool:
    booking.refresh_from_db()
    cancels = AuditEntry.objects.filter(action="booking.cancel", object_id=str(booking.pk))
    return booking.status == Booking.Status.BOOKED and booking.cancelled_at is None and not cancels.exists()


def test_f6_the_service_refuses_staff_and_partner(cast, partners, started):
    with pytest.raises(DomainError, match=MESSAGE):
        services.booking_cancel(actor=actor_of(cast.bob), booking=started)
    with pytest.raises(DomainError, match=MESSAGE):
        partner_booking_cancel(actor=actor_of(partners.peter), booking=started)
    assert _still_booked(started)


def test_f6_a_visit_starting_right_now_is_refused_too(cast, partners, started):
    Booking.objects.filter(pk=started.pk).update(starts_at=timezone.now())
    started.refresh_from_db()
    with pytest.raises(DomainError, match=MESSAGE):
        services.booking_cancel(actor=actor_of(cast.bob), booking=started)


def test_f6_staff_booking_cancel_page_refuses(cast, partners, started, login):
    response = login(cast.bob).post(reverse("scheduling:booking-cancel", args=[started.pk]))
    assert 400 <= response.status_code < 500
    assert _still_booked(started)


def test_f6_partner_booking_cancel_page_refuses(cast, partners, started, login):
    response = login(partners.peter).post(reverse("partners:booking-cancel", args=[started.pk]))
    assert 400 <= response.status_code < 500
    assert _still_booked(started)


def test_f6_report_cancel_page_refuses_with_the_reason(cast, partners, started, login):
    url = reverse("reports:partner-booking-cancel", args=[started.pk])
    response = login(cast.alice).post(url)
    assert response.status_code == 409 and MESSAGE in response.content.decode()  # a conflict (issue 21)
    assert _still_booked(started)


def test_f6_a_future_visit_is_still_cancelled(cast, partners, login):
    future = partner_services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 10),
    )
    assert login(partners.peter).post(reverse("partners:booking-cancel", args=[future.pk])).status_code == 302
    future.refresh_from_db()
    assert future.status == Booking.Status.CANCELLED
