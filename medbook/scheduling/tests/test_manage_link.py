"""B-14 and P-16 (issue 22): the patient's manage link, from the e-mail a real SMTP server received to the
page that cancels, moves or confirms the booking; what the link refuses; the release of partner bookings
the patient never confirmed; the desk's attendance memory."""

import json
import re
from datetime import datetime, timedelta

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.accounts.tokens import api_token_create
from medbook.audit.models import AuditEntry
from medbook.core.timefmt import when
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services as partner_services
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling import manage, policy, services
from medbook.scheduling.manage_links import manage_link_booking
from medbook.scheduling.models import Booking, ManageLink
from medbook.webhooks.services import webhook_endpoint_create
from medbook.webhooks.tests.receiver import Receiver
from medbook.webhooks.worker import webhooks_drain

pytestmark = pytest.mark.django_db
LINK = re.compile(r"/appointment/([0-9a-f]{48})/")


class Clock:
    """The time `timezone.now()` answers in the code under test; None is the real time."""

    now: datetime | None = None


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock, real_now = Clock(), timezone.now
    monkeypatch.setattr(timezone, "now", lambda: clock.now or real_now())
    return clock


@pytest.fixture
def clinic(cast):
    cast.institution_a.language, cast.institution_a.phone = "en", "+36 1 234 5678"
    cast.institution_a.save()
    return cast


def book(cast, user, starts_at, patient=None):
    return partner_services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=patient or cast.patient_a,
        starts_at=starts_at,
    )


def token_of(booking: Booking, kind: str = "patient_booking_made") -> str:
    """The token of the link in the booking's latest patient e-mail of `kind` (the outbox keeps the body)."""
    message = OutboxMessage.objects.filter(kind=kind, reference=f"booking:{booking.pk}:patient").latest("pk")
    return LINK.search(message.text_body).group(1)


def page_url(token: str, action: str = "") -> str:
    return reverse(f"scheduling:manage{'-' + action if action else ''}", args=[token])


def test_b14_the_emailed_link_opens_the_booking_in_local_time(clinic, client, smtp_server, deliver_outbox):
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    deliver_outbox()
    [message] = [m for m in smtp_server.messages if m["To"] == clinic.patient_a.email]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    token = LINK.search(text).group(1)
    assert token in html and "call Institution A" not in text
    assert ManageLink.objects.get().key_hash != token  # only the hash is kept

    page = client.get(page_url(token))
    body = page.content.decode()
    assert page.status_code == 200
    assert "10:00" in body and "Dr. Alpha" in body and "Cardiology check" in body and "1 Main Street" in body
    assert page["X-Robots-Tag"] == "noindex"
    assert booking.patient.full_name not in body  # the page shows the visit, not whom it is for
    assert "Az Ön időpontja" in client.get(page_url(token), HTTP_ACCEPT_LANGUAGE="hu").content.decode()


def test_b14_patient_cancels_audited_as_the_patient_link_revoked_partner_and_webhook_told(
    clinic, partners, client, smtp_server, deliver_outbox, settings
):
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        webhook_endpoint_create(
            actor=actor_of(partners.paula), url=receiver.url, events=["booking.cancelled"]
        )
        booking = book(clinic, partners.peter, local(next_weekday(1), 9))
        token = token_of(booking)
        deliver_outbox()

        response = client.post(page_url(token, "cancel"))
        assert response.status_code == 200 and "is cancelled" in response.content.decode()
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert booking.cancel_reason == "Cancelled by the patient through the link in their e-mail."
        entry = AuditEntry.objects.get(action="booking.cancel")
        assert entry.user is None and entry.details["by_patient"] == clinic.patient_a.pk
        assert entry.details["source"] == "manage_link" and entry.ip_address == "127.0.0.1"
        assert client.get(page_url(token)).status_code == 404  # revoked with the booking

        deliver_outbox()
        webhooks_drain()
        [event] = [json.loads(r["body"]) for r in receiver.received]
        assert event["type"] == "booking.cancelled" and event["data"]["booking"]["id"] == booking.pk
    told = [m for m in smtp_server.messages if m["To"] in (partners.paula.email, partners.peter.email)]
    assert told and all("The patient cancelled" in m.get_body(("plain",)).get_content() for m in told)
    patient_mails = [m["Subject"] for m in smtp_server.messages if m["To"] == clinic.patient_a.email]
    assert any(subject.startswith("Appointment cancelled") for subject in patient_mails)


def test_b14_patient_moves_to_an_offered_time_earliest_first(clinic, client, smtp_server, deliver_outbox):
    day = next_weekday(2)
    booking = book(clinic, clinic.bob, local(day, 10))
    token = token_of(booking)
    choices = manage.patient_move_choices(booking=booking)
    starts = [start for move_day in choices for start in move_day.starts]
    assert starts == sorted(starts) and booking.starts_at not in starts and starts[0] > timezone.now()
    target = starts[0]

    response = client.post(page_url(token, "move"), {"starts_at": target.isoformat()})
    assert response.status_code == 302 and response["Location"] == page_url(token)
    booking.refresh_from_db()
    assert booking.starts_at == target and booking.physician == clinic.physician_a
    entry = AuditEntry.objects.get(action="booking.move")
    assert entry.details["by_patient"] == clinic.patient_a.pk
    assert "moved" in client.get(page_url(token)).content.decode()  # the same link still opens it
    deliver_outbox()
    moved = [m for m in smtp_server.messages if m["Subject"].startswith("Appointment moved")]
    assert moved and LINK.search(moved[0].get_body(("plain",)).get_content())


def test_b14_inside_the_patient_cutoff_cancel_and_move_are_refused_with_a_message(clinic, client):
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    token = token_of(booking)
    clinic.institution_a.patient_cutoff_minutes = 30 * 24 * 60
    clinic.institution_a.save()

    page = client.get(page_url(token)).content.decode()
    assert "too late to change this appointment here: please call Institution A on +36 1 234 5678" in page
    refused = client.post(page_url(token, "cancel"))
    assert refused.status_code == 409
    assert "up to 720 hours before they start" in refused.content.decode()
    moved = client.post(
        page_url(token, "move"), {"starts_at": (booking.starts_at + timedelta(days=1)).isoformat()}
    )
    assert moved.status_code == 409
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED and booking.starts_at == local(next_weekday(2), 10)


@pytest.mark.parametrize("minutes_before, offered", [(61, True), (59, False)])
def test_b14_the_page_offers_move_and_cancel_exactly_when_the_patient_may_change(
    clinic, client, clock, minutes_before, offered
):
    """One rule (`policy.patient_change_refusal`) for what the page offers and what the services accept."""
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    token = token_of(booking)
    clinic.institution_a.patient_cutoff_minutes = 60
    clinic.institution_a.save()
    clock.now = booking.starts_at - timedelta(minutes=minutes_before)

    page = client.get(page_url(token)).content.decode()
    assert ('data-testid="manage-cancel"' in page) is offered
    assert ("Move to another time" in page) is offered
    assert ('data-testid="manage-too-late"' in page) is not offered
    cancelled = client.post(page_url(token, "cancel"))
    assert cancelled.status_code == (200 if offered else 409)
    booking.refresh_from_db()
    assert booking.status == (Booking.Status.CANCELLED if offered else Booking.Status.BOOKED)
    if not offered:
        assert "up to 1 hour before they start" in cancelled.content.decode()
    else:
        assert policy.patient_change_refusal(booking) == "Only a booked appointment can be changed."


def test_b14_a_token_opens_only_its_own_booking(clinic, client):
    first = book(clinic, clinic.bob, local(next_weekday(2), 10))
    same_patient = book(clinic, clinic.bob, local(next_weekday(2), 11))
    someone_else = book(
        clinic,
        clinic.bob,
        local(next_weekday(2), 12),
        patient=PatientFactory(institution=clinic.institution_a),
    )
    assert manage_link_booking(token_of(first)) == first
    # The services refuse the patient of one booking acting on another patient's booking, as if it were not.
    with pytest.raises(Http404):
        services.booking_cancel(actor=manage.patient_actor(booking=first), booking=someone_else)
    with pytest.raises(Http404):
        manage.booking_patient_confirm(actor=manage.patient_actor(booking=first), booking=someone_else)
    assert client.post(page_url(token_of(first), "cancel")).status_code == 200
    same_patient.refresh_from_db(), someone_else.refresh_from_db()
    assert same_patient.status == someone_else.status == Booking.Status.BOOKED  # only the link's booking


def test_b14_desk_cancel_and_desk_revoke_end_the_link(clinic, client, login):
    cancelled = book(clinic, clinic.bob, local(next_weekday(2), 10))
    revoked = book(clinic, clinic.bob, local(next_weekday(2), 11))
    services.booking_cancel(actor=actor_of(clinic.bob), booking=cancelled)
    assert client.get(page_url(token_of(cancelled))).status_code == 404

    token = token_of(revoked)
    login(clinic.bob)
    panel = client.get(reverse("scheduling:booking-detail", args=[revoked.pk])).content.decode()
    assert 'data-testid="booking-link-revoke"' in panel
    assert client.post(reverse("scheduling:booking-link-revoke", args=[revoked.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="booking.manage_link_revoke", user=clinic.bob).exists()
    client.logout()
    assert client.get(page_url(token)).status_code == 404


def test_b14_another_institution_cannot_revoke_the_link(clinic, client, login):
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    login(clinic.charlie)
    assert client.post(reverse("scheduling:booking-link-revoke", args=[booking.pk])).status_code == 404
    assert ManageLink.objects.filter(booking=booking, revoked_at__isnull=True).exists()


def test_b14_the_link_expires_when_the_visit_ends(clinic, client, clock):
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    token = token_of(booking)
    clock.now = booking.ends_at - timedelta(minutes=1)
    page = client.get(page_url(token))
    assert page.status_code == 200 and "Cancel my appointment" not in page.content.decode()  # started
    clock.now = booking.ends_at
    assert client.get(page_url(token)).status_code == 404


@pytest.mark.parametrize(
    "token",
    ["0" * 48, "A" * 48, "x", "0" * 47, "0" * 5000, "%00" * 48, "' OR 1=1 --"],
    ids=["unknown", "upper", "short", "47", "long", "nul", "sql"],
)
def test_b14_a_wrong_token_is_one_neutral_404(clinic, client, token):
    book(clinic, clinic.bob, local(next_weekday(2), 10))
    for action in ("", "cancel", "move", "confirm"):
        url = f"/appointment/{token}/{action + '/' if action else ''}"
        response = client.post(url) if action else client.get(url)
        assert response.status_code == 404
        assert "There is nothing here" in response.content.decode()


def test_b14_hostile_input_to_the_move_is_refused_4xx(clinic, client):
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    token = token_of(booking)
    for bad in ("", "tomorrow", "2026-13-45T99:00", "\x00", "9" * 500):
        assert client.post(page_url(token, "move"), {"starts_at": bad}).status_code == 422
    off_grid = booking.starts_at + timedelta(minutes=7)  # inside working hours, off the grid
    assert client.post(page_url(token, "move"), {"starts_at": off_grid.isoformat()}).status_code == 409
    past = timezone.now() - timedelta(days=1)
    assert client.post(page_url(token, "move"), {"starts_at": past.isoformat()}).status_code == 409
    assert client.get(page_url(token, "cancel")).status_code == 405
    booking.refresh_from_db()
    assert booking.starts_at == local(next_weekday(2), 10) and booking.status == Booking.Status.BOOKED


def test_b14_the_manage_pages_are_rate_limited_per_address(clinic, client, settings):
    settings.MANAGE_LINK_LIMIT = 3
    booking = book(clinic, clinic.bob, local(next_weekday(2), 10))
    token = token_of(booking)
    assert [client.get(page_url(token)).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(page_url("0" * 48))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert client.get(page_url(token), REMOTE_ADDR="10.0.0.9").status_code == 200  # another address


def test_p16_patient_confirms_a_partner_booking_seen_by_desk_report_api_and_fhir(
    clinic, partners, client, login
):
    booking = book(clinic, partners.peter, local(next_weekday(1), 9))
    made = OutboxMessage.objects.get(kind="patient_booking_made")
    assert "booked for you by another organisation" in made.text_body
    assert partners.partner_p.name not in made.text_body + made.html_body
    own = book(clinic, clinic.bob, local(next_weekday(2), 10))
    assert (
        "another organisation"
        not in OutboxMessage.objects.get(reference=f"booking:{own.pk}:patient").text_body
    )

    token = token_of(booking)
    assert "Yes, I want this appointment" in client.get(page_url(token)).content.decode()
    assert client.post(page_url(token, "confirm")).status_code == 302
    booking.refresh_from_db()
    assert booking.patient_confirmed_at is not None
    assert (
        AuditEntry.objects.get(action="booking.patient_confirm").details["by_patient"] == booking.patient_id
    )
    assert client.post(page_url(token, "confirm")).status_code == 302  # again: no change
    assert AuditEntry.objects.filter(action="booking.patient_confirm").count() == 1
    assert client.post(page_url(token_of(own), "confirm")).status_code == 400  # nothing to confirm

    shown = when(booking.patient_confirmed_at, clinic.institution_a, language="en")
    login(clinic.alice)
    panel = client.get(reverse("scheduling:booking-detail", args=[booking.pk])).content.decode()
    assert f'data-testid="booking-patient-confirmed">{shown}<' in panel
    day = booking.starts_at.date().isoformat()
    report = client.get(reverse("reports:partner-bookings"), {"date_from": day, "date_until": day})
    assert f'data-testid="patient-confirmed">{shown}<' in report.content.decode()
    # The partner sees it through the JSON API and FHIR (its own token).
    other = book(clinic, partners.peter, local(next_weekday(1), 10))
    bearer = {"HTTP_AUTHORIZATION": "Bearer " + api_token_create(actor=actor_of(partners.peter), name="t")[1]}
    api = [
        client.get(f"/api/v1/bookings/{b.pk}", **bearer).json()["patient_confirmed_at"]
        for b in (booking, other)
    ]
    assert api[0] is not None and api[1] is None
    statuses = [
        next(
            p["status"]
            for p in client.get(f"/fhir/R4/Appointment/{b.pk}", **bearer).json()["participant"]
            if p["actor"]["reference"].startswith("Patient/")
        )
        for b in (booking, other)
    ]
    assert statuses == ["accepted", "needs-action"]


def test_p16_release_cancels_unconfirmed_partner_bookings_and_tells_the_partner(clinic, partners, clock):
    soon = book(clinic, partners.peter, local(next_weekday(1), 9))
    confirmed = book(clinic, partners.peter, local(next_weekday(1), 10))
    manage.booking_patient_confirm(actor=manage.patient_actor(booking=confirmed), booking=confirmed)
    own = book(clinic, clinic.bob, local(next_weekday(1), 11))
    clock.now = soon.starts_at - timedelta(hours=5)
    assert manage.partner_bookings_release() == 0  # off by default

    clinic.institution_a.release_unconfirmed_hours = 4
    clinic.institution_a.save()
    assert manage.partner_bookings_release() == 0  # not yet 4 hours before
    clock.now = soon.starts_at - timedelta(hours=4)
    assert manage.partner_bookings_release() == 1
    soon.refresh_from_db(), confirmed.refresh_from_db(), own.refresh_from_db()
    assert soon.status == Booking.Status.CANCELLED and "did not confirm" in soon.cancel_reason
    assert confirmed.status == own.status == Booking.Status.BOOKED
    told = OutboxMessage.objects.filter(kind="booking_cancelled", reference=f"booking:{soon.pk}:cancelled")
    assert {m.to_email for m in told} >= {partners.paula.email}
    assert "did not confirm" in told.first().text_body
    assert AuditEntry.objects.get(action="booking.cancel").details["source"] == "release_unconfirmed"
    assert manage.partner_bookings_release() == 0  # once


def test_p16_the_worker_runs_the_release(settings):
    assert "medbook.scheduling.manage.partner_bookings_release" in settings.WORKER_TASKS


def test_b14_attendance_memory_on_the_panel_and_the_patient_record(clinic, client, login, clock):
    visits = [book(clinic, clinic.bob, local(next_weekday(2), hour)) for hour in (9, 10, 11)]
    clock.now = visits[-1].ends_at + timedelta(minutes=1)
    for booking, status in zip(visits, ("no_show", "completed", "no_show"), strict=True):
        services.booking_attendance_set(actor=actor_of(clinic.bob), booking=booking, status=status)
    login(clinic.bob)
    panel = client.get(reverse("scheduling:booking-detail", args=[visits[0].pk])).content.decode()
    assert "No-shows: 2 of 3 past visits" in panel
    record = client.get(reverse("patients:patient-edit", args=[clinic.patient_a.pk])).content.decode()
    assert "No-shows: 2 of 3 past visits" in record
