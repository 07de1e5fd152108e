"""Reads of the patient register, narrowed to the actor's institution."""

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from medbook.audit.services import audit_record
from medbook.core.errors import NotPermitted
from medbook.core.permissions import Perm, partner_may_see_patients, require, require_partner_booking
from medbook.core.tenancy import scoped
from medbook.patients.models import Patient

MIN_QUERY_LENGTH = 2


def patient_search(*, actor, query: str, limit: int = 10) -> QuerySet[Patient] | list:
    """Patients whose name, insurance id, email or phone contains the query (at least two characters)."""
    require(actor, Perm.VIEW_PATIENTS)
    query = (query or "").replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
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


PARTNER_MIN_QUERY_LENGTH = 3
PARTNER_RESULT_LIMIT = 5
TAJ_LENGTH = 9


def partner_patient_search(*, actor, partnership, query: str, request=None) -> list[Patient]:
    """A partner's search of the institution's patients while booking (P-7): a few matches, audited.

    Only with patient-data access at an active partnership; at least three characters of the name, or a
    whole TAJ number; at most five results; every search is written to the audit log (X-3).
    """
    _require_patient_access(actor, partnership)
    query = " ".join((query or "").replace("\x00", "").split())  # PostgreSQL text cannot hold NUL
    if len(query) < PARTNER_MIN_QUERY_LENGTH:
        return []
    compact = query.replace(" ", "").replace("-", "")
    if compact.isdigit():
        condition = Q(insurance_id=compact) if len(compact) == TAJ_LENGTH else Q(pk__in=[])
    else:
        condition = Q(full_name__icontains=query)
    results = list(
        Patient.objects.filter(institution_id=partnership.institution_id)
        .filter(condition)
        .order_by("full_name", "pk")[:PARTNER_RESULT_LIMIT]
    )
    audit_record(
        actor=actor,
        action="patient.partner_search",
        obj=partnership,
        request=request,
        query=query,
        result_ids=[patient.pk for patient in results],
    )
    return results


def partner_patient_open(*, actor, partnership, patient_id, request=None) -> Patient:
    """One of the institution's patients, picked by a partner with access (P-7), audited; else 404."""
    _require_patient_access(actor, partnership)
    try:
        patient_id = int(patient_id)
    except (TypeError, ValueError):
        raise Http404() from None
    patient = Patient.objects.filter(institution_id=partnership.institution_id, pk=patient_id).first()
    if patient is None:
        raise Http404()
    audit_record(
        actor=actor, action="patient.partner_open", obj=patient, request=request, partner=actor.partner.name
    )
    return patient


def _require_patient_access(actor, partnership) -> None:
    require_partner_booking(actor)
    if partnership.partner_id != actor.partner.pk or not partner_may_see_patients(partnership):
        raise NotPermitted(_("Your organisation has no access to this institution's patient data."))
