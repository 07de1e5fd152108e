"""Everything that writes bookings and channels: one transaction each, the acting user first."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.errors import DomainError, NotPermitted, SlotUnavailable
from medbook.core.permissions import Perm, partner_may_book, require
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.partners.selectors import partner_booking_check
from medbook.patients.models import Patient
from medbook.scheduling import selectors
from medbook.scheduling import slots as engine
from medbook.scheduling.models import Booking, TrafficChannel

DEFAULT_CHANNELS = (("online", _("Online")), ("phone", _("Phone")), ("reception", _("Reception")))
EXCLUSION_VIOLATION = "23P01"


def channels_create_defaults(*, institution: Institution) -> None:
    """Give an institution its built-in traffic channels (online, phone, reception)."""
    for position, (code, name) in enumerate(DEFAULT_CHANNELS):
        TrafficChannel.objects.get_or_create(
            institution=institution, code=code, defaults={"name": str(name), "position": position}
        )


def _check_offer(*, location: Location, physician: Physician, service: Service) -> None:
    """Refuse a combination the institution does not offer."""
    if not (location.institution_id == physician.institution_id == service.institution_id):
        raise DomainError(_("The location, physician and service must belong to one institution."))
    if not (location.is_active and physician.is_active and service.is_active):
        raise DomainError(_("This location, physician or service is not available for booking."))
    if not physician.locations.filter(pk=location.pk).exists():
        raise DomainError(_("The physician does not work at this location."), field="physician")
    if not service.locations.filter(pk=location.pk).exists():
        raise DomainError(_("This service is not offered at this location."), field="service")
    if not service.physicians.filter(pk=physician.pk).exists():
        raise DomainError(_("This physician does not provide this service."), field="service")


def _in_utc(starts_at: datetime) -> datetime:
    """Refuse a naive start time and turn an aware one into UTC.

    Python adds a timedelta to an aware datetime on its wall clock: 02:30 CEST + 30 minutes on the night
    the clocks go back is 03:00 CET, ninety real minutes later. In UTC the arithmetic is real time.
    """
    if timezone.is_naive(starts_at):
        raise DomainError(_("The start time must carry a time zone."), field="starts_at")
    return starts_at.astimezone(UTC)


def _check_time(
    *, location: Location, physician: Physician, starts_at: datetime, ends_at: datetime, exclude_pk=None
) -> None:
    """Refuse a time in the past, outside working hours, or overlapping an active booking."""
    if starts_at <= timezone.now():
        raise DomainError(_("A booking cannot start in the past."), field="starts_at")
    tz = ZoneInfo(physician.institution.time_zone)
    local_day = starts_at.astimezone(tz).date()
    intervals = selectors.working_intervals_for(
        physician=physician, location=location, date_from=local_day, date_until=local_day
    )
    if not engine.inside_working_hours(engine.Interval(starts_at, ends_at), intervals):
        raise DomainError(_("This time is outside the physician's working hours."), field="starts_at")
    overlapping = selectors.active_bookings(physician=physician, starts=starts_at, ends=ends_at)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    if overlapping.exists():
        raise SlotUnavailable()


def _save_guarded(booking: Booking) -> None:
    """Save, turning the database's refusal of an overlap (B-8) into SlotUnavailable."""
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        if getattr(error.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotUnavailable() from error
        raise


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
) -> Booking:
    """Book the service with the physician at the location for the patient, from starts_at.

    A partner's user books only authorised services at authorised locations of an active partnership
    (P-3, P-4, P-9), only on a free slot of the grid, through the partner's channel; the partnership's
    commission rule and payment location are captured on the booking (P-5, P-6, B-7).
    """
    partnership = _partnership_for(actor=actor, location=location, service=service)
    _check_offer(location=location, physician=physician, service=service)
    if patient.institution_id != location.institution_id:
        raise DomainError(_("Unknown patient."), field="patient")
    institution = location.institution
    if partnership is not None:
        channel = partnership.channel
    channel = channel or selectors.default_channel(institution=institution)
    if channel.institution_id != institution.pk:
        raise DomainError(_("Unknown traffic channel."), field="channel")
    if not channel.is_active:
        raise DomainError(_("This traffic channel is not in use."), field="channel")
    starts_at = _in_utc(starts_at)
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    _check_time(location=location, physician=physician, starts_at=starts_at, ends_at=ends_at)
    if partnership is not None:
        _check_on_grid(location=location, physician=physician, service=service, starts_at=starts_at)
    booking = Booking(
        institution=institution,
        location=location,
        physician=physician,
        service=service,
        patient=patient,
        starts_at=starts_at,
        ends_at=ends_at,
        channel=channel,
        booked_by=actor.user,
        price=service.price,
        currency=service.currency,
        note=note,
    )
    if partnership is not None:
        _capture_partner_terms(booking, partnership)
    _save_guarded(booking)
    return booking


def _partnership_for(*, actor, location: Location, service: Service):
    """The partnership a partner's user books under (checked), or None for the institution's own staff."""
    if actor is None or actor.partner is None:
        require(actor, Perm.BOOK, location)
        return None
    if not partner_may_book(actor):
        raise NotPermitted()
    return partner_booking_check(
        partner=actor.partner, institution=location.institution, location=location, service=service
    )


def _check_on_grid(
    *, location: Location, physician: Physician, service: Service, starts_at: datetime
) -> None:
    """Partners get the availability rules strictly: only a free slot of the grid (P-12)."""
    day = starts_at.astimezone(ZoneInfo(physician.institution.time_zone)).date()
    free = selectors.available_slots(
        physician=physician, location=location, service=service, date_from=day, date_until=day
    )
    if not any(slot.starts_at == starts_at for slot in free):
        raise SlotUnavailable()


def _capture_partner_terms(booking: Booking, partnership) -> None:
    """Capture who referred the booking, the commission rule in force and where the patient pays."""
    booking.partner_id = partnership.partner_id
    if partnership.commission_enabled:
        booking.commission_percent = partnership.commission_percent
        booking.commission_fixed = partnership.commission_fixed
    if partnership.payment_location == "partner":
        booking.payment_status = Booking.PaymentStatus.PAID_AT_PARTNER


@transaction.atomic
def booking_move(*, actor, booking: Booking, starts_at: datetime) -> Booking:
    """Move an active future booking to another free start time with the same physician and location."""
    require(actor, Perm.BOOK, booking)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.BOOKED:
        raise DomainError(_("Only a booked appointment can be moved."))
    if booking.starts_at <= timezone.now():
        raise DomainError(_("An appointment that has started cannot be moved."))
    starts_at = _in_utc(starts_at)
    ends_at = starts_at + (booking.ends_at - booking.starts_at)
    _check_time(
        location=booking.location,
        physician=booking.physician,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude_pk=booking.pk,
    )
    booking.starts_at, booking.ends_at = starts_at, ends_at
    _save_guarded(booking)
    return booking


@transaction.atomic
def booking_cancel(*, actor, booking: Booking) -> Booking:
    """Cancel a booked appointment; its slot becomes free again."""
    require(actor, Perm.BOOK, booking)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.BOOKED:
        raise DomainError(_("Only a booked appointment can be cancelled."))
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.save(update_fields=["status", "cancelled_at", "updated_at"])
    return booking
