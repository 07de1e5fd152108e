"""Reads of the settlement (X-4, R-4): a partner's statement at an institution for a period, open or closed,
and the figures of every partner (or every institution, for a partner) on the settlement pages.

An open statement holds the bookings that start in the period and that no closed statement covers: the
held ones are its lines, the others (booked, cancelled, refunded, a no-show that earns nothing) are listed
as "not settled" and count in no total. It also carries the corrections: a booking of an earlier closed
period whose attendance or payment changed after it was closed, so that its held amounts now differ from
the ones frozen, appears as an adjustment of the difference, in every open statement of a later period,
until a statement carrying it is closed (that freezes the adjustment, so it never comes again).

Every amount is an expression of medbook.reports.money computed by the database in whole cents; the pages
aggregate per partner in SQL, so they cost the same few queries however many bookings there are.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.accounts.models import Organization
from medbook.core.ids import parse_id
from medbook.core.templatetags.money import money as money_text
from medbook.core.timefmt import when
from medbook.institutions.models import Institution
from medbook.partners.models import Partnership
from medbook.reports.models import StatementClosing, StatementLine
from medbook.reports.money import AMOUNTS, held, held_flag, money, net_cents, statement_amounts
from medbook.reports.selectors import Period, report_partners
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
        return {
            Status.BOOKED: _("Attendance not recorded yet"),
            Status.CANCELLED: _("Cancelled"),
            Status.NO_SHOW: _("No-show: the institution's no-shows earn no commission"),
        }.get(self.status, "")

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


def _starting_in(periods: list[Period], *, per_zone: bool) -> Q:
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


def _open_bookings(bookings: QuerySet[Booking], within: Q) -> QuerySet[Booking]:
    """The bookings an open statement settles: in the period, and covered by no closed statement."""
    return bookings.filter(within).filter(~_covering())


def _frozen_sum(name: str):
    lines = StatementLine.objects.filter(booking=OuterRef("pk")).order_by().values("booking")
    return Coalesce(
        Subquery(lines.annotate(total=Sum(name)).values("total")[:1]),
        Value(0),
        output_field=BigIntegerField(),
    )


def _corrections(bookings: QuerySet[Booking], *, before: date) -> QuerySet[Booking]:
    """Bookings of periods closed before `before` whose attendance or payment changed since, so that their
    held amounts now differ from all that closed statements froze of them (the adjustments due)."""
    latest = StatementLine.objects.filter(booking=OuterRef("pk")).order_by("-pk")
    changed = (
        Q(frozen_status__isnull=True) | ~Q(status=F("frozen_status")) | ~Q(payment_status=F("frozen_payment"))
    )
    differs = reduce(or_, [~Q(**{name: F(f"frozen_{name}")}) for name in AMOUNTS])
    return (
        bookings.filter(_covering(date_until__lt=before))
        .annotate(
            **statement_amounts(),
            **{f"frozen_{name}": _frozen_sum(name) for name in AMOUNTS},
            is_held=held_flag(),
            frozen_status=Subquery(latest.values("status")[:1]),
            frozen_payment=Subquery(latest.values("payment_status")[:1]),
        )
        .filter(changed & differs)
    )


def _difference(booking: Booking) -> dict:
    return {name: getattr(booking, name) - getattr(booking, f"frozen_{name}") for name in AMOUNTS}


def _overlapping(closings: QuerySet[StatementClosing], period: Period) -> QuerySet[StatementClosing]:
    return closings.filter(date_from__lte=period.date_until, date_until__gte=period.date_from)


# One statement.


def _open_statement(
    *, institution: Institution, partner: Organization, period: Period, overlaps: list[StatementClosing]
) -> Statement:
    bookings = Booking.objects.filter(institution=institution, partner=partner).select_related(
        "location", "physician", "service"
    )
    figures = Figures()
    rows, unsettled = [], []
    for booking in (
        _open_bookings(bookings, _starting_in([period], per_zone=False))
        .annotate(**statement_amounts(), is_held=held_flag())
        .order_by("starts_at", "pk")
    ):
        row = _row_of_booking(booking, Kind.REGULAR, {name: getattr(booking, name) for name in AMOUNTS})
        (rows if row.held else unsettled).append(row)
        figures.add_amounts(row)
    adjustments = [
        _row_of_booking(booking, Kind.ADJUSTMENT, _difference(booking))
        for booking in _corrections(bookings, before=period.date_from).order_by("starts_at", "pk")
    ]
    for row in adjustments:
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
        _overlapping(StatementClosing.objects.filter(institution=institution, partner=partner), period)
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


# The settlement pages: every partner's (or institution's) figures at once.


@dataclass
class SettlementLine:
    """One partner at the institution (or one institution, for a partner) on a settlement page."""

    institution: Institution
    partner: Organization
    figures: Figures
    closing: StatementClosing | None = None
    refusal: str = ""

    @property
    def direction_text(self) -> str:
        currency = self.closing.currency if self.closing is not None else self.institution.currency
        return owed_text(
            institution=self.institution.name,
            partner=self.partner.name,
            figures=self.figures,
            currency=currency,
        )


def closed_lines(closings) -> list[SettlementLine]:
    """Closed statements with their frozen figures, for a list of them."""
    return [
        SettlementLine(
            institution=closing.institution,
            partner=closing.partner,
            figures=closing_figures(closing),
            closing=closing,
        )
        for closing in closings
    ]


def _live_figures(bookings: QuerySet[Booking], *, within: Q, before: date, key: str) -> dict[int, Figures]:
    """Per `key` (partner_id or institution_id): the open figures of the period, aggregated in SQL."""
    found: dict[int, Figures] = {}
    totals = (
        _open_bookings(bookings, within)
        .order_by()
        .values(key)
        .annotate(
            held_count=Count("pk", filter=held()),
            unsettled_count=Count("pk", filter=~held()),
            **{name: Sum(expression) for name, expression in statement_amounts().items()},
        )
    )
    for line in totals:
        figures = found.setdefault(line[key], Figures())
        figures.bookings, figures.unsettled = line["held_count"], line["unsettled_count"]
        figures.add_amounts(line)
    for booking in _corrections(bookings, before=before).only("pk", key):
        figures = found.setdefault(getattr(booking, key), Figures())
        figures.adjustments += 1
        figures.add_amounts(_difference(booking))
    return found


def settlement_summary(*, actor, period: Period) -> list[SettlementLine]:
    """The settlement page: per partner of the actor's institution, its figures for the period (frozen
    where that very period was closed) and whether it can be closed."""
    institution = actor.institution
    bookings = Booking.objects.filter(institution=institution, partner__isnull=False)
    live = _live_figures(
        bookings, within=_starting_in([period], per_zone=False), before=period.date_from, key="partner_id"
    )
    closings = list(_overlapping(StatementClosing.objects.filter(institution=institution), period))
    lines = []
    for partner in report_partners(actor=actor):
        overlaps = [c for c in closings if c.partner_id == partner.pk]
        exact = next(
            (c for c in overlaps if (c.date_from, c.date_until) == (period.date_from, period.date_until)),
            None,
        )
        lines.append(
            SettlementLine(
                institution=institution,
                partner=partner,
                figures=closing_figures(exact) if exact else live.get(partner.pk, Figures()),
                closing=exact,
                refusal=close_refusal(institution=institution, period=period, overlaps=overlaps),
            )
        )
    return lines


def partner_summary(*, actor, date_from: date, date_until: date) -> list[SettlementLine]:
    """The partner's statements page: per institution it works with, its figures for the local days."""
    partner = actor.partner
    institutions = list(partner_statement_institutions(actor=actor))
    periods = {zone: Period(date_from, date_until, zone) for zone in {i.time_zone for i in institutions}}
    bookings = Booking.objects.filter(partner=partner, institution__in=[i.pk for i in institutions])
    live = _live_figures(
        bookings,
        within=_starting_in(list(periods.values()), per_zone=True),
        before=date_from,
        key="institution_id",
    )
    exact = {
        closing.institution_id: closing
        for closing in StatementClosing.objects.filter(
            partner=partner, date_from=date_from, date_until=date_until
        )
    }
    return [
        SettlementLine(
            institution=institution,
            partner=partner,
            figures=closing_figures(exact[institution.pk])
            if institution.pk in exact
            else live.get(institution.pk, Figures()),
            closing=exact.get(institution.pk),
        )
        for institution in institutions
    ]


# Whose statements the actor may read.


def institution_statement_partner(*, actor, pk) -> Organization:
    """A partner of the actor's institution (for its statement); any other is 404."""
    pk = parse_id(pk)
    partner = report_partners(actor=actor).filter(pk=pk).first()
    if partner is None:
        raise Http404()
    return partner


def partner_statement_institutions(*, actor) -> QuerySet[Institution]:
    """The institutions the actor's partner works (or worked) with."""
    if actor is None or actor.partner is None:
        return Institution.objects.none()
    ids = Partnership.objects.filter(partner=actor.partner).values("institution_id")
    return Institution.objects.filter(pk__in=ids).order_by("name")


def partner_statement_institution(*, actor, pk) -> Institution:
    """One institution the actor's partner works with; any other is 404."""
    pk = parse_id(pk)
    institution = partner_statement_institutions(actor=actor).filter(pk=pk).first()
    if institution is None:
        raise Http404()
    return institution


def institution_closings(*, actor) -> QuerySet[StatementClosing]:
    """The closed statements of the actor's institution, the latest first."""
    if actor is None or actor.institution is None:
        return StatementClosing.objects.none()
    return (
        StatementClosing.objects.filter(institution=actor.institution)
        .select_related("institution", "partner", "closed_by")
        .order_by("-number")
    )


def partner_closings(*, actor) -> QuerySet[StatementClosing]:
    """The closed statements of the actor's partner at every institution, the latest first."""
    if actor is None or actor.partner is None:
        return StatementClosing.objects.none()
    return (
        StatementClosing.objects.filter(partner=actor.partner)
        .select_related("institution", "partner")
        .order_by("-closed_at", "-pk")
    )


def _one(closings: QuerySet[StatementClosing], pk) -> StatementClosing:
    closing = closings.filter(pk=parse_id(pk)).select_related("institution", "partner").first()
    if closing is None:
        raise Http404()
    return closing


def institution_closing(*, actor, pk) -> StatementClosing:
    """One closed statement of the actor's institution; another institution's (or a bad id) is 404."""
    return _one(institution_closings(actor=actor), pk)


def partner_closing(*, actor, pk) -> StatementClosing:
    """One closed statement of the actor's partner; another partner's (or a bad id) is 404."""
    return _one(partner_closings(actor=actor), pk)
