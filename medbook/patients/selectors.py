"""Reads of the patient register, narrowed to the actor's institution."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.core.errors import NotPermitted
from medbook.core.ids import parse_id
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting, scoped
from medbook.core.terms import PartnerTerms
from medbook.core.text import fold
from medbook.patients.models import Patient
from medbook.patients.restriction import patients_in_use

MIN_QUERY_LENGTH = 2


def patient_search(*, actor: Actor, query: str, limit: int = 10) -> QuerySet[Patient] | list:
    """Patients whose name, insurance id, email or phone contains the query (at least two characters)."""
    require(actor, Perm.VIEW_PATIENTS)
    query = (query or "").replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    if len(query) < MIN_QUERY_LENGTH:
        return []
    compact = query.replace(" ", "").replace("-", "")
    condition = Q(search_name__contains=fold(query)) | Q(email__icontains=query) | Q(phone__icontains=query)
    if compact.isdigit():
        condition |= Q(insurance_id__startswith=compact)
    return scoped(Patient, actor).filter(condition)[:limit]


def patient_list(*, actor: Actor) -> QuerySet[Patient]:
    """The actor's institution's register."""
    require(actor, Perm.VIEW_PATIENTS)
    return scoped(Patient, actor)


def patient_duplicate_groups(*, actor: Actor) -> list[list[Patient]]:
    """The records of the register that share a TAJ number, a group per number, the institution's own
    (not partner-registered) and oldest first: the one to keep when merging (P-15)."""
    require(actor, Perm.MANAGE_PATIENTS)
    shared = (
        scoped(Patient, actor)
        .exclude(insurance_id="")
        .values("insurance_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("insurance_id", flat=True)
    )
    groups: dict[str, list[Patient]] = {}
    records = scoped(Patient, actor).filter(insurance_id__in=list(shared))
    for patient in records.order_by("insurance_id", "registered_by_partner", "created_at", "pk"):
        groups.setdefault(patient.insurance_id, []).append(patient)
    return list(groups.values())


PARTNER_MIN_QUERY_LENGTH = 3
PARTNER_RESULT_LIMIT = 5
TAJ_LENGTH = 9


def partner_patient_search(*, terms: PartnerTerms, query: str) -> tuple[str, list[Patient]]:
    """The query as read and its matches among the institution's patients, for a partner whose terms grant
    patient-data access (P-7): at least three characters of the name, or a whole TAJ number; at most five
    results. The partner side audits every search (`medbook.partners.services.booking`)."""
    _require_patient_data(terms)
    query = partner_query_clean(query)
    if len(query) < PARTNER_MIN_QUERY_LENGTH:
        return query, []
    compact = query.replace(" ", "").replace("-", "")
    if compact.isdigit():
        condition = Q(insurance_id=compact) if len(compact) == TAJ_LENGTH else Q(pk__in=[])
    else:
        condition = Q(search_name__contains=fold(query))  # "nemeth" finds "Németh"
    results = list(
        patients_in_use(Patient.objects.filter(institution_id=terms.institution_id))
        .filter(condition)
        .order_by("full_name", "pk")[:PARTNER_RESULT_LIMIT]
    )
    return query, results


def partner_query_clean(query: str) -> str:
    """A partner's search as it is read: whitespace collapsed, NUL dropped (PostgreSQL text cannot hold it)."""
    return " ".join((query or "").replace("\x00", "").split())


def partner_query_runs(query: str) -> bool:
    """Whether a partner's (cleaned) search reaches the register, and so counts against the quotas."""
    return len(query) >= PARTNER_MIN_QUERY_LENGTH


def partner_patient_get(*, terms: PartnerTerms, patient_id) -> Patient:
    """One of the institution's patients for a partner whose terms grant patient-data access; else 404."""
    _require_patient_data(terms)
    patient = (
        patients_in_use(Patient.objects.filter(institution_id=terms.institution_id))
        .filter(pk=parse_id(patient_id))
        .first()
    )
    if patient is None:
        raise Http404()
    return patient


def _require_patient_data(terms: PartnerTerms) -> None:
    if not terms.patient_data_access:
        raise NotPermitted(_("Your organisation has no access to this institution's patient data."))


@dataclass(frozen=True)
class Attendance:
    """The attendance memory of a patient (issue 22): of the visits whose outcome the desk recorded, how
    many the patient missed."""

    no_shows: int
    visits: int


# The recorded outcomes of a visit, as the bookings' status spells them (scheduling.Booking.Status; this
# layer reads the patient's bookings through the reverse relation and imports nothing above it).
COMPLETED, NO_SHOW = "completed", "no_show"


def attendance_of(patient: Patient) -> Attendance:
    """How many of the patient's past visits (completed or no-show) were no-shows, in one query."""
    figures = Patient.objects.filter(pk=patient.pk).aggregate(
        visits=Count("bookings", filter=Q(bookings__status__in=(COMPLETED, NO_SHOW))),
        no_shows=Count("bookings", filter=Q(bookings__status=NO_SHOW)),
    )
    return Attendance(no_shows=figures["no_shows"] or 0, visits=figures["visits"] or 0)


@dataclass(frozen=True)
class Visits:
    """A patient's visits at one institution (issue 23): the upcoming ones, soonest first, and the past ones,
    latest first, at most VISITS_SHOWN of each (`more_upcoming`, `more_past`: some were left out)."""

    upcoming: list[Any]  # scheduling.Booking (this layer imports nothing above it)
    past: list[Any]
    more_upcoming: bool
    more_past: bool


VISITS_SHOWN = 50


def patient_visits(*, actor: Actor, patient: Patient, now: datetime | None = None) -> Visits:
    """The patient's visits (every status) at the actor's institution, with the physician, service,
    location, channel, partner and booker of each read along: two queries, however many visits. Only
    institution staff see a patient's record; another institution's visits are never among them."""
    require(actor, Perm.VIEW_PATIENTS)
    institution = acting(actor.institution)
    if patient.institution_id != institution.pk:
        raise Http404()
    now = now or timezone.now()
    bookings = patient.bookings.filter(institution_id=institution.pk).select_related(
        "physician", "service", "location", "channel", "partner", "booked_by"
    )
    upcoming = list(bookings.filter(ends_at__gt=now).order_by("starts_at", "pk")[: VISITS_SHOWN + 1])
    past = list(bookings.filter(ends_at__lte=now).order_by("-starts_at", "-pk")[: VISITS_SHOWN + 1])
    return Visits(
        upcoming=upcoming[:VISITS_SHOWN],
        past=past[:VISITS_SHOWN],
        more_upcoming=len(upcoming) > VISITS_SHOWN,
        more_past=len(past) > VISITS_SHOWN,
    )
