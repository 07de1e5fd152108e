"""What the platform holds about one patient, and what an erasure must keep (GDPR Art. 15, 17, 18, 20;
issue 24): the one home the pages (and later the API) read. Only the admins of the patient's institution;
another institution's patient is 404 (docs/privacy.md).

The export is one document (`SCHEMA`, described in docs/privacy.md): the JSON a patient takes away as it
is, and the printable page renders the same document in the institution's language and zone.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.models import AuditEntry
from medbook.audit.selectors import LISTING_KEYS, entries_about_patient
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, get_for_actor, scoped
from medbook.core.timefmt import when, zone_of
from medbook.notifications.models import OutboxMessage
from medbook.partners.models import Partnership
from medbook.patients.models import Patient
from medbook.privacy.models import DataRequest
from medbook.reports import money
from medbook.scheduling.models import Booking

SCHEMA = "medbook.patient-export/1"
# The outbox kinds of the e-mails written to the patient (medbook.scheduling.patient_mail and later ones).
PATIENT_MAIL_PREFIX = "patient_"
# The accounting records a booking's price and payment back (Hungary's Act C of 2000 on accounting, § 169):
# kept, anonymous, for eight years after the year of the visit.
ACCOUNTING_YEARS = 8


def patient_for_rights(*, actor: Actor, patient_id) -> Patient:
    """The patient, for an admin of its institution (another institution's, or a bad id, is 404)."""
    require(actor, Perm.ADMINISTER)
    return get_for_actor(Patient, actor, patient_id)


def patient_bookings(patient: Patient) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(patient=patient)
        .select_related("location", "physician", "service", "channel", "partner", "booked_by")
        .order_by("starts_at", "pk")
    )


def patient_audit_entries(*, actor: Actor, patient: Patient) -> QuerySet[AuditEntry]:
    """The institution's audit entries about the patient, oldest first."""
    entries = entries_about_patient(scoped(AuditEntry, actor), patient=patient)
    return entries.select_related("personal", "institution").order_by("created_at", "pk")


def patient_emails(patient: Patient) -> QuerySet[OutboxMessage]:
    """The e-mails written to the patient: those of the patient's bookings, and any other patient mail to
    the record's address."""
    references = Q()
    for pk in Booking.objects.filter(patient=patient).values_list("pk", flat=True):
        references |= Q(reference__startswith=f"booking:{pk}:")
    sent_to = Q(to_email__iexact=patient.email) if patient.email else Q(pk__in=[])
    mail = OutboxMessage.objects.filter(kind__startswith=PATIENT_MAIL_PREFIX)
    return mail.filter(references | sent_to if references else sent_to).order_by("created_at", "pk")


def partners_with_sight(patient: Patient) -> list[dict]:
    """The partners that could see the record: those that booked for the patient (they see their bookings'
    patient), and those whose partnership grants patient-data access (they may search and open it)."""
    seen: dict[int, dict] = {}
    for partner_id, name in (
        Booking.objects.filter(patient=patient, partner__isnull=False)
        .values_list("partner_id", "partner__name")
        .distinct()
    ):
        seen[partner_id] = {
            "id": partner_id,
            "name": name,
            "why": ["booked"],
            "access_since": None,
            "access_until": None,
        }
    access = Partnership.objects.filter(institution_id=patient.institution_id, patient_data_access=True)
    access = access.exclude(activated_at__isnull=True)
    for partnership in access.select_related("partner").order_by("activated_at"):
        row = seen.setdefault(
            partnership.partner_id,
            {
                "id": partnership.partner_id,
                "name": partnership.partner.name,
                "why": [],
                "access_since": None,
                "access_until": None,
            },
        )
        row["why"].append("patient_data_access")
        row["access_since"] = _iso(partnership.activated_at)
        row["access_until"] = _iso(partnership.ended_at)
    return sorted(seen.values(), key=lambda row: row["name"])


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _booking_row(booking: Booking) -> dict:
    user = booking.booked_by
    return {
        "id": booking.pk,
        "starts_at": _iso(booking.starts_at),
        "ends_at": _iso(booking.ends_at),
        "location": booking.location.name,
        "physician": booking.physician.full_name,
        "service": booking.service.name,
        "status": booking.status,
        "payment_status": booking.payment_status,
        "price": str(booking.price),
        "currency": booking.currency,
        "channel": booking.channel.display_name,
        "partner": {"id": booking.partner_id, "name": booking.partner.name} if booking.partner else None,
        "booked_by": {"name": user.get_full_name(), "email": user.email} if user is not None else None,
        "booked_at": _iso(booking.created_at),
        "attendance_recorded_at": _iso(booking.attendance_recorded_at),
        "cancelled_at": _iso(booking.cancelled_at),
        "cancel_reason": booking.cancel_reason,
        "note": booking.note,
        "entered_by_partner": (
            {"name": booking.partner_patient_name, "birth_date": _iso(booking.partner_patient_birth_date)}
            if booking.partner_id
            else None
        ),
    }


def _email_row(message: OutboxMessage) -> dict:
    return {
        "id": message.pk,
        "kind": message.kind,
        "to": message.to_email,
        "subject": message.subject,
        "status": message.status,
        "written_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
        "text": message.text_body,
    }


# What a listing entry (LISTING_KEYS) says of the other patients it showed: left out of a patient's export.
OTHERS = ("patient_ids", "result_ids", "booking_ids", "query")


def _audit_row(entry: AuditEntry) -> dict:
    details = entry.shown_details
    if entry.action in LISTING_KEYS:
        details = {key: value for key, value in details.items() if key not in OTHERS}
    return {
        "id": entry.pk,
        "at": _iso(entry.created_at),
        "who": entry.user_email,
        "acting_for": entry.organization_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object": entry.shown_repr,
        "ip_address": entry.ip_address,
        "details": details,
    }


def patient_export(*, actor: Actor, patient: Patient) -> dict:
    """Everything the platform holds about the patient, as the document `SCHEMA` (docs/privacy.md)."""
    institution = patient.institution
    return {
        "schema": SCHEMA,
        "generated_at": timezone.now().isoformat(),
        "time_zone": institution.time_zone,
        "controller": {
            "name": institution.name,
            "registration_number": institution.registration_number,
            "tax_number": institution.tax_number,
            "address": institution.address,
            "phone": institution.phone,
        },
        "patient": {
            "id": patient.pk,
            "full_name": patient.full_name,
            "birth_date": _iso(patient.birth_date),
            "email": patient.email,
            "phone": patient.phone,
            "insurance_id": patient.insurance_id,
            "registered_by_partner": patient.registered_by_partner,
            "registered_at": _iso(patient.created_at),
            "restricted_at": _iso(patient.restricted_at),
            "erased_at": _iso(patient.erased_at),
        },
        "bookings": [_booking_row(booking) for booking in patient_bookings(patient)],
        "emails": [_email_row(message) for message in patient_emails(patient)],
        "audit": [_audit_row(entry) for entry in patient_audit_entries(actor=actor, patient=patient)],
        "partners": partners_with_sight(patient),
        "requests": [
            {
                "kind": request.kind,
                "received_on": _iso(request.received_on),
                "due_on": _iso(request.due_on),
                "answered_at": _iso(request.answered_at),
                "outcome": request.outcome,
            }
            for request in DataRequest.objects.filter(patient=patient).order_by("received_on", "pk")
        ],
    }


@dataclass(frozen=True)
class Kept:
    """Something an erasure keeps, why, and until when (None: for as long as the thing it serves)."""

    what: str
    why: str
    until: str


@dataclass(frozen=True)
class Hold:
    """Something that needs the patient's identity a while longer: the erasure waits, restricted."""

    what: str
    until: str


def erasure_holds(patient: Patient, *, now: datetime | None = None) -> list[Hold]:
    """What still needs the patient's identity: upcoming visits (the desk must receive the patient), and
    partners' visits that took place but that no closed statement has settled yet (a line may still be
    disputed with the partner). While any holds, an erasure restricts the patient instead."""
    now = now or timezone.now()
    institution = patient.institution
    bookings = Booking.objects.filter(patient=patient)
    holds = []
    upcoming = bookings.filter(status=Booking.Status.BOOKED, ends_at__gt=now)
    last_visit = upcoming.aggregate(last=Max("ends_at"))["last"]
    if last_visit is not None:
        holds.append(
            Hold(
                what=_("%(count)s upcoming visits") % {"count": upcoming.count()},
                until=_("the last of them, %(when)s, or until they are cancelled")
                % {"when": when(last_visit, institution)},
            )
        )
    unsettled = (
        bookings.filter(partner__isnull=False, ends_at__lte=now)
        .filter(money.held())
        .exclude(statement_lines__isnull=False)
        .select_related("partner")
    )
    for partner_name, last in sorted(
        {(b.partner.name, b.starts_at) for b in unsettled if b.partner}, key=lambda pair: pair[1]
    ):
        holds.append(
            Hold(
                what=_("a visit through %(partner)s on %(when)s, not yet settled")
                % {"partner": partner_name, "when": when(last, institution, "date")},
                until=_("%(partner)s's statement covering it is closed") % {"partner": partner_name},
            )
        )
    return holds


def erasure_keeps(patient: Patient) -> list[Kept]:
    """What an erasure keeps of the patient, why and until when (shown before the admin erases)."""
    institution = patient.institution
    bookings = Booking.objects.filter(patient=patient)
    last = bookings.aggregate(last=Max("starts_at"))["last"]
    kept = []
    if last is not None:
        year = timezone.localtime(last, zone_of(institution)).year + ACCOUNTING_YEARS
        kept.append(
            Kept(
                what=_(
                    "%(count)s bookings, as anonymous rows: time, service, physician, price, payment, "
                    "attendance, channel and partner"
                )
                % {"count": bookings.count()},
                why=_("statistics, partners' statements and settlements, and the accounting law (8 years)"),
                until=_("the end of %(year)s") % {"year": year},
            )
        )
    kept.append(
        Kept(
            what=_("the audit log's entries about the patient, without their personal part"),
            why=_("the log's proofs: who did what and when stays provable"),
            until=_("as long as the audit log is kept"),
        )
    )
    legacy = patient_legacy_audit(patient)
    if legacy:
        kept.append(
            Kept(
                what=_(
                    "%(count)s audit entries written before personal parts were split off, which "
                    "name the patient in their signed part"
                )
                % {"count": legacy},
                why=_("changing them would break every proof of the audit log over them"),
                until=_("as long as the audit log is kept; only the institution's admins read them"),
            )
        )
    return kept


def patient_legacy_audit(patient: Patient) -> int:
    """How many entries about the patient still carry its name in their hashed part (written before the
    personal part was split off, audit migration 0006): an erasure cannot reach them."""
    entries = entries_about_patient(
        AuditEntry.objects.filter(institution_id=patient.institution_id), patient=patient
    )
    return (
        entries.filter(personal_hash="")
        .exclude(object_repr="")
        .filter(object_type__in=["patients.Patient", "scheduling.Booking"])
        .count()
    )
