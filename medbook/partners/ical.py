"""The partner's bookings as an iCalendar (RFC 5545) feed at a secret, revocable address (X-6); the address's
token is found by its SHA-256, the only thing stored (issue 19).

Built with the icalendar library (CRLF line ends, folding at 75 octets, escaping); every time in UTC.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from icalendar import Calendar, Event

from medbook.accounts.models import Membership
from medbook.core.permissions import Perm, has_perm
from medbook.core.tenancy import Actor
from medbook.partners.models import CalendarFeed
from medbook.partners.selectors import partner_bookings
from medbook.scheduling.models import Booking

HISTORY = timedelta(days=90)
PRODID = "-//MedBook//Partner bookings//EN"


def feed_bookings(token: str) -> tuple[str, Iterable[Booking]]:
    """The partner's name and its bookings for the feed token; an unknown, replaced or dead token is 404."""
    feed = (
        CalendarFeed.objects.filter(token_hash=CalendarFeed.hash_of(token))
        .select_related("membership__user", "membership__organization")
        .first()
        if token
        else None
    )
    if feed is None:
        raise Http404()
    membership: Membership = feed.membership
    actor = Actor(user=membership.user, membership=membership, memberships=(membership,))
    if not (membership.is_active and membership.user.is_active and has_perm(actor, Perm.BOOK_FOR_PARTNER)):
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
    stamp = now or timezone.now()
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "medbook"
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{name} – MedBook")
    for booking in bookings:
        place = f"{booking.location.name}, {booking.location.address}"
        # The free-text note may hold patient details: a feed at a secret address never carries it.
        description = f"{booking.institution.name}\n{place}"
        event = Event()
        event.add("uid", f"booking-{booking.pk}@{host}")
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("last-modified", booking.updated_at.astimezone(UTC))
        event.add("dtstart", booking.starts_at.astimezone(UTC))
        event.add("dtend", booking.ends_at.astimezone(UTC))
        event.add("summary", f"{booking.service.name} – {booking.physician.full_name}")
        event.add("location", place)
        event.add("description", description)
        event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical().decode()
