"""Commission, value and what is owed as SQL expressions in whole cents: exact on PostgreSQL and SQLite alike.

A percentage commission is price × percent / 100 rounded half-up to the cent, once per booking. Both
factors are turned into integers first (cents and hundredths of a percent), so the database multiplies
integers and no binary fraction ever decides a rounding.

The settlement (R-4) counts only *held* bookings: completed ones, and no-shows where the booking's
institution lets no-shows earn commission. A booked (not yet recorded) or cancelled booking is not held, and
neither is a refunded one: the patient got the price back, so there is no value to share. On a held booking
- paid at the institution, the institution owes the partner the commission;
- paid at the partner (payment status "Paid at partner") and completed, the partner collected the price and
  owes the institution price − commission (should a fixed commission exceed the price, the institution
  owes the partner the difference instead);
- paid at the partner but a no-show, nobody collected a price for a visit that did not take place: the
  partner owes nothing, and the institution owes the partner the commission that its no-show earns.
"""

from decimal import Decimal

from django.db.models import BigIntegerField, BooleanField, Case, F, Q, Value, When
from django.db.models.functions import Cast, Floor, Greatest, Round

from medbook.scheduling.models import Booking

CENTS = Decimal("0.01")
Status = Booking.Status
Payment = Booking.PaymentStatus


def _times_100(field: str):
    return F(field) * 100


def cents_of(field: str):
    """The decimal field as whole cents (an exact integer)."""
    return Cast(Round(_times_100(field)), BigIntegerField())


def rule_cents():
    """Per booking: the commission its captured rule gives, in cents, whatever became of the booking."""
    percent = Cast(
        Floor((cents_of("price") * cents_of("commission_percent") + 5000) / 10000), BigIntegerField()
    )
    return Case(
        When(commission_percent__isnull=False, then=percent),
        When(commission_fixed__isnull=False, then=cents_of("commission_fixed")),
        default=Value(0),
        output_field=BigIntegerField(),
    )


def commission_cents(*, no_show_earns: bool):
    """Per booking: the commission earned in cents, as the statements count it (R-4): on a completed visit,
    and on a no-show where the institution lets no-shows earn; never on one still booked (it has not
    happened), cancelled or refunded."""
    earned = Q(status=Status.COMPLETED)
    if no_show_earns:
        earned |= Q(status=Status.NO_SHOW)
    earned &= ~Q(payment_status=Payment.REFUNDED)
    return Case(When(earned, then=rule_cents()), default=Value(0), output_field=BigIntegerField())


def value_cents():
    """Per booking: the captured price in cents, or nothing for a cancelled booking."""
    return Case(
        When(status=Status.CANCELLED, then=Value(0)),
        default=cents_of("price"),
        output_field=BigIntegerField(),
    )


def held() -> Q:
    """R-4: the bookings a statement settles (completed, or a no-show its institution lets earn; not
    refunded). The no-show setting is read from each booking's institution, so one query serves several."""
    attended = Q(status=Status.COMPLETED) | Q(
        status=Status.NO_SHOW, institution__no_show_earns_commission=True
    )
    return attended & ~Q(payment_status=Payment.REFUNDED)


def _collected_at_partner() -> Q:
    """The partner took the patient's money: paid at the partner, and the visit took place."""
    return Q(payment_status=Payment.PAID_AT_PARTNER, status=Status.COMPLETED)


def _held_or_zero(amount):
    return Case(When(held(), then=amount), default=Value(0), output_field=BigIntegerField())


def held_flag():
    """Per booking: whether the statement settles it."""
    return Case(When(held(), then=Value(True)), default=Value(False), output_field=BooleanField())


def held_value_cents():
    """Per booking: the price in cents of a held booking, else nothing."""
    return _held_or_zero(cents_of("price"))


def held_commission_cents():
    """Per booking: the commission in cents of a held booking, else nothing."""
    return _held_or_zero(rule_cents())


def to_partner_cents():
    """Per booking: what the institution owes the partner, in cents."""
    return Case(
        When(held() & _collected_at_partner(), then=Greatest(rule_cents() - cents_of("price"), Value(0))),
        When(held(), then=rule_cents()),
        default=Value(0),
        output_field=BigIntegerField(),
    )


def to_institution_cents():
    """Per booking: what the partner owes the institution (price − commission it collected), in cents."""
    return Case(
        When(held() & _collected_at_partner(), then=Greatest(cents_of("price") - rule_cents(), Value(0))),
        default=Value(0),
        output_field=BigIntegerField(),
    )


AMOUNTS = ("value_cents", "commission_cents", "to_partner_cents", "to_institution_cents")


def statement_amounts() -> dict:
    """The amounts of a statement line, by name (AMOUNTS), as expressions over a booking."""
    return {
        "value_cents": held_value_cents(),
        "commission_cents": held_commission_cents(),
        "to_partner_cents": to_partner_cents(),
        "to_institution_cents": to_institution_cents(),
    }


def net_cents(*, to_partner: int, to_institution: int) -> int:
    """What is owed once both ways are set off: positive, the institution pays the partner; negative, the
    partner pays the institution."""
    return int(to_partner) - int(to_institution)


def money(cents) -> Decimal:
    """Whole cents from the database as a Decimal amount."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENTS)
