"""Reads of the patient register, narrowed to the actor's institution."""

from django.db.models import Q, QuerySet

from medbook.core.permissions import Perm, require
from medbook.core.tenancy import scoped
from medbook.patients.models import Patient

MIN_QUERY_LENGTH = 2


def patient_search(*, actor, query: str, limit: int = 10) -> QuerySet[Patient] | list:
    """Patients whose name, insurance id, email or phone contains the query (at least two characters)."""
    require(actor, Perm.VIEW_PATIENTS)
    query = (query or "").strip()
    if len(query) < MIN_QUERY_LENGTH:
        return []
    compact = query.replace(" ", "").replace("-", "")
    condition = Q(full_name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
    if compact.isdigit():
        condition |= Q(insurance_id__startswith=compact)
    return scoped(Patient, actor).filter(condition)[:limit]


def patient_list(*, actor) -> QuerySet[Patient]:
    """The actor's institution's register."""
    require(actor, Perm.VIEW_PATIENTS)
    return scoped(Patient, actor)
