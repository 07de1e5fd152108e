"""Commission and value as SQL expressions in whole cents: exact on PostgreSQL and SQLite alike.

A percentage commission is price × percent / 100 rounded half-up to the cent, once per booking. Both
factors are turned into integers first (cents and hundredths of a percent), so the database multiplies
integers and no binary fraction ever decides a rounding.
"""

from decimal import Decimal

from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.functions import Cast, Floor, Round

from medbook.scheduling.models import Booking

CENTS = Decimal("0.01")


def _times_100(field: str):
    return F(field) * 100


def cents_of(field: str):
    """The decimal field as whole cents (an exact integer)."""
    return Cast(Round(_times_100(field)), BigIntegerField())


def commission_cents(*, no_show_earns: bool):
    """Per booking: the commission due in cents (none for cancelled; no-shows as the institution set)."""
    percent = Cast(
        Floor((cents_of("price") * cents_of("commission_percent") + 5000) / 10000), BigIntegerField()
    )
    unearned = Q(status=Booking.Status.CANCELLED)
    if not no_show_earns:
        unearned |= Q(status=Booking.Status.NO_SHOW)
    return Case(
        When(unearned, then=Value(0)),
        When(commission_percent__isnull=False, then=percent),
        When(commission_fixed__isnull=False, then=cents_of("commission_fixed")),
        default=Value(0),
        output_field=BigIntegerField(),
    )


def value_cents():
    """Per booking: the captured price in cents, or nothing for a cancelled booking."""
    return Case(
        When(status=Booking.Status.CANCELLED, then=Value(0)),
        default=cents_of("price"),
        output_field=BigIntegerField(),
    )


def money(cents) -> Decimal:
    """Whole cents from the database as a Decimal amount."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENTS)
