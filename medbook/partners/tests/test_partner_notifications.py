"""N-4: a partner's booking made, moved or deleted tells the institution; the institution's change of a
partner's booking tells the partner. Through the outbox, in the recipient's language and the institution's
time zone."""

import pytest
from django.db import transaction

from conftest import actor_of, local, next_weekday
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services

pytestmark = pytest.mark.django_db


def _book(cast, user, hour=9):
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), hour),
    )


def _to(email: str):
    return OutboxMessage.objects.filter(to_email=email).order_by("pk")


def test_n4_partner_booking_made_moved_cancelled_tells_the_institution_admins(cast, partners):
    booking = _book(cast, partners.peter)
    services.booking_move(
        actor=actor_of(partners.peter), booking=booking, starts_at=local(next_weekday(1), 13)
    )
    services.booking_cancel(actor=actor_of(partners.peter), booking=booking)
    kinds = list(_to(cast.alice.email).values_list("kind", flat=True))
    assert kinds == ["booking_made", "booking_moved", "booking_cancelled"]
    made = _to(cast.alice.email).first()
    assert "CallCenter Ltd" in made.subject and "09:00" in made.text_body  # Budapest wall-clock time
    moved = _to(cast.alice.email)[1]
    assert "13:00" in moved.text_body and "09:00" in moved.text_body  # new and previous times
    assert not _to(cast.bob.email).exists()  # reception is not an admin
    assert not _to(partners.paula.email).exists()  # the acting side is not told of its own change
    assert not _to(cast.charlie.email).exists()


def test_n4_institution_changing_a_partner_booking_tells_the_partner(cast, partners):
    booking = _book(cast, partners.peter)
    OutboxMessage.objects.all().delete()
    services.booking_move(actor=actor_of(cast.bob), booking=booking, starts_at=local(next_weekday(1), 14))
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)
    for user in (partners.paula, partners.peter):  # the partner's admin and the user who booked
        assert list(_to(user.email).values_list("kind", flat=True)) == ["booking_moved", "booking_cancelled"]
    assert "Institution A" in _to(partners.paula.email).first().subject
    assert not _to(partners.petra.email).exists() and not _to(cast.alice.email).exists()


def test_n4_email_in_the_recipients_language(cast, partners):
    partners.paula.language = "hu"
    partners.paula.save()
    booking = _book(cast, partners.peter)
    services.booking_cancel(actor=actor_of(cast.alice), booking=booking)
    assert _to(partners.paula.email).get().language == "hu"


def test_n4_staff_bookings_of_the_institution_tell_no_one(cast, partners):
    booking = _book(cast, cast.bob)
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)
    assert not OutboxMessage.objects.exclude(to_email=cast.patient_a.email).exists()  # only the patient (N-5)


def test_n4_no_email_when_the_change_rolls_back(cast, partners):
    booking = _book(cast, partners.peter)
    OutboxMessage.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.booking_cancel(actor=actor_of(partners.peter), booking=booking)
        raise RuntimeError("later failure")
    assert not OutboxMessage.objects.exists()


def test_n4_notification_is_delivered_by_the_worker(cast, partners, smtp_server, deliver_outbox):
    _book(cast, partners.peter)
    assert deliver_outbox() == 2  # the institution's admin (N-4) and the patient (N-5)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted([cast.alice.email, cast.patient_a.email])
