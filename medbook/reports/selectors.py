"""Reads of the reports (R-1 … R-3): SQL aggregation over the bookings of one institution and period (the
settlement, X-4 and R-4, is medbook.reports.statements).

Every figure is computed by the database (Count, Sum over Case/When in whole cents), so a page costs the
same few queries however many bookings or partners there are.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import DenseRank, TruncDate, TruncWeek
from django.http import Http404

from medbook.accounts.models import Organization
from medbook.core.ids import parse_id
from medbook.core.tenancy import Actor, acting, scoped
from medbook.institutions.models import Institution
from medbook.partners.models import Partnership
from medbook.reports.money import commission_cents, money, value_cents
from medbook.scheduling import policy
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.scheduling.selectors import day_bounds

Status = Booking.Status
DAILY_UP_TO_DAYS = 31


@dataclass(frozen=True)
class Period:
    """Local days date_from..date_until (both included) in the institution's time zone."""

    date_from: date
    date_until: date
    time_zone: str

    @property
    def days(self) -> int:
        return (self.date_until - self.date_from).days + 1

    def bounds(self):
        """The UTC instants [start, end) of the period."""
        return day_bounds(tz=ZoneInfo(self.time_zone), date_from=self.date_from, date_until=self.date_until)


@dataclass
class TrafficRow:
    """One line of the traffic statistics: a channel, a partner, or the totals."""

    key: int | None
    name: str
    bookings: int = 0
    booked: int = 0
    completed: int = 0
    cancelled: int = 0
    no_show: int = 0
    value: Decimal = Decimal("0.00")
    commission: Decimal = Decimal("0.00")


@dataclass
class TrafficReport:
    """R-2: per channel, per partner, their totals, and the bookings per channel over time."""

    channels: list[TrafficRow]
    channel_total: TrafficRow
    partners: list[TrafficRow]
    partner_total: TrafficRow
    buckets: list[date]
    per_week: bool
    series: dict[int, dict[date, int]] = field(default_factory=dict)


def bookings_in(*, actor: Actor, period: Period) -> QuerySet[Booking]:
    """The bookings of the actor's institution that start within the period."""
    start, end = period.bounds()
    return scoped(Booking, actor).filter(starts_at__gte=start, starts_at__lt=end)


def booking_report(
    *,
    actor: Actor,
    period: Period,
    location=None,
    physician=None,
    service=None,
    status="",
    partners_only=False,
) -> QuerySet[Booking]:
    """R-1: every booking of the period with its source (channel and referring partner), filtered."""
    bookings = bookings_in(actor=actor, period=period)
    if location is not None:
        bookings = bookings.filter(location=location)
    if physician is not None:
        bookings = bookings.filter(physician=physician)
    if service is not None:
        bookings = bookings.filter(service=service)
    if status:
        bookings = bookings.filter(status=status)
    if partners_only:
        bookings = bookings.filter(partner__isnull=False)
    return bookings.select_related(
        "patient", "service", "location", "physician", "channel", "partner"
    ).order_by("starts_at", "pk")


FIGURES = ("bookings", "booked", "completed", "cancelled", "no_show", "value_cents", "commission_cents")


def _figures(institution: Institution) -> dict:
    """The aggregates of one traffic line."""
    return {
        "bookings": Count("pk"),
        "booked": Count("pk", filter=Q(status=Status.BOOKED)),
        "completed": Count("pk", filter=Q(status=Status.COMPLETED)),
        "cancelled": Count("pk", filter=Q(status=Status.CANCELLED)),
        "no_show": Count("pk", filter=Q(status=Status.NO_SHOW)),
        "value_cents": Sum(value_cents()),
        "commission_cents": Sum(commission_cents(no_show_earns=institution.no_show_earns_commission)),
    }


def _row(key, name: str, figures: dict) -> TrafficRow:
    return TrafficRow(
        key=key,
        name=name,
        bookings=figures["bookings"],
        booked=figures["booked"],
        completed=figures["completed"],
        cancelled=figures["cancelled"],
        no_show=figures["no_show"],
        value=money(figures["value_cents"]),
        commission=money(figures["commission_cents"]),
    )


def _total(rows: list[TrafficRow], name: str) -> TrafficRow:
    total = TrafficRow(key=None, name=name)
    for row in rows:
        for attribute in ("bookings", "booked", "completed", "cancelled", "no_show", "value", "commission"):
            setattr(total, attribute, getattr(total, attribute) + getattr(row, attribute))
    return total


def _add(into: dict, line: Mapping[str, Any]) -> None:
    for name in FIGURES:
        into[name] = into.get(name, 0) + (line[name] or 0)


def traffic_report(*, actor: Actor, period: Period, partners_only: bool = False) -> TrafficReport:
    """R-2: counts, value and commission due per channel and per partner, and bookings per channel over time.

    One scan of the period's bookings: they are grouped at the finest grain the report needs (channel,
    partner, day or week), in the channels' order, with each partner's place in the partners' order; the
    lines, the series and the totals are sums of those groups (whole cents and counts: exact).
    """
    institution = acting(actor.institution)
    bookings = bookings_in(actor=actor, period=period)
    if partners_only:
        bookings = bookings.filter(partner__isnull=False)
    per_week = period.days > DAILY_UP_TO_DAYS
    tz = ZoneInfo(period.time_zone)
    trunc = TruncWeek("starts_at", tzinfo=tz) if per_week else TruncDate("starts_at", tzinfo=tz)
    # Rows by name: the plugin's row type would leave out the figures annotated from _figures().
    groups: Iterable[Mapping[str, Any]] = (
        bookings.values(
            "channel_id",
            "channel__name",
            "channel__code",
            "channel__partner_id",
            "channel__position",
            "partner_id",
            "partner__name",
        )
        .annotate(bucket=trunc, **_figures(institution))
        .annotate(
            partner_place=Window(DenseRank(), order_by=[F("partner__name").asc(), F("partner_id").asc()])
        )
        .order_by("channel__position", "channel__name", "channel_id")
    )
    channel_names: dict[int, str] = {}
    channel_sums: dict[int, dict] = {}
    partner_sums: dict[int, dict] = {}
    partner_places: dict[int, tuple[int, str]] = {}
    series: dict[int, dict[date, int]] = {}
    for line in groups:
        channel_id = line["channel_id"]
        if channel_id not in channel_names:
            channel_names[channel_id] = TrafficChannel(
                code=line["channel__code"], name=line["channel__name"], partner_id=line["channel__partner_id"]
            ).display_name
        _add(channel_sums.setdefault(channel_id, {}), line)
        if line["partner_id"] is not None:
            _add(partner_sums.setdefault(line["partner_id"], {}), line)
            partner_places[line["partner_id"]] = (line["partner_place"], line["partner__name"])
        bucket = line["bucket"]
        bucket = bucket.astimezone(tz).date() if hasattr(bucket, "astimezone") else bucket
        per_channel = series.setdefault(channel_id, {})
        per_channel[bucket] = per_channel.get(bucket, 0) + line["bookings"]
    channels = [_row(key, channel_names[key], figures) for key, figures in channel_sums.items()]
    partners = [
        _row(key, partner_places[key][1], partner_sums[key])
        for key in sorted(partner_sums, key=lambda key: partner_places[key][0])
    ]
    return TrafficReport(
        channels=channels,
        channel_total=_total(channels, "total"),
        partners=partners,
        partner_total=_total(partners, "total"),
        buckets=_buckets(period, per_week),
        per_week=per_week,
        series={channel: dict(sorted(counts.items())) for channel, counts in series.items()},
    )


def _buckets(period: Period, per_week: bool) -> list[date]:
    """Every day (or every week's Monday) of the period, so that quiet days show as empty."""
    first = period.date_from - timedelta(days=period.date_from.weekday()) if per_week else period.date_from
    step = timedelta(days=7 if per_week else 1)
    buckets, day = [], first
    while day <= period.date_until:
        buckets.append(day)
        day += step
    return buckets


def report_partners(*, actor: Actor) -> QuerySet[Organization]:
    """The partners that have (or had) a partnership with the actor's institution."""
    institution = actor.institution
    if institution is None:
        return Organization.objects.none()
    ids = Partnership.objects.filter(institution=institution).values("partner_id")
    return Organization.objects.filter(pk__in=ids, kind=Organization.Kind.PARTNER).order_by("name")


PARTNER_BOOKING_FIELDS = (
    "pk",
    "starts_at",
    "created_at",
    "status",
    "payment_status",
    "price",
    "currency",
    "note",
    "cancel_reason",
    "patient_confirmed_at",
    "partner__name",
    "booked_by__full_name",
    "booked_by__email",
    "patient__full_name",
    "service__name",
    "physician__full_name",
    "location__name",
    "commission_due_cents",
)


def partner_bookings(
    *, actor: Actor, period: Period, partner=None, status: str = "", payment_status: str = ""
) -> QuerySet:
    """R-3: the bookings partners made in the period, with their details, attendance, payment and the
    commission due, filtered by partner, status and payment status: plain rows (`PARTNER_BOOKING_FIELDS`,
    read by `partner_booking_lines`), one join per detail and no model object per row."""
    institution = acting(actor.institution)
    bookings = bookings_in(actor=actor, period=period).filter(partner__isnull=False)
    if partner is not None:
        bookings = bookings.filter(partner=partner)
    if status:
        bookings = bookings.filter(status=status)
    if payment_status:
        bookings = bookings.filter(payment_status=payment_status)
    return (
        bookings.annotate(
            commission_due_cents=commission_cents(no_show_earns=institution.no_show_earns_commission)
        )
        .order_by("starts_at", "pk")
        .values_list(*PARTNER_BOOKING_FIELDS, named=True)
    )


@dataclass(frozen=True)
class PartnerBookingLine:
    """One line of "Partner-submitted statistics", as the page shows it."""

    pk: int
    starts_at: datetime
    created_at: datetime
    status: str
    payment_status: str
    price: Decimal
    currency: str
    note: str
    cancel_reason: str
    patient_confirmed_at: datetime | None  # P-16: when the patient confirmed they wanted it
    partner_name: str
    booked_by_name: str
    patient_name: str
    service_name: str
    physician_name: str
    location_name: str
    commission_due: Decimal

    @property
    def status_display(self) -> str:
        return str(Booking.Status(self.status).label)

    @property
    def payment_display(self) -> str:
        return str(Booking.PaymentStatus(self.payment_status).label)

    @property
    def cancellable(self) -> bool:
        """Whether "Cancel" is offered: the rule `booking_cancel` applies (booked, not started)."""
        return policy.cancel_refusal(self) is None


def partner_booking_lines(rows) -> list[PartnerBookingLine]:
    """The lines of rows of `partner_bookings` (a page of them)."""
    return [
        PartnerBookingLine(
            pk=row.pk,
            starts_at=row.starts_at,
            created_at=row.created_at,
            status=row.status,
            payment_status=row.payment_status,
            price=row.price,
            currency=row.currency,
            note=row.note,
            cancel_reason=row.cancel_reason,
            patient_confirmed_at=row.patient_confirmed_at,
            partner_name=row.partner__name,
            booked_by_name=row.booked_by__full_name or row.booked_by__email or "",  # as User.get_full_name
            patient_name=row.patient__full_name,
            service_name=row.service__name,
            physician_name=row.physician__full_name,
            location_name=row.location__name,
            commission_due=money(row.commission_due_cents),
        )
        for row in rows
    ]


def partner_booking_for_cancel(*, actor: Actor, pk) -> Booking:
    """One partner booking of the actor's institution; anything else (or a bad id) is 404."""
    pk = parse_id(pk)
    booking = (
        scoped(Booking, actor)
        .filter(pk=pk, partner__isnull=False)
        .select_related("institution", "patient", "service", "location", "physician", "partner")
        .first()
    )
    if booking is None:
        raise Http404()
    return booking
