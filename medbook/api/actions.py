"""The operations the JSON API (`v1`) and FHIR (`fhir`) both carry out, for a partner's user or the
institution's staff (issue 21): each adapter translates its request, calls one of these and translates the
answer back; neither chooses between the partner and the staff itself (`access.as_partner` does, here).

Every operation calls the same selectors and services as the pages, so every permission, partner rule,
quota and audit entry holds here too. Refusals are the domain's (NotPermitted 403, Http404, DomainError
422, Conflict 409 (a taken slot is one), TooManyRequests 429); each adapter gives them its own shape.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field

from medbook.api.access import as_partner, require_staff
from medbook.api.bodies import Day, ObjectBody
from medbook.api.reads import bookings_read
from medbook.core.errors import DomainError, HoldUnknown, NotPermitted
from medbook.core.ids import parse_id
from medbook.core.tenancy import Actor, scoped
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.partners import offers as partner_offers
from medbook.partners.access import access_partnership, acting_partner
from medbook.partners.selectors import partner_bookings
from medbook.partners.services import booking as partner_booking
from medbook.patients import selectors as patient_selectors
from medbook.patients.models import Patient
from medbook.patients.services import patient_register_read
from medbook.scheduling import hold_rules, holds, policy
from medbook.scheduling import selectors as scheduling_selectors
from medbook.scheduling import services as scheduling
from medbook.scheduling.models import Booking, SlotHold
from medbook.scheduling.patient_shown import ShownPatient, booking_patient, bookings_of_patient
from medbook.scheduling.slots import Interval, grid_slots


class Bookable(Protocol):
    """One calendar the actor may book: a partner's authorised offer or a calendar of the staff's own."""

    @property
    def location(self) -> Location: ...
    @property
    def physician(self) -> Physician: ...
    @property
    def service(self) -> Service: ...


# A patient entered anew with a booking (the staff's register, or a partner's booking, P-15); the JSON API's
# schema names it (no docstring: it would change the schema's text).
class NewPatientIn(ObjectBody):
    full_name: str = Field(..., max_length=200)
    birth_date: Day | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    insurance_id: str = Field("", max_length=16)


@dataclass(frozen=True)
class PhysicianRow:
    physician: Physician
    location_ids: list[int]


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    location_ids: list[int]
    physician_ids: list[int]


# --- What the actor may book ---------------------------------------------------------------------------


def offers(actor: Actor) -> list[Bookable]:
    """Every calendar the actor may book: a partner's authorised offers, or all of the staff's own."""
    if as_partner(actor):
        return list(partner_offers.bookable_offers(actor=actor))
    return list(scheduling_selectors.desk_offers(actor=actor))


def offer(actor: Actor, *, location_id: object, physician_id: object, service_id: object) -> Bookable:
    """The calendar the ids name, or a refusal: a partner's authorised offer (else 403), or a location,
    physician and service of the staff's own institution (another tenant's ids are 404)."""
    ids = {"location_id": location_id, "physician_id": physician_id, "service_id": service_id}
    if as_partner(actor):
        return partner_offers.offer_for(actor=actor, **ids)
    return scheduling_selectors.desk_offer(actor=actor, **ids)


def institutions(actor: Actor) -> list[Institution]:
    """The staff's own institution, or the institutions the partner may book at now (by name)."""
    if as_partner(actor):
        seen: dict[int, Institution] = {}
        for found in partner_offers.bookable_offers(actor=actor):
            seen.setdefault(found.institution.pk, found.institution)
        return sorted(seen.values(), key=lambda i: i.name)
    institution = actor.institution
    if institution is None:  # as_partner let through no one else: for the type checker
        raise NotPermitted()
    return [Institution.objects.get(pk=institution.pk)]


def locations(actor: Actor) -> list[Location]:
    """Active locations: all of the staff's institution, or those the partner is authorised at."""
    if as_partner(actor):
        return list({o.location.pk: o.location for o in partner_offers.bookable_offers(actor=actor)}.values())
    return list(scoped(Location, actor).filter(is_active=True).order_by("name"))


def physicians(actor: Actor) -> list[PhysicianRow]:
    """Active physicians with the locations they work at: all of the staff's institution, or those of the
    partner's offers with the offers' locations."""
    if as_partner(actor):
        at: dict[int, set[int]] = {}
        found: dict[int, Physician] = {}
        for o in partner_offers.bookable_offers(actor=actor):
            found[o.physician.pk] = o.physician
            at.setdefault(o.physician.pk, set()).add(o.location.pk)
        return [PhysicianRow(p, sorted(at[p.pk])) for p in found.values()]
    return [
        PhysicianRow(p, sorted(x.pk for x in p.locations.all()))
        for p in scoped(Physician, actor).filter(is_active=True).prefetch_related("locations")
    ]


def services(actor: Actor) -> list[ServiceRow]:
    """Active services with where and by whom they are given: all of the staff's institution, or as the
    partner's offers give them."""
    if as_partner(actor):
        rows: dict[int, tuple[Service, set[int], set[int]]] = {}
        for o in partner_offers.bookable_offers(actor=actor):
            _service, at, by = rows.setdefault(o.service.pk, (o.service, set(), set()))
            at.add(o.location.pk)
            by.add(o.physician.pk)
        return [ServiceRow(s, sorted(at), sorted(by)) for s, at, by in rows.values()]
    given = scoped(Service, actor).filter(is_active=True).prefetch_related("locations", "physicians")
    return [
        ServiceRow(s, sorted(x.pk for x in s.locations.all()), sorted(p.pk for p in s.physicians.all()))
        for s in given
    ]


def free_slots(
    actor: Actor,
    bookable: Bookable,
    *,
    date_from: date,
    date_until: date,
    intervals: list[Interval] | None = None,
) -> list[Interval]:
    """The free slots of one calendar over local days, as the actor may book them (a partner: the strict
    availability rules, P-12): none that someone else holds, its own holds included (`hold_rules`);
    `intervals`, when given, are the calendar's working intervals, already read."""
    return scheduling_selectors.available_slots(
        physician=bookable.physician,
        location=bookable.location,
        service=bookable.service,
        date_from=date_from,
        date_until=date_until,
        partner=as_partner(actor),
        intervals=intervals,
        holder=hold_rules.holder_of(actor),
    )


@dataclass(frozen=True)
class SlotAt:
    """One slot of a calendar as the actor sees it: whether an active booking of the physician overlaps it
    (`taken`), whether someone else holds time of it (`held`), and the calendar's free slots of its day as
    the actor may book them (`free_that_day`)."""

    interval: Interval
    taken: bool
    free_that_day: list[Interval]
    held: bool = False

    @property
    def free(self) -> bool:
        return self.interval in self.free_that_day


def slot_at(actor: Actor, bookable: Bookable, *, starts_at: datetime) -> SlotAt | None:
    """The slot of one calendar starting at `starts_at`: a start of the calendar's grid in its working hours
    that day, or the start of an active booking of the calendar; None when it is neither."""
    physician, location, service = bookable.physician, bookable.location, bookable.service
    institution = physician.institution
    day = starts_at.astimezone(ZoneInfo(institution.time_zone)).date()
    intervals = scheduling_selectors.working_intervals_for(
        physician=physician, location=location, date_from=day, date_until=day
    )
    duration = timedelta(minutes=service.duration_minutes)
    step = policy.slot_step(institution=institution, duration_minutes=service.duration_minutes)
    slot = Interval(starts_at, starts_at + duration)
    booked = (
        Booking.objects.filter(
            physician=physician,
            location=location,
            service=service,
            starts_at=starts_at,
            status__in=Booking.ACTIVE_STATUSES,
        )
        .values_list("ends_at", flat=True)
        .first()
    )
    if booked is not None:
        slot = Interval(starts_at, booked)
    elif slot not in grid_slots(intervals, duration, step):
        return None
    free = free_slots(actor, bookable, date_from=day, date_until=day, intervals=intervals)
    taken = booked is not None or (
        slot not in free
        and scheduling_selectors.active_bookings(
            physician=physician, starts=slot.starts_at, ends=slot.ends_at
        ).exists()
    )
    held = (
        not taken
        and slot not in free
        and hold_rules.live_overlapping(
            Q(physician=physician) & ~hold_rules.owned(hold_rules.holder_of(actor)),
            starts=slot.starts_at,
            ends=slot.ends_at,
            now=timezone.now(),
        ).exists()
    )
    return SlotAt(slot, taken=taken, free_that_day=free, held=held)


# --- Bookings ------------------------------------------------------------------------------------------


def bookings(actor: Actor) -> QuerySet[Booking]:
    """The bookings the actor sees: its institution's, or the ones its partner made."""
    if as_partner(actor):
        return partner_bookings(actor).select_related("channel")
    return scheduling_selectors.bookings_for_actor(actor)


def booking(actor: Actor, pk: object) -> Booking:
    """One booking the actor sees; any other (or no id) is 404."""
    found = bookings(actor).filter(pk=parse_id(pk)).first()
    if found is None:
        raise Http404()
    return found


def book(
    actor: Actor,
    *,
    location_id: object,
    physician_id: object,
    service_id: object,
    starts_at: datetime,
    patient_id: int | None = None,
    new_patient: NewPatientIn | None = None,
    note: str = "",
    channel_id: int | None = None,
    hold: str = "",
) -> Booking:
    """Book as the pages book: a partner only a free slot of an authorised offer, for a patient its search
    returned (`patient_id`) or entered anew (`new_patient`); the staff any time their booking rules allow,
    through one of the institution's channels (`channel_id`), as the calendar's desk does. `hold`: the
    token of the actor's hold of this slot, which the booking consumes.

    The offer, patient and channel are read before the booking's transaction begins: reads checked again
    where it matters (the booking service's checks and locks) need not hold it open."""
    details = new_patient.dict() if new_patient else None
    ids = {"location_id": location_id, "physician_id": physician_id, "service_id": service_id}
    if as_partner(actor):
        return partner_booking.partner_booking_create(
            actor=actor,
            offer=partner_offers.offer_for(actor=actor, **ids),
            starts_at=starts_at,
            patient_id=patient_id,
            new_patient=details,
            note=note,
            hold=hold,
        )
    desk = scheduling_selectors.desk_offer(actor=actor, **ids)
    return scheduling.desk_booking_create(
        actor=actor,
        location=desk.location,
        physician=desk.physician,
        service=desk.service,
        starts_at=starts_at,
        patient_id=patient_id,
        new_patient=details,
        channel=channel_id,
        note=note,
        hold=hold,
    )


def move(actor: Actor, booking: Booking, *, starts_at: datetime) -> Booking:
    """Move a booking the actor sees to another free start time (a partner: its own, P-13)."""
    if as_partner(actor):
        return partner_booking.partner_booking_move(actor=actor, booking=booking, starts_at=starts_at)
    return scheduling.booking_move(actor=actor, booking=booking, starts_at=starts_at)


def cancel(actor: Actor, booking: Booking, *, reason: str = "", source: str) -> Booking:
    """Cancel a booking the actor sees (a partner: its own, without a reason, P-13); `source` names the
    adapter in what the patient and the other side are told."""
    if as_partner(actor):
        return partner_booking.partner_booking_cancel(actor=actor, booking=booking)
    return scheduling.booking_cancel(actor=actor, booking=booking, reason=reason, source=source)


def attendance_set(actor: Actor, pk: object, *, status: str) -> Booking:
    """The institution's desk records whether the patient came (B-11)."""
    require_staff(actor)
    return scheduling.booking_attendance_set(actor=actor, booking=booking(actor, pk), status=status)


def payment_set(actor: Actor, pk: object, *, payment_status: str) -> Booking:
    """The institution's desk records that an institution-paid booking was paid or refunded (B-11)."""
    require_staff(actor)
    return scheduling.booking_payment_set(
        actor=actor, booking=booking(actor, pk), payment_status=payment_status
    )


# --- Holds (IHE ITI-116 `$hold`, ITI-117 `$book`) ----------------------------------------------------


def hold(
    actor: Actor, *, location_id: object, physician_id: object, service_id: object, starts_at: datetime
) -> holds.HeldSlot:
    """Hold a slot for a few minutes, refused where a booking of it would be (`slot_bookable`): a partner
    a free slot of an authorised offer (`partner_slot_hold`), the staff a slot of their own institution."""
    ids = {"location_id": location_id, "physician_id": physician_id, "service_id": service_id}
    if as_partner(actor):
        offer = partner_offers.offer_for(actor=actor, **ids)
        return partner_booking.partner_slot_hold(actor=actor, offer=offer, starts_at=starts_at)
    desk = scheduling_selectors.desk_offer(actor=actor, **ids)
    return holds.slot_hold(
        actor=actor,
        location=desk.location,
        physician=desk.physician,
        service=desk.service,
        starts_at=starts_at,
    )


def held(actor: Actor, token: str) -> SlotHold:
    """The actor's live hold with this token; any other (unknown, someone else's, expired, released,
    booked) is the one refusal `HoldUnknown`."""
    as_partner(actor)  # who may hold at all: the rest are refused (403) before any token is looked at
    return holds.slot_hold_get(actor=actor, hold=token)


def book_held(
    actor: Actor,
    token: str,
    *,
    patient_id: int | None = None,
    new_patient: NewPatientIn | None = None,
    note: str = "",
) -> Booking:
    """Book the slot the actor holds with this token for the patient, as `book` books; the booking consumes
    the hold."""
    found = held(actor, token)
    return book(
        actor,
        location_id=found.location_id,
        physician_id=found.physician_id,
        service_id=found.service_id,
        starts_at=found.starts_at,
        patient_id=patient_id,
        new_patient=new_patient,
        note=note,
        hold=token,
    )


def release(actor: Actor, token: str) -> SlotHold:
    """Release the actor's hold with this token (its slot is free again at once): the hold it was."""
    found = held(actor, token)
    if not holds.slot_hold_release(actor=actor, hold=token):
        raise HoldUnknown()  # expired or booked meanwhile
    return found


# --- Patients ------------------------------------------------------------------------------------------


def patient_shown(actor: Actor, pk: object, *, view: str) -> ShownPatient:
    """One patient as the actor may see them: the staff a patient of their institution's register (audited
    as `view`); a partner's user only the patient of one of its partner's bookings, as that booking shows
    them (`booking_patient`: what the partner entered, unless its partnership grants the register; the read
    audited as a read of that booking). Anything else, another institution's patient included, is 404."""
    number = parse_id(pk)
    if as_partner(actor):
        found = bookings_of_patient(bookings(actor), number).order_by("-created_at", "-pk").first()
        if found is None:
            raise Http404()
        bookings_read(actor=actor, view=view, bookings=[found])
        return booking_patient(found)
    patient = patient_selectors.patient_list(actor=actor).filter(pk=number).first()
    if patient is None:
        raise Http404()
    patient_register_read(actor=actor, view=view, patients=[patient])
    return ShownPatient(patient.pk, patient.full_name, patient.birth_date)


def patient_search(actor: Actor, *, query: str, institution_id: int | None, view: str) -> list[Patient]:
    """The staff search their register (audited as `view`); a partner with patient-data access searches an
    institution's patients within the same quotas as its pages (P-7, P-15): another institution is 404."""
    if as_partner(actor):
        if (
            institution_id is None
        ):  # a partner has no register of its own to search (403), only an institution's
            raise NotPermitted(_("Name the institution to search at."))
        try:
            partnership = access_partnership(partner=acting_partner(actor), institution_id=institution_id)
        except DomainError:
            raise Http404() from None
        return partner_booking.partner_patient_search(actor=actor, partnership=partnership, query=query)
    found = list(patient_selectors.patient_search(actor=actor, query=query))
    patient_register_read(actor=actor, view=view, patients=found, query=query)
    return found
