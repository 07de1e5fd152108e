"""Slot holds (issue 21; IHE ITI-116 `$hold`): a caller holds a free slot for a few minutes while it
confirms the booking with the patient, and the slot is offered to no one else meanwhile, on any channel.

The services here make, read and release a hold and sweep expired ones; what a hold blocks and who holds
it is `hold_rules`; the booking that turns a hold into an appointment is `services.booking_create` (and the
partner's `partners.services.booking.partner_booking_create`), given the hold's token.

Whether the caller may hold a slot is whether it may book it: `services.slot_bookable`, the very check of a
new booking (permission or the partner's terms, the offer, the booking rules, working hours, busy time and
others' holds). A hold is not audited: it names no patient, changes no record and ends within minutes,
and the booking that consumes it is audited; an audit entry for every slot opened would bury the entries
that matter. Holding is bounded instead: minutes at most `HOLD_MINUTES_MAX`, slots at once
`LIVE_HOLDS_MAX` per holder.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.errors import DomainError, NotPermitted, SlotUnavailable
from medbook.core.terms import PartnerTerms
from medbook.institutions.models import Location, Physician, Service
from medbook.scheduling import hold_rules, services
from medbook.scheduling.models import SlotHold

HOLD_MINUTES = 10  # issue 22's patient proves an e-mail address meanwhile
HOLD_MINUTES_MAX = 15
LIVE_HOLDS_MAX = 5  # one holder's live holds at once: enough to compare a few times, too few to block a day


@dataclass(frozen=True)
class HeldSlot:
    """A hold just made, with its token: shown to the holder once, never stored (only its hash is)."""

    hold: SlotHold
    token: str


@transaction.atomic
def slot_hold(
    *,
    actor,
    location: Location,
    physician: Physician,
    service: Service,
    starts_at: datetime,
    terms: PartnerTerms | None = None,
    minutes: int = HOLD_MINUTES,
) -> HeldSlot:
    """Hold the slot of the service with the physician at the location from `starts_at` for `minutes`.

    Refused exactly as a booking of it would be (`services.slot_bookable`: 403/404 for what the actor may
    not book, the booking rules, `SlotUnavailable` when booked, `SlotHeld` when someone else holds it); a
    partner's user comes with the terms `medbook.partners.access` resolved, as for a booking. A new hold of
    the holder's own over its earlier hold replaces it. A caller without a user (a patient booking online,
    issue 22) is known by the new hold's token alone.

    PostgreSQL: under the physician's lock (taken by the check, `selectors.rules_for`) the expired holds in
    the way are deleted and the hold inserted; the exclusion constraint on holds refuses an overlap that
    slipped past anyway.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= HOLD_MINUTES_MAX:
        raise DomainError(
            _("A slot can be held for 1 to %(max)s minutes.") % {"max": HOLD_MINUTES_MAX}, field="minutes"
        )
    token, key = hold_rules.token_new()
    holder = hold_rules.holder_of(actor, token)
    if holder is None:
        raise NotPermitted()
    slot = services.slot_bookable(
        actor=actor,
        location=location,
        physician=physician,
        service=service,
        starts_at=starts_at,
        terms=terms,
        holder=holder,
    )
    now = timezone.now()
    SlotHold.objects.filter(
        Q(expires_at__lte=now) | hold_rules.owned(holder),
        hold_rules.overlapping(starts=slot.starts_at, ends=slot.ends_at),
        physician=physician,
    ).delete()
    if holder.user_id is not None:
        live = SlotHold.objects.filter(hold_rules.owned(holder), expires_at__gt=now).count()
        if live >= LIVE_HOLDS_MAX:
            raise DomainError(
                _("You are holding %(count)s times already: book or release one first.") % {"count": live}
            )
    hold = SlotHold(
        institution=slot.institution,
        location=location,
        physician=physician,
        service=service,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        expires_at=now + timedelta(minutes=minutes),
        user_id=holder.user_id,
        organization_id=holder.organization_id,
        key_hash=key,
    )
    try:
        with transaction.atomic(savepoint=False):
            hold.save()
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) in services.SLOT_CONFLICT_SQLSTATES:
            raise SlotUnavailable() from error
        raise
    return HeldSlot(hold, token)


def slot_hold_get(*, actor, hold: str) -> SlotHold:
    """The caller's live hold with this token (with its calendar), or `HoldUnknown`, whatever else it is."""
    found = hold_rules.hold_of(hold_rules.holder_of(actor, hold), hold, now=timezone.now())
    return SlotHold.objects.select_related("institution", "location", "physician", "service").get(pk=found.pk)


@transaction.atomic
def slot_hold_release(*, actor, hold: str) -> bool:
    """Release the caller's hold with this token: its slot is free again at once. Whether there was one to
    release (an unknown, expired or someone else's token releases nothing, and says no more)."""
    holder = hold_rules.holder_of(actor, hold)
    if holder is None or hold_rules.token_hash(hold) is None:
        return False
    deleted, _rows = SlotHold.objects.filter(
        hold_rules.owned(holder), key_hash=hold_rules.token_hash(hold)
    ).delete()
    return deleted > 0


def slot_holds_sweep() -> int:
    """Delete the holds that have expired (a task of `run_worker`, WORKER_TASKS): how many. An expired hold
    blocks nothing before it is swept; this keeps the table to the live ones."""
    deleted, _rows = SlotHold.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
