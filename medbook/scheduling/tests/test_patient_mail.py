"""N-5: the patient is told when a booking is made, moved or cancelled (with an iCalendar invitation) and
reminded the evening before, through the outbox and a real SMTP server, across a daylight-saving change."""

from datetime import date, datetime, time, timedelta
from email.message import EmailMessage

import icalendar
import pytest
from django.db import transaction
from django.utils import timezone

from conftest import BUDAPEST, actor_of, local, next_weekday
from medbook.core.tests.test_no_utc_on_screen import MACHINE_TIME
from medbook.core.timefmt import when
from medbook.notifications.models import OutboxMessage
from medbook.partners.services.contract import partnership_end
from medbook.partners.tests import services
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling.models import Booking
from medbook.scheduling.patient_mail import REMINDER_KIND, reminder_at
from medbook.scheduling.tests.test_dst import next_change

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
NOTE = "Allergic to penicillin; agent Kim will call back"
PHONE = "+36 1 234 5678"


class Clock:
    """The time the code under test reads from `timezone.now()`; None is the real time."""

    def __init__(self) -> None:
        self.now: datetime | None = None


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock, real_now = Clock(), timezone.now
    monkeypatch.setattr(timezone, "now", lambda: clock.now or real_now())
    return clock


@pytest.fixture
def clinic(cast):
    """Institution A writing to patients in English, with a phone number to cancel by."""
    cast.institution_a.language, cast.institution_a.phone = "en", PHONE
    cast.institution_a.save()
    return cast


def book(cast, user, starts_at, patient=None, note=""):
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=patient or cast.patient_a,
        starts_at=starts_at,
        note=note,
    )


def received_by(smtp_server, email: str) -> list[EmailMessage]:
    return [message for message in smtp_server.messages if message["To"] == email]


def parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    """The text, the HTML and the attachments of a received message."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html, list(message.iter_attachments())


def invitation(attachment: EmailMessage) -> icalendar.Event:
    """The one VEVENT of an attached invitation, its METHOD copied onto it for the assertions."""
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    event["X-METHOD"] = str(calendar["METHOD"])
    return event


def test_n5_patient_told_of_made_moved_cancelled_with_invitations_across_a_dst_change(
    clinic, partners, smtp_server, deliver_outbox
):
    cast = clinic
    change = next_change(BUDAPEST, forward=True, today=date.today() + timedelta(days=7))
    before, after = change - timedelta(days=3), change + timedelta(days=1)  # Thursday, the Monday after
    booking = book(cast, partners.peter, local(before, 10), note=NOTE)  # a partner books, with a note
    services.booking_move(actor=actor_of(cast.bob), booking=booking, starts_at=local(after, 10))
    services.booking_cancel(actor=actor_of(partners.peter), booking=booking)
    deliver_outbox()

    messages = received_by(smtp_server, cast.patient_a.email)
    assert [m["Subject"].split(":")[0] for m in messages] == [
        "Appointment booked at Institution A",
        "Appointment moved at Institution A",
        "Appointment cancelled at Institution A",
    ]
    events = []
    for message, day in zip(messages, (before, after, after), strict=True):
        text, html, attachments = parts(message)
        assert message["Content-Language"] == "en"
        for body in (text, html):
            assert when(local(day, 10), cast.institution_a, language="en") in body  # "Mon 30 Mar 2026, 10:00"
            for fact in (
                "A Central",
                "1 Main Street",
                "Dr. Alpha",
                "Cardiology check",
                "Institution A",
            ):
                assert fact in body
        assert not MACHINE_TIME.search(text + message["Subject"]), text
        [attachment] = attachments
        assert attachment.get_filename() == "appointment.ics"
        assert attachment.get_content_type() == "text/calendar"
        event = invitation(attachment)
        start = event.decoded("DTSTART")
        assert start.astimezone(BUDAPEST) == local(day, 10)  # the wall-clock hour on each side of the change
        assert event.decoded("DTEND") - start == timedelta(minutes=cast.service_a.duration_minutes)
        assert str(event["SUMMARY"]) == "Cardiology check – Institution A"
        assert str(event["LOCATION"]) == "A Central, 1 Main Street"
        assert attachment.get_param("method") == event["X-METHOD"]
        events.append(event)
    assert local(before, 10).utcoffset() != local(after, 10).utcoffset()  # the change lies between them
    assert len({str(event["UID"]) for event in events}) == 1
    assert [int(event["SEQUENCE"]) for event in events] == [0, 1, 2]
    assert [event["X-METHOD"] for event in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert str(events[-1]["STATUS"]) == "CANCELLED"
    # The link to see, move or cancel (B-14) in place of the phone number to call; the cancellation offers
    # the number for a new appointment.
    for message in messages[:2]:
        text, html, _attachments = parts(message)
        assert "To see, move or cancel this appointment, open http" in text and "/appointment/" in html
        assert "call Institution A" not in text
    assert (
        "For a new appointment, call Institution A on" in parts(messages[2])[0]
        and PHONE in parts(messages[2])[0]
    )
    assert "10:00" in parts(messages[1])[0] and "Previously" in parts(messages[1])[0]


def test_n5_patient_emails_never_name_the_note_or_the_partner(clinic, partners, smtp_server, deliver_outbox):
    cast = clinic
    day = next_weekday(2)
    booking = book(cast, partners.peter, local(day, 10), note=NOTE)
    services.booking_move(actor=actor_of(partners.peter), booking=booking, starts_at=local(day, 11))
    services.booking_cancel(actor=actor_of(partners.peter), booking=booking)
    rows = OutboxMessage.objects.filter(to_email=cast.patient_a.email)
    assert set(rows.values_list("kind", flat=True)) == {
        "patient_booking_made",
        "patient_booking_moved",
        "patient_booking_cancelled",
        REMINDER_KIND,
    }
    deliver_outbox()

    messages = received_by(smtp_server, cast.patient_a.email)
    assert len(messages) == 3  # the reminders wait for their evening (and are withdrawn)
    secrets = (NOTE, "penicillin", partners.partner_p.name, "CallCenter", partners.peter.full_name)
    for message in messages:
        whole = message.as_string() + "".join(
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        )
        for secret in secrets:
            assert secret not in whole, (secret, message["Subject"])
    for reminder in rows.filter(kind=REMINDER_KIND):
        assert not any(secret in reminder.text_body + reminder.html_body for secret in secrets)


def test_n5_patient_without_email_gets_nothing(cast, deliver_outbox, smtp_server):
    patient = PatientFactory(institution=cast.institution_a, full_name="Otto Offline", email="")
    booking = book(cast, cast.bob, local(next_weekday(2), 10), patient=patient)
    services.booking_move(actor=actor_of(cast.bob), booking=booking, starts_at=local(next_weekday(2), 11))
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)

    assert not OutboxMessage.objects.filter(kind__startswith="patient_").exists()
    deliver_outbox()
    assert smtp_server.messages == []


def test_n5_rolled_back_booking_tells_the_patient_nothing(cast, smtp_server, deliver_outbox):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        book(cast, cast.bob, local(next_weekday(2), 10))
        raise ZeroDivisionError("the request failed after the booking")

    assert not OutboxMessage.objects.exists()
    assert deliver_outbox() == 0 and smtp_server.messages == []


def test_n5_email_in_the_institutions_language_and_zone(cast, smtp_server, deliver_outbox):
    assert cast.institution_a.language == "hu"  # the default: the patients of a Hungarian clinic
    starts_at = local(next_weekday(2), 10)
    book(cast, cast.bob, starts_at)
    deliver_outbox()

    [message] = received_by(smtp_server, cast.patient_a.email)
    assert message["Content-Language"] == "hu"
    assert (
        when(starts_at, cast.institution_a, language="hu") in parts(message)[0]
    )  # "2026. március 3., kedd 10:00"


def test_n5_without_a_phone_the_patient_is_sent_to_the_location(cast):
    cast.institution_a.language = "en"
    cast.institution_a.save(update_fields=["language"])
    booking = book(cast, cast.bob, local(next_weekday(2), 10))
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)

    cancelled = OutboxMessage.objects.get(to_email=cast.patient_a.email, kind="patient_booking_cancelled")
    assert cast.institution_a.phone == ""
    assert "contact Institution A at A Central, 1 Main Street" in cancelled.text_body


def test_n5_reminder_the_evening_before_sent_only_when_due(clinic, smtp_server, deliver_outbox, clock):
    cast = clinic
    day = next_weekday(2)
    booking = book(cast, cast.bob, local(day, 10))
    reminder = OutboxMessage.objects.get(kind=REMINDER_KIND)
    assert reminder.reference == f"booking:{booking.pk}:reminder"
    assert reminder.next_attempt_at == reminder_at(booking) == local(day - timedelta(days=1), 18)

    assert deliver_outbox() == 1  # the confirmation; the reminder waits
    clock.now = reminder.next_attempt_at - timedelta(minutes=1)
    assert deliver_outbox() == 0
    clock.now = reminder.next_attempt_at + timedelta(minutes=1)
    assert deliver_outbox() == 1
    assert deliver_outbox() == 0

    made, sent = received_by(smtp_server, cast.patient_a.email)
    assert sent["Subject"].startswith("Reminder of your appointment at Institution A")
    text, _html, attachments = parts(sent)
    assert when(local(day, 10), cast.institution_a, language="en") in text and "/appointment/" in text
    assert attachments == []  # the confirmation's invitation already holds the time
    reminder.refresh_from_db()
    assert reminder.status == Status.SENT


def test_n5_moved_booking_withdraws_its_reminder_and_plans_a_new_one(
    clinic, smtp_server, deliver_outbox, clock
):
    cast = clinic
    first, second = next_weekday(2), next_weekday(2) + timedelta(days=2)
    booking = book(cast, cast.bob, local(first, 10))
    old = OutboxMessage.objects.get(kind=REMINDER_KIND)
    services.booking_move(actor=actor_of(cast.bob), booking=booking, starts_at=local(second, 9))

    old.refresh_from_db()
    assert old.status == Status.WITHDRAWN
    new = OutboxMessage.objects.get(kind=REMINDER_KIND, status=Status.PENDING)
    assert new.reference == old.reference and new.next_attempt_at == local(second - timedelta(days=1), 18)
    clock.now = new.next_attempt_at + timedelta(minutes=1)  # both evenings have come
    deliver_outbox()

    reminders = [
        m for m in received_by(smtp_server, cast.patient_a.email) if m["Subject"].startswith("Reminder")
    ]
    assert len(reminders) == 1
    assert when(local(second, 9), cast.institution_a, language="en") in parts(reminders[0])[0]
    old.refresh_from_db()
    assert old.status == Status.WITHDRAWN and old.sent_at is None and old.attempts == 0


def test_n5_cancelled_booking_withdraws_its_reminder(clinic, smtp_server, deliver_outbox, clock):
    cast = clinic
    booking = book(cast, cast.bob, local(next_weekday(2), 10))
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)
    reminder = OutboxMessage.objects.get(kind=REMINDER_KIND)
    assert reminder.status == Status.WITHDRAWN

    clock.now = reminder.next_attempt_at + timedelta(minutes=1)
    deliver_outbox()
    subjects = [m["Subject"] for m in received_by(smtp_server, cast.patient_a.email)]
    assert [subject.split(":")[0] for subject in subjects] == [
        "Appointment booked at Institution A",
        "Appointment cancelled at Institution A",
    ]


def test_n5_reminder_of_a_booking_cancelled_another_way_is_withdrawn_at_send_time(
    clinic, smtp_server, deliver_outbox, clock
):
    cast = clinic
    booking = book(cast, cast.bob, local(next_weekday(2), 10))
    deliver_outbox()
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CANCELLED
    )  # e.g. in the operator's admin
    reminder = OutboxMessage.objects.get(kind=REMINDER_KIND)
    assert reminder.status == Status.PENDING

    clock.now = reminder.next_attempt_at + timedelta(minutes=1)
    assert deliver_outbox() == 0
    reminder.refresh_from_db()
    assert reminder.status == Status.WITHDRAWN
    assert len(received_by(smtp_server, cast.patient_a.email)) == 1  # the confirmation only


def test_n5_partnership_ended_with_its_bookings_tells_their_patients(clinic, partners, deliver_outbox):
    cast = clinic
    booking = book(cast, partners.peter, local(next_weekday(2), 10), note=NOTE)

    partnership_end(actor=actor_of(cast.alice), partnership=partners.partnership_p, cancel_future=True)

    to_patient = OutboxMessage.objects.filter(to_email=cast.patient_a.email)
    cancelled = to_patient.get(kind="patient_booking_cancelled")
    assert cancelled.reference == f"booking:{booking.pk}:patient"
    assert "CANCEL" in cancelled.attachments[0]["content_type"]
    assert to_patient.get(kind=REMINDER_KIND).status == Status.WITHDRAWN
    assert NOTE not in cancelled.text_body and partners.partner_p.name not in cancelled.text_body


def test_n5_no_reminder_when_the_evening_before_has_passed(clinic, clock):
    cast = clinic
    day = next_weekday(2)
    clock.now = datetime.combine(day - timedelta(days=1), time(19), tzinfo=BUDAPEST)
    book(cast, cast.bob, local(day, 10))

    assert OutboxMessage.objects.filter(kind="patient_booking_made").exists()
    assert not OutboxMessage.objects.filter(kind=REMINDER_KIND).exists()
