"""Slot holds (issue 21), the rules every reader and writer shares: who holds a slot, which holds are live,
what a hold blocks, and the lock that makes a hold and a booking of one physician take turns.

- **Holder.** A user acting for an organisation (the same user for another organisation is someone else),
  or, logged out (a patient booking online, issue 22), whoever shows the hold's token.
- **Live.** A hold is live until its `expires_at`; an expired one blocks nothing, wherever it is read,
  and the worker deletes it (`holds.slot_holds_sweep`).
- **Blocks.** A live hold is busy time, like an active booking, for everyone but its holder: the slot
  engine (`selectors.busy_of`, `calendar_weeks`) leaves it out of what it offers and the booking services
  refuse it (`SlotHeld`). Its holder still sees the slot free, books it, and the booking consumes the hold.
- **Turns.** On PostgreSQL a booking's or a hold's check (`services.slot_bookable`, `booking_move`) reads
  the physician's working hours in a statement that also locks the physician's row (`selectors.rules_for`,
  `FOR NO KEY UPDATE`, which a booking's foreign-key check does not wait for) until the transaction ends,
  and reads the busy time after it: a hold and a booking by two callers cannot both see the other's time
  free. No statement is added for it. SQLite's BEGIN IMMEDIATE serialises every writer already.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from medbook.core.errors import HoldUnknown
from medbook.institutions.models import MAX_SERVICE_MINUTES, Physician
from medbook.scheduling.models import SlotHold

TOKEN_BYTES = 24
# What a hold token looks like: lowercase hex (an id FHIR accepts as it is); anything else is unknown.
TOKEN_TEXT = re.compile(r"[0-9a-f]{48}")


@dataclass(frozen=True)
class Holder:
    """Who asks: a user acting for an organisation, or (both None) the bearer of an anonymous hold's token."""

    user_id: int | None = None
    organization_id: int | None = None
    token: str = ""

    def owns(self) -> Q:
        """The holds that are this holder's (nothing, for a holder known by no user and no valid token)."""
        if self.user_id is not None:
            return Q(user_id=self.user_id, organization_id=self.organization_id)
        key = token_hash(self.token)
        if key is None:
            return Q(pk__in=[])
        return Q(user__isnull=True, key_hash=key)


def holder_of(actor, token: str = "") -> Holder | None:
    """The holder an actor is: its user for the organisation it acts for; without a user, the bearer of
    `token`; None when neither (then every live hold is someone else's)."""
    user = getattr(actor, "user", None)
    membership = getattr(actor, "membership", None)
    if user is not None and membership is not None:
        return Holder(user_id=user.pk, organization_id=membership.organization_id)
    if user is None and token:
        return Holder(token=token)
    return None


def token_new() -> tuple[str, str]:
    """A new hold token (shown once) and the hash that is kept."""
    raw = secrets.token_hex(TOKEN_BYTES)
    return raw, hashlib.sha256(raw.encode()).hexdigest()


def token_hash(raw: object) -> str | None:
    """The kept hash of a well-formed token, or None for anything that cannot be one."""
    if not isinstance(raw, str) or not TOKEN_TEXT.fullmatch(raw):
        return None
    return hashlib.sha256(raw.encode()).hexdigest()


def overlapping(*, starts: datetime, ends: datetime) -> Q:
    """Holds overlapping [starts, ends). A hold lasts one service at most, so its start is bounded from
    below too (the (physician, starts_at) index reads only the window), as for bookings."""
    return Q(
        starts_at__gt=starts - timedelta(minutes=MAX_SERVICE_MINUTES),
        starts_at__lt=ends,
        ends_at__gt=starts,
    )


def live_overlapping(who: Q, *, starts: datetime, ends: datetime, now: datetime) -> QuerySet[SlotHold]:
    """The live holds of `who` (a filter on the physician) overlapping [starts, ends)."""
    return SlotHold.objects.filter(who, overlapping(starts=starts, ends=ends), expires_at__gt=now)


def owned(holder: Holder | None) -> Q:
    """The holds that are the holder's (none for no holder)."""
    return holder.owns() if holder is not None else Q(pk__in=[])


def hold_of(holder: Holder | None, token: object, *, now: datetime) -> SlotHold:
    """The holder's live hold with this token; for anything else (malformed, unknown, someone else's,
    expired, released, booked) the one refusal `HoldUnknown`, which tells nothing more."""
    key = token_hash(token)
    found = (
        SlotHold.objects.filter(owned(holder), key_hash=key, expires_at__gt=now).first()
        if key is not None
        else None
    )
    if found is None:
        raise HoldUnknown()
    return found


def holds_consume(holder: Holder | None, *, physician: Physician, starts: datetime, ends: datetime) -> None:
    """Delete the holder's holds of the physician overlapping [starts, ends) (live or not): the booking
    that takes the time ends them."""
    SlotHold.objects.filter(
        owned(holder), overlapping(starts=starts, ends=ends), physician=physician
    ).delete()
