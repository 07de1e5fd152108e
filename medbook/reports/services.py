"""The one write of the reports: cancelling a partner's booking from "Partner-submitted statistics" (R-3)."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.scheduling.models import Booking
from medbook.scheduling.services import booking_cancel

SOURCE = "partner-submitted statistics"


@transaction.atomic
def partner_booking_cancel(*, actor, booking: Booking) -> Booking:
    """Cancel a partner's booking from the report: booking_cancel frees the slot, audits the act (X-3) and
    tells the partner (N-4) through the outbox, in this same transaction."""
    require(actor, Perm.ADMINISTER, booking)
    if booking.partner_id is None:
        raise DomainError(_("Only a booking made by a partner can be cancelled from this report."))
    return booking_cancel(actor=actor, booking=booking, source=SOURCE)
