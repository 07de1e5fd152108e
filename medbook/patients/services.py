"""Writes to the patient register."""

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting
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

    A partner without patient-data access gets the same answer whatever the TAJ (P-15): a new record,
    flagged `registered_by_partner`, which the institution merges with its own if the TAJ is registered.
    A partner with access is sent to the search for a registered TAJ; nobody is attached by TAJ silently.

    Every refusal is raised before the writes, which `_patient_insert` makes atomically: inside a booking's
    transaction without a savepoint of its own (issue 20), so a caller that catches a refusal carries on in
    a clean transaction, and a failed write aborts the caller's block.
    """
    if actor is not None and actor.partner is not None:
        if terms is None:
            raise NotPermitted()
        institution_id = require_terms(actor, terms, institution_id=terms.institution_id).institution_id
    else:
        require(actor, Perm.MANAGE_PATIENTS)
        institution_id = acting(actor.institution).pk
    taj = insurance_id_checked(insurance_id)
    shares_taj = (
        bool(taj) and Patient.objects.filter(institution_id=institution_id, insurance_id=taj).exists()
    )
    if terms is not None and terms.patient_data_access and shares_taj:
        raise DomainError(
            _("A patient with this TAJ number is registered: find them with the search."),
            field="insurance_id",
        )
    if (
        terms is None and shares_taj
    ):  # the staff's register holds one record per TAJ (a partner's may repeat it)
        held = Patient.objects.filter(
            institution_id=institution_id,
            insurance_id=taj,
            registered_by_partner=False,
            registered_online=False,
        )
        if held.exists():
            raise DomainError(
                _("A patient with this health-insurance number is already registered."), field="insurance_id"
            )
    return _patient_insert(
        actor=actor,
        institution_id=institution_id,
        full_name=full_name,
        birth_date=birth_date,
        email=email,
        phone=phone,
        taj=taj,
        terms=terms,
        shares_taj=shares_taj,
    )


def patient_online_register(
    *,
    actor: Actor,
    institution_id: int,
    full_name: str,
    birth_date,
    email: str,
    phone: str = "",
    insurance_id: str = "",
) -> Patient:
    """The record a patient booking online (issue 22) books for, once they proved `email`.

    The register is never an oracle: a person who proved the e-mail address is the register's record only
    when exactly one record of the institution (not a partner's) has that e-mail address (case ignored),
    birth date and name (case and repeated spaces ignored); otherwise a new record marked
    `registered_online`, which the staff merge on the duplicates page. A reused record keeps its details:
    a phone or TAJ number typed online never overwrites them. The caller answers the same either way.
    """
    if actor is None or not actor.online:
        raise NotPermitted()
    taj = insurance_id_checked(insurance_id)
    name = " ".join(full_name.split())
    candidates = Patient.objects.filter(
        institution_id=institution_id,
        email__iexact=email,
        birth_date=birth_date,
        registered_by_partner=False,
    ).only("pk", "full_name", "institution_id")
    same = [
        patient for patient in candidates if " ".join(patient.full_name.split()).casefold() == name.casefold()
    ]
    if len(same) == 1:
        return same[0]
    return _patient_insert(
        actor=actor,
        institution_id=institution_id,
        full_name=name,
        birth_date=birth_date,
        email=email,
        phone=phone,
        taj=taj,
        terms=None,
        shares_taj=False,
        online=True,
    )


@transaction.atomic(savepoint=False)
def _patient_insert(
    *,
    actor: Actor,
    institution_id: int,
    full_name: str,
    birth_date,
    email: str,
    phone: str,
    taj: str,
    terms: PartnerTerms | None,
    shares_taj: bool,
    online: bool = False,
) -> Patient:
    """The checked patient's record and its audit row (`patient_create` checked it)."""
    patient = Patient.objects.create(
        institution_id=institution_id,
        full_name=full_name,
        birth_date=birth_date,
        email=email,
        phone=phone,
        insurance_id=taj,
        registered_by_partner=terms is not None,
        registered_online=online,
    )
    details = {"registered_by_partner": True, "shares_taj": shares_taj} if terms is not None else {}
    if online:
        details = {"registered_online": True}
    audit_record(actor=actor, action=AuditAction.PATIENT_CREATE, obj=patient, **details)
    return patient


@transaction.atomic
def patient_update(*, actor: Actor, patient: Patient, **fields) -> Patient:
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


# The details a merge may take from the duplicate, each only when the staff chose it (issue 19).
MERGE_FIELDS = ("full_name", "birth_date", "email", "phone", "insurance_id")


def merge_differences(*, keep: Patient, duplicate: Patient) -> list[str]:
    """The details (of MERGE_FIELDS) on which the duplicate differs from the kept record."""
    return [name for name in MERGE_FIELDS if getattr(keep, name) != getattr(duplicate, name)]


@transaction.atomic
def patient_merge(*, actor: Actor, keep: Patient, duplicate: Patient, take: Collection[str] = ()) -> Patient:
    """Merge a duplicate record (e.g. one a partner registered, P-15) into the kept one: its bookings move
    over and the duplicate is deleted; audited. The kept record keeps its own details but for those the
    staff chose, field by field, to take from the duplicate (`take`): a partner-typed e-mail or phone never
    becomes the register's unasked, so the patient's mail keeps going where the institution knows it goes
    (issue 19). A partner's view of its bookings is unchanged (`medbook.scheduling.patient_shown`)."""
    require(actor, Perm.MANAGE_PATIENTS, keep)
    require(actor, Perm.MANAGE_PATIENTS, duplicate)
    if set(take) - set(MERGE_FIELDS):
        raise DomainError(_("Choose, for each detail, which record's value to keep."))
    locked = {p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk])}
    if keep.pk == duplicate.pk or len(locked) != 2:
        raise DomainError(_("Choose two different records of the register to merge."))
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    taken = [name for name in merge_differences(keep=keep, duplicate=duplicate) if name in take]
    if "insurance_id" in taken:
        _taj_free_for(keep=keep, duplicate=duplicate)
    moved = list(duplicate.bookings.values_list("pk", flat=True))
    duplicate.bookings.update(patient=keep)
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_MERGE,
        obj=keep,
        duplicate_id=duplicate.pk,
        duplicate_name=duplicate.full_name,
        duplicate_registered_by_partner=duplicate.registered_by_partner,
        bookings_moved=moved,
        fields_taken=taken,
    )
    duplicate.delete()  # first: the TAJ it may give the kept record is then free
    for name in taken:
        setattr(keep, name, getattr(duplicate, name))
    if taken:
        keep.save(update_fields=taken)
    return keep


def _taj_free_for(*, keep: Patient, duplicate: Patient) -> None:
    """Refuse taking the duplicate's TAJ number when another record of the register holds it."""
    if keep.registered_by_partner or keep.registered_online or not duplicate.insurance_id:
        return
    held = Patient.objects.filter(
        institution_id=keep.institution_id,
        insurance_id=duplicate.insurance_id,
        registered_by_partner=False,
        registered_online=False,
    ).exclude(pk__in=[keep.pk, duplicate.pk])
    if held.exists():
        raise DomainError(
            _("A patient with this health-insurance number is already registered."), field="insurance_id"
        )


@transaction.atomic
def patient_register_read(
    *, actor: Actor, view: str, patients, query: str = "", page: int | None = None
) -> None:
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
