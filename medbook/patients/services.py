"""Writes to the patient register."""

from django.core.exceptions import ValidationError
from django.db import transaction

from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
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


@transaction.atomic
def patient_create(
    *, actor, full_name: str, birth_date=None, email: str = "", phone: str = "", insurance_id: str = ""
) -> Patient:
    """Add a patient to the register of the actor's institution."""
    require(actor, Perm.MANAGE_PATIENTS)
    return Patient.objects.create(
        institution=actor.institution,
        full_name=full_name,
        birth_date=birth_date,
        email=email,
        phone=phone,
        insurance_id=insurance_id_checked(insurance_id),
    )


@transaction.atomic
def patient_update(*, actor, patient: Patient, **fields) -> Patient:
    """Change a patient's details."""
    require(actor, Perm.MANAGE_PATIENTS, patient)
    if "insurance_id" in fields:
        fields["insurance_id"] = insurance_id_checked(fields["insurance_id"])
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.save()
    return patient
