"""FHIR R4 resources as this server shows them: what an institution, its calendars, a free slot, a booking
and a patient look like to a FHIR client."""

from datetime import datetime
from typing import Any

from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.scheduling.models import Booking
from medbook.scheduling.patient_shown import ShownPatient, booking_patient

SERVICE_SYSTEM = "urn:medbook:service"
SPECIALTY_SYSTEM = (
    "urn:medbook:specialty"  # the code is the physician's specialty as the institution writes it
)
APPOINTMENT_STATUS = {
    Booking.Status.BOOKED: "booked",
    Booking.Status.CANCELLED: "cancelled",
    Booking.Status.COMPLETED: "fulfilled",
    Booking.Status.NO_SHOW: "noshow",
}
STATUS_OF_APPOINTMENT = {fhir: ours for ours, fhir in APPOINTMENT_STATUS.items()}


def organization(institution: Institution) -> dict:
    resource = {
        "resourceType": "Organization",
        "id": str(institution.pk),
        "active": True,
        "name": institution.name,
    }
    if institution.phone:
        resource["telecom"] = [{"system": "phone", "value": institution.phone}]
    if institution.address:
        resource["address"] = [{"text": institution.address}]
    return resource


def location(place: Location) -> dict:
    return {
        "resourceType": "Location",
        "id": str(place.pk),
        "status": "active" if place.is_active else "inactive",
        "name": place.name,
        "address": {"text": place.address},
        "managingOrganization": {"reference": f"Organization/{place.institution_id}"},
    }


def practitioner(physician: Physician) -> dict:
    return {
        "resourceType": "Practitioner",
        "id": str(physician.pk),
        "active": physician.is_active,
        "name": [{"text": physician.full_name}],
    }


def practitioner_role(physician: Physician, offers: list) -> dict:
    mine = [o for o in offers if o.physician.pk == physician.pk]
    return {
        "resourceType": "PractitionerRole",
        "id": str(physician.pk),
        "active": physician.is_active,
        "practitioner": {"reference": f"Practitioner/{physician.pk}", "display": physician.full_name},
        "organization": {"reference": f"Organization/{physician.institution_id}"},
        "specialty": specialty(physician),
        "location": [{"reference": f"Location/{pk}"} for pk in sorted({o.location.pk for o in mine})],
        "healthcareService": [
            {"reference": f"HealthcareService/{pk}"} for pk in sorted({o.service.pk for o in mine})
        ],
    }


def _service_type(service: Service) -> dict:
    return {"coding": [{"system": SERVICE_SYSTEM, "code": str(service.pk), "display": service.name}]}


def healthcare_service(service: Service, offers: list) -> dict:
    return {
        "resourceType": "HealthcareService",
        "id": str(service.pk),
        "active": service.is_active,
        "providedBy": {"reference": f"Organization/{service.institution_id}"},
        "type": [_service_type(service)],
        "name": service.name,
        "location": [
            {"reference": f"Location/{pk}"}
            for pk in sorted({o.location.pk for o in offers if o.service.pk == service.pk})
        ],
    }


def specialty(physician: Physician) -> list[dict]:
    text = " ".join(physician.specialty.split())
    if not text:
        return []
    return [{"coding": [{"system": SPECIALTY_SYSTEM, "code": text}], "text": text}]


def schedule_id(physician_id: int, location_id: int, service_id: int) -> str:
    """One Schedule per physician, location and service: `<physician>-<location>-<service>`."""
    return f"{physician_id}-{location_id}-{service_id}"


def slot_id(physician_id: int, location_id: int, service_id: int, starts_at: datetime) -> str:
    """A Slot's id: its Schedule's and its start in Unix seconds, `<physician>-<location>-<service>-<start>`,
    stable for as long as that slot exists."""
    return f"{schedule_id(physician_id, location_id, service_id)}-{int(starts_at.timestamp())}"


def schedule(offer) -> dict:
    """The Schedule of one physician giving one service at one location (one bookable calendar)."""
    physician, place, service = offer.physician, offer.location, offer.service
    resource = {
        "resourceType": "Schedule",
        "id": schedule_id(physician.pk, place.pk, service.pk),
        "active": True,
        "serviceType": [_service_type(service)],
        "actor": [
            {"reference": f"Practitioner/{physician.pk}", "display": physician.full_name},
            {"reference": f"PractitionerRole/{physician.pk}"},
            {"reference": f"Location/{place.pk}", "display": place.name},
            {"reference": f"HealthcareService/{service.pk}", "display": service.name},
        ],
    }
    if physician.specialty.strip():
        resource["specialty"] = specialty(physician)
    return resource


def slot(offer, starts_at: datetime, ends_at: datetime, status: str = "free") -> dict:
    """A Slot of one calendar: `free` to book, `busy` (an appointment takes that time), `busy-unavailable`
    (past, or not bookable by the reader now)."""
    physician, place, service = offer.physician, offer.location, offer.service
    resource = {
        "resourceType": "Slot",
        "id": slot_id(physician.pk, place.pk, service.pk, starts_at),
        "schedule": {"reference": f"Schedule/{schedule_id(physician.pk, place.pk, service.pk)}"},
        "serviceType": [_service_type(service)],
        "status": status,
        "start": starts_at,
        "end": ends_at,
    }
    if physician.specialty.strip():
        resource["specialty"] = specialty(physician)
    return resource


def patient(shown: ShownPatient) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(shown.id),
        "name": [{"text": shown.full_name}],
    }
    if shown.birth_date:
        resource["birthDate"] = shown.birth_date
    return resource


def appointment(booking: Booking) -> dict:
    shown = booking_patient(booking)  # as its reader sees it: what a partner without access entered
    return {
        "resourceType": "Appointment",
        "id": str(booking.pk),
        "status": APPOINTMENT_STATUS[Booking.Status(booking.status)],
        "serviceType": [_service_type(booking.service)],
        "start": booking.starts_at,
        "end": booking.ends_at,
        "created": booking.created_at,
        "minutesDuration": int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        "slot": [
            {
                "reference": "Slot/"
                + slot_id(booking.physician_id, booking.location_id, booking.service_id, booking.starts_at)
            }
        ],
        "participant": [
            {
                "actor": {"reference": f"Patient/{shown.id}", "display": shown.full_name},
                # A partner's booking the patient has not confirmed yet (P-16) awaits the patient's answer.
                "status": "needs-action"
                if booking.partner_id is not None and booking.patient_confirmed_at is None
                else "accepted",
            },
            {
                "actor": {
                    "reference": f"Practitioner/{booking.physician_id}",
                    "display": booking.physician.full_name,
                },
                "status": "accepted",
            },
            {
                "actor": {"reference": f"Location/{booking.location_id}", "display": booking.location.name},
                "status": "accepted",
            },
        ],
    }


PARTICIPANT_STATUS = {"proposed": "needs-action", "pending": "tentative", "cancelled": "declined"}


def appointment_offered(
    offer, starts_at: datetime, ends_at: datetime, *, resource_id: str, status: str
) -> dict:
    """An Appointment not booked (IHE scheduling): `proposed` (a free slot `$find` offers), `pending` (held
    for its holder by `$hold`) or `cancelled` (a hold released); no patient yet, the practitioner and the
    location required."""
    physician, place, service = offer.physician, offer.location, offer.service
    taking = PARTICIPANT_STATUS[status]
    resource = {
        "resourceType": "Appointment",
        "id": resource_id,
        "status": status,
        "serviceType": [_service_type(service)],
        "start": starts_at,
        "end": ends_at,
        "minutesDuration": int((ends_at - starts_at).total_seconds() // 60),
        "slot": [{"reference": f"Slot/{slot_id(physician.pk, place.pk, service.pk, starts_at)}"}],
        "participant": [
            {
                "actor": {"reference": f"Practitioner/{physician.pk}", "display": physician.full_name},
                "required": "required",
                "status": taking,
            },
            {
                "actor": {"reference": f"Location/{place.pk}", "display": place.name},
                "required": "required",
                "status": taking,
            },
        ],
    }
    if physician.specialty.strip():
        resource["specialty"] = specialty(physician)
    return resource
