"""Which patient the reader of a booking is shown (P-7, P-15, issue 19): the one home of the rule.

The institution's staff, and a partner whose partnership grants patient-data access, see the register's
record. A partner without that access sees only the patient as it entered (or picked) them when booking,
captured on the booking: never the name, birth date or id a later merge or edit put on the record, which
would tell it that the TAJ number it typed is registered, and under whom. Pages, the JSON API, FHIR and
the webhooks all ask `booking_patient`; the selectors a reader's bookings come through say whether the
register is granted (the `REGISTER_ACCESS` annotation), so a booking read any other way shows what its
partner entered.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet, Value
from django.db.models.expressions import BaseExpression

from medbook.patients.models import Patient
from medbook.scheduling.models import Booking

REGISTER_ACCESS = "patient_register_access"  # the annotation of a reader's bookings: True or False


@dataclass(frozen=True)
class ShownPatient:
    """A booking's patient as one reader sees it."""

    id: int | None
    full_name: str
    birth_date: date | None


def booking_patient(booking: Booking, *, register_access: bool | None = None) -> ShownPatient:
    """The patient the reader of the booking is shown: the register's record for a booking no partner made
    or a reader granted the register (`register_access`, by default as the selector the booking came
    through annotated it); else the patient as its partner entered them when booking."""
    if register_access is None:
        register_access = bool(getattr(booking, REGISTER_ACCESS, False))
    if booking.partner_id is None or register_access:
        patient = booking.patient
        return ShownPatient(patient.pk, patient.full_name, patient.birth_date)
    return ShownPatient(
        booking.partner_patient_ref, booking.partner_patient_name, booking.partner_patient_birth_date
    )


def partner_patient_capture(booking: Booking, patient: Patient) -> None:
    """Capture on a partner's new booking the patient as the partner entered or picked them."""
    booking.partner_patient_ref = patient.pk
    booking.partner_patient_name = patient.full_name
    booking.partner_patient_birth_date = patient.birth_date


def with_register_access(bookings: QuerySet[Booking], granted: bool | BaseExpression) -> QuerySet[Booking]:
    """Annotate a reader's bookings with whether the reader is shown the register's patient."""
    value = Value(granted) if isinstance(granted, bool) else granted
    return bookings.annotate(**{REGISTER_ACCESS: value})


def bookings_of_patient(bookings: QuerySet[Booking], patient_id: int) -> QuerySet[Booking]:
    """The bookings (annotated by `with_register_access`) whose patient, as their reader sees it
    (`booking_patient`), has this id."""
    register = Q(patient_id=patient_id) & (Q(partner__isnull=True) | Q(**{REGISTER_ACCESS: True}))
    entered = Q(partner_patient_ref=patient_id, partner__isnull=False, **{REGISTER_ACCESS: False})
    return bookings.filter(register | entered)
