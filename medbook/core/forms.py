"""Form fields shared by the apps: they refuse what the database or the calendar arithmetic cannot hold."""

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from medbook.core.errors import DomainError, NotPermitted
from medbook.core.ids import ID_TEXT, MAX_ID, parse_id_or_none

REFUSED_STATUS = 422  # a form the domain refused is shown again with its errors, always with this status
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
F = TypeVar("F", bound=forms.Field)


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
            text = pk.strip().lstrip("-") if isinstance(pk, str) else ""
            # "¹" is a digit to str.isdigit() but not to int(): ASCII digits only (ids.ID_TEXT).
            if text.isdigit() and (ID_TEXT.fullmatch(text) is None or int(text) > MAX_ID):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        # ModelMultipleChoiceField._check_values (Django's own) is missing from its stubs.
        return super()._check_values(value)  # type: ignore[misc]


def field_of(form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """The form's field `name` as the kind of field it is (a form's `fields` are plain Fields to the type
    checker), to narrow its queryset or choices."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


def add_refusal(form: forms.BaseForm, error: DomainError, *, field: str | None = None) -> int:
    """Show a domain refusal on the form and return the page's status (always REFUSED_STATUS).

    The error goes next to the field the service named, else next to `field`, else above the form. A
    missing permission is not a form error: it is raised again, so the actor gets the 403 page.
    """
    if isinstance(error, NotPermitted):
        raise error
    target = error.field if error.field in form.fields else field
    form.add_error(target, str(error.message))
    return REFUSED_STATUS


def hold_again(form: forms.BaseForm, data: QueryDict, take: Callable[[], str]) -> None:
    """The slot hold the booking form named has ended (expired, or released from another tab): take the
    slot again with `take` (the very hold its opening took), put the new token into the form's `data` (the
    mutable copy it is bound to) and say so; or show why not (someone else holds or booked it meanwhile)."""
    try:
        data["hold"] = take()
    except DomainError as error:
        add_refusal(form, error)
    else:
        form.add_error(
            None, _("Your hold on this time had ended; it is held for you again: press “Book” to book it.")
        )


def form_status(form: forms.BaseForm) -> int:
    """The status of a page showing the form: REFUSED_STATUS once it was submitted and shown again."""
    return REFUSED_STATUS if form.is_bound else 200


def validated_forms(*given: forms.BaseForm) -> list[forms.BaseForm]:
    """The forms a view actually validated (bound and cleaned), whose errors the summary lists."""
    # Django's BaseForm sets _errors (None until the form is cleaned); its stubs leave the private attribute out.
    return [form for form in given if form.is_bound and form._errors is not None]  # type: ignore[attr-defined]


def valid_query(form: forms.BaseForm) -> dict:
    """The cleaned data of a query's form (a search, not a form shown again): a choice that is not among the
    user's own, by id or by a name of the form's `NAMED_CHOICES` (another tenant's object), is 404, as the
    object is elsewhere; any other error is 400 with its message (DomainError)."""
    if form.is_valid():
        return form.cleaned_data
    errors = form.errors.as_data()
    named = getattr(form, "NAMED_CHOICES", ())
    for name, field_errors in errors.items():
        other = name in named or parse_id_or_none(form.data.get(name)) is not None
        if other and any(e.code == "invalid_choice" for e in field_errors):
            raise Http404()
    raise DomainError(" ".join(str(message) for messages in form.errors.values() for message in messages))
