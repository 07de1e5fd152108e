"""A generated set of bookings for the report tests, and the expected figures computed in plain Python.

The expectations never call the report code: they follow the rules of SPEC.md (P-5, R-2, X-4) directly
over the list of bookings created, so a mistake in the SQL cannot hide in both places.
"""

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from medbook.partners.tests.factories import partner_make, partnership_make
from medbook.scheduling.models import Booking, TrafficChannel

BUDAPEST = ZoneInfo("Europe/Budapest")
PERIOD = (date(2026, 10, 1), date(2026, 10, 31))
PRICES = [Decimal(p) for p in ("10.20", "0.05", "12345.55", "999.99", "2.50", "15000.00", "333.33", "10.00")]
STATUSES = ["booked", "completed", "cancelled", "no_show"]
PAYMENTS = ["paid", "unpaid", "refunded"]  # where the institution is paid
ZERO = Decimal("0.00")


@dataclass
class Generated:
    """The bookings created (in UTC) and the partners and channels they name."""

    bookings: list[Booking] = field(default_factory=list)
    partners: list = field(default_factory=list)


def _at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BUDAPEST).replace(fold=fold).astimezone(UTC)


def generate(
    cast, partners, *, count: int = 60, partner_count: int = 3, seed: int = 5, physician=None, tag: str = ""
) -> Generated:
    """Bookings at institution A: built-in channels and several partners with both commission kinds."""
    rng = random.Random(seed)
    p = partners.partner_p  # 10 %, from the fixture
    # Both payment locations (P-6): R and S are paid by the patient, P (the fixture) and T are not. R's fixed
    # commission is more than some prices (the institution then owes R the difference).
    terms = [
        {"commission_enabled": True, "commission_fixed": Decimal("1500.00"), "payment_location": "partner"},
        {"commission_enabled": True, "commission_percent": Decimal("12.50"), "payment_location": "partner"},
        {"commission_enabled": True, "commission_fixed": Decimal("0.99")},
        {"commission_enabled": False},
    ]
    referrers = [(p, partners.partnership_p)]
    for index in range(partner_count - 1):
        partner = partner_make(
            f"Partner {chr(82 + index)}{tag} Kft.",
            f"01-09-{333333 + index + 100 * len(tag)}",
            "12345676-2-41",
            f"x{index}{tag}@r.test",
        )
        partnership = partnership_make(
            cast.institution_a, partner, locations=[cast.location_a1], **terms[index % len(terms)]
        )
        referrers.append((partner, partnership))
    builtin = list(TrafficChannel.objects.filter(institution=cast.institution_a, partner__isnull=True))
    taken: set[datetime] = set()
    starts: list[datetime] = [
        _at(date(2026, 10, 1), 0),  # local midnight opening the period: inside
        _at(date(2026, 9, 30), 23, 30),  # the evening before: outside
        _at(date(2026, 11, 1), 0),  # local midnight closing the period: outside
        _at(date(2026, 10, 31), 23, 30),  # the last half hour: inside
        _at(date(2026, 10, 25), 2, 30, fold=0),  # DST day, 02:30 summer time
        _at(date(2026, 10, 25), 2, 30, fold=1),  # DST day, 02:30 again, winter time
        _at(date(2026, 10, 25), 23, 30),  # DST day, late evening (21:30 UTC would be the 25th too)
        _at(date(2027, 3, 27), 23, 30),  # the evening before the spring change: outside that day
        _at(date(2027, 3, 28), 0, 0),  # the 23-hour day of 28 Mar 2027 opens at local midnight
        _at(date(2027, 3, 28), 3, 30),  # just after the clocks jumped from 02:00 to 03:00
    ]
    while len(starts) < count:
        day = PERIOD[0] + timedelta(days=rng.randrange(0, 31))
        starts.append(_at(day, rng.randrange(7, 19), rng.choice((0, 30))))
    generated = Generated(partners=[partner for partner, _ in referrers])
    for index, starts_at in enumerate(starts):
        if starts_at in taken:
            continue
        taken.add(starts_at)
        by_partner = index % 5 < 3
        partner, partnership = referrers[index % 5 % len(referrers)] if by_partner else (None, None)
        booking = Booking.objects.create(
            institution=cast.institution_a,
            location=cast.location_a1 if index % 2 else cast.location_a2,
            physician=physician or cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            status=STATUSES[index % 4] if index % 5 else STATUSES[rng.randrange(4)],
            channel=partnership.channel if partner else builtin[index % len(builtin)],
            partner=partner,
            price=PRICES[index % len(PRICES)],
            currency="HUF",
            commission_percent=partnership.commission_percent if partner else None,
            commission_fixed=partnership.commission_fixed if partner else None,
            payment_status=(
                Booking.PaymentStatus.PAID_AT_PARTNER
                if partner and partnership.paid_at_partner
                else PAYMENTS[index % len(PAYMENTS)]
            ),
        )
        generated.bookings.append(booking)
    return generated


def in_period(booking: Booking, first: date = PERIOD[0], last: date = PERIOD[1]) -> bool:
    return first <= booking.starts_at.astimezone(BUDAPEST).date() <= last


def commission(booking: Booking, *, no_show_earns: bool) -> Decimal:
    """P-5 by hand: percentage rounded half-up per booking, or the fixed amount; earned only by a completed
    visit or a no-show where no-shows earn, never by one still booked, cancelled or refunded (R-4)."""
    earned = booking.status == "completed" or (booking.status == "no_show" and no_show_earns)
    if not earned or booking.payment_status == "refunded":
        return Decimal("0.00")
    if booking.commission_percent is not None:
        raw = Decimal(booking.price) * Decimal(booking.commission_percent) / Decimal(100)
        return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if booking.commission_fixed is not None:
        return Decimal(booking.commission_fixed)
    return Decimal("0.00")


def rule(booking: Booking) -> Decimal:
    """The commission the booking's captured rule gives, whatever became of it."""
    if booking.commission_percent is not None:
        raw = Decimal(booking.price) * Decimal(booking.commission_percent) / Decimal(100)
        return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Decimal(booking.commission_fixed) if booking.commission_fixed is not None else ZERO


def is_held(booking: Booking, *, no_show_earns: bool) -> bool:
    """R-4 by hand: completed, or a no-show that earns; never refunded."""
    attended = booking.status == "completed" or (booking.status == "no_show" and no_show_earns)
    return attended and booking.payment_status != "refunded"


def owed(booking: Booking, *, no_show_earns: bool) -> dict[str, Decimal]:
    """R-4 by hand: a booking's value, commission and what each side owes the other (SPEC P-6)."""
    if not is_held(booking, no_show_earns=no_show_earns):
        return {"value": ZERO, "commission": ZERO, "to_partner": ZERO, "to_institution": ZERO}
    commission_due = rule(booking)
    price = Decimal(booking.price)
    if booking.payment_status == "paid_at_partner" and booking.status == "completed":
        # The partner collected the price and keeps its commission out of it.
        to_institution, to_partner = max(price - commission_due, ZERO), max(commission_due - price, ZERO)
    else:
        # The institution collected (or, for a no-show, nobody did): it owes the commission.
        to_institution, to_partner = ZERO, commission_due
    return {
        "value": price,
        "commission": commission_due,
        "to_partner": to_partner,
        "to_institution": to_institution,
    }


def settled(bookings: list[Booking], *, no_show_earns: bool) -> dict:
    """The totals of a statement over the bookings of one partner and period, by hand."""
    held = [b for b in bookings if is_held(b, no_show_earns=no_show_earns)]
    totals = {"bookings": len(held), "unsettled": len(bookings) - len(held)}
    for name in ("value", "commission", "to_partner", "to_institution"):
        totals[name] = sum((owed(b, no_show_earns=no_show_earns)[name] for b in held), ZERO)
    totals["net"] = totals["to_partner"] - totals["to_institution"]
    return totals


def figures(bookings: list[Booking], *, no_show_earns: bool) -> dict:
    """The traffic line of a group of bookings."""
    return {
        "bookings": len(bookings),
        "booked": sum(1 for b in bookings if b.status == "booked"),
        "completed": sum(1 for b in bookings if b.status == "completed"),
        "cancelled": sum(1 for b in bookings if b.status == "cancelled"),
        "no_show": sum(1 for b in bookings if b.status == "no_show"),
        "value": sum((Decimal(b.price) for b in bookings if b.status != "cancelled"), Decimal("0.00")),
        "commission": sum((commission(b, no_show_earns=no_show_earns) for b in bookings), Decimal("0.00")),
    }


def expected_by(bookings: list[Booking], key, *, no_show_earns: bool) -> dict[str, dict]:
    """Traffic lines grouped by key(booking) (a name; None is left out)."""
    groups: dict[str, list[Booking]] = {}
    for booking in bookings:
        name = key(booking)
        if name is not None:
            groups.setdefault(name, []).append(booking)
    return {name: figures(group, no_show_earns=no_show_earns) for name, group in groups.items()}


def table_rows(html: str, testid: str) -> dict[str, dict]:
    """The figures of a traffic table of the page, by row name (and "total")."""
    section = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for name, body in re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', section, re.S):
        cells = {
            name: amount or text
            for name, amount, text in re.findall(
                r'data-figure="(\w+)"(?: data-amount="([^"]*)")?[^>]*>([^<]*)<', body
            )
        }
        rows[name.replace("&#x27;", "'").replace("&amp;", "&")] = {
            k: (Decimal(v) if k in ("value", "commission") else int(v)) for k, v in cells.items()
        }
    return rows
