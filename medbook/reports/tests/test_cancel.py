"""R-3: cancelling a partner's booking from "Partner-submitted statistics": confirmation, N-4, audit."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from conftest import local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services
from medbook.scheduling import selectors
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked_by_partner(cast, partners) -> Booking:
    """Peter (partner P) books a free slot at institution A through the real service."""
    return services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 9),
    )


def _list_url(booking) -> str:
    day = booking.starts_at.astimezone(local(next_weekday(2), 9).tzinfo).date().isoformat()
    return reverse("reports:partner-bookings") + f"?date_from={day}&date_until={day}"


def test_r3_partner_bookings_list_filters_by_period_partner_and_status(
    cast, partners, booked_by_partner, login
):
    client = login(cast.alice)
    html = client.get(_list_url(booked_by_partner)).content.decode()
    row = html.split(f'data-booking="{booked_by_partner.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "CallCenter Ltd" in row and "Peter Booker" in row and "Anna Patient" in row
    # 10 % of 12,000.00 is earned only once the visit took place: a booking still to come earns none yet.
    assert 'data-figure="commission" class="number">0.00<' in row
    other_day = (booked_by_partner.starts_at + timedelta(days=1)).date().isoformat()
    empty = client.get(reverse("reports:partner-bookings"), {"date_from": other_day, "date_until": other_day})
    assert f'data-booking="{booked_by_partner.pk}"' not in empty.content.decode()
    by_q = client.get(_list_url(booked_by_partner) + f"&partner={partners.partner_q.pk}")
    assert by_q.status_code == 200  # Q has no partnership with A: not a choice, the filter is ignored
    cancelled_only = client.get(_list_url(booked_by_partner) + "&status=cancelled").content.decode()
    assert f'data-booking="{booked_by_partner.pk}"' not in cancelled_only


def test_r3_cancel_asks_for_confirmation_first(cast, partners, booked_by_partner, login):
    response = login(cast.alice).get(reverse("reports:partner-booking-cancel", args=[booked_by_partner.pk]))
    assert response.status_code == 200
    assert b"Yes, cancel the booking" in response.content
    booked_by_partner.refresh_from_db()
    assert booked_by_partner.status == Booking.Status.BOOKED


def test_r3_cancel_frees_the_slot_tells_the_partner_and_is_audited(
    cast, partners, booked_by_partner, login, deliver_outbox
):
    deliver_outbox()
    mail.outbox.clear()
    url = reverse("reports:partner-booking-cancel", args=[booked_by_partner.pk])
    response = login(cast.alice).post(url, {"next": _list_url(booked_by_partner)})
    assert response.status_code == 302 and response["Location"] == _list_url(booked_by_partner)
    booked_by_partner.refresh_from_db()
    assert booked_by_partner.status == Booking.Status.CANCELLED
    day = booked_by_partner.starts_at.astimezone(local(next_weekday(2), 9).tzinfo).date()
    free = selectors.available_slots(
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        date_from=day,
        date_until=day,
    )
    assert booked_by_partner.starts_at in {slot.starts_at for slot in free}
    entry = AuditEntry.objects.get(action="booking.cancel", object_id=str(booked_by_partner.pk))
    assert entry.user == cast.alice and entry.institution_id == cast.institution_a.pk
    assert entry.details["partner"] == "CallCenter Ltd"
    deliver_outbox()
    assert "paula@p.test" in [address for message in mail.outbox for address in message.to]


def test_r3_cancel_twice_says_so_and_writes_nothing_more(cast, partners, booked_by_partner, login):
    client = login(cast.alice)
    url = reverse("reports:partner-booking-cancel", args=[booked_by_partner.pk])
    client.post(url)
    count = OutboxMessage.objects.count()
    response = client.post(url, follow=True)
    assert b"Only a booked appointment can be cancelled." in response.content
    assert OutboxMessage.objects.count() == count
    assert AuditEntry.objects.filter(action="booking.cancel").count() == 1


def test_r3_next_cannot_send_the_admin_elsewhere(cast, partners, booked_by_partner, login):
    url = reverse("reports:partner-booking-cancel", args=[booked_by_partner.pk])
    response = login(cast.alice).post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("reports:partner-bookings")


def _cell(row: str, testid: str) -> str:
    return row.split(f'data-testid="{testid}">', 1)[1].split("</td>", 1)[0]


def test_r3_each_booking_shows_reference_who_and_when_booked_attendance_payment_and_note(
    cast, partners, booked_by_partner, login
):
    services.booking_note_set(
        actor=cast.actor(partners.peter), booking=booked_by_partner, note="Bring the X-ray"
    )
    booked_by_partner.refresh_from_db()
    html = login(cast.alice).get(_list_url(booked_by_partner)).content.decode()
    row = html.split(f'data-booking="{booked_by_partner.pk}"', 1)[1].split("</tr>", 1)[0]
    assert _cell(row, "booking-reference") == f"#{booked_by_partner.pk}"
    assert _cell(row, "booked-by") == "Peter Booker"
    booked_at = booked_by_partner.created_at.astimezone(local(next_weekday(2), 9).tzinfo)
    assert booked_at.strftime("%H:%M") in _cell(row, "booked-at") and "UTC" not in _cell(row, "booked-at")
    assert _cell(row, "booking-status") == "Booked"
    assert _cell(row, "booking-payment") == "Unpaid"
    assert _cell(row, "booking-note") == "Bring the X-ray"
    assert _cell(row, "cancel-reason") == ""
    starts = booked_by_partner.starts_at.astimezone(local(next_weekday(2), 9).tzinfo)
    assert f">{starts:%H:%M}<" in row


@pytest.mark.parametrize(
    ("filters", "shown"),
    [
        ({"status": "completed"}, {"completed", "paid", "refunded"}),
        ({"status": "no_show"}, {"no_show"}),
        ({"payment_status": "paid_at_partner"}, {"paid"}),
        ({"payment_status": "refunded"}, {"refunded"}),
        ({"status": "completed", "payment_status": "refunded"}, {"refunded"}),
        ({"payment_status": "nonsense"}, {"completed", "no_show", "paid", "refunded"}),  # ignored
    ],
)
def test_r3_filters_by_attendance_and_payment_status(
    cast, partners, booked_by_partner, login, filters, shown
):
    day = booked_by_partner.starts_at.astimezone(local(next_weekday(2), 9).tzinfo).date()
    made = {}
    for minutes, (name, status, payment) in enumerate(
        [
            ("completed", "completed", "paid"),
            ("no_show", "no_show", "unpaid"),
            ("paid", "completed", "paid_at_partner"),
            ("refunded", "completed", "refunded"),
        ],
        start=1,
    ):
        booking = services.booking_create(
            actor=cast.actor(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(day, 9) + timedelta(minutes=30 * minutes),
        )
        Booking.objects.filter(pk=booking.pk).update(status=status, payment_status=payment)
        made[name] = booking.pk
    response = login(cast.alice).get(_list_url(booked_by_partner), filters)
    assert response.status_code == 200
    html = response.content.decode()
    assert {name for name, pk in made.items() if f'data-booking="{pk}"' in html} == shown


def test_r3_cancel_with_a_reason_keeps_it_and_tells_the_partner(
    cast, partners, booked_by_partner, login, deliver_outbox
):
    deliver_outbox()
    mail.outbox.clear()
    client = login(cast.alice)
    url = reverse("reports:partner-booking-cancel", args=[booked_by_partner.pk])
    assert b'name="reason"' in client.get(url).content
    response = client.post(url, {"next": _list_url(booked_by_partner), "reason": "  The physician is ill  "})
    assert response.status_code == 302
    booked_by_partner.refresh_from_db()
    assert booked_by_partner.cancel_reason == "The physician is ill"
    entry = AuditEntry.objects.get(action="booking.cancel", object_id=str(booked_by_partner.pk))
    assert entry.shown_details["cancel_reason"] == "The physician is ill"
    deliver_outbox()
    told = [m for m in mail.outbox if "paula@p.test" in m.to]
    assert told and "The physician is ill" in told[0].body
    html = client.get(_list_url(booked_by_partner)).content.decode()
    row = html.split(f'data-booking="{booked_by_partner.pk}"', 1)[1].split("</tr>", 1)[0]
    assert _cell(row, "cancel-reason") == "The physician is ill"
    assert _cell(row, "booking-status") == "Cancelled"


def test_r3_a_reason_too_long_is_refused_on_the_form(cast, partners, booked_by_partner, login):
    url = reverse("reports:partner-booking-cancel", args=[booked_by_partner.pk])
    response = login(cast.alice).post(url, {"reason": "x" * 301})
    assert response.status_code == 422
    assert b"Ensure this value has at most 300 characters" in response.content
    booked_by_partner.refresh_from_db()
    assert (
        booked_by_partner.status == Booking.Status.BOOKED
        and OutboxMessage.objects.filter(kind="booking_cancelled").count() == 0
    )
