"""Domain errors raised by services; views and the API turn them into messages and 4xx answers."""

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain refused the request."""

    default_message = _("The request could not be carried out.")
    status_code = 400

    def __init__(self, message=None, *, field: str | None = None):
        self.message = message or self.default_message
        self.field = field
        super().__init__(str(self.message))


class Conflict(DomainError):
    """A well-formed request that the present state refuses: the booking is no longer booked or has
    started, the time is not bookable now (past, beyond the horizon, inside the cut-off, outside working
    hours), an idempotency key was used with another body, a slot taken or held (`SlotUnavailable`). The
    JSON API and FHIR answer 409."""

    status_code = 409


class SlotUnavailable(Conflict):
    """The chosen time is taken or not offered."""

    default_message = _("This slot is no longer available.")


class SlotHeld(SlotUnavailable):
    """Someone else holds the chosen time for a few minutes while they book it (issue 21)."""

    default_message = _(
        "Someone else is booking this time right now: choose another time, or try again in a few minutes."
    )


class HoldUnknown(SlotUnavailable):
    """The hold named is not a live hold of the caller: unknown, another's, expired, released or booked
    already (one answer for all, so that it tells nothing of anyone else's holds)."""

    default_message = _("This hold has expired or does not exist: choose the time again.")


class NotPermitted(DomainError):
    """The actor may not do this."""

    default_message = _("You do not have permission to do this.")
    status_code = 403


class TooManyRequests(DomainError):
    """A quota was used up; `retry_after` (seconds) says when to try again."""

    default_message = _("Too many requests: try again later.")
    status_code = 429

    def __init__(self, message=None, *, field: str | None = None, retry_after: int | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class SameDayVisits(Conflict):
    """The patient already has a visit that local day at the institution (`scheduling.policy.same_day_visits`):
    the booking pages book only once the user acknowledges it. `patient` is the patient being booked and
    `visits` the other visits as the booker may see them."""

    default_message = _("This patient already has a visit at this institution that day.")

    def __init__(self, *, patient: Any, visits: Sequence[Any]):
        super().__init__(field="patient")
        self.patient = patient
        self.visits = list(visits)
