"""The desk's booking form warns when the patient already has a visit that day at the institution (issue 23):
the form is shown again with the other visits and "I know, book anyway"; nothing is booked until the clerk
ticks it, for that patient; the slot stays held meanwhile. The JSON API books regardless."""

import json
from datetime import UTC, timedelta

import pytest

from conftest import actor_of, local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling import policy, services
from medbook.scheduling.models import Booking, SlotHold
from medbook.scheduling.tests.test_calendar_views import _book as book_slot
from medbook.scheduling.tests.test_hold_pages import _book, _open, _token

pytestmark = pytest.mark.django_db

WARNING = "This patient already has a visit at this institution that day:"


def _visit(cast, day, hour, patient=None) -> Booking:
    return services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=patient or cast.patient_a,
        starts_at=local(day, hour),
    )


def test_b15_a_second_visit_that_day_is_booked_only_once_the_clerk_acknowledges_it(cast, login):
    day = next_weekday(1)
    first = _visit(cast, day, 9)
    client = login(cast.bob)
    start = local(day, 11)
    hold = _token(_open(client, cast, start))

    warned = _book(client, cast, start, hold)
    assert warned.status_code == 422
    html = warned.content.decode()
    assert WARNING in html and "09:00 · Dr. Alpha · Cardiology check" in html
    assert 'name="same_day_ok"' in html and "I know, book anyway" in html
    assert f'name="patient" value="{cast.patient_a.pk}" checked' in html  # the patient stays chosen
    assert _token(warned) == hold  # the slot stays held for the clerk
    assert list(Booking.objects.values_list("pk", flat=True)) == [first.pk]
    assert SlotHold.objects.filter(user=cast.bob).count() == 1

    booked = _book(client, cast, start, hold, same_day_ok=cast.patient_a.pk)
    assert booked.status_code == 200
    assert Booking.objects.filter(patient=cast.patient_a, starts_at=start).exists()
    assert not SlotHold.objects.exists()  # the booking consumed its hold


def test_b15_ticking_it_for_another_patient_acknowledges_nothing(cast, login):
    day = next_weekday(1)
    _visit(cast, day, 9)
    other = PatientFactory(institution=cast.institution_a, full_name="Otto Other")
    client = login(cast.bob)
    start = local(day, 11)
    hold = _token(_open(client, cast, start))
    assert _book(client, cast, start, hold, same_day_ok=other.pk).status_code == 422
    assert _book(client, cast, start, hold, same_day_ok="on").status_code == 422  # not a 500
    assert Booking.objects.count() == 1


def test_b15_no_warning_for_a_cancelled_visit_another_day_or_another_patient(cast, login):
    day = next_weekday(1)
    services.booking_cancel(actor=actor_of(cast.bob), booking=_visit(cast, day, 9))
    _visit(cast, next_weekday(2), 11)  # the next day
    other = PatientFactory(institution=cast.institution_a, full_name="Otto Other")
    _visit(cast, day, 10, patient=other)
    client = login(cast.bob)
    start = local(day, 11)
    response = _book(client, cast, start, _token(_open(client, cast, start)))
    assert response.status_code == 200
    assert WARNING not in response.content.decode()


def test_b15_the_day_is_the_institutions_local_day(cast):
    day = next_weekday(1)
    _visit(cast, day, 8)

    def same_day(starts_at):
        return policy.same_day_visits(
            patient=cast.patient_a, institution=cast.institution_a, starts_at=starts_at
        )

    late = same_day(local(day, 23, 30))
    assert [(visit.starts_at, visit.physician) for visit in late] == [(local(day, 8), cast.physician_a)]
    after_midnight = local(day + timedelta(days=1), 0, 30)  # still the visit's day in UTC
    assert after_midnight.astimezone(UTC).date() == day
    assert same_day(after_midnight) == []


def test_b15_the_json_api_books_a_second_visit_that_day_without_asking(client, cast):
    day = next_weekday(1)
    _visit(cast, day, 9)
    token = api_token_create(actor=actor_for(cast.bob), name="test")[1]
    body = {
        "location_id": cast.location_a1.pk,
        "physician_id": cast.physician_a.pk,
        "service_id": cast.service_a.pk,
        "starts_at": local(day, 11).isoformat(),
        "patient_id": cast.patient_a.pk,
    }
    answer = client.post(
        "/api/v1/bookings",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 201, answer.content
    assert Booking.objects.filter(patient=cast.patient_a).count() == 2


def test_b15_a_new_patient_is_not_warned(cast, login):
    day = next_weekday(1)
    _visit(cast, day, 9)
    response = book_slot(
        login(cast.bob), cast, local(day, 11), patient="", **{"new-full_name": "Anna Patient"}
    )
    assert response.status_code == 200
    assert WARNING not in response.content.decode()
