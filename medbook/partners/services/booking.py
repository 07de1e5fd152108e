"""Book to partner (P-11 … P-13): a partner's user books, moves, changes and cancels its own bookings and
finds the institution's patients (P-7). Each write asks `medbook.partners.access` for the partner's terms
and hands them to the one booking service the institution's staff use too."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.tenancy import Actor
from medbook.partners.access import access_booking_terms, access_own_booking, access_patient_data
from medbook.partners.models import Partnership
from medbook.partners.offers import Offer
from medbook.patients import selectors as patient_selectors
from medbook.patients.models import Patient
from medbook.patients.services import patient_create
from medbook.scheduling import services as booking_services
from medbook.scheduling.models import Booking


@transaction.atomic
def partner_booking_create(
    *,
    actor: Actor,
    offer: Offer,
    starts_at: datetime,
    patient_id=None,
    new_patient: dict | None = None,
    note: str = "",
) -> Booking:
    """Book a free slot of an offer for a patient picked from the register (with access) or entered anew."""
    terms = access_booking_terms(actor=actor, location=offer.location, service=offer.service)
    if patient_id:
        patient = partner_patient_open(actor=actor, partnership=offer.partnership, patient_id=patient_id)
    elif new_patient:
        patient = patient_create(actor=actor, terms=terms, **new_patient)
    else:
        raise DomainError(_("Choose a patient or enter the patient's details."), field="patient")
    return booking_services.booking_create(
        actor=actor,
        location=offer.location,
        physician=offer.physician,
        service=offer.service,
        patient=patient,
        starts_at=starts_at,
        note=note,
        terms=terms,
    )


@transaction.atomic
def partner_booking_move(*, actor: Actor, booking: Booking, starts_at: datetime) -> Booking:
    """Move the partner's own booking to another free slot of the grid (P-13)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=True)
    return booking_services.booking_move(actor=actor, booking=booking, starts_at=starts_at, terms=terms)


@transaction.atomic
def partner_booking_note_set(*, actor: Actor, booking: Booking, note: str) -> Booking:
    """Change the note of the partner's own booking (P-13)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return booking_services.booking_note_set(actor=actor, booking=booking, note=note, terms=terms)


@transaction.atomic
def partner_booking_cancel(*, actor: Actor, booking: Booking) -> Booking:
    """Delete (cancel) the partner's own booking; the institution is told (P-13, N-4)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return booking_services.booking_cancel(
        actor=actor, booking=booking, terms=terms, source="book to partner"
    )


@transaction.atomic
def partner_patient_search(*, actor: Actor, partnership: Partnership, query: str) -> list[Patient]:
    """A partner's search of the institution's patients while booking (P-7): a few matches, audited (X-3)."""
    terms = access_patient_data(actor=actor, partnership=partnership)
    query, results = patient_selectors.partner_patient_search(terms=terms, query=query)
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_PARTNER_SEARCH,
        obj=partnership,
        query=query,
        result_ids=[patient.pk for patient in results],
    )
    return results


@transaction.atomic
def partner_patient_open(*, actor: Actor, partnership: Partnership, patient_id) -> Patient:
    """One of the institution's patients, picked by a partner with access (P-7), audited; else 404."""
    terms = access_patient_data(actor=actor, partnership=partnership)
    patient = patient_selectors.partner_patient_get(terms=terms, patient_id=patient_id)
    audit_record(
        actor=actor, action=AuditAction.PATIENT_PARTNER_OPEN, obj=patient, partner=terms.partner_name
    )
    return patient
