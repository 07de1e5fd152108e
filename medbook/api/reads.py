"""Reads through the JSON API and FHIR that show patients' data, audited (X-3; issue 19): one entry per
request and institution, naming the bookings and the patients shown, as the pages audit the register."""

from collections.abc import Iterable

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.tenancy import Actor
from medbook.scheduling.models import Booking


def bookings_read(*, actor: Actor, view: str, bookings: Iterable[Booking]) -> None:
    """Record that the actor was shown these bookings (each names its patient); nothing shown, nothing kept.

    A partner's bookings may lie at several institutions: each institution's log gets the part that is its.
    """
    by_institution: dict[int, list[Booking]] = {}
    for booking in bookings:
        by_institution.setdefault(booking.institution_id, []).append(booking)
    for institution_id, shown in sorted(by_institution.items()):
        audit_record(
            actor=actor,
            action=AuditAction.BOOKING_READ,
            obj=None,  # the ids say what was read; a booking's text would copy the patient's name here
            institution_id=institution_id,
            view=view,
            booking_ids=[booking.pk for booking in shown],
            patient_ids=sorted({booking.patient_id for booking in shown}),
        )
