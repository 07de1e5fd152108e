"""What a booking's webhook event carries (X-7), and to whom: the institution and, for a partner's
booking, that partner, each the booking's patient as it sees it (`patient_shown`: a partner is sent the
patient it entered or picked when booking, never what a merge put on the record since). Never the note."""

from medbook.scheduling.models import Booking
from medbook.scheduling.patient_shown import ShownPatient, booking_patient
from medbook.webhooks.services import webhook_enqueue


def booking_data(booking: Booking, patient: ShownPatient) -> dict:
    return {
        "booking": {
            "id": booking.pk,
            "status": booking.status,
            "payment_status": booking.payment_status,
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "institution": {"id": booking.institution_id, "name": booking.institution.name},
            "location": {"id": booking.location_id, "name": booking.location.name},
            "physician": {"id": booking.physician_id, "name": booking.physician.full_name},
            "service": {"id": booking.service_id, "name": booking.service.name},
            "partner_id": booking.partner_id,
            "patient": {"id": patient.id, "name": patient.full_name},
            "cancel_reason": booking.cancel_reason,
            "patient_confirmed_at": booking.patient_confirmed_at.isoformat()
            if booking.patient_confirmed_at
            else None,
        }
    }


def booking_event(booking: Booking, event: str) -> None:
    """Enqueue the event for the booking's institution's and partner's endpoints, in this transaction."""

    def data_for(organization_id: int) -> dict:
        # The partner is sent the patient it entered or picked when booking: whether its partnership grants
        # patient-data access is the partner side's to say, not this layer's (issue 19).
        institution = organization_id == booking.institution_id
        return booking_data(booking, booking_patient(booking, register_access=institution))

    webhook_enqueue(
        organization_ids=[booking.institution_id, booking.partner_id or 0], event=event, data_for=data_for
    )
