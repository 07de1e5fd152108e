"""Form fields shared by the apps: they refuse what the database or the calendar arithmetic cannot hold."""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_ID = 2**63 - 1  # the largest value of a bigint primary key
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def check_day(value: date | datetime | None) -> None:
    """Refuse a day so far away that a week or a day's bounds around it cannot be computed."""
    day = value.date() if isinstance(value, datetime) else value
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(_("Enter a date between 1900 and 2999."), code="out_of_range")


class DayField(forms.DateField):
    """A date between 1900 and 2999."""

    default_validators = [check_day]


class IdsField(forms.ModelMultipleChoiceField):
    """Several objects by id; an id no primary key can hold is an invalid choice, not a crash."""

    def _check_values(self, value):
        for pk in value:
            if isinstance(pk, str) and pk.lstrip("-").isdigit() and abs(int(pk)) > MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)
