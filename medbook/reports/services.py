"""The writes of the reports: cancelling a partner's booking from "Partner-submitted statistics" (R-3), and
the audit row of every statement exported (X-3)."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.reports import exports
from medbook.reports.selectors import Statement
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


EXPORTERS = {"csv": exports.statement_csv, "xlsx": exports.statement_xlsx}


@transaction.atomic
def statement_export(*, actor, statement: Statement, fmt: str) -> bytes:
    """The statement as a CSV or XLSX file; who downloaded which one is audited for the institution (X-3)."""
    content = EXPORTERS[fmt](statement)
    audit_record(
        actor=actor,
        action=AuditAction.STATEMENT_EXPORT,
        obj=statement.partner,
        institution_id=statement.institution.pk,
        format=fmt,
        date_from=statement.period.date_from.isoformat(),
        date_until=statement.period.date_until.isoformat(),
        bookings=statement.bookings,
    )
    return content
