"""The partner's bookings as an iCalendar (RFC 5545) feed at a secret, revocable address (X-6).

Written by hand (no icalendar library): CRLF line ends, lines folded at 75 octets, text escaped, every
time in UTC.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from medbook.accounts.models import Membership
from medbook.core.permissions import partner_may_book
from medbook.core.tenancy import Actor
from medbook.partners.models import CalendarFeed
from medbook.scheduling.models import Booking
from medbook.scheduling.selectors import partner_bookings

HISTORY = timedelta(days=90)
PRODID = "-//MedBook//Partner bookings//EN"


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11)."""
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never splitting a UTF-8 character (3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    pieces, current, limit = [], b"", 75
    for char in line:
        octets = char.encode()
        if len(current) + len(octets) > limit:
            pieces.append(current.decode())
            current, limit = b"", 74  # continuation lines start with a space
        current += octets
    pieces.append(current.decode())
    return "\r\n ".join(pieces)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def feed_bookings(token: str) -> tuple[str, Iterable[Booking]]:
    """The partner's name and its bookings for the feed token; an unknown, replaced or dead token is 404."""
    feed = (
        CalendarFeed.objects.filter(token=token)
        .select_related("membership__user", "membership__organization")
        .first()
        if token
        else None
    )
    if feed is None:
        raise Http404()
    membership: Membership = feed.membership
    actor = Actor(user=membership.user, membership=membership, memberships=(membership,))
    if not (membership.is_active and membership.user.is_active and partner_may_book(actor)):
        raise Http404()  # deactivated or no longer allowed to book: the address is dead at once
    bookings = (
        partner_bookings(actor)
        .filter(starts_at__gte=timezone.now() - HISTORY)
        .select_related("institution")
        .order_by("starts_at", "pk")
        .distinct()
    )
    return membership.organization.name, bookings


def render_calendar(name: str, bookings: Iterable[Booking], *, now: datetime | None = None) -> str:
    """The VCALENDAR text: one VEVENT per booking, cancelled ones as STATUS:CANCELLED."""
    stamp = utc_stamp(now or timezone.now())
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "medbook"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(f'{name} – MedBook')}",
    ]
    for booking in bookings:
        status = "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED"
        summary = f"{booking.service.name} – {booking.physician.full_name}"
        description = f"{booking.institution.name}\n{booking.location.name}, {booking.location.address}"
        if booking.note:
            description += f"\n{booking.note}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:booking-{booking.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"LAST-MODIFIED:{utc_stamp(booking.updated_at)}",
            f"DTSTART:{utc_stamp(booking.starts_at)}",
            f"DTEND:{utc_stamp(booking.ends_at)}",
            f"SUMMARY:{escape_text(summary)}",
            f"LOCATION:{escape_text(f'{booking.location.name}, {booking.location.address}')}",
            f"DESCRIPTION:{escape_text(description)}",
            f"STATUS:{status}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
