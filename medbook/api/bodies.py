"""The request bodies of the JSON API (and the parts FHIR shares): JSON objects and nothing else.

django-ninja's `Schema` reads its fields as attributes of whatever it is given, so a body of `[null, null]`,
`null`, `5` or `"x"` read as an object with no fields and every default: a cancel with such a body was
carried out (issue 21). A body, and an object inside one, must be a JSON object; anything else is a 422.
The values a request carries are checked as the OpenAPI schema declares them (issue 21), so that what a
generated client or schemathesis sends as valid is valid: days and times in RFC 3339 (`format: date`,
`date-time`), integers as JSON numbers, strings by their `pattern`.
"""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    ModelWrapValidatorHandler,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError


class ObjectBody(Schema):
    """A request body (or an object within one) that must be a JSON object."""

    # In place of `Schema`'s own validator of this name, which reads any value's attributes.
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, value: Any, handler: ModelWrapValidatorHandler, info: ValidationInfo) -> Any:
        if isinstance(value, dict | cls):
            return handler(value)
        raise PydanticCustomError("object", str(_("Send a JSON object.")))


# RFC 3339 (section 5.6), as the OpenAPI formats `date` and `date-time` mean: what a generated client sends.
FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# Every instant a request names is read within these ends, a day inside the calendar's, so that a time a
# rule adds a duration or a local day to stays a time (the year 1 or 9999 is refused by the rule, not a 500).
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _full_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and FULL_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", str(_("Enter a date such as 2026-12-09.")))


def _date_time(value: Any) -> datetime:
    if isinstance(value, datetime) and timezone.is_aware(value):
        moment = value
    elif isinstance(value, str) and DATE_TIME.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.upper())
        except ValueError:
            moment = None
    else:
        moment = None
    if moment is None and isinstance(value, str) and _naive(value):
        raise PydanticCustomError("datetime", str(_("The start time must carry a time zone.")))
    if moment is None:
        raise PydanticCustomError("datetime", str(_("Enter a date and time such as 2026-12-09T08:00:00Z.")))
    try:
        return min(max(moment.astimezone(UTC), EARLIEST), LATEST)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant there is
        return EARLIEST if moment.year == 1 else LATEST


def _naive(value: str) -> bool:
    try:
        return timezone.is_naive(datetime.fromisoformat(value))
    except ValueError:
        return False


def json_integer(value: Any) -> Any:
    """A JSON body's integer as JSON Schema has it: a number without a fraction (2 or 2.0), never "2"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def matching(pattern: str, message: str, convert: Callable[[str], Any] = str) -> PlainValidator:
    """A string matching `pattern` (anchored, ^…$) as `convert` reads it; another value is a 422 with
    `message` (translated when refused). With `pattern_schema(pattern)` it declares what it checks."""
    whole = re.compile(pattern.removeprefix("^").removesuffix("$"))

    def check(value: Any) -> Any:
        if isinstance(value, str) and whole.fullmatch(value):
            return convert(value)
        raise PydanticCustomError("pattern", str(_(message)))

    return PlainValidator(check)


def pattern_schema(pattern: str) -> WithJsonSchema:
    """The OpenAPI schema of a string matching `pattern`."""
    return WithJsonSchema({"type": "string", "pattern": pattern})


# A local day (`format: date`): YYYY-MM-DD, a real day.
Day = Annotated[date, PlainValidator(_full_date), WithJsonSchema({"type": "string", "format": "date"})]
# An instant (`format: date-time`): with its offset, read in UTC.
Moment = Annotated[
    datetime, PlainValidator(_date_time), WithJsonSchema({"type": "string", "format": "date-time"})
]
