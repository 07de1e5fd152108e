"""Book to partner warns when the picked patient already has a visit that day at the institution (issue 23),
as the desk's form does, and tells the partner no more than it may see (P-13): its own booking with its
physician and service, anyone else's only by its time. Nothing is booked until the user acknowledges it; the
slot stays held; a patient the user's search did not return is 404 whatever their visits (P-15)."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.institutions.tests.factories import PhysicianFactory, ServiceFactory, weekly_hours
from medbook.partners.tests import services as booking_services
from medbook.partners.tests.test_hold_pages import _open, _slot
from medbook.scheduling.models import Booking, SlotHold
from medbook.scheduling.tests.test_hold_pages import _token

pytestmark = pytest.mark.django_db

SLOT = reverse("partners:book-slot")
WARNING = "This patient already has a visit at this institution that day:"


@pytest.fixture
def peter(cast, partners) -> Client:
    """P's booking user, with patient-data access, having searched for Anna (a booking opens only a patient
    the same user's search returned)."""
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    client = Client()
    client.force_login(partners.peter)
    search = {"partnership": partners.partnership_p.pk, "q": "Anna"}
    assert "Anna Patient" in client.get(reverse("partners:patient-search"), search).content.decode()
    return client


def _visit(cast, user, starts_at, physician=None, location=None, service=None) -> Booking:
    return booking_services.booking_create(
        actor=actor_of(user),
        location=location or cast.location_a1,
        physician=physician or cast.physician_a,
        service=service or cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
    )


def _book(client, cast, start, hold, **extra):
    return client.post(
        SLOT, _slot(cast, start, hold=hold, patient=cast.patient_a.pk, **extra), HTTP_HX_REQUEST="true"
    )


def test_b15_partner_is_warned_without_the_details_of_others_bookings_then_books(cast, partners, peter):
    day = next_weekday(1)
    gamma = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Gamma", locations=[cast.location_a2]
    )
    secret = ServiceFactory(
        institution=cast.institution_a, name="Secret check", locations=[cast.location_a2], physicians=[gamma]
    )
    weekly_hours(gamma, cast.location_a2)
    _visit(cast, cast.bob, local(day, 9), physician=gamma, location=cast.location_a2, service=secret)
    _visit(cast, partners.peter, local(day, 10))  # P's own
    start = local(day, 11)
    hold = _token(_open(peter, cast, start))

    warned = _book(peter, cast, start, hold)
    assert warned.status_code == 422
    html = warned.content.decode()
    assert WARNING in html
    assert "10:00 · Dr. Alpha · Cardiology check" in html  # its own booking, in full
    assert "<li>09:00</li>" in html  # the desk's: its time only (P-13)
    assert "Dr. Gamma" not in html and "Secret check" not in html and "A North" not in html
    assert _token(warned) == hold and SlotHold.objects.filter(user=partners.peter).count() == 1
    assert Booking.objects.filter(starts_at=start).count() == 0
    # The opening of Anna's record that showed her visits stays in the audit log.
    assert AuditEntry.objects.filter(action="patient.partner_open", object_id=str(cast.patient_a.pk)).exists()

    booked = _book(peter, cast, start, hold, same_day_ok=cast.patient_a.pk)
    assert booked.status_code == 200
    booking = Booking.objects.get(starts_at=start)
    assert booking.patient == cast.patient_a and booking.partner_id == partners.partner_p.pk
    assert not SlotHold.objects.exists()


def test_b15_no_warning_tells_of_a_patient_the_users_search_did_not_return(cast, partners, login):
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    day = next_weekday(1)
    _visit(cast, cast.bob, local(day, 9))
    response = login(partners.peter).post(SLOT, _slot(cast, local(day, 11), patient=cast.patient_a.pk))
    assert response.status_code == 404
    assert WARNING not in response.content.decode()
