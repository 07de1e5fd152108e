"""The writes of the reports: cancelling a partner's booking from "Partner-submitted statistics" (R-3),
closing a partner's statement for a period (R-4), and the audit row of every statement exported (X-3)."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting
from medbook.reports import exports, statements
from medbook.reports.models import StatementClosing, StatementLine
from medbook.reports.money import AMOUNTS
from medbook.reports.selectors import Period, report_partners
from medbook.reports.statements import Statement
from medbook.scheduling.models import Booking
from medbook.scheduling.services import booking_cancel

SOURCE = "partner-submitted statistics"


@transaction.atomic
def partner_booking_cancel(*, actor: Actor, booking: Booking, reason: str = "") -> Booking:
    """Cancel a partner's booking from the report: booking_cancel frees the slot, keeps the reason, audits
    the act (X-3) and tells the partner (N-4, with the reason) through the outbox, in this same transaction."""
    require(actor, Perm.ADMINISTER, booking)
    if booking.partner_id is None:
        raise DomainError(_("Only a booking made by a partner can be cancelled from this report."))
    return booking_cancel(actor=actor, booking=booking, source=SOURCE, reason=reason)


@transaction.atomic
def statement_close(*, actor: Actor, partner: Organization, period: Period) -> StatementClosing:
    """Close the partner's statement for an ended period (R-4): freeze its lines and totals under the
    institution's next number, so that later corrections become adjustments of a later statement.

    Closings of one institution are taken one at a time (its row is locked), so two admins closing the same
    period at once get one closing and a clear refusal; the database's unique constraints (and, on
    PostgreSQL, an exclusion constraint on overlapping periods) refuse what slips past.
    """
    require(actor, Perm.ADMINISTER)
    institution = acting(actor.institution)
    if not report_partners(actor=actor).filter(pk=partner.pk).exists():
        raise DomainError(_("This partner has never worked with your institution."))
    if period.time_zone != institution.time_zone:
        period = Period(period.date_from, period.date_until, institution.time_zone)
    Organization.objects.select_for_update().filter(pk=institution.pk).first()
    existing = StatementClosing.objects.filter(institution=institution, partner=partner)
    overlaps = existing.filter(date_from__lte=period.date_until, date_until__gte=period.date_from)
    refusal = statements.close_refusal(institution=institution, period=period, overlaps=overlaps)
    if refusal:
        raise DomainError(refusal)
    statement = statements.open_statement(institution=institution, partner=partner, period=period)
    closing = _closing_create(actor=actor, statement=statement)
    StatementLine.objects.bulk_create(
        StatementLine(
            closing=closing,
            booking_id=row.booking_id,
            kind=row.kind,
            status=row.status,
            payment_status=row.payment_status,
            held=row.held,
            **{name: getattr(row, name) for name in AMOUNTS},
        )
        for row in [*statement.rows, *statement.unsettled, *statement.adjustments]
    )
    figures = statement.figures
    audit_record(
        actor=actor,
        action=AuditAction.STATEMENT_CLOSE,
        obj=closing,
        institution_id=institution.pk,
        number=closing.number,
        partner=partner.name,
        date_from=period.date_from.isoformat(),
        date_until=period.date_until.isoformat(),
        bookings=figures.bookings,
        adjustments=figures.adjustments,
        to_partner=str(figures.to_partner),
        to_institution=str(figures.to_institution),
    )
    return closing


def _closing_create(*, actor: Actor, statement: Statement) -> StatementClosing:
    """The closing row with the next number of the institution; a concurrent closing is a clear refusal."""
    institution, period, figures = statement.institution, statement.period, statement.figures
    start, end = period.bounds()
    last = StatementClosing.objects.filter(institution=institution).aggregate(last=Max("number"))["last"]
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives the refusal
            return StatementClosing.objects.create(
                institution=institution,
                partner=statement.partner,
                number=(last or 0) + 1,
                date_from=period.date_from,
                date_until=period.date_until,
                time_zone=period.time_zone,
                period_start=start,
                period_end=end,
                currency=institution.currency,
                closed_at=timezone.now(),
                closed_by=actor.user,
                bookings=figures.bookings,
                adjustments=figures.adjustments,
                unsettled=figures.unsettled,
                **{name: getattr(figures, name) for name in AMOUNTS},
            )
    except IntegrityError:
        raise DomainError(
            _("Someone closed a statement of your institution at the same moment. Reload and try again.")
        ) from None


EXPORTERS = {"csv": exports.statement_csv, "xlsx": exports.statement_xlsx}


@transaction.atomic
def statement_export(*, actor: Actor, statement: Statement, fmt: str) -> bytes:
    """The statement as a CSV or XLSX file; who downloaded which one is audited for the institution (X-3)."""
    content = EXPORTERS[fmt](statement)
    details = {
        "format": fmt,
        "date_from": statement.period.date_from.isoformat(),
        "date_until": statement.period.date_until.isoformat(),
        "bookings": statement.bookings,
    }
    if statement.closing is not None:
        details["number"] = statement.closing.number
    audit_record(
        actor=actor,
        action=AuditAction.STATEMENT_EXPORT,
        obj=statement.partner,
        institution_id=statement.institution.pk,
        **details,
    )
    return content
