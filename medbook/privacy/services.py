"""Serve a patient's data rights (GDPR Art. 15, 17, 18, 20; issue 24): record a request, export, restrict,
erase. Each write is one atomic service that audits itself; docs/privacy.md says what each keeps."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medbook.accounts.selectors import organization_admins
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.audit.selectors import entries_about_patient
from medbook.audit.services import audit_personal_erase, audit_record
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import SYSTEM, Actor
from medbook.core.timefmt import zone_of
from medbook.notifications.models import DigestEntry, OutboxMessage
from medbook.notifications.services import WITHDRAWABLE, notification_enqueue
from medbook.online.models import OnlineRequest
from medbook.patients.models import Patient
from medbook.privacy import rights
from medbook.privacy.models import DataRequest, one_month_after
from medbook.scheduling.manage_links import manage_links_revoke
from medbook.scheduling.models import Booking
from medbook.webhooks.models import WebhookDelivery, WebhookEvent
from medbook.webhooks.services import webhook_enqueue

ERASED_TEXT = "(erased)"  # what stored copies (e-mails, deliveries) read where the patient's details were


def institution_today(patient: Patient) -> date:
    """Today in the patient's institution's zone (a request's default date received)."""
    return timezone.localtime(timezone.now(), zone_of(patient.institution)).date()


@transaction.atomic
def data_request_record(*, actor: Actor, patient: Patient, kind: str, received_on: date) -> DataRequest:
    """Log a request as received (open until one of the services below answers it)."""
    require(actor, Perm.ADMINISTER, patient)
    request = DataRequest.objects.create(
        institution_id=patient.institution_id,
        patient=patient,
        kind=DataRequest.Kind(kind),
        received_on=received_on,
        due_on=one_month_after(received_on),
        recorded_by=actor.user,
    )
    audit_record(
        actor=actor,
        action=AuditAction.DATA_REQUEST_RECORD,
        obj=request,
        patient_id=patient.pk,
        kind=request.kind,
        received_on=received_on.isoformat(),
    )
    return request


def _answer(
    *, actor: Actor, patient: Patient, kind: str, received_on: date | None, outcome: str, reason: str = ""
) -> DataRequest:
    """Answer the patient's oldest open request of this kind, or log one received on `received_on` (today
    by default) and answer it now."""
    # An open request, or an erasure that waited (answered when the patient was restricted).
    waiting = Q(answered_at__isnull=True) | Q(
        kind=DataRequest.Kind.ERASURE, outcome=DataRequest.Outcome.RESTRICTED
    )
    request = (
        DataRequest.objects.select_for_update()
        .filter(waiting, patient=patient, kind=kind)
        .order_by("received_on", "pk")
        .first()
    )
    if request is None:
        received_on = received_on or institution_today(patient)
        request = DataRequest(
            institution_id=patient.institution_id,
            patient=patient,
            kind=kind,
            received_on=received_on,
            due_on=one_month_after(received_on),
            recorded_by=actor.user,
        )
    if request.answered_at is None:
        request.answered_at, request.answered_by = timezone.now(), actor.user
    request.outcome, request.reason = outcome, (reason or request.reason)[:300]
    request.save()
    return request


@transaction.atomic
def patient_export_record(
    *, actor: Actor, patient: Patient, portable: bool, received_on: date | None = None
) -> dict:
    """The patient's export (`rights.patient_export`), audited and answering the access (the readable
    page) or portability (the JSON) request."""
    require(actor, Perm.ADMINISTER, patient)
    document = rights.patient_export(actor=actor, patient=patient)
    kind = DataRequest.Kind.PORTABILITY if portable else DataRequest.Kind.ACCESS
    request = _answer(
        actor=actor, patient=patient, kind=kind, received_on=received_on, outcome=DataRequest.Outcome.EXPORTED
    )
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_EXPORT,
        obj=patient,
        format="json" if portable else "html",
        request_id_answered=request.pk,
        bookings=len(document["bookings"]),
        audit_entries=len(document["audit"]),
    )
    return document


@transaction.atomic
def patient_restrict(
    *, actor: Actor, patient: Patient, restrict: bool = True, received_on: date | None = None
) -> Patient:
    """Restrict the patient's record (kept, not used: `medbook.patients.restriction`), or lift it."""
    require(actor, Perm.ADMINISTER, patient)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if restrict and patient.restricted_at is None:
        patient.restricted_at = timezone.now()
        _answer(
            actor=actor,
            patient=patient,
            kind=DataRequest.Kind.RESTRICTION,
            received_on=received_on,
            outcome=DataRequest.Outcome.RESTRICTED,
        )
    elif not restrict:
        patient.restricted_at = None
    patient.save(update_fields=["restricted_at"])
    action = AuditAction.PATIENT_RESTRICT if restrict else AuditAction.PATIENT_RESTRICTION_LIFT
    audit_record(actor=actor, action=action, obj=patient)
    return patient


@dataclass(frozen=True)
class ErasureResult:
    erased: bool
    holds: list[rights.Hold]
    request: DataRequest


@transaction.atomic
def patient_erase(
    *, actor: Actor, patient: Patient, reason: str, received_on: date | None = None
) -> ErasureResult:
    """Erase the patient (Art. 17), or, while something still needs the identity (`rights.erasure_holds`),
    restrict it (Art. 18) and say until when; the admin erases once nothing holds.

    Erasing replaces the identity, removes the bookings' free text and the partners' copies, erases the
    personal part of every audit entry about the patient (the proofs stay valid), withdraws the e-mails
    not yet sent to the patient and empties the ones sent, and tells the partners (e-mail and the
    `patient.erased` webhook) to erase theirs. The bookings stay, anonymous: statistics, statements and
    settlements are unchanged."""
    require(actor, Perm.ADMINISTER, patient)
    if not (reason or "").strip():
        raise DomainError(
            _("Say why the patient's data is erased (the patient's request, for example)."), field="reason"
        )
    patient = Patient.objects.select_for_update().select_related("institution").get(pk=patient.pk)
    if patient.erased_at is not None:
        raise DomainError(_("This patient's data has already been erased."))
    holds = rights.erasure_holds(patient)
    if holds:
        if patient.restricted_at is None:
            patient.restricted_at = timezone.now()
            patient.save(update_fields=["restricted_at"])
            audit_record(actor=actor, action=AuditAction.PATIENT_RESTRICT, obj=patient, erasure_waits=True)
    outcome = DataRequest.Outcome.RESTRICTED if holds else DataRequest.Outcome.ERASED
    request = _answer(
        actor=actor,
        patient=patient,
        kind=DataRequest.Kind.ERASURE,
        received_on=received_on,
        outcome=outcome,
        reason=reason,
    )
    if holds:
        return ErasureResult(erased=False, holds=holds, request=request)
    patient_anonymise(actor=actor, patient=patient, request_id_answered=request.pk)
    return ErasureResult(erased=True, holds=[], request=request)


def patient_anonymise(*, actor: Actor, patient: Patient, **audit_details) -> None:
    """The erasure itself, for a patient nothing holds (`rights.erasure_holds`), inside the caller's
    transaction with the patient locked: `patient_erase` (an admin, answering a request) and the retention
    run (`medbook.privacy.retention`, the platform's `SYSTEM` actor) both erase through it."""
    bookings = list(Booking.objects.filter(patient=patient).select_related("institution"))
    _stored_copies_erase(patient, bookings, _secrets_of(patient, bookings))
    entries = entries_about_patient(
        AuditEntry.objects.filter(institution_id=patient.institution_id), patient=patient
    )
    audit_personal_erase(
        actor=None if actor is SYSTEM else actor,  # None: the platform's own erasure, every entry of it
        entry_ids=list(entries.values_list("pk", flat=True)),
        patient=patient,
    )
    _identity_replace(patient, bookings)
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_ERASE,
        obj=patient,
        bookings_kept=[b.pk for b in bookings],
        **audit_details,
    )
    _partners_tell(patient, bookings)


def _secrets_of(patient: Patient, bookings: list[Booking]) -> list[str]:
    """The patient's details as stored copies may spell them."""
    found = [s for s in (patient.full_name, patient.email, patient.phone, patient.insurance_id) if s]
    return found + [b.partner_patient_name for b in bookings if b.partner_patient_name]


def _identity_replace(patient: Patient, bookings: list[Booking]) -> None:
    """The record's identity replaced, the bookings' free text and the partners' copies removed."""
    with translation.override(patient.institution.language):
        patient.full_name = _("Erased patient %(id)s") % {"id": patient.pk}
    patient.birth_date, patient.email, patient.phone, patient.insurance_id = None, "", "", ""
    patient.erased_at, patient.restricted_at = timezone.now(), None
    patient.save()
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        note="", cancel_reason="", partner_patient_name="", partner_patient_birth_date=None
    )
    # What the patient typed booking online (kept a short while after the booking) goes, and no e-mailed
    # manage link opens the bookings any more.
    OnlineRequest.objects.filter(booking__in=[b.pk for b in bookings]).delete()
    for booking in bookings:
        manage_links_revoke(booking=booking)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, ERASED_TEXT)
    return text


def _stored_copies_erase(patient: Patient, bookings: list[Booking], secrets: list[str]) -> None:
    """The patient's e-mails withdrawn (unsent) and emptied; the patient's details taken out of the other
    stored e-mails, digests and webhook deliveries about the patient's bookings."""
    to_patient = rights.patient_emails(patient)
    to_patient.filter(status__in=WITHDRAWABLE).update(status=OutboxMessage.Status.WITHDRAWN, claim_token=None)
    to_patient.update(to_email="", subject=ERASED_TEXT, text_body="", html_body="", attachments=[])
    about = Q(pk__in=[])
    for booking in bookings:
        about |= Q(reference__startswith=f"booking:{booking.pk}:")
    stored = (
        (OutboxMessage, ("subject", "text_body", "html_body")),
        (DigestEntry, ("subject", "text", "html")),
    )
    for model, fields in stored:
        for row in model.objects.filter(about):
            for name in fields:
                setattr(row, name, _scrub(getattr(row, name), secrets))
            row.save(update_fields=list(fields))
    ids = [b.pk for b in bookings]
    for delivery in WebhookDelivery.objects.filter(payload__data__booking__id__in=ids):
        shown = delivery.payload.get("data", {}).get("booking", {}).get("patient")
        if isinstance(shown, dict) and "name" in shown:
            shown["name"] = ""
            delivery.save(update_fields=["payload"])


def _partners_tell(patient: Patient, bookings: list[Booking]) -> None:
    """Tell the partners that hold a copy (they booked for the patient, or may search the register) to
    erase theirs: their admins by e-mail, their endpoints (and the institution's) by `patient.erased`."""
    institution = patient.institution
    partner_ids = [row["id"] for row in rights.partners_with_sight(patient)]
    erased_at = timezone.now().isoformat()

    def data_for(organization_id: int) -> dict:
        own = [b for b in bookings if organization_id == institution.pk or b.partner_id == organization_id]
        known = {
            b.partner_patient_ref for b in own if b.partner_id == organization_id and b.partner_patient_ref
        }
        patient_id = patient.pk if organization_id == institution.pk or not known else sorted(known)[0]
        return {
            "patient": {"id": patient_id},
            "institution": {"id": institution.pk, "name": institution.name},
            "booking_ids": [b.pk for b in own],
            "erased_at": erased_at,
        }

    webhook_enqueue(
        organization_ids=[institution.pk, *partner_ids], event=WebhookEvent.PATIENT_ERASED, data_for=data_for
    )
    for partner_id in partner_ids:
        own = [b for b in bookings if b.partner_id == partner_id]
        for membership in organization_admins(partner_id):
            notification_enqueue(
                to=membership.user.email,
                template="patient_erased",
                template_dir="privacy/email",
                context={
                    "user": membership.user,
                    "institution": institution,
                    "bookings": own,
                    "time_zone": institution.time_zone,
                },
                language=membership.user.language,
                kind="partner_patient_erased",
                reference=f"patient:{patient.pk}:erased",
            )
