"""Closed statements (R-4): a partner's statement at an institution for a period, its figures frozen.

A closing keeps one line per booking it settled (and per correction it carried), with the amounts in whole
cents as they were when it was closed; a later change of a booking's attendance or payment never rewrites
them, it becomes an adjustment line of the next statement closed (medbook.reports.statements).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization
from medbook.institutions.models import Institution
from medbook.scheduling.models import Booking


class StatementClosing(models.Model):
    """A closed statement: numbered per institution, one partner, a period of local days, frozen totals."""

    tenant_path = "institution"

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="statement_closings")
    partner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="statement_closings_as_partner"
    )
    number = models.PositiveIntegerField(_("number"))
    date_from = models.DateField(_("from"))
    date_until = models.DateField(_("until"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    # The period's UTC instants [start, end): which bookings the closing covers, whatever zone reads it.
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    currency = models.CharField(_("currency"), max_length=3)
    closed_at = models.DateTimeField(_("closed"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bookings = models.PositiveIntegerField(_("held bookings"), default=0)
    adjustments = models.PositiveIntegerField(_("adjustments"), default=0)
    unsettled = models.PositiveIntegerField(_("not settled"), default=0)
    value_cents = models.BigIntegerField(default=0)
    commission_cents = models.BigIntegerField(default=0)
    to_partner_cents = models.BigIntegerField(default=0)
    to_institution_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("closed statement")
        verbose_name_plural = _("closed statements")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "number"], name="closing_number_unique"),
            models.UniqueConstraint(
                fields=["institution", "partner", "date_from"], name="closing_period_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(date_until__gte=models.F("date_from")), name="closing_until_after_from"
            ),
        ]
        indexes = [models.Index(fields=["institution", "partner", "period_start"])]

    def __str__(self) -> str:
        return f"{self.number} {self.partner_id} {self.date_from}–{self.date_until}"


class StatementLine(models.Model):
    """One booking on a closed statement: its amounts in cents (an adjustment's: the difference)."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Booking")
        ADJUSTMENT = "adjustment", _("Adjustment")

    tenant_path = "closing__institution"

    closing = models.ForeignKey(StatementClosing, on_delete=models.CASCADE, related_name="lines")
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="statement_lines")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # What the booking was when the statement was closed: what the amounts were computed from.
    status = models.CharField(_("status"), max_length=16, choices=Booking.Status.choices)
    payment_status = models.CharField(
        _("payment status"), max_length=16, choices=Booking.PaymentStatus.choices
    )
    held = models.BooleanField(_("held"))
    value_cents = models.BigIntegerField(default=0)
    commission_cents = models.BigIntegerField(default=0)
    to_partner_cents = models.BigIntegerField(default=0)
    to_institution_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.UniqueConstraint(fields=["closing", "booking"], name="closing_line_booking_unique")
        ]

    def __str__(self) -> str:
        return f"{self.closing_id} {self.kind} {self.booking_id}"
