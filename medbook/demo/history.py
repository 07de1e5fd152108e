"""The demo's booking history (called by `seed_demo`): past bookings so that the reports have data.

`booking_create` refuses the past, so the rows are written directly (the partner terms captured by the
same `capture_partner_terms`), on the physicians' grid, never over
another active booking of the same physician, with the price and the partner terms captured as the booking
service would have captured them. Their outcome is set as the desk's `booking_attendance_set` and
`booking_payment_set` set it (status, when attendance was recorded, payment), without their audit rows and
partner e-mails, which would tell of acts nobody did: most visits completed and paid at the desk (a few
refunded), a few no-shows, some cancelled, and some of the last days not recorded yet (reception's
"Attendance not recorded"). A fixed seed keeps the history deterministic; it is made only once, while the
institution has no past booking yet.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from medbook.accounts.models import Membership, User
from medbook.demo.holidays import hungarian_public_holidays
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.partners.access import terms_of
from medbook.partners.models import Partnership
from medbook.patients.models import Patient
from medbook.scheduling import slots as engine
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.scheduling.patient_shown import partner_patient_capture
from medbook.scheduling.selectors import active_bookings, working_intervals_for
from medbook.scheduling.services import capture_partner_terms

HISTORY_SEED = 2025
HISTORY_DAYS = 75
HISTORY_TARGET = 120
CALLCENTER_NAME = "CallCenter Ltd"
CALLCENTER_TARGET = 35
OTHER_PARTNER_TARGET = 5  # per other active partnership (Westside Physicians Kft. is only invited)
CHANNEL_WEIGHTS = {"online": 5, "phone": 3, "reception": 2}
STATUS_WEIGHTS = {
    Booking.Status.COMPLETED: 82,
    Booking.Status.CANCELLED: 12,
    Booking.Status.NO_SHOW: 6,
}
REFUNDED_SHARE = 0.03  # of the completed visits paid at the institution
UNRECORDED_DAYS = 4  # over the last days before today, some visits' attendance is still to be recorded
UNRECORDED_SHARE = 0.3
ATTEMPTS_PER_BOOKING = 30


@dataclass
class Source:
    """Where a group of history bookings comes from: a built-in channel mix or one partnership."""

    offers: list[tuple[Physician, Location, Service, list[engine.Interval]]]
    target: int
    booked_by: User | None
    partnership: Partnership | None = None


def past_bookings(institution: Institution, today: date):
    """The institution's bookings that started before today (local days of the institution)."""
    midnight = datetime.combine(today, time(), tzinfo=ZoneInfo(institution.time_zone))
    return Booking.objects.filter(institution=institution, starts_at__lt=midnight)


@transaction.atomic
def demo_history(*, institution: Institution, reception: User, today: date) -> int:
    """About HISTORY_TARGET past bookings over the last HISTORY_DAYS days; none if a past one exists."""
    if past_bookings(institution, today).exists():
        return 0
    rng = random.Random(HISTORY_SEED)
    date_from, date_until = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1)
    closed = _public_holidays(date_from, date_until)
    sources = _partner_sources(institution, date_from, date_until, closed)
    own_target = max(HISTORY_TARGET - sum(source.target for source in sources), 0)
    own = Source(_offers(institution, date_from, date_until, closed), own_target, reception)
    channels = {c.code: c for c in TrafficChannel.objects.filter(institution=institution, partner=None)}
    codes = [code for code in CHANNEL_WEIGHTS if code in channels]
    patients = list(Patient.objects.filter(institution=institution).order_by("insurance_id"))
    if not patients or not codes:
        return 0
    busy: dict[int, list[engine.Interval]] = {}
    tz = ZoneInfo(institution.time_zone)
    queue = [own] * own.target + [source for source in sources for _ in range(source.target)]
    rng.shuffle(queue)
    created = 0
    for source in queue:
        if not source.offers:
            continue
        picked = _free_slot(source, busy, rng)
        if picked is None:
            continue
        physician, location, service, slot = picked
        status = _status(slot, today, tz, rng)
        if source.partnership is None:
            code = rng.choices(codes, weights=[CHANNEL_WEIGHTS[code] for code in codes])[0]
            channel = channels[code]
        else:
            channel = source.partnership.channel
        booking = Booking(
            institution=institution,
            location=location,
            physician=physician,
            service=service,
            patient=rng.choice(patients),
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=status,
            payment_status=_payment_status(status, rng),
            attendance_recorded_at=_attendance_recorded_at(status, slot, rng),
            channel=channel,
            booked_by=source.booked_by,
            price=service.price,
            currency=service.currency,
        )
        if source.partnership is not None:  # what booking_create captures, through the same function
            capture_partner_terms(booking, terms_of(source.partnership))
            partner_patient_capture(booking, booking.patient)
        booking.save()
        # When it was made (1–21 days ahead) and, if so, cancelled: in the past, before it started.
        made_at = slot.starts_at - timedelta(days=rng.randint(1, 21), minutes=rng.randrange(0, 600, 5))
        cancelled_at = None
        if status == Booking.Status.CANCELLED:
            cancelled_at = made_at + (slot.starts_at - made_at) * rng.uniform(0.3, 0.95)
        Booking.objects.filter(pk=booking.pk).update(created_at=made_at, cancelled_at=cancelled_at)
        if status != Booking.Status.CANCELLED:
            busy.setdefault(physician.pk, []).append(slot)
        created += 1
    return created


def _public_holidays(date_from: date, date_until: date) -> set[date]:
    years = range(date_from.year, date_until.year + 1)
    return {day for year in years for day, _name in hungarian_public_holidays(year)}


def _free_slot(source: Source, busy: dict, rng: random.Random):
    """A random grid slot of one of the source's offers that no active booking of the physician overlaps."""
    for _attempt in range(ATTEMPTS_PER_BOOKING):
        physician, location, service, slots = rng.choice(source.offers)
        if not slots:
            continue
        slot = rng.choice(slots)
        if any(slot.overlaps(taken) for taken in busy.get(physician.pk, ())):
            continue
        # Check the database too (the PostgreSQL exclusion constraint would refuse an overlap anyway).
        if active_bookings(physician=physician, starts=slot.starts_at, ends=slot.ends_at).exists():
            continue
        return physician, location, service, slot
    return None


def _status(slot: engine.Interval, today: date, tz: ZoneInfo, rng: random.Random) -> str:
    """A past visit's outcome; one of the last days may still be booked (its attendance not recorded)."""
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    recent = slot.starts_at.astimezone(tz).date() >= today - timedelta(days=UNRECORDED_DAYS)
    if status != Booking.Status.CANCELLED and recent and rng.random() < UNRECORDED_SHARE:
        return Booking.Status.BOOKED
    return status


def _payment_status(status: str, rng: random.Random) -> str:
    """Paid at the desk on the day of a completed visit, now and then refunded; else not paid."""
    if status != Booking.Status.COMPLETED:
        return Booking.PaymentStatus.UNPAID
    if rng.random() < REFUNDED_SHARE:
        return Booking.PaymentStatus.REFUNDED
    return Booking.PaymentStatus.PAID


def _attendance_recorded_at(status: str, slot: engine.Interval, rng: random.Random) -> datetime | None:
    """When the desk recorded the outcome: from ten minutes before the visit's end to two hours after."""
    if status not in (Booking.Status.COMPLETED, Booking.Status.NO_SHOW):
        return None
    return slot.ends_at + timedelta(minutes=rng.randrange(-10, 120, 5))


def _offers(
    institution: Institution,
    date_from: date,
    date_until: date,
    closed: set[date],
    *,
    partnership: Partnership | None = None,
    not_before: datetime | None = None,
) -> list:
    """Every (physician, location, service) with its grid slots over the days, in a stable order.

    For a partnership only its authorised services at its authorised locations.
    """
    services = institution.services.filter(is_active=True).order_by("name")
    if partnership is not None:
        services = services.filter(pk__in=partnership.services.values("pk"))
    tz = ZoneInfo(institution.time_zone)
    offers = []
    for service in services:
        locations = service.locations.filter(is_active=True)
        if partnership is not None:
            locations = locations.filter(pk__in=partnership.locations.values("pk"))
        allowed = set(locations.values_list("pk", flat=True))
        for physician in service.physicians.filter(is_active=True).order_by("full_name"):
            for location in physician.locations.filter(is_active=True).order_by("name"):
                if location.pk not in allowed:
                    continue
                intervals = working_intervals_for(
                    physician=physician, location=location, date_from=date_from, date_until=date_until
                )
                slots = [
                    slot
                    for slot in engine.grid_slots(intervals, timedelta(minutes=service.duration_minutes))
                    if slot.starts_at.astimezone(tz).date() not in closed
                    and (not_before is None or slot.starts_at >= not_before)
                ]
                offers.append((physician, location, service, slots))
    return offers


def _partner_sources(institution: Institution, date_from: date, date_until: date, closed: set[date]):
    """One source per active partnership: CallCenter Ltd with many bookings, any other with a few."""
    sources = []
    partnerships = (
        Partnership.objects.filter(institution=institution, status=Partnership.Status.ACTIVE)
        .select_related("partner", "channel")
        .order_by("partner__name", "pk")
    )
    for partnership in partnerships:
        # The partner's booking agent (a user who may book), before its administrator.
        bookers = Membership.objects.filter(
            organization=partnership.partner, is_active=True, can_book=True
        ).select_related("user")
        agent = min(
            bookers, key=lambda m: (m.role != Membership.Role.PARTNER_USER, m.user.email), default=None
        )
        not_before = partnership.activated_at or datetime.min.replace(tzinfo=UTC)
        offers = _offers(
            institution, date_from, date_until, closed, partnership=partnership, not_before=not_before
        )
        target = CALLCENTER_TARGET if partnership.partner.name == CALLCENTER_NAME else OTHER_PARTNER_TARGET
        sources.append(Source(offers, target, agent.user if agent else None, partnership))
    return sources
