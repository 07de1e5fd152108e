"""Issue 23 on Book to partner: the partner's move asks to confirm, its move or deletion can be undone by
the partner's users for UNDO_SECONDS (the desk's rule, `booking_undo`), and the e-mails to the institution
and the patient wait until then (withdrawn when undone). Another tenant gets 404."""

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import local, next_weekday
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.core.timefmt import when
from medbook.notifications.models import OutboxMessage
from medbook.scheduling.models import Booking
from medbook.scheduling.tests.test_undo import book, pass_window, row

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


@pytest.fixture
def day():
    return next_weekday(1)


@pytest.fixture
def booking(cast, partners, day):
    return book(cast, partners.peter, local(day, 9), note="Call back")


def move(client, booking, starts_at, confirm=True):
    data = {"starts_at": starts_at.isoformat(), "from": "calendar"}
    if confirm:
        data["confirm"] = "1"
    return client.post(reverse("partners:booking-move", args=[booking.pk]), data, HTTP_HX_REQUEST="true")


def undo(client, booking):
    url = reverse("partners:booking-undo", args=[booking.pk])
    return client.post(url, {"from": "calendar"}, HTTP_HX_REQUEST="true")


def admin_mail(cast, booking, event):
    return OutboxMessage.objects.get(to_email=cast.alice.email, reference=f"booking:{booking.pk}:{event}")


def test_i23_partner_choosing_a_time_asks_to_confirm(cast, partners, login, booking, day):
    response = move(login(partners.peter), booking, local(day, 13), confirm=False)
    page = response.content.decode()
    assert response.status_code == 200 and "Move this booking?" in page
    assert (
        when(local(day, 9), cast.institution_a) in page and when(local(day, 13), cast.institution_a) in page
    )
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 9)


def test_i23_partner_undoes_a_move_exactly_and_nobody_is_told(cast, partners, login, booking, day):
    before = row(booking)
    response = move(login(partners.peter), booking, local(day, 13))
    assert response.status_code == 200 and 'data-testid="undo"' in response.content.decode()
    told = admin_mail(cast, booking, "moved")
    assert told.status == Status.PENDING and told.next_attempt_at > timezone.now()
    response = undo(login(partners.paula), booking)  # another user of the same partner
    assert response.status_code == 200 and "Undone" in response.content.decode()
    assert row(booking) == before
    told.refresh_from_db()
    assert told.status == Status.WITHDRAWN
    assert AuditEntry.objects.filter(action=AuditAction.BOOKING_MOVE_UNDONE).count() == 1


def test_i23_partner_undoes_a_deletion(cast, partners, login, booking):
    before = row(booking)
    client = login(partners.peter)
    url = reverse("partners:booking-cancel", args=[booking.pk])
    response = client.post(url, {"from": "calendar"}, HTTP_HX_REQUEST="true")
    assert "Deleted" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert undo(client, booking).status_code == 200
    assert row(booking) == before
    assert admin_mail(cast, booking, "cancelled").status == Status.WITHDRAWN


def test_i23_partner_undo_after_the_window_or_onto_a_taken_time_is_refused(
    cast, partners, login, booking, day, monkeypatch, settings
):
    client = login(partners.peter)
    move(client, booking, local(day, 13))
    book(cast, cast.bob, local(day, 9))
    response = undo(client, booking)
    assert response.status_code == 409 and "is no longer free" in response.content.decode()
    pass_window(monkeypatch, settings)
    response = undo(client, booking)
    assert response.status_code == 409 and "nothing to undo" in response.content.decode()
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 13)


def test_i23_only_the_partner_that_did_it_undoes_it(cast, partners, login, booking, day):
    move(login(partners.peter), booking, local(day, 13))
    assert undo(login(partners.quentin), booking).status_code == 404  # another partner: no such booking
    response = login(cast.bob).post(reverse("scheduling:booking-undo", args=[booking.pk]))
    assert response.status_code == 409  # the institution sees the booking, but the move is not its own
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 13)
