"""Validation of patient identifiers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def taj_is_valid(value: str) -> bool:
    """Check a Hungarian health-insurance (TAJ) number: nine digits, weights 3 and 7, check digit last."""
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != 9 or not (digits.isascii() and digits.isdigit()):  # "¹" is a digit, not for int()
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 7) for i, d in enumerate(digits[:8]))
    return total % 10 == int(digits[8])


def normalise_taj(value: str) -> str:
    """Return the nine digits of a TAJ number, or raise a clear error."""
    digits = value.replace(" ", "").replace("-", "")
    if not taj_is_valid(digits):
        raise ValidationError(_("This is not a valid health-insurance (TAJ) number."), code="invalid_taj")
    return digits
