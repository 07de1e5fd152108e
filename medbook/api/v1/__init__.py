"""The JSON API, version 1 (X-1): what a partner user or the institution's staff do on the pages.

A thin adapter: each operation reads its request, calls the application layer (`medbook.api.actions`, with
the token, the rate limit and the audience gates of `medbook.api.access`) and shapes its answer. Times are
ISO 8601 in UTC; a booking's local time is the client's to show in the institution's `time_zone`.
The report endpoints are replica-readable (medbook/core/replica.py).
"""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Header, Path, Query, Router, Status

from medbook.api import actions
from medbook.api.access import require_administrator
from medbook.api.bodies import Day, Moment, matching, pattern_schema
from medbook.api.models import IdempotentAnswer
from medbook.api.reads import bookings_read
from medbook.api.v1.errors import READ_ERRORS, WRITE_ERRORS
from medbook.api.v1.schemas import (
    WHEN,
    AttendanceIn,
    BookingIn,
    BookingOut,
    BookingPage,
    CancelIn,
    ChannelCellIn,
    ChannelOut,
    InstitutionOut,
    LocationOut,
    MeOut,
    MoveIn,
    PartnershipIn,
    PartnershipOut,
    PatientExportOut,
    PatientOut,
    PaymentIn,
    PhysicianOut,
    ServiceOut,
    SettlementOut,
    SlotPage,
    TrafficOut,
)
from medbook.core.errors import Conflict, DomainError
from medbook.core.ids import MAX_ID
from medbook.core.permissions import Perm, has_perm
from medbook.core.replica import replica_readable
from medbook.core.tenancy import scoped
from medbook.institutions.models import Location, Service
from medbook.partners.selectors import channel_matrix, institution_partnership, institution_partnerships
from medbook.partners.services.contract import partnership_service_set, partnership_update
from medbook.patients.models import Patient
from medbook.privacy import rights
from medbook.privacy import services as privacy
from medbook.reports.selectors import Period, traffic_report
from medbook.reports.summaries import settlement_summary
from medbook.scheduling.models import Booking
from medbook.scheduling.patient_shown import booking_patient

router = Router()
MAX_LIMIT = 100
MAX_SLOT_DAYS = 31
MAX_REPORT_DAYS = 366


# --- Helpers -------------------------------------------------------------------------------------------


def _actor(request: HttpRequest):
    return request.actor  # type: ignore[attr-defined]


# Cursors are positions, not secrets: any cursor the schema admits (its pattern) is a position to go on
# from, so no well-formed request is refused for its cursor.
# Free slots: "<days>.<offset>", the window of days starting that many days after date_from and the
# offset into its free slots.
SLOT_CURSOR = r"^[0-9]{1,7}\.[0-9]{1,7}$"
SlotCursor = Annotated[
    str, matching(SLOT_CURSOR, gettext_noop("The cursor is not valid.")), pattern_schema(SLOT_CURSOR)
]
# Bookings: "<start>.<id>", the last booking's start (microseconds since 0001-01-01T00:00Z) and id.
BOOKING_CURSOR = r"^[0-9]{1,18}\.[0-9]{1,19}$"
BookingCursor = Annotated[
    str, matching(BOOKING_CURSOR, gettext_noop("The cursor is not valid.")), pattern_schema(BOOKING_CURSOR)
]
IDEMPOTENCY_KEY = r"^.{0,255}$"
IdempotencyKey = Annotated[
    str,
    matching(IDEMPOTENCY_KEY, gettext_noop("The Idempotency-Key can be at most 255 characters.")),
    pattern_schema(IDEMPOTENCY_KEY),
]
FIRST_INSTANT = datetime(1, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime.max.replace(tzinfo=UTC)


def _split_cursor(cursor: str) -> tuple[int, int]:
    first, _dot, second = cursor.partition(".")
    return int(first), int(second)


def _booking_cursor(booking: Booking) -> str:
    return f"{(booking.starts_at - FIRST_INSTANT) // timedelta(microseconds=1)}.{booking.pk}"


def _booking_position(cursor: str) -> tuple[datetime, int]:
    """The (start, id) a bookings cursor continues after; one past the last instant or id is the end."""
    micros, pk = _split_cursor(cursor)
    last = (LAST_INSTANT - FIRST_INSTANT) // timedelta(microseconds=1)
    return FIRST_INSTANT + timedelta(microseconds=min(micros, last)), min(pk, MAX_ID)


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
        "patient_confirmed_at": booking.patient_confirmed_at,
        "awaiting_approval": booking.awaiting_approval,
        "price": f"{booking.price:.2f}",
        "currency": booking.currency,
        "created_at": booking.created_at,
    }


def _idempotent(request: HttpRequest, key: str | None, payload: dict, create):
    """Run `create` once per Idempotency-Key of the token: a replay gets the first answer, another body 409."""
    if not key:
        return create()
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


@router.get("/institutions", response={200: list[InstitutionOut], **READ_ERRORS}, summary="Institutions")
def institutions(request: HttpRequest):
    """The actor's institution, or the institutions its partner may book at now."""
    return [
        {"id": i.pk, "name": i.name, "time_zone": i.time_zone, "currency": i.currency, "phone": i.phone}
        for i in actions.institutions(_actor(request))
    ]


@router.get("/locations", response={200: list[LocationOut], **READ_ERRORS}, summary="Locations")
def locations(request: HttpRequest):
    """Active locations: all of the actor's institution, or those a partner is authorised at."""
    return [
        {"id": x.pk, "institution_id": x.institution_id, "name": x.name, "address": x.address}
        for x in actions.locations(_actor(request))
    ]


@router.get("/physicians", response={200: list[PhysicianOut], **READ_ERRORS}, summary="Physicians")
def physicians(request: HttpRequest):
    return [
        {
            "id": row.physician.pk,
            "institution_id": row.physician.institution_id,
            "name": row.physician.full_name,
            "specialty": row.physician.specialty,
            "location_ids": row.location_ids,
        }
        for row in actions.physicians(_actor(request))
    ]


@router.get("/services", response={200: list[ServiceOut], **READ_ERRORS}, summary="Services")
def services(request: HttpRequest):
    return [
        {
            "id": row.service.pk,
            "institution_id": row.service.institution_id,
            "name": row.service.name,
            "duration_minutes": row.service.duration_minutes,
            "price": f"{row.service.price:.2f}",
            "currency": row.service.currency,
            "location_ids": row.location_ids,
            "physician_ids": row.physician_ids,
        }
        for row in actions.services(_actor(request))
    ]


# --- Free slots ----------------------------------------------------------------------------------------


@router.get("/slots", response={200: SlotPage, **READ_ERRORS}, summary="Free slots")
def slots(
    request: HttpRequest,
    *,
    location_id: int = Query(..., ge=1, le=MAX_ID),
    physician_id: int = Query(..., ge=1, le=MAX_ID),
    service_id: int = Query(..., ge=1, le=MAX_ID),
    date_from: Annotated[Day, Query(..., description="the first local day, e.g. 2026-12-09")],
    date_until: Annotated[
        Day | None, Query(None, description="the last local day (by default date_from)")
    ] = None,
    cursor: Annotated[SlotCursor | None, Query(None, description="next_cursor of the page before")] = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Free slots of one calendar over local days date_from … date_until, in order. A page holds the slots
    of at most 31 days: a longer period goes on in the pages after it (a page may then hold fewer than
    `limit`, even none, and still have a `next_cursor`); a date_until before date_from has none."""
    actor = _actor(request)
    last = date_until or date_from
    bookable = actions.offer(actor, location_id=location_id, physician_id=physician_id, service_id=service_id)
    days, start = _split_cursor(cursor) if cursor else (0, 0)
    window_start = date_from.toordinal() + days
    if window_start > last.toordinal():
        return {"items": [], "next_cursor": None}
    window_end = min(window_start + MAX_SLOT_DAYS - 1, last.toordinal())
    free = actions.free_slots(
        actor,
        bookable,
        date_from=_calendar_day(window_start),
        date_until=_calendar_day(window_end),
    )
    page = free[start : start + limit]
    if start + limit < len(free):
        next_cursor: str | None = f"{days}.{start + limit}"
    elif window_end < last.toordinal():
        next_cursor = f"{days + MAX_SLOT_DAYS}.0"
    else:
        next_cursor = None
    return {
        "items": [
            {
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "location_id": bookable.location.pk,
                "physician_id": bookable.physician.pk,
                "service_id": bookable.service.pk,
            }
            for s in page
        ],
        "next_cursor": next_cursor,
    }


def _calendar_day(ordinal: int) -> date:
    """The local day of this ordinal, within a day of the calendar's ends (a rule may look a day beyond)."""
    return date.fromordinal(min(max(ordinal, date.min.toordinal() + 1), date.max.toordinal() - 1))


# --- Bookings ------------------------------------------------------------------------------------------


@router.get("/bookings", response={200: BookingPage, **READ_ERRORS}, summary="Bookings")
def booking_list(
    request: HttpRequest,
    starts_from: Annotated[Moment | None, Query(None, description=WHEN)] = None,
    starts_before: Annotated[Moment | None, Query(None, description=WHEN)] = None,
    status: Booking.Status | None = None,
    cursor: Annotated[BookingCursor | None, Query(None, description="next_cursor of the page before")] = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """The actor's bookings by start time: the institution's, or those its partner made."""
    bookings = actions.bookings(_actor(request))
    if starts_from is not None:
        bookings = bookings.filter(starts_at__gte=starts_from)
    if starts_before is not None:
        bookings = bookings.filter(starts_at__lt=starts_before)
    if status:
        bookings = bookings.filter(status=status)
    if cursor:
        at, pk = _booking_position(cursor)
        bookings = bookings.filter(Q(starts_at__gt=at) | Q(starts_at=at, pk__gt=pk))
    page = list(bookings.order_by("starts_at", "pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    bookings_read(actor=_actor(request), view="api bookings", bookings=page)
    last = page[-1] if page else None
    return {
        "items": [_booking_out(b) for b in page],
        "next_cursor": _booking_cursor(last) if more and last else None,
    }


@router.get("/bookings/{booking_id}", response={200: BookingOut, **READ_ERRORS}, summary="One booking")
def booking_get(request: HttpRequest, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    booking = actions.booking(_actor(request), booking_id)
    bookings_read(actor=_actor(request), view="api booking", bookings=[booking])
    return _booking_out(booking)


@router.post("/bookings", response={201: BookingOut, **WRITE_ERRORS}, summary="Book a free slot")
def booking_create(
    request: HttpRequest,
    payload: BookingIn,
    idempotency_key: Annotated[IdempotencyKey | None, Header(None, alias="Idempotency-Key")] = None,
):
    """Book as the pages book: a partner only a free slot of an authorised offer, for a patient its search
    returned (`patient_id`) or entered anew (`new_patient`). `Idempotency-Key`: a replay returns the first
    answer; the same key with another body is 409."""
    actor = _actor(request)

    def create():
        booking = actions.book(
            actor,
            location_id=payload.location_id,
            physician_id=payload.physician_id,
            service_id=payload.service_id,
            starts_at=payload.starts_at,
            patient_id=payload.patient_id,
            new_patient=payload.new_patient,
            note=payload.note,
            channel_id=payload.channel_id,
        )
        return Status(201, _booking_out(booking))

    return _idempotent(request, idempotency_key, payload.dict(), create)


@router.post(
    "/bookings/{booking_id}/move", response={200: BookingOut, **WRITE_ERRORS}, summary="Move a booking"
)
def booking_move(request: HttpRequest, payload: MoveIn, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = _actor(request)
    booking = actions.booking(actor, booking_id)
    moved = actions.move(actor, booking, starts_at=payload.starts_at)
    return _booking_out(actions.booking(actor, moved.pk))


@router.post(
    "/bookings/{booking_id}/cancel", response={200: BookingOut, **WRITE_ERRORS}, summary="Cancel a booking"
)
def booking_cancel(request: HttpRequest, payload: CancelIn, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = _actor(request)
    booking = actions.booking(actor, booking_id)
    actions.cancel(actor, booking, reason=payload.reason, source="api")
    return _booking_out(actions.booking(actor, booking.pk))


# --- Patients ------------------------------------------------------------------------------------------


@router.get("/patients", response={200: list[PatientOut], **READ_ERRORS}, summary="Search patients")
def patients(
    request: HttpRequest,
    q: str = Query(..., min_length=2, max_length=100),
    institution_id: int | None = Query(None, ge=1, le=MAX_ID),
):
    """Staff search their register (audited); a partner with patient-data access searches an institution's
    patients within the same quotas as its pages (P-7, P-15)."""
    found = actions.patient_search(_actor(request), query=q, institution_id=institution_id, view="api search")
    return [_patient_out(p) for p in found]


@router.get(
    "/patients/{patient_id}/export",
    response={200: PatientExportOut, **READ_ERRORS},
    by_alias=True,
    summary="A patient's data export (admin)",
)
def patient_export(request: HttpRequest, patient_id: int = Path(..., ge=1, le=MAX_ID)):
    """Everything the platform holds about one patient of the institution (GDPR Art. 15 and 20): the JSON
    document of the Data rights page's export (`medbook.patient-export/1`, docs/privacy.md), audited as that
    export (`patient.export`) and answering the patient's oldest open portability request, or logging one
    received today. The institution's administrators only; another institution's patient is 404."""
    actor = _actor(request)
    require_administrator(actor)
    patient = rights.patient_for_rights(actor=actor, patient_id=patient_id)
    return privacy.patient_export_record(actor=actor, patient=patient, portable=True)


# --- The institution's desk and administration -------------------------------------------------------


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
    actions.attendance_set(actor, booking_id, status=payload.status)
    return _booking_out(actions.booking(actor, booking_id))


@router.post(
    "/bookings/{booking_id}/payment",
    response={200: BookingOut, **WRITE_ERRORS},
    summary="Record payment (staff)",
)
def booking_payment(request: HttpRequest, payload: PaymentIn, booking_id: int = Path(..., ge=1, le=MAX_ID)):
    """The institution's desk records that an institution-paid booking was paid or refunded (B-11)."""
    actor = _actor(request)
    actions.payment_set(actor, booking_id, payment_status=payload.payment_status)
    return _booking_out(actions.booking(actor, booking_id))


@router.get("/partnerships", response={200: list[PartnershipOut], **READ_ERRORS}, summary="Partners (admin)")
def partnerships(request: HttpRequest):
    """The institution's partners and the settings of each partnership (Administration / Partner Module)."""
    actor = _actor(request)
    require_administrator(actor)
    rows = institution_partnerships(actor=actor).prefetch_related("services")
    return [_partnership_out(p) for p in rows]


@router.get("/channels", response={200: list[ChannelOut], **READ_ERRORS}, summary="Traffic Channels (admin)")
def channels(request: HttpRequest):
    """The Traffic Channels matrix: every channel, and for a partner's the services authorised (P-9)."""
    actor = _actor(request)
    require_administrator(actor)
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


def _report_period(actor, date_from: date, date_until: date) -> Period:
    """The period of an institution's report; a partner's user learns of no such report (404, as from the
    pages), the institution's other staff are refused (403)."""
    require_administrator(actor, hidden=True)
    first, last = date_from, date_until
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
    *,
    date_from: Annotated[Day, Query(..., description="the first local day, e.g. 2026-12-01")],
    date_until: Annotated[Day, Query(..., description="the last local day (at most a year after date_from)")],
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
    *,
    date_from: Annotated[Day, Query(..., description="the first local day, e.g. 2026-12-01")],
    date_until: Annotated[Day, Query(..., description="the last local day (at most a year after date_from)")],
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
    require_administrator(actor)
    partnership = institution_partnership(actor=actor, pk=partnership_id)
    locations = list(scoped(Location, actor).filter(pk__in=payload.location_ids))
    if len(locations) != len(set(payload.location_ids)):
        raise Http404()
    terms = payload.dict(exclude={"location_ids"})
    partnership_update(actor=actor, partnership=partnership, details={}, terms=terms, locations=locations)
    return _partnership_out(institution_partnership(actor=actor, pk=partnership_id))


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
    require_administrator(actor)
    partnership = institution_partnership(actor=actor, pk=partnership_id)
    service = scoped(Service, actor).filter(pk=service_id).first()
    if service is None:
        raise Http404()
    partnership_service_set(actor=actor, partnership=partnership, service=service, enabled=payload.enabled)
    return _partnership_out(institution_partnership(actor=actor, pk=partnership_id))
