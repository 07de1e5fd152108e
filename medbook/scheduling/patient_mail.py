"""Patients told (N-5): a confirmation when a booking is made, moved or cancelled, and a reminder the day
before, to a patient with an e-mail address.

Whoever acts (reception, an institution admin, a partner's user), the patient hears from the institution:
in its language and time zone, with the place, the time, the physician, the service, the link to see, move
or cancel the booking (`manage_links`, a new one in each e-mail that offers it), and an iCalendar invitation
(medbook.scheduling.ical). No patient e-mail names the booking's note or the partner.

The reminder is planned in the outbox at REMINDER_TIME, local time, the day before the appointment (none
when that moment has passed). Moving or cancelling withdraws it (a new one is planned for a move); and
the worker asks `reminder_still_wanted` right before sending, for a booking changed any other way.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medbook.core.ids import parse_id_or_none
from medbook.notifications.models import OutboxMessage
from medbook.notifications.services import notification_enqueue, outbox_count, outbox_withdraw
from medbook.scheduling.ical import CANCEL, REQUEST, booking_invitation
from medbook.scheduling.manage_links import manage_link_issue
from medbook.scheduling.models import Booking

# "approved": the desk approved an online booking that awaited it (issue 22); the reminder is the made one's.
EVENTS = ("made", "moved", "cancelled", "approved")
CONFIRMATION_KINDS = tuple(f"patient_booking_{event}" for event in EVENTS)
REMINDER_KIND = "patient_booking_reminder"
REMINDER_TIME = time(18, 0)  # the evening before: late enough to be remembered, early enough to cancel
TEMPLATE_DIR = "scheduling/email"


def confirmation_reference(booking: Booking) -> str:
    return f"booking:{booking.pk}:patient"


def reminder_reference(booking: Booking) -> str:
    return f"booking:{booking.pk}:reminder"


def patient_notify(
    *, booking: Booking, event: str, previous_start: datetime | None = None, send_at: datetime | None = None
) -> None:
    """Tell the booking's patient that it was made, moved or cancelled, with an invitation for their
    calendar, in the caller's transaction; withdraw the reminder of the old time, plan one for the new.
    With `send_at` the confirmation waits until then (a change that can be undone meanwhile: `undone`)."""
    if event not in EVENTS:
        raise ValueError(f"unknown booking event {event!r}")
    if event != "made":
        outbox_withdraw(reference=reminder_reference(booking))
    if not booking.patient.email:
        return
    # The patient's way to move or cancel, instead of a call (B-14).
    manage_url = manage_link_issue(booking=booking) if event != "cancelled" else ""
    previous = previous_start if event == "moved" else None
    context = _context(booking, previous_start=previous, manage_url=manage_url)
    method = CANCEL if event == "cancelled" else REQUEST
    # Each invitation outranks the ones before it (RFC 5546): its SEQUENCE counts the earlier ones.
    sequence = outbox_count(reference=confirmation_reference(booking), kinds=CONFIRMATION_KINDS)
    contact = context["how_to_book" if event == "cancelled" else "how_to_cancel"]
    invitation = booking_invitation(
        booking=booking,
        method=method,
        sequence=sequence,
        description=f"{context['physician_line']}\n{contact}",
    )
    notification_enqueue(
        to=booking.patient.email,
        template=f"patient_booking_{event}",
        template_dir=TEMPLATE_DIR,
        context=context,
        language=booking.institution.language,
        kind=f"patient_booking_{event}",
        reference=confirmation_reference(booking),
        attachments=[
            {
                "filename": "appointment.ics",
                "content_type": f"text/calendar; method={method}",
                "content": invitation,
            }
        ],
        send_at=send_at,
    )
    if event in ("made", "moved"):
        _reminder_plan(booking, context)


def patient_notify_undone(*, booking: Booking, send_at: datetime) -> None:
    """A change whose confirmation waited until `send_at` was undone: withdraw that confirmation, so the
    patient hears nothing of it, and plan the reminder of the booking's restored time again."""
    outbox_withdraw(reference=confirmation_reference(booking), send_at=send_at)
    outbox_withdraw(reference=reminder_reference(booking))
    if booking.patient.email:
        _reminder_plan(
            booking, _context(booking, previous_start=None, manage_url=manage_link_issue(booking=booking))
        )


def reminder_at(booking: Booking) -> datetime:
    """When the reminder goes: REMINDER_TIME on the institution's clock, the day before the appointment."""
    tz = ZoneInfo(booking.institution.time_zone)
    day_before = booking.starts_at.astimezone(tz).date() - timedelta(days=1)
    return datetime.combine(day_before, REMINDER_TIME, tzinfo=tz).astimezone(UTC)


def _reminder_plan(booking: Booking, context: dict) -> None:
    """Put the reminder in the outbox, due at `reminder_at`; none when that moment has passed."""
    send_at = reminder_at(booking)
    if send_at <= timezone.now():
        return
    notification_enqueue(
        to=booking.patient.email,
        template="patient_booking_reminder",
        template_dir=TEMPLATE_DIR,
        context={**context, "previous_start": None},
        language=booking.institution.language,
        kind=REMINDER_KIND,
        reference=reminder_reference(booking),
        send_at=send_at,
    )


def reminder_still_wanted(message: OutboxMessage) -> bool:
    """Whether a reminder may still go out: its booking is booked and has not started (the worker asks)."""
    parts = message.reference.split(":")
    pk = parse_id_or_none(parts[1]) if len(parts) == 3 and parts[0] == "booking" else None
    if pk is None:  # the one parser of ids: "¹" passes str.isdigit() but not int()
        return False
    booked = Booking.objects.filter(pk=pk, status=Booking.Status.BOOKED)
    return booked.filter(starts_at__gt=timezone.now()).exists()


def _context(booking: Booking, *, previous_start: datetime | None, manage_url: str = "") -> dict:
    """What the patient's e-mails say: the institution's facts and the booking's manage link, never the note
    or the partner. A partner's booking not yet confirmed asks the patient to confirm it there (P-16)."""
    institution, location = booking.institution, booking.location
    with translation.override(institution.language):
        how_to_cancel = _("To see, move or cancel this appointment, open %(url)s") % {"url": manage_url}
        if institution.phone:
            how_to_book = _("For a new appointment, call %(institution)s on %(phone)s.")
        else:
            how_to_book = _("For a new appointment, contact %(institution)s at %(place)s.")
        facts = {
            "institution": institution.name,
            "phone": institution.phone,
            "place": f"{location.name}, {location.address}",
        }
        physician = _("Physician: %(name)s") % {"name": booking.physician.full_name}
    return {
        "patient_name": booking.patient.full_name,
        "institution_name": institution.name,
        "phone": institution.phone,
        "location_name": location.name,
        "location_address": location.address,
        "physician_name": booking.physician.full_name,
        "service_name": booking.service.name,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "previous_start": previous_start,
        "reference": booking.pk,
        "how_to_cancel": how_to_cancel,
        "manage_url": manage_url,
        "confirmation_wanted": booking.partner_id is not None and booking.patient_confirmed_at is None,
        "approval_pending": booking.awaiting_approval,  # an online booking the desk has still to approve
        "how_to_book": how_to_book % facts,
        "physician_line": physician,
        "time_zone": institution.time_zone,
    }
