"""A booking as an iCalendar (RFC 5545) invitation for the patient's calendar, sent with their e-mails (N-5).

One VEVENT per booking under a stable UID, its SEQUENCE raised by every change, so a calendar application
replaces the appointment when it is moved (METHOD:REQUEST) and removes it when it is cancelled
(METHOD:CANCEL), as iTIP (RFC 5546) says. Times are written in UTC (the `Z` form), as the partner feed's:
every calendar turns them into its own zone, and no VTIMEZONE can go wrong on a daylight-saving change.
Built with the icalendar library (CRLF line ends, folding, escaping).
"""

from datetime import UTC, datetime
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from medbook.scheduling.models import Booking

PRODID = "-//MedBook//Appointments//EN"
REQUEST, CANCEL = "REQUEST", "CANCEL"


def booking_uid(booking: Booking) -> str:
    """The booking's UID: the same in every invitation of it, and in the partner's feed."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "medbook"
    return f"booking-{booking.pk}@{host}"


def booking_invitation(
    *, booking: Booking, method: str, sequence: int, description: str = "", now: datetime | None = None
) -> str:
    """The VCALENDAR text of the patient's invitation: REQUEST for a made or moved booking, CANCEL for a
    cancelled one. SUMMARY names the service and the institution, LOCATION the place; never the note or
    the partner."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"an invitation is a REQUEST or a CANCEL, not {method!r}")
    institution, location = booking.institution, booking.location
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("sequence", sequence)
    event.add("dtstamp", (now or timezone.now()).astimezone(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add("summary", f"{booking.service.name} – {institution.name}")
    event.add("location", f"{location.name}, {location.address}")
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(parseaddr(settings.DEFAULT_FROM_EMAIL)[1], institution.name))
    attendee = _address(booking.patient.email, booking.patient.full_name)
    attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
    attendee.params["RSVP"] = vText(
        "FALSE"
    )  # the institution reads no replies: the e-mail says how to cancel
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    return address
