"""Manage links (B-14, issue 22): the rules of the link e-mailed to a booking's patient, in one place.

- **Unguessable.** A link carries a token made as a slot hold's is (`hold_rules.token_new`: 192 random bits,
  lowercase hex); only its SHA-256 is kept (`ManageLink.key_hash`), so a copy of the database opens nothing.
- **Scoped.** A token opens its one booking; nothing else is read through it (`manage_link_booking`).
- **Valid until the visit ends.** After `ends_at` the link opens nothing, whatever the booking's status.
- **Revocable.** Cancelling the booking (by anyone: the desk, a partner, the patient, the release of an
  unconfirmed partner booking) revokes its links (`booking_cancel` calls `manage_links_revoke`), as does
  the desk's "revoke the link"; a deleted booking takes its links with it (CASCADE).

Each patient e-mail that offers the link carries a link of its own (`manage_link_issue`): only the hash is
kept, so an earlier e-mail's token cannot be shown again. A wrong, expired or revoked token is one and the
same refusal (404), which tells nothing about any booking.
"""

from datetime import datetime

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from medbook.scheduling.hold_rules import token_hash, token_new
from medbook.scheduling.models import Booking, ManageLink


def manage_link_issue(*, booking: Booking) -> str:
    """Make a new link for the booking and return its address (the token is in it, and nowhere kept)."""
    raw, key = token_new()
    ManageLink.objects.create(booking=booking, key_hash=key)
    return settings.SITE_URL + reverse("scheduling:manage", args=[raw])


def manage_links_revoke(*, booking: Booking) -> int:
    """Revoke every live link of the booking; how many."""
    return ManageLink.objects.filter(booking=booking, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def manage_links_restore(*, booking: Booking, since: datetime) -> int:
    """Make the links revoked since `since` (by a cancellation that was undone) work again; how many."""
    return ManageLink.objects.filter(booking=booking, revoked_at__gte=since).update(revoked_at=None)


def manage_link_live(*, booking: Booking) -> bool:
    """Whether the booking has a link that still opens it."""
    return ManageLink.objects.filter(booking=booking, revoked_at__isnull=True).exists()


def manage_link_booking(token: object) -> Booking:
    """The booking a live link opens, with what its page shows; any other token is 404 (one answer)."""
    key = token_hash(token)
    bookings = Booking.objects.select_related(
        "institution", "location", "physician", "service", "patient", "partner"
    )
    found = (
        bookings.filter(
            manage_links__key_hash=key,
            manage_links__revoked_at__isnull=True,
            ends_at__gt=timezone.now(),
        ).first()
        if key is not None
        else None
    )
    if found is None:
        raise Http404()
    return found
