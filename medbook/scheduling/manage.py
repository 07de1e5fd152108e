"""What a patient does with the manage link of a booking (B-14, P-16), what the desk does to the link, and
the release of partner bookings the patient never confirmed.

The patient is an actor with no user and no organisation: `Actor.patient_id`, set only here, from the
booking a live link opened (`manage_links.manage_link_booking`). The audit log records such an entry with
`by_patient` (the patient's id) in its details. A cancel or a move goes through the very services every
channel uses (`services.booking_cancel`, `services.booking_move`): the same audit action, webhook event,
partner e-mail (N-4) and patient e-mail, with the patient's own cut-off (`policy.check_patient_change`).

A patient moves a booking to another free time of the same service with the same physician at the same
place: what the partner or the desk chose (the physician, the place) stays, only the time changes, and
the partner's terms and the captured price stay valid. The times offered are the earliest free ones
after the patient's cut-off (the slot engine, `selectors.available_slots`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import Conflict, DomainError
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import SYSTEM, Actor
from medbook.institutions.models import Institution
from medbook.scheduling import policy, selectors, services
from medbook.scheduling.manage_links import manage_links_revoke
from medbook.scheduling.models import Booking

MOVE_DAYS = 28  # how far ahead from the cut-off the manage page looks for free times
MOVE_CHOICES = 24  # and how many it offers, earliest first
SOURCE_MANAGE_LINK = "manage_link"
SOURCE_RELEASE = "release_unconfirmed"


def patient_actor(*, booking: Booking, client_ip: str | None = None, request_id: str = "") -> Actor:
    """The booking's patient, acting through its manage link from `client_ip`."""
    return Actor(user=None, client_ip=client_ip, request_id=request_id, patient_id=booking.patient_id)


@dataclass(frozen=True)
class MoveDay:
    """A local day and the free start times offered on it."""

    day: datetime
    starts: list[datetime]


def patient_move_choices(*, booking: Booking, now: datetime | None = None) -> list[MoveDay]:
    """The earliest free times (at most MOVE_CHOICES) the patient may move the booking to, by local day."""
    now = now or timezone.now()
    institution = booking.institution
    if policy.patient_change_refusal(booking, now) is not None:
        return []
    tz = ZoneInfo(institution.time_zone)
    earliest = policy.patient_earliest_start(institution=institution, now=now)
    first_day = earliest.astimezone(tz).date()
    free = selectors.available_slots(
        physician=booking.physician,
        location=booking.location,
        service=booking.service,
        date_from=first_day,
        date_until=first_day + timedelta(days=MOVE_DAYS),
        now=now,
        ignore_booking=booking,
    )
    starts = [
        slot.starts_at for slot in free if slot.starts_at >= earliest and slot.starts_at != booking.starts_at
    ]
    days: dict = {}
    for start in starts[:MOVE_CHOICES]:
        days.setdefault(start.astimezone(tz).date(), []).append(start)
    return [MoveDay(day, day_starts) for day, day_starts in days.items()]


def patient_cancel(*, actor: Actor, booking: Booking) -> Booking:
    """Cancel the booking for its patient: the cancel service, with a reason the desk and the partner read."""
    with translation.override(booking.institution.language):
        reason = _("Cancelled by the patient through the link in their e-mail.")
    return services.booking_cancel(actor=actor, booking=booking, reason=reason, source=SOURCE_MANAGE_LINK)


def patient_move(*, actor: Actor, booking: Booking, starts_at: datetime) -> Booking:
    """Move the booking for its patient to another free time (same physician, place and service)."""
    return services.booking_move(actor=actor, booking=booking, starts_at=starts_at)


@transaction.atomic
def booking_patient_confirm(*, actor: Actor, booking: Booking) -> Booking:
    """Record that the patient wanted the booking a partner made for them (P-16); again is no change."""
    if actor.patient_id is None or booking.patient_id != actor.patient_id:
        raise Http404()
    locked = Booking.objects.select_for_update().select_related("institution").get(pk=booking.pk)
    if locked.partner_id is None:
        raise DomainError(_("This appointment needs no confirmation."))
    if locked.status != Booking.Status.BOOKED:
        raise Conflict(_("Only a booked appointment can be confirmed."))
    if locked.patient_confirmed_at is not None:
        return locked
    locked.patient_confirmed_at = timezone.now()
    locked.save(update_fields=["patient_confirmed_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.BOOKING_PATIENT_CONFIRM,
        obj=locked,
        patient_id=locked.patient_id,
        partner_id=locked.partner_id,
    )
    return locked


@transaction.atomic
def manage_link_revoke(*, actor: Actor, booking: Booking) -> int:
    """The desk revokes every link of a booking (a link sent to the wrong address, a lost phone)."""
    if actor.partner is not None:
        raise Http404()
    require(actor, Perm.BOOK, booking)
    revoked = manage_links_revoke(booking=booking)
    audit_record(actor=actor, action=AuditAction.MANAGE_LINK_REVOKE, obj=booking, revoked=revoked)
    return revoked


def partner_bookings_release(now: datetime | None = None) -> int:
    """Cancel the partner bookings their patients were asked to confirm and did not, once the institution's
    `release_unconfirmed_hours` before the visit is reached (a task of `run_worker`, WORKER_TASKS); the
    partner is told as of any cancellation (N-4). How many were released."""
    now = now or timezone.now()
    released = 0
    for institution in Institution.objects.filter(release_unconfirmed_hours__isnull=False):
        window = policy.release_window(institution)
        if window is None:
            continue
        due = (
            Booking.objects.filter(
                institution=institution,
                status=Booking.Status.BOOKED,
                partner__isnull=False,
                patient_confirmed_at__isnull=True,
                starts_at__gt=now,
                starts_at__lte=now + window,
            )
            .exclude(patient__email="")  # only a patient with an e-mail address was asked to confirm
            .order_by("starts_at")
        )
        with translation.override(institution.language):
            reason = _("Released: the patient did not confirm this booking in time.")
        for booking in due:
            try:
                services.booking_cancel(actor=SYSTEM, booking=booking, reason=reason, source=SOURCE_RELEASE)
            except Conflict:  # changed meanwhile (cancelled, started): nothing to release
                continue
            released += 1
    return released
