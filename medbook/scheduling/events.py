"""What a booking's webhook event carries (X-7), and to whom: the institution and, for a partner's
booking, that partner, which both see the booking and its patient on their own pages. Never the note."""

from medbook.scheduling.models import Booking
from medbook.webhooks.services import webhook_enqueue


def booking_data(booking: Booking) -> dict:
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
            "patient": {"id": booking.patient_id, "name": booking.patient.full_name},
            "cancel_reason": booking.cancel_reason,
        }
    }


def booking_event(booking: Booking, event: str) -> None:
    """Enqueue the event for the booking's institution's and partner's endpoints, in this transaction."""
    webhook_enqueue(
        organization_ids=[booking.institution_id, booking.partner_id or 0],
        event=event,
        data=lambda: booking_data(booking),
    )
