"""The JSON API, version 1 (X-1): what a partner user or the institution's staff do on the pages.

Every operation resolves the token's actor (`auth.TokenAuth`) and calls the same selectors and services as
the pages, so every permission, partner rule, quota and audit entry holds here too. Times are ISO 8601
in UTC; a booking's local time is the client's to show in the institution's `time_zone`.
The report endpoints are replica-readable (medbook/core/replica.py).
"""

import base64
import binascii
import hashlib
import json
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Path, Query, Router, Schema, Status

from medbook.api.errors import READ_ERRORS, WRITE_ERRORS, Conflict
from medbook.api.models import IdempotentAnswer
from medbook.api.reads import bookings_read
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.ids import MAX_ID, parse_id_or_none
from medbook.core.permissions import Perm, has_perm
from medbook.core.replica import replica_readable
from medbook.core.tenancy import scoped
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.partners import offers as partner_offers
from medbook.partners.access import access_partnership
from medbook.partners.selectors import (
    channel_matrix,
    institution_partnership,
    institution_partnerships,
    partner_bookings,
)
from medbook.partners.services import booking as partner_booking
from medbook.partners.services.contract import partnership_service_set, partnership_update
from medbook.patients import selectors as patient_selectors
from medbook.patients.models import Patient
from medbook.patients.services import patient_create, patient_register_read
from medbook.reports.selectors import Period, traffic_report
from medbook.reports.summaries import settlement_summary
from medbook.scheduling import selectors as scheduling_selectors
from medbook.scheduling import services as scheduling
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.scheduling.patient_shown import booking_patient

router = Router()
WHEN = "ISO 8601 date and time with its offset, e.g. 2026-12-09T08:00:00Z"
MAX_LIMIT = 100
MAX_SLOT_DAYS = 31


# --- Schemas -------------------------------------------------------------------------------------------


class MeOut(Schema):
    email: str
    name: str
    organization_id: int
    organization: str
    kind: str
    role: str
    can_book: bool
    read_only: bool


class InstitutionOut(Schema):
    id: int
    name: str
    time_zone: str
    currency: str
    phone: str


class LocationOut(Schema):
    id: int
    institution_id: int
    name: str
    address: str


class PhysicianOut(Schema):
    id: int
    institution_id: int
    name: str
    specialty: str
    location_ids: list[int]


class ServiceOut(Schema):
    id: int
    institution_id: int
    name: str
    duration_minutes: int
    price: str
    currency: str
    location_ids: list[int]
    physician_ids: list[int]


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    location_id: int
    physician_id: int
    service_id: int


class SlotPage(Schema):
    items: list[SlotOut]
    next_cursor: str | None


class PatientOut(Schema):
    id: int
    name: str
    birth_date: date | None


class BookingOut(Schema):
    id: int
    institution_id: int
    location_id: int
    physician_id: int
    service_id: int
    patient: PatientOut
    starts_at: datetime
    ends_at: datetime
    status: str
    payment_status: str
    partner_id: int | None
    channel: str
    note: str
    cancel_reason: str
    price: str
    currency: str
    created_at: datetime


class BookingPage(Schema):
    items: list[BookingOut]
    next_cursor: str | None


class NewPatientIn(Schema):
    full_name: str = Field(..., max_length=200)
    birth_date: date | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    insurance_id: str = Field("", max_length=16)


class BookingIn(Schema):
    location_id: int = Field(..., ge=1, le=MAX_ID)
    physician_id: int = Field(..., ge=1, le=MAX_ID)
    service_id: int = Field(..., ge=1, le=MAX_ID)
    starts_at: str = Field(..., description=WHEN, max_length=40)
    patient_id: int | None = Field(None, ge=1, le=MAX_ID)
    new_patient: NewPatientIn | None = None
    note: str = Field("", max_length=500)
    channel_id: int | None = Field(None, ge=1, le=MAX_ID)


class MoveIn(Schema):
    starts_at: str = Field(..., description=WHEN, max_length=40)


class CancelIn(Schema):
    reason: str = Field("", max_length=300)


# --- Helpers -------------------------------------------------------------------------------------------


def _actor(request: HttpRequest):
    return request.actor  # type: ignore[attr-defined]


def _encode(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise DomainError(_("The cursor is not valid."), field="cursor")
    return value


def _cursor_position(after: dict) -> tuple[datetime, int]:
    """The (start, id) a bookings cursor continues after; a forged one (huge id, a date out of range, a
    naive time) is a 422, never a 500."""
    pk = parse_id_or_none(after.get("id"))
    at: datetime | None = None
    try:
        moment = datetime.fromisoformat(after.get("at"))  # type: ignore[arg-type]
        at = moment.astimezone(UTC) if timezone.is_aware(moment) else None
    except (TypeError, ValueError, OverflowError):
        pass
    if at is None or pk is None:
        raise DomainError(_("The cursor is not valid."), field="cursor")
    return at, pk


def partner_offers_of(actor) -> list:
    if not has_perm(actor, Perm.BOOK_FOR_PARTNER):
        raise NotPermitted()
    return partner_offers.bookable_offers(actor=actor)


def require_staff(actor) -> None:
    if actor.institution is None:
        raise NotPermitted()


def _patient_out(patient: Patient) -> dict:
    return {"id": patient.pk, "name": patient.full_name, "birth_date": patient.birth_date}


def _booking_patient_out(booking: Booking) -> dict:
    shown = booking_patient(booking)  # as its reader sees it: what a partner without access entered
    return {"id": shown.id, "name": shown.full_name, "birth_date": shown.birth_date}


def _booking_out(booking: Booking) -> dict:
    return {
        "id": booking.pk,
        "institution_id": booking.institution_id,
        "location_id": booking.location_id,
        "physician_id": booking.physician_id,
        "service_id": booking.service_id,
        "patient": _booking_patient_out(booking),
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "status": booking.status,
        "payment_status": booking.payment_status,
        "partner_id": booking.partner_id,
        "channel": booking.channel.display_name,
        "note": booking.note,
        "cancel_reason": booking.cancel_reason,
        "price": f"{booking.price:.2f}",
        "currency": booking.currency,
        "created_at": booking.created_at,
    }


def visible_bookings(actor):
    """The bookings the actor sees: its institution's, or the ones its partner made."""
    if actor.partner is not None:
        if not has_perm(actor, Perm.BOOK_FOR_PARTNER):
            raise NotPermitted()
        return partner_bookings(actor).select_related("channel")
    require_staff(actor)
    return scheduling_selectors.bookings_for_actor(actor)


def visible_booking(actor, pk: int) -> Booking:
    booking = visible_bookings(actor).filter(pk=pk).first()
    if booking is None:
        raise Http404()
    return booking


def _aware(value: str, field: str = "starts_at") -> datetime:
    """An ISO 8601 date and time with its offset, in UTC; anything else is a 422 naming the field."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise DomainError(_("Enter a date and time such as 2026-12-09T08:00:00Z."), field=field) from None
    if timezone.is_naive(moment):
        raise DomainError(_("The start time must carry a time zone."), field=field)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant there is
        raise DomainError(_("Enter a date and time such as 2026-12-09T08:00:00Z."), field=field) from None


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DomainError(_("Enter a date such as 2026-12-09."), field=field) from None


def _idempotent(request: HttpRequest, key: str | None, payload: dict, create):
    """Run `create` once per Idempotency-Key of the token: a replay gets the first answer, another body 409."""
    if not key:
        return create()
    if len(key) > 255:
        raise DomainError(_("The Idempotency-Key can be at most 255 characters."), field="Idempotency-Key")
    token = request.auth  # type: ignore[attr-defined]
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def replay(found: IdempotentAnswer):
        if found.request_hash != digest:
            raise Conflict(_("This Idempotency-Key was used with another request."))
        return Status(found.status, found.body)

    found = IdempotentAnswer.objects.filter(token=token, key=key).first()
    if found is not None:
        return replay(found)
    try:
        with transaction.atomic():
            answer = create()
            IdempotentAnswer.objects.create(
                token=token,
                key=key,
                request_hash=digest,
                status=answer.status_code,
                body=json.loads(json.dumps(answer.value, cls=DjangoJSONEncoder)),
            )
    except IntegrityError:
        found = IdempotentAnswer.objects.filter(token=token, key=key).first()
        if found is None:
            raise
        return replay(found)
    return answer


# --- Who and what --------------------------------------------------------------------------------------


@router.get("/me", response={200: MeOut, **READ_ERRORS}, summary="The token's user and organisation")
def me(request: HttpRequest):
    actor = _actor(request)
    return {
        "email": actor.user.email,
        "name": actor.user.full_name,
        "organization_id": actor.organization.pk,
        "organization": actor.organization.name,
        "kind": actor.organization.kind,
        "role": actor.role,
        "can_book": has_perm(actor, Perm.BOOK_FOR_PARTNER) or has_perm(actor, Perm.BOOK),
        "read_only": request.auth.read_only,  # type: ignore[attr-defined]
    }


def visible_institutions(actor) -> list[Institution]:
    if actor.partner is not None:
        seen: dict[int, Institution] = {}
        for offer in partner_offers_of(actor):
            seen.setdefault(offer.institution.pk, offer.institution)
        return sorted(seen.values(), key=lambda i: i.name)
    require_staff(actor)
    return [Institution.objects.get(pk=actor.institution.pk)]


@router.get("/institutions", response={200: list[InstitutionOut], **READ_ERRORS}, summary="Institutions")
def institutions(request: HttpRequest):
    """The actor's institution, or the institutions its partner may book at now."""
    return [
        {"id": i.pk, "name": i.name, "time_zone": i.time_zone, "currency": i.currency, "phone": i.phone}
        for i in visible_institutions(_actor(request))
    ]


@router.get("/locations", response={200: list[LocationOut], **READ_ERRORS}, summary="Locations")
def locations(request: HttpRequest):
    """Active locations: all of the actor's institution, or those a partner is authorised at."""
    actor = _actor(request)
    if actor.partner is not None:
        found = list({o.location.pk: o.location for o in partner_offers_of(actor)}.values())
    else:
        require_staff(actor)
        found = list(scoped(Location, actor).filter(is_active=True).order_by("name"))
    return [
        {"id": x.pk, "institution_id": x.institution_id, "name": x.name, "address": x.address} for x in found
    ]


@router.get("/physicians", response={200: list[PhysicianOut], **READ_ERRORS}, summary="Physicians")
def physicians(request: HttpRequest):
    actor = _actor(request)
    if actor.partner is not None:
        offers = partner_offers_of(actor)
        at: dict[int, set[int]] = {}
        found: dict[int, Physician] = {}
        for o in offers:
            found[o.physician.pk] = o.physician
            at.setdefault(o.physician.pk, set()).add(o.location.pk)
        return [
            {
                "id": p.pk,
                "institution_id": p.institution_id,
                "name": p.full_name,
                "specialty": p.specialty,
                "location_ids": sorted(at[p.pk]),
            }
            for p in found.values()
        ]
    require_staff(actor)
    return [
        {
            "id": p.pk,
            "institution_id": p.institution_id,
            "name": p.full_name,
            "specialty": p.specialty,
            "location_ids": sorted(x.pk for x in p.locations.all()),
        }
        for p in scoped(Physician, actor).filter(is_active=True).prefetch_related("locations")
    ]


@router.get("/services", response={200: list[ServiceOut], **READ_ERRORS}, summary="Services")
def services(request: HttpRequest):
    actor = _actor(request)
    rows: dict[int, dict] = {}
    if actor.partner is not None:
        for o in partner_offers_of(actor):
            row = rows.setdefault(o.service.pk, _service_row(o.service, set(), set()))
            row["location_ids"].add(o.location.pk)
            row["physician_ids"].add(o.physician.pk)
    else:
        require_staff(actor)
        for s in scoped(Service, actor).filter(is_active=True).prefetch_related("locations", "physicians"):
            rows[s.pk] = _service_row(
                s, {x.pk for x in s.locations.all()}, {p.pk for p in s.physicians.all()}
            )
    return [
        {**row, "location_ids": sorted(row["location_ids"]), "physician_ids": sorted(row["physician_ids"])}
        for row in rows.values()
    ]


def _service_row(service: Service, location_ids: set, physician_ids: set) -> dict:
    return {
        "id": service.pk,
        "institution_id": service.institution_id,
        "name": service.name,
        "duration_minutes": service.duration_minutes,
        "price": f"{service.price:.2f}",
        "currency": service.currency,
        "location_ids": location_ids,
        "physician_ids": physician_ids,
    }


# --- Free slots ----------------------------------------------------------------------------------------


def offer_of(actor, *, location_id: int, physician_id: int, service_id: int):
    """The (location, physician, service) the actor may book, or a refusal: a partner's authorised offer,
    or a combination of the staff's own institution (another tenant's ids are 404)."""
    if actor.partner is not None:
        offer = partner_offers.offer_for(
            actor=actor, location_id=location_id, physician_id=physician_id, service_id=service_id
        )
        return offer.location, offer.physician, offer.service
    require_staff(actor)
    location = scoped(Location, actor).filter(pk=location_id).first()
    physician = scoped(Physician, actor).filter(pk=physician_id).first()
    service = scoped(Service, actor).filter(pk=service_id).first()
    if location is None or physician is None or service is None:
        raise Http404()
    for item in (location, physician, service):
        item.institution = actor.institution  # scoped to it: not read again
    return location, physician, service


@router.get("/slots", response={200: SlotPage, **READ_ERRORS}, summary="Free slots")
def slots(
    request: HttpRequest,
    location_id: int = Query(..., ge=1, le=MAX_ID),
    physician_id: int = Query(..., ge=1, le=MAX_ID),
    service_id: int = Query(..., ge=1, le=MAX_ID),
    date_from: str = Query(..., description="the first local day, e.g. 2026-12-09", max_length=10),
    date_until: str | None = Query(
        None, description="the last local day (by default date_from)", max_length=10
    ),
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Free slots of one calendar over local days date_from … date_until (at most 31 days), in order."""
    actor = _actor(request)
    first = _day(date_from, "date_from")
    last = _day(date_until, "date_until") if date_until else first
    if not timedelta(0) <= last - first < timedelta(days=MAX_SLOT_DAYS):
        raise DomainError(_("Ask for 1 to 31 days from date_from."), field="date_until")
    location, physician, service = offer_of(
        actor, location_id=location_id, physician_id=physician_id, service_id=service_id
    )
    free = scheduling_selectors.available_slots(
        physician=physician,
        location=location,
        service=service,
        date_from=first,
        date_until=last,
        partner=actor.partner is not None,
    )
    start = _decode(cursor).get("offset", 0)
    if not isinstance(start, int) or start < 0:
        raise DomainError(_("The cursor is not valid."), field="cursor")
    page = free[start : start + limit]
    more = start + limit < len(free)
    return {
        "items": [
            {
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "location_id": location.pk,
                "physician_id": physician.pk,
                "service_id": service.pk,
            }
            for s in page
        ],
        "next_cursor": _encode({"offset": start + limit}) if more else None,
    }


# --- Bookings ------------------------------------------------------------------------------------------


@router.get("/bookings", response={200: BookingPage, **READ_ERRORS}, summary="Bookings")
def booking_list(
    request: HttpRequest,
    starts_from: str | None = Query(None, description=WHEN, max_length=40),
    starts_before: str | None = Query(None, description=WHEN, max_length=40),
    status: Booking.Status | None = None,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """The actor's bookings by start time: the institution's, or those its partner made."""
    bookings = visible_bookings(_actor(request))
    if starts_from is not None:
        bookings = bookings.filter(starts_at__gte=_aware(starts_from, "starts_from"))
    if starts_before is not None:
        bookings = bookings.filter(starts_at__lt=_aware(starts_before, "starts_before"))
    if status:
        bookings = bookings.filter(status=status)
    after = _decode(cursor)
    if after:
        at, pk = _cursor_position(after)
        bookings = bookings.filter(Q(starts_at__gt=at) | Q(starts_at=at, pk__gt=pk))
    page = list(bookings.order_by("starts_at", "pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    bookings_read(actor=_actor(request), view="api bookings", bookings=page)
    last = page[-1] if page else None
    return {
        "items": [_booking_out(b) for b in page],
        "next_cursor": _encode({"at": last.starts_at.isoformat(), "id": last.pk}) if more and last else None,
    }


@router.get("/bookings/{booking_id}", response={200: BookingOut, **READ_ERRORS}, summary="One booking")
def booking_get(request: HttpRequest, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    booking = visible_booking(_actor(request), booking_id)
    bookings_read(actor=_actor(request), view="api booking", bookings=[booking])
    return _booking_out(booking)


@router.post("/bookings", response={201: BookingOut, **WRITE_ERRORS}, summary="Book a free slot")
def booking_create(
    request: HttpRequest,
    payload: BookingIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """Book as the pages book: a partner only a free slot of an authorised offer, for a patient its search
    returned (`patient_id`) or entered anew (`new_patient`). `Idempotency-Key`: a replay returns the first
    answer; the same key with another body is 409."""
    actor = _actor(request)

    def create():
        return Status(201, _booking_out(booking_from(actor, payload)))

    return _idempotent(request, idempotency_key, payload.dict(), create)


def booking_from(actor, payload: BookingIn) -> Booking:
    """Check what is booked, then book in one transaction: the booking service's own (a partner's new patient
    is registered inside it), or, when the staff enter a new patient, one around the patient and the booking
    (a refused booking registers nobody). The offer, patient and channel are read before it begins: reads
    checked again where it matters (the booking service's checks and locks) need not hold it open."""
    starts_at = _aware(payload.starts_at)
    new_patient = payload.new_patient.dict() if payload.new_patient else None
    if actor.partner is not None:
        offer = partner_offers.offer_for(
            actor=actor,
            location_id=payload.location_id,
            physician_id=payload.physician_id,
            service_id=payload.service_id,
        )
        return partner_booking.partner_booking_create(
            actor=actor,
            offer=offer,
            starts_at=starts_at,
            patient_id=payload.patient_id,
            new_patient=new_patient,
            note=payload.note,
        )
    location, physician, service = offer_of(
        actor,
        location_id=payload.location_id,
        physician_id=payload.physician_id,
        service_id=payload.service_id,
    )
    patient = None
    if payload.patient_id:
        patient = scoped(Patient, actor).filter(pk=payload.patient_id).first()
        if patient is None:
            raise DomainError(_("Unknown patient."), field="patient_id")
    elif not new_patient:
        raise DomainError(_("Choose a patient or enter the patient's details."), field="patient_id")
    channel = None
    if payload.channel_id is not None:
        channel = scoped_channel(actor, payload.channel_id)
    with transaction.atomic() if patient is None else nullcontext():
        return scheduling.booking_create(
            actor=actor,
            location=location,
            physician=physician,
            service=service,
            patient=patient or patient_create(actor=actor, **(new_patient or {})),
            starts_at=starts_at,
            channel=channel,
            note=payload.note,
        )


def scoped_channel(actor, pk: int) -> TrafficChannel:
    channel = TrafficChannel.objects.filter(pk=pk, institution_id=actor.institution.pk).first()
    if channel is None:
        raise DomainError(_("Unknown traffic channel."), field="channel_id")
    return channel


@router.post(
    "/bookings/{booking_id}/move", response={200: BookingOut, **WRITE_ERRORS}, summary="Move a booking"
)
def booking_move(request: HttpRequest, payload: MoveIn, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = _actor(request)
    booking = visible_booking(actor, booking_id)
    starts_at = _aware(payload.starts_at)
    if actor.partner is not None:
        booking = partner_booking.partner_booking_move(actor=actor, booking=booking, starts_at=starts_at)
    else:
        booking = scheduling.booking_move(actor=actor, booking=booking, starts_at=starts_at)
    return _booking_out(visible_booking(actor, booking.pk))


@router.post(
    "/bookings/{booking_id}/cancel", response={200: BookingOut, **WRITE_ERRORS}, summary="Cancel a booking"
)
def booking_cancel(request: HttpRequest, payload: CancelIn, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = _actor(request)
    booking = visible_booking(actor, booking_id)
    if actor.partner is not None:
        partner_booking.partner_booking_cancel(actor=actor, booking=booking)
    else:
        scheduling.booking_cancel(actor=actor, booking=booking, reason=payload.reason, source="api")
    return _booking_out(visible_booking(actor, booking.pk))


# --- Patients ------------------------------------------------------------------------------------------


@router.get("/patients", response={200: list[PatientOut], **READ_ERRORS}, summary="Search patients")
def patients(
    request: HttpRequest,
    q: str = Query(..., min_length=2, max_length=100),
    institution_id: int | None = Query(None, ge=1, le=MAX_ID),
):
    """Staff search their register (audited); a partner with patient-data access searches an institution's
    patients within the same quotas as its pages (P-7, P-15)."""
    actor = _actor(request)
    if actor.partner is not None:
        if not has_perm(actor, Perm.BOOK_FOR_PARTNER):
            raise NotPermitted()
        if institution_id is None:
            raise DomainError(_("Name the institution to search at."), field="institution_id")
        try:
            partnership = access_partnership(partner=actor.partner, institution_id=institution_id)
        except DomainError:
            raise Http404() from None
        found = partner_booking.partner_patient_search(actor=actor, partnership=partnership, query=q)
        return [_patient_out(p) for p in found]
    require_staff(actor)
    found = list(patient_selectors.patient_search(actor=actor, query=q))
    patient_register_read(actor=actor, view="api search", patients=found, query=q)
    return [_patient_out(p) for p in found]


# --- The institution's desk and administration -------------------------------------------------------


class AttendanceIn(Schema):
    status: str = Field(..., description="completed, no_show, or booked (undo, on the day it was recorded)")


class PaymentIn(Schema):
    payment_status: str = Field(..., description="paid, refunded or unpaid (institution-paid bookings)")


@router.post(
    "/bookings/{booking_id}/attendance",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="Record attendance (staff)",
)
def booking_attendance(
    request: HttpRequest, payload: AttendanceIn, booking_id: int = Path(..., ge=1, le=MAX_ID)
):
    """The institution's desk records whether the patient came (B-11); the partner is told."""
    actor = _actor(request)
    require_staff(actor)
    booking = visible_booking(actor, booking_id)
    scheduling.booking_attendance_set(actor=actor, booking=booking, status=payload.status)
    return _booking_out(visible_booking(actor, booking_id))


@router.post(
    "/bookings/{booking_id}/payment",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="Record payment (staff)",
)
def booking_payment(request: HttpRequest, payload: PaymentIn, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    """The institution's desk records that an institution-paid booking was paid or refunded (B-11)."""
    actor = _actor(request)
    require_staff(actor)
    booking = visible_booking(actor, booking_id)
    scheduling.booking_payment_set(actor=actor, booking=booking, payment_status=payload.payment_status)
    return _booking_out(visible_booking(actor, booking_id))


class PartnershipOut(Schema):
    id: int
    partner_id: int
    partner: str
    status: str
    commission_percent: str | None
    commission_fixed: str | None
    paid_at_partner: bool
    patient_data_access: bool
    location_ids: list[int]
    service_ids: list[int]
    channel_id: int


def _administrator(actor) -> None:
    require_staff(actor)
    if not has_perm(actor, Perm.ADMINISTER):
        raise NotPermitted()


@router.get("/partnerships", response={200: list[PartnershipOut], **READ_ERRORS}, summary="Partners (admin)")
def partnerships(request: HttpRequest):
    """The institution's partners and the settings of each partnership (Administration / Partner Module)."""
    actor = _actor(request)
    _administrator(actor)
    rows = institution_partnerships(actor=actor).prefetch_related("services")
    return [_partnership_out(p) for p in rows]


class ChannelOut(Schema):
    id: int
    name: str
    partner_id: int | None
    active: bool
    service_ids: list[int] | None = Field(
        None, description="for a partner's channel: the services it may book"
    )


@router.get("/channels", response={200: list[ChannelOut], **READ_ERRORS}, summary="Traffic Channels (admin)")
def channels(request: HttpRequest):
    """The Traffic Channels matrix: every channel, and for a partner's the services authorised (P-9)."""
    actor = _actor(request)
    _administrator(actor)
    _services, columns = channel_matrix(actor=actor)
    return [
        {
            "id": c.channel.pk,
            "name": c.channel.display_name,
            "partner_id": c.channel.partner_id,
            "active": c.channel.is_active,
            "service_ids": sorted(c.service_ids) if c.partnership is not None else None,
        }
        for c in columns
    ]


# --- Reports (the institution's administrators) --------------------------------------------------------

MAX_REPORT_DAYS = 366


class TrafficRowOut(Schema):
    id: int | None
    name: str
    bookings: int
    booked: int
    completed: int
    cancelled: int
    no_show: int
    value: str
    commission: str


class TrafficOut(Schema):
    currency: str
    channels: list[TrafficRowOut]
    partners: list[TrafficRowOut]


class SettlementOut(Schema):
    partner_id: int
    partner: str
    held_bookings: int
    adjustments: int
    not_settled: int
    value: str
    commission: str
    owed_to_partner: str
    owed_to_institution: str
    net: str
    net_owed_by: str = Field(..., description='"institution", "partner", or "" when nothing is owed')
    closed_number: int | None


def _report_period(actor, date_from: str, date_until: str) -> Period:
    _administrator(actor)
    first, last = _day(date_from, "date_from"), _day(date_until, "date_until")
    if not timedelta(0) <= last - first < timedelta(days=MAX_REPORT_DAYS):
        raise DomainError(_("Ask for a period of at most a year."), field="date_until")
    return Period(first, last, actor.institution.time_zone)


def _traffic_row(row) -> dict:
    return {
        "id": row.key,
        "name": row.name,
        "bookings": row.bookings,
        "booked": row.booked,
        "completed": row.completed,
        "cancelled": row.cancelled,
        "no_show": row.no_show,
        "value": f"{row.value:.2f}",
        "commission": f"{row.commission:.2f}",
    }


@router.get(
    "/reports/traffic", response={200: TrafficOut, **READ_ERRORS}, summary="Traffic statistics (admin)"
)
@replica_readable
def traffic(
    request: HttpRequest,
    date_from: str = Query(..., max_length=10),
    date_until: str = Query(..., max_length=10),
    partners_only: bool = False,
):
    """R-2: bookings, value and commission per traffic channel and per partner over local days."""
    actor = _actor(request)
    report = traffic_report(
        actor=actor, period=_report_period(actor, date_from, date_until), partners_only=partners_only
    )
    return {
        "currency": actor.institution.currency,
        "channels": [_traffic_row(r) for r in report.channels],
        "partners": [_traffic_row(r) for r in report.partners],
    }


@router.get(
    "/reports/settlement", response={200: list[SettlementOut], **READ_ERRORS}, summary="Settlement (admin)"
)
@replica_readable
def settlement(
    request: HttpRequest,
    date_from: str = Query(..., max_length=10),
    date_until: str = Query(..., max_length=10),
):
    """R-4: per partner, the held bookings of the period, what is owed each way, the net and who owes it."""
    actor = _actor(request)
    lines = settlement_summary(actor=actor, period=_report_period(actor, date_from, date_until))
    return [
        {
            "partner_id": line.partner.pk,
            "partner": line.partner.name,
            "held_bookings": line.figures.bookings,
            "adjustments": line.figures.adjustments,
            "not_settled": line.figures.unsettled,
            "value": f"{line.figures.value:.2f}",
            "commission": f"{line.figures.commission:.2f}",
            "owed_to_partner": f"{line.figures.to_partner:.2f}",
            "owed_to_institution": f"{line.figures.to_institution:.2f}",
            "net": f"{line.figures.net:.2f}",
            "net_owed_by": line.figures.direction,
            "closed_number": line.closing.number if line.closing is not None else None,
        }
        for line in lines
    ]


class PartnershipIn(Schema):
    commission_enabled: bool
    commission_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    commission_fixed: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    payment_location: str = Field(..., description="institution or partner")
    patient_data_access: bool = False
    location_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(..., min_length=1, max_length=500)


def _partnership_out(p) -> dict:
    return {
        "id": p.pk,
        "partner_id": p.partner_id,
        "partner": p.partner.name,
        "status": p.status,
        "commission_percent": None if p.commission_percent is None else f"{p.commission_percent}",
        "commission_fixed": None if p.commission_fixed is None else f"{p.commission_fixed:.2f}",
        "paid_at_partner": p.paid_at_partner,
        "patient_data_access": bool(p.patient_data_access),
        "location_ids": sorted(x.pk for x in p.locations.all()),
        "service_ids": sorted(x.pk for x in p.services.all()),
        "channel_id": p.channel_id,
    }


@router.put(
    "/partnerships/{partnership_id}",
    response={200: PartnershipOut, **WRITE_ERRORS},
    summary="Change a partnership's settings (admin)",
)
def partnership_put(
    request: HttpRequest, payload: PartnershipIn, partnership_id: int = Path(..., ge=1, le=MAX_ID)
):
    """The settings of Administration / Partner Module (P-4 … P-7): commission, payment location, patient-data
    access, locations. The same service and checks as the page; the partner's own record is not changed."""
    actor = _actor(request)
    _administrator(actor)
    partnership = institution_partnership(actor=actor, pk=partnership_id)
    locations = list(scoped(Location, actor).filter(pk__in=payload.location_ids))
    if len(locations) != len(set(payload.location_ids)):
        raise Http404()
    terms = payload.dict(exclude={"location_ids"})
    partnership_update(actor=actor, partnership=partnership, details={}, terms=terms, locations=locations)
    return _partnership_out(institution_partnership(actor=actor, pk=partnership_id))


class ChannelCellIn(Schema):
    enabled: bool


@router.put(
    "/partnerships/{partnership_id}/services/{service_id}",
    response={200: PartnershipOut, **WRITE_ERRORS},
    summary="Allow or forbid a service (Traffic Channels, admin)",
)
def partnership_service(
    request: HttpRequest,
    payload: ChannelCellIn,
    partnership_id: int = Path(..., ge=1, le=MAX_ID),
    service_id: int = Path(..., ge=1, le=MAX_ID),
):
    """One cell of the Traffic Channels matrix: may this partner book this service (P-9)."""
    actor = _actor(request)
    _administrator(actor)
    partnership = institution_partnership(actor=actor, pk=partnership_id)
    service = scoped(Service, actor).filter(pk=service_id).first()
    if service is None:
        raise Http404()
    partnership_service_set(actor=actor, partnership=partnership, service=service, enabled=payload.enabled)
    return _partnership_out(institution_partnership(actor=actor, pk=partnership_id))
