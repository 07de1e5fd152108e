"""Writes to the patient register."""

from django.db import transaction

from medbook.core.permissions import Perm, require
from medbook.patients.models import Patient


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
        insurance_id=insurance_id,
    )


@transaction.atomic
def patient_update(*, actor, patient: Patient, **fields) -> Patient:
    """Change a patient's details."""
    require(actor, Perm.MANAGE_PATIENTS, patient)
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.save()
    return patient
