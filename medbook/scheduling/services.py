"""Everything that writes bookings and channels: one transaction each, the acting user first."""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Exists
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Membership
from medbook.accounts.selectors import organization_admins
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import Conflict, DomainError, NotPermitted, SlotHeld, SlotUnavailable
from medbook.core.ids import parse_id_or_none
from medbook.core.permissions import Perm, require
from medbook.core.roles import OrgKind
from medbook.core.tenancy import SYSTEM, Actor, get_for_actor
from medbook.core.terms import PartnerTerms, require_terms
from medbook.core.timefmt import when
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.notifications.digest import digest_entries_withdraw, digest_entry_add
from medbook.notifications.services import notification_enqueue, outbox_withdraw
from medbook.patients.models import Patient
from medbook.patients.restriction import patient_use_require
from medbook.patients.services import patient_create
from medbook.scheduling import events, hold_rules, online, policy, selectors
from medbook.scheduling import slots as engine
from medbook.scheduling.manage_links import manage_links_restore, manage_links_revoke
from medbook.scheduling.models import (
    BUILTIN_CHANNEL_NAMES,
    Booking,
    BookingUndo,
    DeskPreference,
    TrafficChannel,
)
from medbook.scheduling.patient_mail import patient_notify, patient_notify_undone
from medbook.scheduling.patient_shown import partner_patient_capture

DEFAULT_CHANNELS = tuple(BUILTIN_CHANNEL_NAMES.items())
# How PostgreSQL settles two overlapping writes (B-8): the exclusion constraint (23P01, an IntegrityError), or,
# when the two writers wait for each other, a deadlock (40P01) or serialisation failure (40001), both an
# OperationalError. Each means a concurrent booking got in first: the caller is told to choose again.
SLOT_CONFLICT_SQLSTATES = {"23P01", "40P01", "40001"}
CANCEL_REASON_MAX = 300  # Booking.cancel_reason


@transaction.atomic
def institution_create(*, name: str, time_zone: str = "Europe/Budapest", **details) -> Institution:
    """Create an institution with its built-in traffic channels (an operator's act)."""
    institution = Institution.objects.create(
        kind=OrgKind.INSTITUTION, name=name, time_zone=time_zone, **details
    )
    channels_create_defaults(institution=institution)
    return institution


def channels_create_defaults(*, institution: Institution) -> None:
    """Give an institution its built-in traffic channels (online, phone, reception)."""
    for position, (code, name) in enumerate(DEFAULT_CHANNELS):
        TrafficChannel.objects.get_or_create(
            institution=institution, code=code, defaults={"name": str(name), "position": position}
        )


def _check_offer(
    *, location: Location, physician: Physician, service: Service, links_checked: bool = False
) -> None:
    """Refuse a combination the institution does not offer (its three links read in one query, unless
    `links_checked`: a partner's terms for this very offer, whose check read them already)."""
    if not (location.institution_id == physician.institution_id == service.institution_id):
        raise DomainError(_("The location, physician and service must belong to one institution."))
    if not (location.is_active and physician.is_active and service.is_active):
        raise DomainError(_("This location, physician or service is not available for booking."))
    if links_checked:
        return
    links = (
        Location.objects.filter(pk=location.pk)
        .annotate(
            physician_works_here=Exists(
                Physician.locations.through.objects.filter(location_id=location.pk, physician_id=physician.pk)
            ),
            service_offered_here=Exists(
                Service.locations.through.objects.filter(location_id=location.pk, service_id=service.pk)
            ),
            physician_gives_service=Exists(
                Service.physicians.through.objects.filter(service_id=service.pk, physician_id=physician.pk)
            ),
        )
        .values("physician_works_here", "service_offered_here", "physician_gives_service")
        .first()
    ) or dict.fromkeys(("physician_works_here", "service_offered_here", "physician_gives_service"), False)
    if not links["physician_works_here"]:
        raise DomainError(_("The physician does not work at this location."), field="physician")
    if not links["service_offered_here"]:
        raise DomainError(_("This service is not offered at this location."), field="service")
    if not links["physician_gives_service"]:
        raise DomainError(_("This physician does not provide this service."), field="service")


def _institution_of(*, actor, location: Location, physician: Physician, service: Service) -> Institution:
    """The one institution of an offer (checked by `_check_offer`), read at most once and shared by the
    location, physician and service: the actor's own when staff of that institution book."""
    if Location.institution.is_cached(location):
        institution = location.institution
    elif actor is not None and getattr(actor.institution, "pk", None) == location.institution_id:
        institution = actor.institution
    else:
        institution = location.institution
    for item in (location, physician, service):
        if not type(item).institution.is_cached(item):
            item.institution = institution
    return institution


def _in_utc(starts_at: datetime) -> datetime:
    """Refuse a naive start time and turn an aware one into UTC.

    Python adds a timedelta to an aware datetime on its wall clock: 02:30 CEST + 30 minutes on the night
    the clocks go back is 03:00 CET, ninety real minutes later. In UTC the arithmetic is real time.
    """
    if timezone.is_naive(starts_at):
        raise DomainError(_("The start time must carry a time zone."), field="starts_at")
    return starts_at.astimezone(UTC)


def _check_time(
    *,
    institution: Institution,
    location: Location,
    physician: Physician,
    service: Service,
    starts_at: datetime,
    ends_at: datetime,
    partner: bool,
    ignore_booking: Booking | None = None,
    holder: hold_rules.Holder | None = None,
    grid_only: bool = False,
) -> bool:
    """Refuse a time the booking rules forbid (`policy`), outside working hours, overlapping a booking, or
    held by someone other than `holder` (`SlotHeld`); tell whether the holder's own holds overlap it.

    Partners and patients (`grid_only`: booking online, or moving through the manage link) get the
    availability rules strictly: only a free slot of the grid (P-12), found among the day's free slots (which
    leave out every overlapping booking and others' holds) from the working hours read once, which locks the
    physician's row (`selectors.rules_for`); the busy time is read after it, in one query.
    """
    strict = partner or grid_only
    policy.check_start(institution=institution, starts_at=starts_at, partner=partner)
    local_day = starts_at.astimezone(ZoneInfo(institution.time_zone)).date()
    intervals = selectors.working_intervals_for(
        physician=physician, location=location, date_from=local_day, date_until=local_day, lock=True
    )
    slot = engine.Interval(starts_at, ends_at)
    if not engine.inside_working_hours(slot, intervals):
        raise Conflict(_("This time is outside the physician's working hours."), field="starts_at")
    now = timezone.now()
    if strict:
        start, end = selectors.day_bounds(
            tz=ZoneInfo(institution.time_zone), date_from=local_day, date_until=local_day
        )
    else:
        start, end = starts_at, ends_at
    busy = selectors.busy_of(
        physician=physician, starts=start, ends=end, holder=holder, ignore_booking=ignore_booking, now=now
    )
    if strict:
        free = selectors.bookable_slots(
            institution=institution,
            service=service,
            intervals=intervals,
            busy=busy.intervals,
            now=now,
            partner=partner,
        )
        taken = not any(candidate.starts_at == starts_at for candidate in free)
    else:
        taken = any(slot.overlaps(other) for other in busy.intervals)
    if taken:
        raise SlotHeld() if any(slot.overlaps(other) for other in busy.held) else SlotUnavailable()
    return any(slot.overlaps(other) for other in busy.own)


def _save_guarded(booking: Booking) -> None:
    """Save, turning the database's refusal of an overlap (B-8) into SlotUnavailable.

    The callers are atomic services: their own block (a savepoint when they run inside a caller's
    transaction) is what rolls back after 23P01 or 40P01, so no savepoint of its own is needed here;
    savepoint=False still marks the transaction for rollback, so nothing can run on in it.
    """
    try:
        with transaction.atomic(savepoint=False):
            booking.save()
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) in SLOT_CONFLICT_SQLSTATES:
            raise SlotUnavailable() from error
        raise


def _locked(booking: Booking) -> Booking:
    """The booking read again and locked for the change, with what its checks, audit row, webhooks and
    e-mails read (institution, calendar, patient, partner, booker) in the same statement; only the booking's
    own row is locked."""
    locked = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("institution", "location", "physician", "service", "patient", "partner", "booked_by")
        .get(pk=booking.pk)
    )
    for item in (locked.location, locked.physician, locked.service, locked.patient):
        item.institution = locked.institution  # one institution (checked when booked): not read again
    return locked


@dataclass(frozen=True)
class Bookable:
    """A slot the actor may book now (`slot_bookable`): its institution, the partner's terms (None for the
    institution's staff), its UTC times, and whether the actor's own holds overlap it."""

    institution: Institution
    terms: PartnerTerms | None
    starts_at: datetime
    ends_at: datetime
    own_holds: bool


def slot_bookable(
    *,
    actor,
    location: Location,
    physician: Physician,
    service: Service,
    starts_at: datetime,
    terms: PartnerTerms | None = None,
    holder: hold_rules.Holder | None = None,
) -> Bookable:
    """Refuse a new booking's slot the actor may not have: the permission or the partner's terms, the offer,
    the booking rules, the working hours, the busy time and others' holds. The one check of a slot, for
    `booking_create` and for the hold service (`holds.slot_hold`) alike; the physician's lock it takes
    (`selectors.rules_for`) lasts until the caller's transaction ends."""
    partner_terms = _terms_for(actor=actor, terms=terms, location=location, service=service)
    _check_offer(
        location=location,
        physician=physician,
        service=service,
        links_checked=partner_terms is not None and partner_terms.physician_id == physician.pk,
    )
    institution = _institution_of(actor=actor, location=location, physician=physician, service=service)
    starts_at = _in_utc(starts_at)
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    own_holds = _check_time(
        institution=institution,
        location=location,
        physician=physician,
        service=service,
        starts_at=starts_at,
        ends_at=ends_at,
        partner=partner_terms is not None,
        holder=holder,
        grid_only=actor is not None and actor.online,
    )
    return Bookable(institution, partner_terms, starts_at, ends_at, own_holds)


@transaction.atomic
def booking_create(
    *,
    actor,
    location: Location,
    physician: Physician,
    service: Service,
    patient: Patient,
    starts_at: datetime,
    channel: TrafficChannel | None = None,
    note: str = "",
    terms: PartnerTerms | None = None,
    hold: str = "",
    refuse_same_day: bool = False,
) -> Booking:
    """Book the service with the physician at the location for the patient, from starts_at.

    A partner's user comes with the terms `medbook.partners.access` resolved for this location and service
    (P-3, P-4, P-9): without them it is refused. It books only on a free slot of the grid, through the
    partner's channel (`channel`, when given, must be the terms' own: it is then not read again); the commission rule and payment location of the terms are captured (P-5, P-6, B-7).

    A slot someone else holds is refused (`SlotHeld`); the holder books it, naming its hold (`hold`, the
    token `holds.slot_hold` gave: any other is `HoldUnknown`) or not, and the booking ends its holds of that
    time (`hold_rules`).

    `refuse_same_day` (the booking pages, until the user acknowledges it): a bookable time is refused
    (`SameDayVisits`) when the patient already has a visit that local day at the institution
    (`policy.same_day_refuse`; a partner is told only the time of a visit it did not book, P-13). The JSON
    API and FHIR book regardless.
    """
    holder = hold_rules.holder_of(actor, hold)
    slot = slot_bookable(
        actor=actor,
        location=location,
        physician=physician,
        service=service,
        starts_at=starts_at,
        terms=terms,
        holder=holder,
    )
    held = hold_rules.hold_of(holder, hold, now=timezone.now()) if hold else None
    if held is not None and (held.location_id, held.physician_id, held.service_id, held.starts_at) != (
        location.pk,
        physician.pk,
        service.pk,
        slot.starts_at,
    ):
        raise DomainError(_("This hold is for another time or calendar."), field="hold")
    partner_terms, institution = slot.terms, slot.institution
    if patient.institution_id != location.institution_id:
        raise DomainError(_("Unknown patient."), field="patient")
    patient_use_require(patient)
    if refuse_same_day:
        policy.same_day_refuse(
            patient=patient,
            institution=institution,
            starts_at=slot.starts_at,
            partner_id=partner_terms.partner_id if partner_terms is not None else None,
        )
    if partner_terms is not None and (channel is None or channel.pk != partner_terms.channel_id):
        channel = TrafficChannel.objects.get(pk=partner_terms.channel_id)
    if actor is not None and actor.online:  # a patient's own booking comes through the Online channel
        channel = online.online_channel(institution)
    channel = channel or selectors.default_channel(institution=institution)
    if channel.institution_id != institution.pk:
        raise DomainError(_("Unknown traffic channel."), field="channel")
    if not channel.is_active:
        raise DomainError(_("This traffic channel is not in use."), field="channel")
    booking = Booking(
        institution=institution,
        location=location,
        physician=physician,
        service=service,
        patient=patient,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        channel=channel,
        booked_by=actor.user,
        price=service.price,
        currency=service.currency,
        note=note,
    )
    if (
        actor is not None
        and actor.online
        and policy.online_approval_needed(institution=institution, patient=patient)
    ):
        booking.approval_needed_at = timezone.now()  # a repeat no-show's online booking: the desk approves
    if partner_terms is not None:
        capture_partner_terms(booking, partner_terms)
        partner_patient_capture(booking, patient)
        booking.partner = actor.partner  # the terms' partner (require_terms checked it): told, not read again
    if slot.own_holds:
        hold_rules.holds_consume(holder, physician=physician, starts=slot.starts_at, ends=slot.ends_at)
    _save_guarded(booking)
    audit_record(actor=actor, action=AuditAction.BOOKING_CREATE, obj=booking, **_booking_details(booking))
    events.booking_event(booking, "booking.created")
    _notify_other_side(actor=actor, booking=booking, event="made")
    patient_notify(booking=booking, event="made")
    return booking


def desk_booking_create(
    *,
    actor: Actor,
    location: Location,
    physician: Physician,
    service: Service,
    starts_at: datetime,
    patient_id: object = None,
    new_patient: dict[str, Any] | None = None,
    channel: TrafficChannel | int | None = None,
    note: str = "",
    hold: str = "",
    refuse_same_day: bool = False,
) -> Booking:
    """The desk's booking, from the calendar page and through the JSON API and FHIR alike: the register's
    patient (`patient_id`; another institution's, or no patient at all, is 404) or a new patient registered
    with the booking (`new_patient`, the details `patient_create` takes), through one of the institution's
    channels (`channel`, or its id as an API names it; the reception's by default); `hold`, the token of
    the desk user's hold of this slot (`holds.slot_hold`, taken when the calendar's form opened it), which
    the booking consumes. `refuse_same_day` (the calendar page, until the user acknowledges it): refuse an
    existing patient who already has a visit that day at the institution (`policy.same_day_refuse`).

    A new patient and the booking are written in one transaction (a refused booking registers nobody); an
    existing patient's booking is the booking service's own transaction.
    """
    patient = get_for_actor(Patient, actor, patient_id) if patient_id else None
    if patient is None and not new_patient:
        raise DomainError(_("Choose a patient or enter the patient's details."), field="patient_id")
    if channel is not None and not isinstance(channel, TrafficChannel):
        pk = parse_id_or_none(channel)
        channels = TrafficChannel.objects.filter(institution_id=location.institution_id)
        found = channels.filter(pk=pk).first() if pk is not None else None
        if found is None:  # no channel of this institution: 404, as for another's patient
            raise Http404()
        channel = found
    with transaction.atomic() if patient is None else nullcontext():
        return booking_create(
            actor=actor,
            location=location,
            physician=physician,
            service=service,
            patient=patient or patient_create(actor=actor, **(new_patient or {})),
            starts_at=starts_at,
            channel=channel,
            note=note,
            hold=hold,
            refuse_same_day=refuse_same_day,
        )


def _booking_details(booking: Booking) -> dict:
    """What the audit log keeps of a booking: when (UTC), with whom, what, through which channel."""
    return {
        "starts_at": booking.starts_at.isoformat(),
        "physician_id": booking.physician_id,
        "service_id": booking.service_id,
        "patient_id": booking.patient_id,
        "partner_id": booking.partner_id,
    }


def _terms_for(*, actor: Actor, terms: PartnerTerms | None, location: Location, service: Service):
    """The partner terms a partner's user books under (resolved for this target), or None for staff and
    for a patient booking online (who books only what the institution offers online, `online`)."""
    if actor is not None and actor.online:
        if terms is not None:
            raise DomainError(_("Only a partner books under partner terms."))
        online.require_online_offer(location=location, service=service)
        return None
    if actor is None or actor.partner is None:
        require(actor, Perm.BOOK, location)
        if terms is not None:
            raise DomainError(_("Only a partner books under partner terms."))
        return None
    require(actor, Perm.BOOK_FOR_PARTNER)
    return require_terms(
        actor,
        terms,
        institution_id=location.institution_id,
        location_id=location.pk,
        service_id=service.pk,
    )


def capture_partner_terms(booking: Booking, terms: PartnerTerms) -> None:
    """Capture on the booking who referred it, the commission rule in force and where the patient pays."""
    booking.partner_id = terms.partner_id
    booking.channel_id = terms.channel_id
    booking.commission_percent = terms.commission_percent
    booking.commission_fixed = terms.commission_fixed
    if terms.paid_at_partner:
        booking.payment_status = Booking.PaymentStatus.PAID_AT_PARTNER


def _change_guard(*, actor: Actor, booking: Booking, terms: PartnerTerms | None, target: bool):
    """The terms a partner's user changes its own booking under, or None for the institution's staff.

    A partner's user comes with the terms `medbook.partners.access.access_own_booking` resolved for this
    booking (P-13); another partner's booking is as if it did not exist. With `target` (a move) the terms
    must have authorised the booking's location and service again. A patient (through the manage link,
    `medbook.scheduling.manage`) changes only their own booking, and the platform itself (`SYSTEM`, the
    worker releasing an unconfirmed partner booking) any: both under the institution's rules, no terms.
    """
    if actor is SYSTEM:
        return None
    if actor is not None and actor.patient_id is not None:
        if booking.patient_id != actor.patient_id:
            raise Http404()
        return None
    if actor is None or actor.partner is None:
        require(actor, Perm.BOOK, booking)
        return None
    require(actor, Perm.BOOK_FOR_PARTNER)
    if booking.partner_id != actor.partner.pk:
        raise Http404()
    return require_terms(
        actor,
        terms,
        institution_id=booking.institution_id,
        location_id=booking.location_id if target else None,
        service_id=booking.service_id if target else None,
    )


@transaction.atomic
def booking_move(
    *,
    actor,
    booking: Booking,
    starts_at: datetime,
    terms: PartnerTerms | None = None,
    undoable: bool = False,
) -> Booking:
    """Move an active future booking to another free start time with the same physician and location.

    A partner's user moves only its partner's bookings, and only to a free slot of the grid (P-13).
    `undoable` (the calendar pages): the actor's organisation may undo it for UNDO_SECONDS (`booking_undo`),
    and the patient's and the other side's e-mails wait until then.
    """
    partner_terms = _change_guard(actor=actor, booking=booking, terms=terms, target=True)
    booking = _locked(booking)
    if booking.status != Booking.Status.BOOKED:
        raise Conflict(_("Only a booked appointment can be moved."))
    if policy.has_started(booking):
        raise Conflict(_("An appointment that has started cannot be moved."))
    if partner_terms is not None:
        policy.check_partner_change(institution=booking.institution, starts_at=booking.starts_at)
    starts_at = _in_utc(starts_at)
    if actor.patient_id is not None:  # the patient's cut-off holds for the old time and the new one
        policy.check_patient_change(institution=booking.institution, starts_at=booking.starts_at)
        policy.check_patient_change(institution=booking.institution, starts_at=starts_at)
    ends_at = starts_at + (booking.ends_at - booking.starts_at)
    holder = hold_rules.holder_of(actor)
    own_holds = _check_time(
        institution=booking.institution,
        location=booking.location,
        physician=booking.physician,
        service=booking.service,
        starts_at=starts_at,
        ends_at=ends_at,
        partner=partner_terms is not None,
        ignore_booking=booking,
        holder=holder,
        grid_only=actor.patient_id is not None,
    )
    if own_holds:
        hold_rules.holds_consume(holder, physician=booking.physician, starts=starts_at, ends=ends_at)
    previous_start, previous_end = booking.starts_at, booking.ends_at
    booking.starts_at, booking.ends_at = starts_at, ends_at
    _save_guarded(booking)
    send_at = None
    if undoable:
        send_at = _undo_offer(
            actor=actor, booking=booking, kind=BookingUndo.Kind.MOVE, previous=(previous_start, previous_end)
        )
    audit_record(
        actor=actor,
        action=AuditAction.BOOKING_MOVE,
        obj=booking,
        previous_start=previous_start.isoformat(),
        **_booking_details(booking),
    )
    events.booking_event(booking, "booking.moved")
    _notify_other_side(
        actor=actor, booking=booking, event="moved", previous_start=previous_start, send_at=send_at
    )
    patient_notify(booking=booking, event="moved", previous_start=previous_start, send_at=send_at)
    return booking


@transaction.atomic
def booking_cancel(
    *,
    actor,
    booking: Booking,
    terms: PartnerTerms | None = None,
    source: str = "",
    reason: str = "",
    undoable: bool = False,
) -> Booking:
    """Cancel a booked appointment; its slot becomes free again, the act is audited.

    A partner's user cancels only its partner's bookings while the partnership is active (P-13), and not
    inside the institution's cut-off; the other side is told (N-4), with the `reason` when one is given.
    `source` names the page or report it was cancelled from, for the audit log. `undoable` as for
    `booking_move`.
    """
    partner_terms = _change_guard(actor=actor, booking=booking, terms=terms, target=False)
    booking = _locked(booking)
    if refusal := policy.cancel_refusal(booking):
        raise Conflict(refusal)
    if partner_terms is not None:
        policy.check_partner_change(institution=booking.institution, starts_at=booking.starts_at)
    if actor.patient_id is not None:
        policy.check_patient_change(institution=booking.institution, starts_at=booking.starts_at)
    reason = " ".join((reason or "").split())
    if len(reason) > CANCEL_REASON_MAX:
        raise DomainError(
            _("The reason can be at most %(max)s characters.") % {"max": CANCEL_REASON_MAX}, field="reason"
        )
    previous_reason = booking.cancel_reason
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.cancel_reason = reason
    booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    manage_links_revoke(booking=booking)
    send_at = None
    if undoable:
        send_at = _undo_offer(
            actor=actor, booking=booking, kind=BookingUndo.Kind.CANCEL, previous_reason=previous_reason
        )
    details = _booking_details(booking)
    if reason:  # free text: it goes to the audit entry's erasable part (chain.PERSONAL_DETAIL_KEYS)
        details["cancel_reason"] = reason
    if booking.partner is not None:
        details["partner"] = booking.partner.name
    if source:
        details["source"] = source
    audit_record(actor=actor, action=AuditAction.BOOKING_CANCEL, obj=booking, **details)
    events.booking_event(booking, "booking.cancelled")
    _notify_other_side(actor=actor, booking=booking, event="cancelled", send_at=send_at)
    patient_notify(booking=booking, event="cancelled", send_at=send_at)
    return booking


def _undo_offer(
    *,
    actor: Actor,
    booking: Booking,
    kind: str,
    previous: tuple[datetime, datetime] | None = None,
    previous_reason: str = "",
) -> datetime | None:
    """Keep what undoing the change just saved needs (`BookingUndo`, replacing an earlier one of the
    booking) and return until when it may be undone: its e-mails wait until then. None for an actor that is
    no user of an organisation (nobody could undo it)."""
    if actor is None or actor.user is None or actor.organization is None:
        return None
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.UNDO_SECONDS)
    BookingUndo.objects.filter(booking=booking).delete()
    previous_start, previous_end = previous or (booking.starts_at, booking.ends_at)
    BookingUndo.objects.create(
        booking=booking,
        kind=kind,
        user=actor.user,
        organization_id=actor.organization.pk,
        previous_starts_at=previous_start,
        previous_ends_at=previous_end,
        previous_cancel_reason=previous_reason,
        changed_starts_at=booking.starts_at,
        done_at=booking.cancelled_at or now,
        expires_at=expires_at,
    )
    return expires_at


@transaction.atomic
def booking_undo(*, actor, booking: Booking, terms: PartnerTerms | None = None) -> Booking:
    """Undo the last move or cancellation of the booking made on a calendar page (issue 23): the one rule.

    Who: the organisation that made it, the user or a colleague (the institution's staff, the partner's
    users); another tenant's booking is 404 (`_change_guard`), a change of another organisation's is not
    there to undo. Until when: UNDO_SECONDS after it (`BookingUndo.expires_at`), and while the booking is as
    the change left it. Whether: the old time must still be free (nobody booked or holds it meanwhile), else
    409. It restores the time (a move) or the booking (a cancellation: booked again, its manage links working
    again), withdraws the e-mails still waiting about the change, plans the reminder again, and is audited.
    """
    _change_guard(actor=actor, booking=booking, terms=terms, target=False)
    booking = _locked(booking)
    organization = actor.organization if actor is not None else None
    undos = BookingUndo.objects.filter(booking=booking, expires_at__gt=timezone.now())
    undo = undos.filter(organization_id=organization.pk).first() if organization is not None else None
    if undo is None:
        raise Conflict(_("There is nothing to undo: the time to undo it has passed."))
    moved = undo.kind == BookingUndo.Kind.MOVE
    if moved:
        unchanged = booking.status == Booking.Status.BOOKED and booking.starts_at == undo.changed_starts_at
    else:
        unchanged = booking.status == Booking.Status.CANCELLED and booking.cancelled_at == undo.done_at
    if not unchanged:
        raise Conflict(_("The booking has changed since: this can no longer be undone."))
    changed_start = booking.starts_at
    booking.starts_at, booking.ends_at = undo.previous_starts_at, undo.previous_ends_at
    _undo_check_free(actor=actor, booking=booking)
    if not moved:
        booking.status, booking.cancelled_at = Booking.Status.BOOKED, None
        booking.cancel_reason = undo.previous_cancel_reason
        manage_links_restore(booking=booking, since=undo.done_at)
    _save_guarded(booking)
    undo.delete()
    event = "moved" if moved else "cancelled"
    outbox_withdraw(reference=f"booking:{booking.pk}:{event}", send_at=undo.expires_at)
    digest_entries_withdraw(reference=f"booking:{booking.pk}:{event}", since=undo.done_at)
    patient_notify_undone(booking=booking, send_at=undo.expires_at)
    details = _booking_details(booking)
    if moved:
        details["moved_from"] = changed_start.isoformat()
    action = AuditAction.BOOKING_MOVE_UNDONE if moved else AuditAction.BOOKING_CANCEL_UNDONE
    audit_record(actor=actor, action=action, obj=booking, **details)
    # The compensating webhook event: the booking at its old time again, or there again (docs/scheduling.md).
    events.booking_event(booking, "booking.moved" if moved else "booking.created")
    return booking


def booking_undos_sweep() -> int:
    """Delete what undoing needed of the changes whose window has passed (a task of `run_worker`,
    WORKER_TASKS): how many. A passed one undoes nothing before it is swept."""
    deleted, _rows = BookingUndo.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _undo_check_free(*, actor, booking: Booking) -> None:
    """Refuse (409) to restore a booking to its old time when that time is no longer free: booked or held
    by someone else meanwhile, past, or out of the working hours."""
    try:
        _check_time(
            institution=booking.institution,
            location=booking.location,
            physician=booking.physician,
            service=booking.service,
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
            partner=False,  # the booking's own time a moment ago, restored: not a new choice on the grid
            ignore_booking=booking,
            holder=hold_rules.holder_of(actor),
        )
    except SlotUnavailable as error:
        raise SlotUnavailable(
            _("Cannot undo: the old time, %(time)s, is no longer free. The booking stays as it is.")
            % {"time": when(booking.starts_at, booking.institution)}
        ) from error


@transaction.atomic
def booking_note_set(*, actor, booking: Booking, note: str, terms: PartnerTerms | None = None) -> Booking:
    """Change a booked appointment's note (its details); a partner's user only on its own bookings."""
    _change_guard(actor=actor, booking=booking, terms=terms, target=False)
    booking = _locked(booking)
    if booking.status != Booking.Status.BOOKED:
        raise Conflict(_("Only a booked appointment can be changed."))
    note = (note or "").strip()
    if len(note) > 500:
        raise DomainError(_("The note can be at most 500 characters."), field="note")
    booking.note = note
    booking.save(update_fields=["note", "updated_at"])
    audit_record(actor=actor, action=AuditAction.BOOKING_NOTE, obj=booking)
    return booking


DESK_ONLY_RECORD = _("Only the institution's staff record attendance and payment.")
DESK_ONLY_APPROVE = _("Only the institution's staff approve online bookings.")


def _desk_guard(*, actor, booking: Booking, refusal=DESK_ONLY_RECORD) -> None:
    """Refuse anyone but the institution's own staff (reception, admin), a partner with `refusal` (what only
    the staff do): a partner is only told the outcome."""
    if actor is not None and actor.partner is not None:
        raise NotPermitted(refusal)
    require(actor, Perm.BOOK, booking)


@transaction.atomic
def booking_approve(*, actor, booking: Booking) -> Booking:
    """The desk approves an online booking awaiting approval (a repeat no-show's, issue 22): the patient is
    e-mailed that the appointment is confirmed. Only the institution's staff may (`_desk_guard`); one that
    awaits nothing (approved already, or never needing it) or is no longer booked is refused (409)."""
    _desk_guard(actor=actor, booking=booking, refusal=DESK_ONLY_APPROVE)
    booking = _locked(booking)
    if not booking.awaiting_approval or booking.status != Booking.Status.BOOKED:
        raise Conflict(_("This booking is not awaiting approval."))
    booking.approved_at = timezone.now()
    booking.approved_by = actor.user
    booking.save(update_fields=["approved_at", "approved_by", "updated_at"])
    audit_record(actor=actor, action=AuditAction.BOOKING_APPROVE, obj=booking, **_booking_details(booking))
    patient_notify(booking=booking, event="approved")
    return booking


@transaction.atomic
def booking_attendance_set(*, actor, booking: Booking, status: str) -> Booking:
    """Record that the patient came (completed) or did not (no-show), or undo it (booked), for B-11.

    When it may be done is `policy.attendance_refusal`'s. The partner of a referred booking is told the
    outcome (N-4); an undo tells no one, since the outcome recorded next is told in its turn.
    """
    _desk_guard(actor=actor, booking=booking)
    booking = _locked(booking)
    now = timezone.now()
    refusal = policy.attendance_refusal(booking=booking, status=status, now=now)
    if refusal is not None:  # an unknown status is invalid; a known one refused now is a conflict (409)
        refused = Conflict if status in policy.ATTENDANCE_CHOICES else DomainError
        raise refused(refusal, field="status")
    if status == booking.status:
        return booking
    previous = booking.status
    booking.status = status
    booking.attendance_recorded_at = None if status == Booking.Status.BOOKED else now
    booking.save(update_fields=["status", "attendance_recorded_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.BOOKING_ATTENDANCE,
        obj=booking,
        previous=previous,
        status=status,
        **_booking_details(booking),
    )
    events.booking_event(booking, "booking.attendance")  # an undo too: the receiver's record follows ours
    if status != Booking.Status.BOOKED:
        _notify_other_side(actor=actor, booking=booking, event="attendance")
    return booking


@transaction.atomic
def booking_payment_set(*, actor, booking: Booking, payment_status: str) -> Booking:
    """Record that the patient paid the institution, was refunded, or (a correction) has not paid, for B-11.

    When it may be done is `policy.payment_refusal`'s; nobody is told (the partner's statement reads it).
    """
    _desk_guard(actor=actor, booking=booking)
    booking = _locked(booking)
    refusal = policy.payment_refusal(booking=booking, payment_status=payment_status)
    if refusal is not None:  # as for attendance: an unknown status is invalid, a refused one a conflict
        refused = Conflict if payment_status in policy.PAYMENT_STEPS else DomainError
        raise refused(refusal, field="payment_status")
    if payment_status == booking.payment_status:
        return booking
    previous = booking.payment_status
    booking.payment_status = payment_status
    booking.save(update_fields=["payment_status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.BOOKING_PAYMENT,
        obj=booking,
        previous=previous,
        payment_status=payment_status,
        **_booking_details(booking),
    )
    return booking


def _notify_other_side(
    *,
    actor,
    booking: Booking,
    event: str,
    previous_start: datetime | None = None,
    send_at: datetime | None = None,
) -> None:
    """Tell the other side of a partner's booking what happened to it (N-4), through the outbox.

    A partner's change goes to the institution's admins; the institution's change goes to the partner's
    admins and the user who booked it. Times in the institution's zone, in each recipient's language. A
    recipient who chose an hourly or daily digest for that organisation gets it in the digest instead.
    """
    partner = booking.partner
    if partner is None:
        return
    acting_partner = actor is not None and actor.partner is not None
    if acting_partner:
        recipients = list(organization_admins(booking.institution_id))
    else:
        recipients = list(organization_admins(partner.pk))
        booker = booking.booked_by
        if booker is not None and booker.is_active:
            recipients += Membership.objects.filter(
                user=booker, organization_id=partner.pk, is_active=True
            ).select_related("user")
    institution = booking.institution
    seen: set[int] = set()
    for membership in recipients:
        user = membership.user
        if user.pk in seen or (actor is not None and user.pk == getattr(actor.user, "pk", None)):
            continue
        seen.add(user.pk)
        message: dict[str, Any] = {
            "to": user.email,
            "template": f"booking_{event}",
            "template_dir": "scheduling/email",
            "context": {
                "user": user,
                "booking": booking,
                "previous_start": previous_start,
                "institution": institution,
                "partner_name": partner.name,
                "by_partner": acting_partner,
                "by_patient": actor is not None and actor.patient_id is not None,
                "actor_name": str(actor.user) if actor is not None and actor.user else "",
                "time_zone": institution.time_zone,
            },
            "language": user.language,
            "kind": f"booking_{event}",
            "reference": f"booking:{booking.pk}:{event}",
        }
        if membership.email_digest == Membership.Digest.IMMEDIATE:
            notification_enqueue(**message, send_at=send_at)
        else:
            digest_entry_add(frequency=membership.email_digest, line_template="booking_line", **message)


DESK_FILTER_LIMIT = 500  # characters of one remembered value; anything longer is not a filter


@transaction.atomic
def desk_preference_save(*, actor: Actor, page: str, values: dict) -> None:
    """Remember the filters the actor chose on a calendar page, for their next visit (per organisation)."""
    if actor is None or actor.user is None or actor.organization is None:
        return
    kept = {str(k)[:40]: str(v)[:DESK_FILTER_LIMIT] for k, v in values.items() if v not in (None, "")}
    DeskPreference.objects.update_or_create(
        user=actor.user, organization_id=actor.organization.pk, page=page, defaults={"values": kept}
    )
