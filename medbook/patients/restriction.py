"""Whether a patient's record may be used (GDPR Art. 17, 18; issue 24): the one home of the rule.

A restricted patient (the institution restricted the record while a request is answered, or while an erasure
waits for what must be kept) and an erased one (its identity replaced) are kept, never used: nobody books
them, and partners neither find nor open them. The institution's own register still lists them, marked, so
that its staff can answer the patient. Bookings made before stay as they are. `docs/privacy.md` says why.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from medbook.core.errors import DomainError
from medbook.patients.models import Patient


def patient_in_use(patient: Patient) -> bool:
    """Whether the record may be used: neither restricted nor erased."""
    return patient.restricted_at is None and patient.erased_at is None


def patient_use_require(patient: Patient) -> None:
    """Refuse (a domain error on `patient`) any use of a restricted or erased record."""
    if patient.erased_at is not None:
        raise DomainError(_("This patient's data was erased: the record cannot be booked."), field="patient")
    if patient.restricted_at is not None:
        raise DomainError(
            _("This patient's data is restricted: the record is kept but cannot be booked."), field="patient"
        )


def patients_in_use(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """The records of `patients` that may be used (what partners may find and open)."""
    return patients.filter(restricted_at__isnull=True, erased_at__isnull=True)
