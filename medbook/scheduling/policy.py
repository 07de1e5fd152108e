"""The institution's booking rules (B-11), in one place: how far ahead, how late a partner may act, the grid,
when a booking counts as started, and when the desk may record its attendance and payment.

The slot search, the calendars, the booking services and the API all ask these functions, so a rule set on
the institution's settings page holds wherever a booking is made, moved, cancelled or marked.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from medbook.core.errors import Conflict, SameDayVisits
from medbook.institutions.models import Institution, Physician, Service
from medbook.patients.models import Patient
from medbook.patients.selectors import attendance_of
from medbook.scheduling.models import Booking

Status, Payment = Booking.Status, Booking.PaymentStatus
# What the desk records: the patient came, did not come, or (undo) nothing recorded after all.
ATTENDANCE_CHOICES = (Status.COMPLETED, Status.NO_SHOW, Status.BOOKED)
# Where a payment status recorded by the desk may go; "paid at partner" is captured at booking and kept.
PAYMENT_STEPS: dict[str, tuple[str, ...]] = {
    Payment.UNPAID: (Payment.PAID,),
    Payment.PAID: (Payment.REFUNDED, Payment.UNPAID),  # unpaid: a mistaken "paid" corrected
    Payment.REFUNDED: (),
}


class Scheduled(Protocol):
    """What the start and cancel rules read of a booking: a Booking, or a report's line of one."""

    @property
    def status(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...


def slot_step(*, institution: Institution, duration_minutes: int) -> timedelta:
    """Minutes between slot starts: the institution's grid, or the service's own duration."""
    return timedelta(minutes=institution.slot_grid_minutes or duration_minutes)


def earliest_start(*, institution: Institution, partner: bool, now: datetime | None = None) -> datetime:
    """The earliest start a new booking may have: now, and for a partner now plus the cut-off."""
    now = now or timezone.now()
    if partner:
        return now + timedelta(minutes=institution.partner_cutoff_minutes)
    return now


def latest_start(*, institution: Institution, now: datetime | None = None) -> datetime:
    """The latest start a booking may have: the booking horizon from now."""
    return (now or timezone.now()) + timedelta(days=institution.booking_horizon_days)


def check_start(*, institution: Institution, starts_at: datetime, partner: bool) -> None:
    """Refuse a start time in the past, beyond the horizon, or (for a partner) inside the cut-off."""
    now = timezone.now()
    if starts_at <= now:
        raise Conflict(_("A booking cannot start in the past."), field="starts_at")
    if starts_at > latest_start(institution=institution, now=now):
        raise Conflict(
            _("Appointments can be booked at most %(days)s days ahead.")
            % {"days": institution.booking_horizon_days},
            field="starts_at",
        )
    if partner and starts_at < earliest_start(institution=institution, partner=True, now=now):
        raise Conflict(_cutoff_message(institution), field="starts_at")


def check_partner_change(*, institution: Institution, starts_at: datetime) -> None:
    """Refuse a partner's move or cancellation of an appointment that starts inside the cut-off."""
    if starts_at < earliest_start(institution=institution, partner=True):
        raise Conflict(_cutoff_message(institution))


def patient_earliest_start(*, institution: Institution, now: datetime | None = None) -> datetime:
    """The earliest start a patient may still cancel or move, or move to: now plus the patient cut-off."""
    return (now or timezone.now()) + timedelta(minutes=institution.patient_cutoff_minutes)


def check_patient_change(*, institution: Institution, starts_at: datetime) -> None:
    """Refuse a patient's move or cancellation (through the manage link) of an appointment, or a move to a
    time, that starts inside the institution's patient cut-off (`patient_cutoff_refusal`)."""
    if message := patient_cutoff_refusal(institution=institution, starts_at=starts_at):
        field = "starts_at" if institution.patient_cutoff_minutes else None
        raise Conflict(message, field=field)


def patient_cutoff_refusal(
    *, institution: Institution, starts_at: datetime, now: datetime | None = None
) -> str | None:
    """Why a patient may not change an appointment starting (or move one to) `starts_at` now, or None: it is
    inside the institution's patient cut-off (`patient_earliest_start`)."""
    if starts_at >= patient_earliest_start(institution=institution, now=now):
        return None
    minutes = institution.patient_cutoff_minutes
    if minutes == 0:
        return str(_("An appointment that has started cannot be changed."))
    if minutes % 60 == 0:
        return ngettext(
            "Appointments can be cancelled or moved here up to %(hours)s hour before they start: "
            "please call the institution.",
            "Appointments can be cancelled or moved here up to %(hours)s hours before they start: "
            "please call the institution.",
            minutes // 60,
        ) % {"hours": minutes // 60}
    return ngettext(
        "Appointments can be cancelled or moved here up to %(minutes)s minute before they start: "
        "please call the institution.",
        "Appointments can be cancelled or moved here up to %(minutes)s minutes before they start: "
        "please call the institution.",
        minutes,
    ) % {"minutes": minutes}


def patient_change_refusal(booking: Booking, now: datetime | None = None) -> str | None:
    """Why the patient may not cancel or move the booking through its manage link now, or None: only a
    booked appointment, before the patient cut-off. The manage page offers Move and Cancel only when it is
    None (as `cancel_refusal` for the desk); the services refuse by `check_patient_change`."""
    if booking.status != Status.BOOKED:
        return str(_("Only a booked appointment can be changed."))
    return patient_cutoff_refusal(institution=booking.institution, starts_at=booking.starts_at, now=now)


def release_window(institution: Institution) -> timedelta | None:
    """How long before the visit a partner's booking the patient has not confirmed is released (cancelled),
    or None when the institution keeps them (`release_unconfirmed_hours` empty, the default)."""
    hours = institution.release_unconfirmed_hours
    return timedelta(hours=hours) if hours else None


def online_approval_needed(*, institution: Institution, patient: Patient) -> bool:
    """Whether a patient's own online booking waits for the desk's approval: the institution asks for it
    (`online_approval_no_shows`, empty by default: never) and the patient's no-shows reached that number
    (`patients.selectors.attendance_of`, read only when the setting is on)."""
    threshold = institution.online_approval_no_shows
    if not threshold:
        return False
    return attendance_of(patient).no_shows >= threshold


@dataclass(frozen=True)
class SameDayVisit:
    """Another visit of the patient on the day being booked, as the booker may see it: its time always; its
    physician and service only for the institution's staff and for the partner that booked it (P-13: to a
    partner, another's booking is only busy)."""

    starts_at: datetime
    physician: Physician | None = None
    service: Service | None = None


def same_day_visits(
    *, patient: Patient, institution: Institution, starts_at: datetime, partner_id: int | None = None
) -> list[SameDayVisit]:
    """The patient's visits (not cancelled) at the institution on the local day (the institution's zone) of
    `starts_at`, earliest first, as the institution's staff see them or, with `partner_id`, that partner."""
    zone = ZoneInfo(institution.time_zone)
    day = starts_at.astimezone(zone).date()
    bookings = (
        Booking.objects.filter(
            patient_id=patient.pk,
            institution_id=institution.pk,
            starts_at__gte=datetime.combine(day, time.min, tzinfo=zone),
            starts_at__lt=datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
        )
        .exclude(status=Status.CANCELLED)
        .select_related("physician", "service")
        .order_by("starts_at", "pk")
    )
    return [
        SameDayVisit(booking.starts_at, booking.physician, booking.service)
        if partner_id is None or booking.partner_id == partner_id
        else SameDayVisit(booking.starts_at)
        for booking in bookings
    ]


def same_day_refuse(
    *, patient: Patient, institution: Institution, starts_at: datetime, partner_id: int | None = None
) -> None:
    """Refuse a booking of the patient on a day they already have a visit at the institution (the booking
    pages, until the user ticks "I know, book anyway"; the JSON API and FHIR book regardless)."""
    visits = same_day_visits(
        patient=patient, institution=institution, starts_at=starts_at, partner_id=partner_id
    )
    if visits:
        raise SameDayVisits(patient=patient, visits=visits)


def _cutoff_message(institution: Institution) -> str:
    minutes = institution.partner_cutoff_minutes
    if minutes % 60 == 0:
        return ngettext(
            "Partners may book, move or cancel up to %(hours)s hour before the appointment.",
            "Partners may book, move or cancel up to %(hours)s hours before the appointment.",
            minutes // 60,
        ) % {"hours": minutes // 60}
    return ngettext(
        "Partners may book, move or cancel up to %(minutes)s minute before the appointment.",
        "Partners may book, move or cancel up to %(minutes)s minutes before the appointment.",
        minutes,
    ) % {"minutes": minutes}


def has_started(booking: Scheduled, now: datetime | None = None) -> bool:
    """Whether the appointment has started: from then on it is neither moved nor cancelled (F6), and the
    desk records what happened."""
    return booking.starts_at <= (now or timezone.now())


def cancel_refusal(booking: Scheduled, now: datetime | None = None) -> str | None:
    """Why the booking may not be cancelled now (by anyone; a partner also within its cut-off), or None:
    only a booked appointment that has not started (F6: a started visit keeps its value and commission).
    `booking_cancel` raises it and the pages offer "Cancel" only when it is None."""
    if booking.status != Status.BOOKED:
        return str(_("Only a booked appointment can be cancelled."))
    if has_started(booking, now):
        return str(_("An appointment that has started cannot be cancelled."))
    return None


def attendance_refusal(*, booking: Booking, status: str, now: datetime | None = None) -> str | None:
    """Why the desk may not record `status` (completed, no-show, or booked: undo) for the booking now, or None.

    Attendance is recorded once the appointment has started, unless it was cancelled. A recorded outcome
    may be corrected (completed and no-show swapped) or undone only on the local day (the institution's
    zone) it was recorded: after that reports and statements have counted it. Recording the status the
    booking already has is no change, and allowed.
    """
    now = now or timezone.now()
    if status not in ATTENDANCE_CHOICES:
        return str(_("Choose completed, no-show or undo."))
    if booking.status == Status.CANCELLED:
        return str(_("A cancelled appointment has no attendance to record."))
    if not has_started(booking, now):
        return str(_("Attendance can be recorded once the appointment has started."))
    recorded = booking.status != Status.BOOKED
    if (
        recorded
        and status != booking.status
        and not _same_local_day(booking, booking.attendance_recorded_at, now)
    ):
        return str(_("Attendance recorded on an earlier day can no longer be changed."))
    return None


def attendance_choices(booking: Booking, now: datetime | None = None) -> list[str]:
    """The attendance changes the desk may make to the booking now (its buttons)."""
    return [
        status
        for status in ATTENDANCE_CHOICES
        if status != booking.status and attendance_refusal(booking=booking, status=status, now=now) is None
    ]


def payment_refusal(*, booking: Booking, payment_status: str, now: datetime | None = None) -> str | None:
    """Why the desk may not record `payment_status` (paid, refunded, unpaid) for the booking now, or None.

    Only where the patient pays the institution (a "paid at partner" booking keeps what was captured), once
    the appointment has started and unless it was cancelled; only a paid appointment is refunded, and a
    refund is final. Recording the status the booking already has is no change, and allowed.
    """
    if payment_status not in PAYMENT_STEPS:
        return str(_("Choose paid, refunded or unpaid."))
    if booking.payment_status == Payment.PAID_AT_PARTNER:
        return str(_("The patient pays at the partner: this payment status stays as it was captured."))
    if payment_status == booking.payment_status:
        return None
    if booking.status == Status.CANCELLED:
        return str(_("A cancelled appointment has no payment to record."))
    if not has_started(booking, now):
        return str(_("Payment can be recorded once the appointment has started."))
    if payment_status == Payment.REFUNDED and booking.payment_status != Payment.PAID:
        return str(_("Only a paid appointment can be refunded."))
    if payment_status not in PAYMENT_STEPS.get(booking.payment_status, ()):
        return str(_("A refunded appointment stays refunded."))
    return None


def payment_choices(booking: Booking, now: datetime | None = None) -> list[str]:
    """The payment changes the desk may make to the booking now (its buttons)."""
    return [
        step
        for step in PAYMENT_STEPS
        if step != booking.payment_status
        and payment_refusal(booking=booking, payment_status=step, now=now) is None
    ]


def _same_local_day(booking: Booking, recorded_at: datetime | None, now: datetime) -> bool:
    """Whether `recorded_at` fell on today's local day in the booking's institution (unknown: no)."""
    if recorded_at is None:
        return False
    zone = ZoneInfo(booking.institution.time_zone)
    return recorded_at.astimezone(zone).date() == now.astimezone(zone).date()
