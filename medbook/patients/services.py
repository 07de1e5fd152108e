"""Writes to the patient register."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor
from medbook.core.terms import PartnerTerms, require_terms
from medbook.patients.models import Patient
from medbook.patients.validators import normalise_taj


def insurance_id_checked(value: str) -> str:
    """The nine digits of a valid TAJ number (or ""), whichever way the patient's details came in."""
    if not value:
        return ""
    try:
        return normalise_taj(value)
    except ValidationError as error:
        raise DomainError(error.messages[0], field="insurance_id") from None


def _same_name(first: str, second: str) -> bool:
    return " ".join(first.split()).casefold() == " ".join(second.split()).casefold()


@transaction.atomic
def patient_create(
    *,
    actor: Actor,
    full_name: str,
    birth_date=None,
    email: str = "",
    phone: str = "",
    insurance_id: str = "",
    terms: PartnerTerms | None = None,
) -> Patient:
    """Register a patient in the institution's register: by its staff, or by a partner booking for the
    patient (with the terms `medbook.partners.access` resolved); the institution owns the data.

    For a partner, a TAJ number already registered is the same person only if the name matches too; a
    partner without patient-data access learns nothing else about the register.
    """
    if actor is not None and actor.partner is not None:
        if terms is None:
            raise NotPermitted()
        institution_id = require_terms(actor, terms, institution_id=terms.institution_id).institution_id
    else:
        require(actor, Perm.MANAGE_PATIENTS)
        institution_id = actor.institution.pk
    taj = insurance_id_checked(insurance_id)
    if terms is not None and taj:
        existing = Patient.objects.filter(institution_id=institution_id, insurance_id=taj).first()
        if existing is not None:
            if _same_name(existing.full_name, full_name):
                return existing
            if terms.patient_data_access:
                message = _("A patient with this TAJ number is registered: find them with the search.")
            else:
                message = _("These details do not match the institution's records; check the name and TAJ.")
            raise DomainError(message, field="insurance_id")
    patient = Patient.objects.create(
        institution_id=institution_id,
        full_name=full_name,
        birth_date=birth_date,
        email=email,
        phone=phone,
        insurance_id=taj,
    )
    audit_record(actor=actor, action=AuditAction.PATIENT_CREATE, obj=patient)
    return patient


@transaction.atomic
def patient_update(*, actor, patient: Patient, **fields) -> Patient:
    """Change a patient's details."""
    require(actor, Perm.MANAGE_PATIENTS, patient)
    if "insurance_id" in fields:
        fields["insurance_id"] = insurance_id_checked(fields["insurance_id"])
    changed = sorted(name for name, value in fields.items() if getattr(patient, name) != value)
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.save()
    audit_record(actor=actor, action=AuditAction.PATIENT_UPDATE, obj=patient, fields=changed)
    return patient


@transaction.atomic
def patient_register_read(*, actor, view: str, patients, query: str = "", page: int | None = None) -> None:
    """Record that staff were shown these patients of the register (list, search or one record; X-3)."""
    require(actor, Perm.VIEW_PATIENTS)
    shown = [patient.pk for patient in patients]
    details: dict = {"view": view, "patient_ids": shown}
    if query:
        details["query"] = query[:200]
    if page is not None:
        details["page"] = page
    if view == "record" and len(patients) == 1:
        audit_record(actor=actor, action=AuditAction.PATIENT_VIEW, obj=patients[0])
    else:
        audit_record(actor=actor, action=AuditAction.PATIENT_REGISTER_READ, obj=None, **details)
