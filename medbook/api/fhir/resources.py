"""FHIR R4 resources as this server shows them: what an institution, its calendars, a free slot, a booking
and a patient look like to a FHIR client."""

from datetime import datetime

from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.scheduling.models import Booking
from medbook.scheduling.patient_shown import booking_patient

SERVICE_SYSTEM = "urn:medbook:service"
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
        "specialty": [{"text": physician.specialty}],
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


def schedule(offers: list) -> dict:
    """The Schedule of one physician at one location, with the services of its calendars (`offers`)."""
    physician, place = offers[0].physician, offers[0].location
    return {
        "resourceType": "Schedule",
        "id": f"{physician.pk}-{place.pk}",
        "active": True,
        "serviceType": [_service_type(o.service) for o in offers],
        "actor": [
            {"reference": f"Practitioner/{physician.pk}", "display": physician.full_name},
            {"reference": f"Location/{place.pk}", "display": place.name},
        ],
    }


def slot(
    physician: Physician, place: Location, service: Service, starts_at: datetime, ends_at: datetime
) -> dict:
    return {
        "resourceType": "Slot",
        "id": f"{physician.pk}-{place.pk}-{service.pk}-{int(starts_at.timestamp())}",
        "schedule": {"reference": f"Schedule/{physician.pk}-{place.pk}"},
        "serviceType": [_service_type(service)],
        "status": "free",
        "start": starts_at,
        "end": ends_at,
    }


def patient(person) -> dict:
    resource = {"resourceType": "Patient", "id": str(person.pk), "name": [{"text": person.full_name}]}
    if person.birth_date:
        resource["birthDate"] = person.birth_date
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
                "reference": f"Slot/{booking.physician_id}-{booking.location_id}-{booking.service_id}-"
                f"{int(booking.starts_at.timestamp())}"
            }
        ],
        "participant": [
            {
                "actor": {"reference": f"Patient/{shown.id}", "display": shown.full_name},
                "status": "accepted",
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
