"""B-12: "Institution settings" and the booking rules they set, wherever a booking is made, moved or cancelled."""

from datetime import timedelta

import pytest
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError
from medbook.institutions.models import Institution
from medbook.partners.tests import services
from medbook.scheduling import selectors
from medbook.scheduling import services as scheduling
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db
URL = reverse("institutions:settings")


def _form(institution, **changes) -> dict:
    values = {
        "name": institution.name,
        "registration_number": institution.registration_number,
        "tax_number": institution.tax_number,
        "address": institution.address,
        "country": institution.country,
        "phone": "+36 1 234 5678",
        "time_zone": institution.time_zone,
        "language": institution.language,
        "slot_grid_minutes": "",
        "booking_horizon_days": institution.booking_horizon_days,
        "partner_cutoff_minutes": institution.partner_cutoff_minutes,
        "patient_cutoff_minutes": institution.patient_cutoff_minutes,
        "release_unconfirmed_hours": "",
        "attendance_grace_minutes": institution.attendance_grace_minutes,
        "retention_years": institution.retention_years,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def _set(institution, **values) -> None:
    Institution.objects.filter(pk=institution.pk).update(**values)
    institution.refresh_from_db()


def _book(cast, user, day, hour=9, minute=0) -> Booking:
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, hour, minute),
    )


def test_b12_admin_changes_the_settings_and_the_change_is_audited(client, cast):
    client.force_login(cast.alice)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Institution settings" in page.content.decode()
    response = client.post(
        URL,
        _form(
            cast.institution_a,
            time_zone="Europe/London",
            booking_horizon_days="60",
            partner_cutoff_minutes="120",
            no_show_earns_commission="on",
            slot_grid_minutes="15",
            language="en",
            patient_cutoff_minutes="60",
            release_unconfirmed_hours="24",
            retention_years="10",
        ),
    )
    assert response.status_code == 302
    a = Institution.objects.get(pk=cast.institution_a.pk)
    assert (a.time_zone, a.booking_horizon_days, a.partner_cutoff_minutes) == ("Europe/London", 60, 120)
    assert (a.no_show_earns_commission, a.slot_grid_minutes, a.language) == (True, 15, "en")
    assert (a.patient_cutoff_minutes, a.release_unconfirmed_hours) == (60, 24)
    assert a.retention_years == 10  # issue 24: retention, 8 years by default
    assert a.phone == "+36 1 234 5678"
    entry = AuditEntry.objects.get(action="institution.settings_update")
    assert entry.details["changes"]["partner_cutoff_minutes"] == [0, 120]
    assert entry.institution_id == a.pk
    assert Institution.objects.get(pk=cast.institution_b.pk).time_zone == "Europe/Budapest"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_number", "12345678-2-41", "This Hungarian tax number is not valid (check digit)."),
        ("tax_number", "8123456789", "An institution must be a legal entity"),
        ("registration_number", "99-99-1", "Enter the company registration number as Cg. 01-09-123456."),
        ("phone", "12", "Enter a valid phone number"),
        ("booking_horizon_days", "0", "Ensure this value is greater than or equal to 1."),
        ("slot_grid_minutes", "3", "Ensure this value is greater than or equal to 5."),
        # Issue 22: the patients' cut-off and the release of unconfirmed partner bookings.
        ("patient_cutoff_minutes", "-5", "Ensure this value is greater than or equal to 0."),
        ("patient_cutoff_minutes", "99999", "Ensure this value is less than or equal to 10080."),
        ("release_unconfirmed_hours", "0", "Ensure this value is greater than or equal to 1."),
        ("release_unconfirmed_hours", "x", "Enter a whole number."),
        # Issue 24: retention, in years after the last visit.
        ("retention_years", "0", "Ensure this value is greater than or equal to 1."),
        ("retention_years", "", "This field is required."),
    ],
)
def test_b12_bad_settings_are_refused_with_the_reason_and_change_nothing(client, cast, field, value, message):
    client.force_login(cast.alice)
    response = client.post(URL, _form(cast.institution_a, **{field: value}))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not AuditEntry.objects.filter(action="institution.settings_update").exists()
    a = Institution.objects.get(pk=cast.institution_a.pk)
    assert getattr(a, field) == getattr(cast.institution_a, field)


def test_b12_the_service_checks_the_values_whatever_calls_it(cast):
    from medbook.institutions.services import institution_settings_update

    values = _form(cast.institution_a, tax_number="8123456789", time_zone="Mars/Olympus")
    with pytest.raises(DomainError):
        institution_settings_update(actor=actor_of(cast.alice), values=values)
    with pytest.raises(DomainError, match="time zone"):
        institution_settings_update(
            actor=actor_of(cast.alice), values=_form(cast.institution_a, time_zone="Mars/Olympus")
        )


def test_b12_reception_cannot_open_the_settings(client, cast):
    client.force_login(cast.bob)
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form(cast.institution_a, time_zone="Europe/London")).status_code == 403
    assert Institution.objects.get(pk=cast.institution_a.pk).time_zone == "Europe/Budapest"


def test_b12_the_horizon_refuses_a_booking_too_far_ahead_for_everyone(cast, partners):
    _set(cast.institution_a, booking_horizon_days=3)
    day = next_weekday(0)
    for user in (cast.bob, partners.peter):
        with pytest.raises(DomainError, match="at most 3 days ahead"):
            _book(cast, user, day)
    assert not Booking.objects.exists()
    free = selectors.available_slots(
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        date_from=day,
        date_until=day,
    )
    assert free == []


def test_b12_the_partner_cutoff_refuses_partners_only(cast, partners):
    day = next_weekday(2)
    _set(cast.institution_a, partner_cutoff_minutes=30 * 24 * 60)  # beyond every slot of the test
    with pytest.raises(DomainError, match="up to 720 hours before"):
        _book(cast, partners.peter, day)
    staff_booking = _book(cast, cast.bob, day)
    assert staff_booking.status == Booking.Status.BOOKED
    calendar = selectors.calendar_week(
        actor=actor_of(partners.peter),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=day - timedelta(days=day.weekday()),
    )
    assert not [entry for d in calendar for entry in d.entries if entry.is_free]
    reception = selectors.calendar_week(
        actor=actor_of(cast.bob),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=day - timedelta(days=day.weekday()),
    )
    assert [entry for d in reception for entry in d.entries if entry.is_free]


def test_b12_the_partner_cutoff_holds_for_moving_and_cancelling(cast, partners):
    day = next_weekday(3)
    booking = _book(cast, partners.peter, day, 9)
    _set(cast.institution_a, partner_cutoff_minutes=30 * 24 * 60)
    booking.refresh_from_db()
    with pytest.raises(DomainError, match="before the appointment"):
        services.booking_cancel(actor=actor_of(partners.peter), booking=booking)
    with pytest.raises(DomainError, match="before the appointment"):
        services.booking_move(actor=actor_of(partners.peter), booking=booking, starts_at=local(day, 11))
    booking.refresh_from_db()
    assert (booking.status, booking.starts_at) == (Booking.Status.BOOKED, local(day, 9))
    # The institution's own desk is not bound by the partners' cut-off.
    scheduling.booking_cancel(actor=actor_of(cast.bob), booking=booking, reason="Physician ill")
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (Booking.Status.CANCELLED, "Physician ill")


def test_b12_the_slot_grid_sets_the_minutes_between_slot_starts(cast):
    day = next_weekday(1)
    options = {
        "physician": cast.physician_a,
        "location": cast.location_a1,
        "service": cast.service_a,
        "date_from": day,
        "date_until": day,
    }
    duration = cast.service_a.duration_minutes
    starts = [slot.starts_at for slot in selectors.available_slots(**options)]
    assert starts[1] - starts[0] == timedelta(minutes=duration)
    _set(cast.institution_a, slot_grid_minutes=15)
    cast.physician_a.institution.refresh_from_db()
    starts = [slot.starts_at for slot in selectors.available_slots(**options)]
    assert starts[:3] == [local(day, 8), local(day, 8, 15), local(day, 8, 30)]
    booking = _book(cast, cast.bob, day, 8, 15)
    starts = {slot.starts_at for slot in selectors.available_slots(**options)}
    assert local(day, 8, 15) not in starts and booking.ends_at in starts


def test_issue23_the_settings_live_at_one_administration_segment_and_the_old_address_redirects(client, cast):
    assert URL == "/administration/settings/"
    client.force_login(cast.alice)
    response = client.get("/administration/administration/settings/?from=bookmark")
    assert response.status_code == 301
    assert response["Location"] == "/administration/settings/?from=bookmark"
    assert client.get(response["Location"]).status_code == 200
