""" "Book to partner" (P-11 … P-13): what a partner's user sees and may do, through the page and by URL."""

import re

import pytest
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.core.errors import DomainError
from medbook.institutions.tests.factories import (
    LocationFactory,
    PhysicianFactory,
    ServiceFactory,
    UserFactory,
    weekly_hours,
)
from medbook.partners.tests import services
from medbook.partners.tests.factories import gtc_accepted_by, partner_make, partner_member, partnership_make
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

BOOK = reverse("partners:book")
SLOT = reverse("partners:book-slot")


def _show(client, day, **narrow) -> str:
    """The calendars part of "Book to partner" after "Show calendars" (the filters list every choice)."""
    response = client.get(BOOK, {"week": day.isoformat(), "show": "1", **narrow})
    assert response.status_code == 200
    return response.content.decode().split('id="panel"', 1)[1]


def _slot_data(cast, day, hour=10, minute=0, **overrides) -> dict:
    data = {
        "slot_location": cast.location_a1.pk,
        "slot_physician": cast.physician_a.pk,
        "slot_service": cast.service_a.pk,
        "starts_at": local(day, hour, minute).isoformat(),
        "new-full_name": "Nora New",
        "new-phone": "+36 30 123 4567",
    }
    data.update(overrides)
    return data


def _partner_booking(cast, user, day, hour=9):
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, hour),
    )


@pytest.fixture
def unauthorised(cast):
    """A second service at A Central that P may not book, and A North where P may not book."""
    weekly_hours(cast.physician_a, cast.location_a2)
    return ServiceFactory(
        institution=cast.institution_a,
        name="Secret surgery",
        locations=[cast.location_a1, cast.location_a2],
        physicians=[cast.physician_a],
    )


def test_p11_by_default_every_authorised_calendar_of_every_active_institution(
    cast, partners, login, unauthorised
):
    other = _other_institution_partnership(cast, partners)
    page = _show(login(partners.peter), next_weekday(1))
    assert "Cardiology check" in page and "A Central" in page
    assert other.name in page  # the second institution's calendar too
    assert "Secret surgery" not in page and "A North" not in page
    assert "Dermatology check" not in page  # institution B: no partnership


def _other_institution_partnership(cast, partners):
    location = LocationFactory(institution=cast.institution_b, name="B Second")
    doc = PhysicianFactory(institution=cast.institution_b, full_name="Dr. Gamma", locations=[location])
    service = ServiceFactory(
        institution=cast.institution_b, name="Gamma scan", locations=[location], physicians=[doc]
    )
    weekly_hours(doc, location)
    partnership_make(cast.institution_b, partners.partner_p, locations=[location], services=[service])
    return service


def test_p11_narrow_by_institution_location_specialty_physician_service(cast, partners, login):
    gamma = _other_institution_partnership(cast, partners)
    client = login(partners.peter)
    day = next_weekday(1)
    only_a = _show(client, day, institution=cast.institution_a.pk)
    assert "Cardiology check" in only_a and gamma.name not in only_a
    by_physician = _show(client, day, physician=cast.physician_a.pk)
    assert by_physician.count('class="physician-calendar"') == 1
    by_service = _show(client, day, service=gamma.pk)
    assert "Gamma scan" in by_service and "Dr. Alpha" not in by_service.split("physician-calendar", 1)[1]
    by_specialty = _show(client, day, specialty=cast.physician_a.specialty, location=cast.location_a1.pk)
    assert "Dr. Alpha" in by_specialty


def test_p12_free_slots_green_and_booked_red_others_busy_without_details(cast, partners, login):
    day = next_weekday(1)
    staff = services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 11),
    )
    quentin_booking_patient = cast.patient_a.full_name
    page = _show(login(partners.peter), day, physician=cast.physician_a.pk)
    assert 'class="slot free"' in page
    assert re.search(r'class="slot booked busy"[^>]*>\s*11:00–11:30', page)
    assert quentin_booking_patient not in page  # no patient details of others' bookings
    assert (
        f'data-booking="{staff.pk}"' not in page
        and reverse("scheduling:booking-detail", args=[staff.pk]) not in page
    )


def test_p12_choosing_a_free_slot_opens_the_form_and_books_for_a_new_patient(cast, partners, login):
    client = login(partners.peter)
    day = next_weekday(1)
    form = client.get(SLOT, {k: v for k, v in _slot_data(cast, day).items() if not k.startswith("new-")})
    assert form.status_code == 200 and "New booking" in form.content.decode()
    response = client.post(SLOT, _slot_data(cast, day), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    booking = Booking.objects.get()
    assert booking.partner_id == partners.partner_p.pk and booking.patient.full_name == "Nora New"
    assert booking.patient.institution == cast.institution_a
    page = _show(client, day, physician=cast.physician_a.pk)
    assert re.search(rf'class="slot booked own"[^>]*data-booking="{booking.pk}"', page)


def test_p12_partner_gets_only_grid_slots(cast, partners, login):
    response = login(partners.peter).post(SLOT, _slot_data(cast, next_weekday(1), 10, 10))
    assert response.status_code == 422 and "no longer available" in response.content.decode()
    assert not Booking.objects.exists()


def test_p13_own_booking_can_be_moved_changed_and_deleted(cast, partners, login):
    day = next_weekday(1)
    booking = _partner_booking(cast, partners.peter, day)
    client = login(partners.paula)  # anyone of the partner who may book
    panel = client.get(reverse("partners:booking-detail", args=[booking.pk]))
    assert panel.status_code == 200 and "Anna Patient" in panel.content.decode()
    moved = client.post(
        reverse("partners:booking-move", args=[booking.pk]),
        {"starts_at": local(day, 13).isoformat(), "confirm": "1"},
    )
    assert moved.status_code == 302
    client.post(reverse("partners:booking-note", args=[booking.pk]), {"note": "Bring the ECG"})
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 13) and booking.note == "Bring the ECG"
    client.post(reverse("partners:booking-cancel", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_p13_move_only_to_a_free_grid_slot(cast, partners, login):
    day = next_weekday(1)
    booking = _partner_booking(cast, partners.peter, day)
    _partner_booking(cast, partners.peter, day, hour=12)
    client = login(partners.peter)
    url = reverse("partners:booking-move", args=[booking.pk])
    assert client.post(url, {"starts_at": local(day, 12).isoformat(), "confirm": "1"}).status_code == 422
    assert client.post(url, {"starts_at": local(day, 13, 10).isoformat(), "confirm": "1"}).status_code == 422
    assert client.post(url, {"starts_at": "garbage"}).status_code == 422
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 9)


def test_p13_another_partners_or_the_institutions_booking_is_404(cast, partners, login):
    day = next_weekday(1)
    staff = services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 11),
    )
    own = _partner_booking(cast, partners.peter, day)
    for user, booking in ((partners.peter, staff), (partners.quentin, own)):
        client = login(user)
        assert client.get(reverse("partners:booking-detail", args=[booking.pk])).status_code == 404
        for action in ("booking-move", "booking-note", "booking-cancel"):
            url = reverse(f"partners:{action}", args=[booking.pk])
            assert (
                client.post(
                    url, {"starts_at": local(day, 14).isoformat(), "note": "x", "confirm": "1"}
                ).status_code
                == 404
            )
    assert Booking.objects.filter(status=Booking.Status.BOOKED).count() == 2
    assert Booking.objects.get(pk=own.pk).note == ""


def test_p9_unauthorised_service_or_location_is_refused_on_the_page_and_by_post(
    cast, partners, login, unauthorised
):
    client = login(partners.peter)
    day = next_weekday(1)
    assert "Secret surgery" not in _show(client, day)
    for tampered in (
        {"slot_service": unauthorised.pk},
        {"slot_location": cast.location_a2.pk},
        {
            "slot_location": cast.location_b.pk,
            "slot_physician": cast.physician_b.pk,
            "slot_service": cast.service_b.pk,
        },
    ):
        data = _slot_data(cast, day, **tampered)
        assert client.get(SLOT, data).status_code == 403
        response = client.post(SLOT, data)
        assert response.status_code == 403 and "may not book" in response.content.decode()
    assert client.post(SLOT, _slot_data(cast, day, slot_service="x")).status_code == 404
    assert not Booking.objects.exists()


def test_p10_user_without_permission_cannot_book_on_the_page_or_by_url(cast, partners, login):
    client = login(partners.petra)
    home = client.get(reverse("partners:home")).content.decode()
    assert BOOK not in home
    day = next_weekday(1)
    assert client.get(BOOK).status_code == 403
    assert client.get(SLOT, _slot_data(cast, day)).status_code == 403
    assert client.post(SLOT, _slot_data(cast, day)).status_code == 403
    own = _partner_booking(cast, partners.peter, day)
    assert client.post(reverse("partners:booking-cancel", args=[own.pk])).status_code == 403
    assert client.get(reverse("partners:booking-list")).status_code == 403
    assert Booking.objects.get().status == Booking.Status.BOOKED


@pytest.mark.parametrize("status", ["pending_registration", "pending_approval", "ended"])
def test_p3_pending_or_deleted_partnership_books_and_changes_nothing(cast, partners, login, status):
    day = next_weekday(1)
    own = _partner_booking(cast, partners.peter, day)
    partners.partnership_p.status = status
    partners.partnership_p.save()
    client = login(partners.peter)
    page = client.get(BOOK, {"week": day.isoformat(), "show": "1"}).content.decode()
    assert "nothing you may book" in page and 'class="physician-calendar"' not in page
    assert "Cardiology check" not in page.split('id="book-filters"', 1)[1].split("</form>", 1)[0]
    assert client.get(SLOT, _slot_data(cast, day)).status_code == 403
    assert client.post(SLOT, _slot_data(cast, day)).status_code == 403
    assert client.get(reverse("partners:booking-detail", args=[own.pk])).status_code == 404
    assert client.post(reverse("partners:booking-cancel", args=[own.pk])).status_code == 404
    assert f'data-booking="{own.pk}"' not in client.get(reverse("partners:booking-list")).content.decode()
    assert Booking.objects.count() == 1 and Booking.objects.get().status == Booking.Status.BOOKED


def test_p13_ended_partnership_refused_in_the_service_too(cast, partners):
    own = _partner_booking(cast, partners.peter, next_weekday(1))
    partners.partnership_p.status = "ended"
    partners.partnership_p.save()
    with pytest.raises(DomainError):
        services.booking_cancel(actor=actor_of(partners.peter), booking=own)
    with pytest.raises(DomainError):
        services.booking_move(
            actor=actor_of(partners.peter), booking=own, starts_at=local(next_weekday(1), 13)
        )


def test_p6_booking_of_a_pay_at_partner_partner_shows_paid_at_partner_to_the_institution(
    cast, partners, login
):
    partners.partnership_p.payment_location = "partner"
    partners.partnership_p.save()
    login(partners.peter).post(SLOT, _slot_data(cast, next_weekday(1)))
    booking = Booking.objects.get()
    assert booking.payment_status == Booking.PaymentStatus.PAID_AT_PARTNER
    panel = login(cast.bob).get(reverse("scheduling:booking-detail", args=[booking.pk]))
    assert "Paid at partner" in panel.content.decode()


def test_p6_booking_of_a_pay_at_institution_partner_has_the_usual_status(cast, partners, login):
    login(partners.peter).post(SLOT, _slot_data(cast, next_weekday(1)))
    panel = login(cast.bob).get(reverse("scheduling:booking-detail", args=[Booking.objects.get().pk]))
    assert "Unpaid" in panel.content.decode() and "Paid at partner" not in panel.content.decode()


def test_p12_bad_input_is_a_clear_answer_never_a_500(cast, partners, login):
    client = login(partners.peter)
    assert client.get(BOOK, {"week": "not-a-date", "physician": "abc", "show": "1"}).status_code == 200
    assert client.get(SLOT).status_code == 404
    assert client.post(SLOT, _slot_data(cast, next_weekday(1), starts_at="2026-99-99")).status_code == 422
    assert client.post(SLOT, _slot_data(cast, next_weekday(1), **{"new-full_name": ""})).status_code == 422
    assert client.get(reverse("partners:booking-detail", args=[999999])).status_code == 404
    assert not Booking.objects.exists()


def test_p13_another_partners_booking_is_red_and_busy_without_details(cast, partners, login):
    other = partner_make("Rival Kft.", "01-09-444444", "10773381-2-44", "rita@r.test")
    partnership_make(cast.institution_a, other, locations=[cast.location_a1], services=[cast.service_a])
    rita = UserFactory(email="rita@r.test", full_name="Rita Rival")
    partner_member(rita, other, Membership.Role.PARTNER_ADMIN, can_book=True)
    gtc_accepted_by(other, rita, partners.gtc)
    day = next_weekday(1)
    rivals = _partner_booking(cast, rita, day, hour=14)
    client = login(partners.peter)
    page = _show(client, day, physician=cast.physician_a.pk)
    assert re.search(r'class="slot booked busy"[^>]*>\s*14:00–14:30', page)
    assert f'data-booking="{rivals.pk}"' not in page and "Anna Patient" not in page
    assert client.get(reverse("partners:booking-detail", args=[rivals.pk])).status_code == 404
    assert client.post(reverse("partners:booking-cancel", args=[rivals.pk])).status_code == 404
    rivals.refresh_from_db()
    assert rivals.status == Booking.Status.BOOKED
