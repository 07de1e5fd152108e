"""Reads of the settlement (X-4, R-4): a partner's statement at an institution for a period, open or closed
(the settlement pages' figures of every partner at once are medbook.reports.summaries').

An open statement holds the bookings that start in the period and that no closed statement covers: the
held ones are its lines, the others (booked, cancelled, refunded, a no-show that earns nothing) are listed
as "not settled" and count in no total. It also carries the corrections: a booking of an earlier closed
period whose attendance or payment changed after it was closed, so that its held amounts now differ from
the ones frozen, appears as an adjustment of the difference, in every open statement of a later period,
until a statement carrying it is closed (that freezes the adjustment, so it never comes again).

Every amount is an expression of medbook.reports.money computed by the database in whole cents.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.accounts.models import Organization
from medbook.core.templatetags.money import money as money_text
from medbook.core.timefmt import when
from medbook.institutions.models import Institution
from medbook.reports.models import StatementClosing, StatementLine
from medbook.reports.money import AMOUNTS, held_flag, money, net_cents, statement_amounts
from medbook.reports.selectors import Period
from medbook.scheduling.models import Booking

Status = Booking.Status
Payment = Booking.PaymentStatus
Kind = StatementLine.Kind


@dataclass
class Figures:
    """The totals of a statement: held bookings, corrections, and the amounts in cents."""

    bookings: int = 0
    adjustments: int = 0
    unsettled: int = 0
    value_cents: int = 0
    commission_cents: int = 0
    to_partner_cents: int = 0
    to_institution_cents: int = 0

    def add_amounts(self, amounts) -> None:
        """Add the cents of a mapping (or an object) with the AMOUNTS."""
        for name in AMOUNTS:
            got = amounts.get(name) if isinstance(amounts, dict) else getattr(amounts, name)
            setattr(self, name, getattr(self, name) + int(got or 0))

    @property
    def value(self) -> Decimal:
        return money(self.value_cents)

    @property
    def commission(self) -> Decimal:
        return money(self.commission_cents)

    @property
    def to_partner(self) -> Decimal:
        return money(self.to_partner_cents)

    @property
    def to_institution(self) -> Decimal:
        return money(self.to_institution_cents)

    @property
    def net_cents(self) -> int:
        return net_cents(to_partner=self.to_partner_cents, to_institution=self.to_institution_cents)

    @property
    def net(self) -> Decimal:
        """The amount owed once both ways are set off (the direction says who pays it)."""
        return money(abs(self.net_cents))

    @property
    def direction(self) -> str:
        """Who pays the net: "institution" (to the partner), "partner" (to the institution), or ""."""
        if self.net_cents > 0:
            return "institution"
        return "partner" if self.net_cents < 0 else ""


def owed_text(*, institution: str, partner: str, figures: Figures, currency: str) -> str:
    """The net and its direction in words: "Northside Clinic owes CallCenter Ltd 12,345.00 HUF"."""
    if not figures.direction:
        return _("Nothing is owed either way.")
    debtor, creditor = (
        (institution, partner) if figures.direction == "institution" else (partner, institution)
    )
    return _("%(debtor)s owes %(creditor)s %(amount)s %(currency)s") % {
        "debtor": debtor,
        "creditor": creditor,
        "amount": money_text(figures.net),
        "currency": currency,
    }


@dataclass
class StatementRow:
    """One line of a statement: a booking (or a correction of one), never its patient."""

    kind: str
    booking_id: int
    starts_at: datetime
    location: str
    physician: str
    service: str
    status: str
    payment_status: str
    price: Decimal
    currency: str
    commission_percent: Decimal | None
    commission_fixed: Decimal | None
    held: bool
    value_cents: int = 0
    commission_cents: int = 0
    to_partner_cents: int = 0
    to_institution_cents: int = 0

    @property
    def is_adjustment(self) -> bool:
        return self.kind == Kind.ADJUSTMENT

    @property
    def kind_display(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def status_display(self) -> str:
        return str(Status(self.status).label)

    @property
    def paid_at_partner(self) -> bool:
        return self.payment_status == Payment.PAID_AT_PARTNER

    @property
    def payment_location(self) -> str:
        """Where the patient pays (P-6)."""
        return _("Paid at partner") if self.paid_at_partner else _("At the institution")

    @property
    def payment_display(self) -> str:
        return str(Payment(self.payment_status).label)

    @property
    def unsettled_reason(self) -> str:
        """Why a line that is not held counts in no total."""
        if self.payment_status == Payment.REFUNDED:
            return _("Refunded")
        reasons: dict[str, str] = {
            Status.BOOKED: _("Attendance not recorded yet"),
            Status.CANCELLED: _("Cancelled"),
            Status.NO_SHOW: _("No-show: the institution's no-shows earn no commission"),
        }
        return reasons.get(self.status, "")

    def amount(self, name: str) -> Decimal:
        return money(getattr(self, name))


def _row_of_booking(booking: Booking, kind: str, amounts) -> StatementRow:
    return StatementRow(
        kind=kind,
        booking_id=booking.pk,
        starts_at=booking.starts_at,
        location=booking.location.name,
        physician=booking.physician.full_name,
        service=booking.service.name,
        status=booking.status,
        payment_status=booking.payment_status,
        price=booking.price,
        currency=booking.currency,
        commission_percent=booking.commission_percent,
        commission_fixed=booking.commission_fixed,
        held=bool(getattr(booking, "is_held", False)),
        **{name: int(amounts[name]) for name in AMOUNTS},
    )


@dataclass
class Statement:
    """X-4, R-4: a partner's statement at one institution over a period (`closing` once it is closed)."""

    institution: Institution
    partner: Organization
    period: Period
    rows: list[StatementRow]
    adjustments: list[StatementRow]
    unsettled: list[StatementRow]
    figures: Figures
    closing: StatementClosing | None = None
    overlaps: list[StatementClosing] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.closing.currency if self.closing is not None else self.institution.currency

    @property
    def bookings(self) -> int:
        return self.figures.bookings

    @property
    def direction_text(self) -> str:
        return owed_text(
            institution=self.institution.name,
            partner=self.partner.name,
            figures=self.figures,
            currency=self.currency,
        )


# Which bookings a statement takes.


def starting_in(periods: list[Period], *, per_zone: bool) -> Q:
    """Bookings starting in the period's local days; `per_zone`: each in its institution's zone."""
    parts = []
    for period in periods:
        start, end = period.bounds()
        within = Q(starts_at__gte=start, starts_at__lt=end)
        parts.append(within & Q(institution__time_zone=period.time_zone) if per_zone else within)
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _covering(**more) -> Exists:
    """A closed statement of the booking's institution and partner covers the booking's start."""
    return Exists(
        StatementClosing.objects.filter(
            institution_id=OuterRef("institution_id"),
            partner_id=OuterRef("partner_id"),
            period_start__lte=OuterRef("starts_at"),
            period_end__gt=OuterRef("starts_at"),
            **more,
        )
    )


def open_bookings(bookings: QuerySet[Booking], within: Q) -> QuerySet[Booking]:
    """The bookings an open statement settles: in the period, and covered by no closed statement."""
    return bookings.filter(within).filter(~_covering())


def _frozen_sum(name: str):
    lines = StatementLine.objects.filter(booking=OuterRef("pk")).order_by().values("booking")
    return Coalesce(
        Subquery(lines.annotate(total=Sum(name)).values("total")[:1]),
        Value(0),
        output_field=BigIntegerField(),
    )


def _with_frozen(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """The bookings with their amounts now and all that closed statements froze of them (sums, and the
    status and payment status the latest one saw)."""
    latest = StatementLine.objects.filter(booking=OuterRef("pk")).order_by("-pk")
    return bookings.annotate(
        **statement_amounts(),
        **{f"frozen_{name}": _frozen_sum(name) for name in AMOUNTS},
        is_held=held_flag(),
        frozen_status=Subquery(latest.values("status")[:1]),
        frozen_payment=Subquery(latest.values("payment_status")[:1]),
    )


def _corrected(*, before: date) -> Q:
    """A booking of a period closed before `before` whose attendance or payment changed since, so that its
    held amounts now differ from all that closed statements froze of it (over _with_frozen)."""
    changed = (
        Q(frozen_status__isnull=True) | ~Q(status=F("frozen_status")) | ~Q(payment_status=F("frozen_payment"))
    )
    differs = reduce(or_, [~Q(**{name: F(f"frozen_{name}")}) for name in AMOUNTS])
    return Q(_covering(date_until__lt=before)) & changed & differs


def corrections(bookings: QuerySet[Booking], *, before: date) -> QuerySet[Booking]:
    """The adjustments due in a statement of a period starting on `before` (see _corrected)."""
    return _with_frozen(bookings).filter(_corrected(before=before))


def difference(booking: Booking) -> dict:
    return {name: getattr(booking, name) - getattr(booking, f"frozen_{name}") for name in AMOUNTS}


def overlapping(closings: QuerySet[StatementClosing], period: Period) -> QuerySet[StatementClosing]:
    return closings.filter(date_from__lte=period.date_until, date_until__gte=period.date_from)


# One statement.


def _open_statement(
    *, institution: Institution, partner: Organization, period: Period, overlaps: list[StatementClosing]
) -> Statement:
    bookings = Booking.objects.filter(institution=institution, partner=partner).select_related(
        "location", "physician", "service"
    )
    # One query for both: the bookings of the period that no closing covers, and the corrections due.
    regular = starting_in([period], per_zone=False) & ~_covering()
    lines = (
        _with_frozen(bookings)
        .annotate(
            in_period=Case(When(regular, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        .filter(Q(in_period=True) | _corrected(before=period.date_from))
        .order_by("starts_at", "pk")
    )
    figures = Figures()
    rows: list[StatementRow] = []
    unsettled: list[StatementRow] = []
    adjustments: list[StatementRow] = []
    for booking in lines:
        # A booking no closing covers has nothing frozen: its difference is its amounts.
        row = _row_of_booking(
            booking, Kind.REGULAR if booking.in_period else Kind.ADJUSTMENT, difference(booking)
        )
        (adjustments if row.is_adjustment else rows if row.held else unsettled).append(row)
        figures.add_amounts(row)
    figures.bookings, figures.unsettled, figures.adjustments = len(rows), len(unsettled), len(adjustments)
    return Statement(
        institution=institution,
        partner=partner,
        period=period,
        rows=rows,
        adjustments=adjustments,
        unsettled=unsettled,
        figures=figures,
        overlaps=overlaps,
    )


def closing_figures(closing: StatementClosing) -> Figures:
    """The totals frozen when the statement was closed."""
    figures = Figures(bookings=closing.bookings, adjustments=closing.adjustments, unsettled=closing.unsettled)
    figures.add_amounts(closing)
    return figures


def closed_statement(closing: StatementClosing) -> Statement:
    """A closed statement with its frozen figures (the lines as they were when it was closed)."""
    rows: dict[str, list[StatementRow]] = {"regular": [], "adjustment": [], "unsettled": []}
    lines = closing.lines.select_related("booking__location", "booking__physician", "booking__service")
    for line in lines.order_by("booking__starts_at", "booking_id"):
        booking = line.booking
        row = _row_of_booking(booking, line.kind, {name: getattr(line, name) for name in AMOUNTS})
        row.status, row.payment_status, row.held = line.status, line.payment_status, line.held
        key = "adjustment" if row.is_adjustment else ("regular" if row.held else "unsettled")
        rows[key].append(row)
    return Statement(
        institution=closing.institution,
        partner=closing.partner,
        period=Period(closing.date_from, closing.date_until, closing.time_zone),
        rows=rows["regular"],
        adjustments=rows["adjustment"],
        unsettled=rows["unsettled"],
        figures=closing_figures(closing),
        closing=closing,
    )


def statement(*, institution: Institution, partner: Organization, period: Period) -> Statement:
    """The partner's statement at the institution for the period: the closed one when that very period was
    closed, else the open one (its held bookings, what is not settled, and the adjustments due)."""
    overlaps = list(
        overlapping(StatementClosing.objects.filter(institution=institution, partner=partner), period)
        .select_related("institution", "partner", "closed_by")
        .order_by("date_from")
    )
    for closing in overlaps:
        if (closing.date_from, closing.date_until) == (period.date_from, period.date_until):
            return closed_statement(closing)
    return _open_statement(institution=institution, partner=partner, period=period, overlaps=overlaps)


def open_statement(*, institution: Institution, partner: Organization, period: Period) -> Statement:
    """The figures a closing would freeze now (for the service that closes)."""
    return _open_statement(institution=institution, partner=partner, period=period, overlaps=[])


def close_refusal(*, institution: Institution, period: Period, overlaps) -> str:
    """Why the statement of this period cannot be closed ("" when it can): the one rule of page and service."""
    today = timezone.now().astimezone(ZoneInfo(institution.time_zone)).date()
    if period.date_until >= today:
        return _("A period can be closed once it has ended: %(day)s is not over yet.") % {
            "day": when(period.date_until, institution, "date")
        }
    closing = next(iter(overlaps), None)
    if closing is not None:
        return _("Statement %(number)s already settles %(start)s – %(end)s for this partner.") % {
            "number": closing.number,
            "start": when(closing.date_from, institution, "date"),
            "end": when(closing.date_until, institution, "date"),
        }
    return ""
