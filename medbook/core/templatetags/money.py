"""Money as a reader writes it: grouped thousands and the decimal mark of the reader's language."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value, decimals: int = 2) -> str:
    """12500 → "12,500.00" in English, "12 500,00" in Hungarian; empty for nothing."""
    if value in (None, ""):
        return ""
    return number_format(Decimal(value), decimal_pos=int(decimals), use_l10n=True, force_grouping=True)
