"""Issue 23, moving safely on reception's calendar: a move asks to confirm (the old and the new time), a move
or cancellation can be undone for UNDO_SECONDS, exactly and only while the old time is free, and the
patient's e-mail about it waits until then (withdrawn when undone)."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.core.timefmt import when
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services
from medbook.scheduling.manage_links import manage_link_live
from medbook.scheduling.models import Booking, BookingUndo
from medbook.scheduling.services import booking_undos_sweep
from medbook.scheduling.tests.test_patient_mail import received_by

pytestmark = pytest.mark.django_db
NOTE = "Bring the ECG"
CHANGING = ("updated_at",)  # what an undo may change: the row's own modification time


def pass_window(monkeypatch, settings, seconds: int = 1) -> None:
    """Move the time the code reads (`timezone.now`) to `seconds` past the undo window."""
    moment = timezone.now() + timedelta(seconds=settings.UNDO_SECONDS + seconds)
    monkeypatch.setattr(timezone, "now", lambda: moment)


@pytest.fixture
def day():
    return next_weekday(3)


@pytest.fixture
def booking(cast, day):
    cast.institution_a.language = "en"  # the patient's e-mails in English, for the subjects below
    cast.institution_a.save()
    return book(cast, cast.bob, local(day, 10), note=NOTE)


def book(cast, user, starts_at, note: str = "") -> Booking:
    """Book Dr. Alpha at A Central for Anna Patient as the user (a partner's user under its terms)."""
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
        note=note,
    )


def row(booking: Booking) -> dict:
    booking = Booking.objects.get(pk=booking.pk)
    values = model_to_dict(booking)
    values.update(cancelled_at=booking.cancelled_at, created_at=booking.created_at)
    return {key: value for key, value in values.items() if key not in CHANGING}


def filters(cast, day) -> dict:
    return {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": day.isoformat(),
    }


def move(client, cast, booking, starts_at, confirm=True):
    data = {**filters(cast, starts_at.date()), "starts_at": starts_at.isoformat()}
    if confirm:
        data["confirm"] = "1"
    return client.post(reverse("scheduling:booking-move", args=[booking.pk]), data, HTTP_HX_REQUEST="true")


def undo(client, cast, booking, day):
    return client.post(
        reverse("scheduling:booking-undo", args=[booking.pk]), filters(cast, day), HTTP_HX_REQUEST="true"
    )


def patient_mail(booking, kind):
    return OutboxMessage.objects.get(reference=f"booking:{booking.pk}:patient", kind=kind)


def test_i23_choosing_a_time_asks_to_confirm_and_moves_nothing(cast, login, booking, day):
    client = login(cast.bob)
    response = move(client, cast, booking, local(day, 13), confirm=False)
    page = response.content.decode()
    assert response.status_code == 200 and "Move this booking?" in page
    assert (
        when(local(day, 10), cast.institution_a) in page and when(local(day, 13), cast.institution_a) in page
    )
    assert 'name="confirm" value="1"' in page and "Back" in page
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 10)
    assert not AuditEntry.objects.filter(action=AuditAction.BOOKING_MOVE).exists()
    assert not OutboxMessage.objects.filter(kind="patient_booking_moved").exists()


def test_i23_undo_of_a_move_restores_the_booking_exactly_and_the_patient_hears_nothing(
    cast, login, booking, day, monkeypatch, settings, smtp_server, deliver_outbox
):
    before = row(booking)
    client = login(cast.bob)
    response = move(client, cast, booking, local(day, 13))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Moved to {when(local(day, 13), cast.institution_a)}" in page and 'data-testid="undo"' in page
    moved = patient_mail(booking, "patient_booking_moved")
    assert moved.status == OutboxMessage.Status.PENDING and moved.next_attempt_at > timezone.now()
    deliver_outbox()
    assert [m["Subject"].split(":")[0] for m in received_by(smtp_server, cast.patient_a.email)] == [
        "Appointment booked at Institution A"
    ]

    client = login(cast.alice)  # a colleague of the same institution may undo it too
    response = undo(client, cast, booking, day)
    assert response.status_code == 200 and "Undone" in response.content.decode()
    assert row(booking) == before
    moved.refresh_from_db()
    assert moved.status == OutboxMessage.Status.WITHDRAWN
    entry = AuditEntry.objects.get(action=AuditAction.BOOKING_MOVE_UNDONE)
    assert entry.object_id == str(booking.pk)

    pass_window(monkeypatch, settings, seconds=300)  # long past the window: nothing about the move goes out
    deliver_outbox()
    assert [m["Subject"].split(":")[0] for m in received_by(smtp_server, cast.patient_a.email)] == [
        "Appointment booked at Institution A"
    ]


def test_i23_the_move_is_e_mailed_once_the_window_has_passed(
    cast, login, booking, day, monkeypatch, settings, smtp_server, deliver_outbox
):
    move(login(cast.bob), cast, booking, local(day, 13))
    pass_window(monkeypatch, settings)
    deliver_outbox()
    subjects = [m["Subject"].split(":")[0] for m in received_by(smtp_server, cast.patient_a.email)]
    assert subjects == ["Appointment booked at Institution A", "Appointment moved at Institution A"]


def test_i23_undo_of_a_cancellation_books_it_again_exactly(cast, login, booking, day):
    before = row(booking)
    assert manage_link_live(booking=booking)
    client = login(cast.bob)
    response = client.post(reverse("scheduling:booking-cancel", args=[booking.pk]), filters(cast, day))
    assert response.status_code == 200 and "Cancelled" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    cancelled = patient_mail(booking, "patient_booking_cancelled")
    assert cancelled.next_attempt_at > timezone.now()

    response = undo(client, cast, booking, day)
    assert response.status_code == 200
    assert row(booking) == before
    assert manage_link_live(booking=booking)  # the links the cancellation revoked work again
    cancelled.refresh_from_db()
    assert cancelled.status == OutboxMessage.Status.WITHDRAWN
    assert AuditEntry.objects.filter(action=AuditAction.BOOKING_CANCEL_UNDONE).count() == 1
    reminder = OutboxMessage.objects.filter(reference=f"booking:{booking.pk}:reminder")
    assert reminder.filter(status=OutboxMessage.Status.PENDING).count() == 1


def test_i23_undo_after_the_window_is_refused(cast, login, booking, day, monkeypatch, settings):
    client = login(cast.bob)
    move(client, cast, booking, local(day, 13))
    pass_window(monkeypatch, settings)
    response = undo(client, cast, booking, day)
    assert response.status_code == 409 and "nothing to undo" in response.content.decode()
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 13)
    assert not AuditEntry.objects.filter(action=AuditAction.BOOKING_MOVE_UNDONE).exists()


def test_i23_undo_when_the_old_time_was_taken_is_refused_with_a_message(cast, login, booking, day):
    client = login(cast.bob)
    move(client, cast, booking, local(day, 13))
    book(cast, cast.alice, local(day, 10))
    response = undo(client, cast, booking, day)
    page = response.content.decode()
    assert response.status_code == 409
    assert f"the old time, {when(local(day, 10), cast.institution_a)}, is no longer free" in page
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 13)
    assert patient_mail(booking, "patient_booking_moved").status == OutboxMessage.Status.PENDING


def test_i23_another_tenant_cannot_undo(cast, partners, login, booking, day):
    move(login(cast.bob), cast, booking, local(day, 13))
    assert undo(login(cast.charlie), cast, booking, day).status_code == 404
    assert undo(login(partners.peter), cast, booking, day).status_code == 403
    response = login(partners.peter).post(reverse("partners:booking-undo", args=[booking.pk]))
    assert response.status_code == 404  # the institution's own booking: no partner's to see
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 13)


def test_i23_without_javascript_the_undo_form_posts_and_shows_the_calendar(cast, login, booking, day):
    client = login(cast.bob)
    data = {**filters(cast, day), "starts_at": local(day, 13).isoformat(), "confirm": "1"}
    page = client.post(reverse("scheduling:booking-move", args=[booking.pk]), data).content.decode()
    assert f'action="{reverse("scheduling:booking-undo", args=[booking.pk])}"' in page
    response = client.post(reverse("scheduling:booking-undo", args=[booking.pk]), filters(cast, day))
    assert response.status_code == 200 and "<html" in response.content.decode()
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 10)


def test_i23_the_worker_sweeps_what_undoing_needed_once_the_window_has_passed(
    cast, login, booking, day, monkeypatch, settings
):
    move(login(cast.bob), cast, booking, local(day, 13))
    assert "medbook.scheduling.services.booking_undos_sweep" in settings.WORKER_TASKS
    assert booking_undos_sweep() == 0  # still undoable
    pass_window(monkeypatch, settings)
    assert booking_undos_sweep() == 1
    assert not BookingUndo.objects.exists()
