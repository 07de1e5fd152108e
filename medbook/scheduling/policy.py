"""The institution's booking rules (B-11), in one place: how far ahead, how late a partner may act, the grid.

The slot search, the calendars, the booking services and the API all ask these functions, so a rule set on
the institution's settings page holds wherever a booking is made, moved or cancelled.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.errors import DomainError
from medbook.institutions.models import Institution


def slot_step(*, institution: Institution, duration_minutes: int) -> timedelta:
    """Minutes between slot starts: the institution's grid, or the service's own duration."""
    return timedelta(minutes=institution.slot_grid_minutes or duration_minutes)


def earliest_start(*, institution: Institution, partner: bool, now: datetime | None = None) -> datetime:
    """The earliest start a new booking may have: now, and for a partner now plus the cut-off."""
    now = now or timezone.now()
    if partner:
        return now + timedelta(minutes=institution.partner_cutoff_minutes)
    return now


def latest_start(*, institution: Institution, now: datetime | None = None) -> datetime:
    """The latest start a booking may have: the booking horizon from now."""
    return (now or timezone.now()) + timedelta(days=institution.booking_horizon_days)


def check_start(*, institution: Institution, starts_at: datetime, partner: bool) -> None:
    """Refuse a start time in the past, beyond the horizon, or (for a partner) inside the cut-off."""
    now = timezone.now()
    if starts_at <= now:
        raise DomainError(_("A booking cannot start in the past."), field="starts_at")
    if starts_at > latest_start(institution=institution, now=now):
        raise DomainError(
            _("Appointments can be booked at most %(days)s days ahead.")
            % {"days": institution.booking_horizon_days},
            field="starts_at",
        )
    if partner and starts_at < earliest_start(institution=institution, partner=True, now=now):
        raise DomainError(_cutoff_message(institution), field="starts_at")


def check_partner_change(*, institution: Institution, starts_at: datetime) -> None:
    """Refuse a partner's move or cancellation of an appointment that starts inside the cut-off."""
    if starts_at < earliest_start(institution=institution, partner=True):
        raise DomainError(_cutoff_message(institution))


def _cutoff_message(institution: Institution) -> str:
    minutes = institution.partner_cutoff_minutes
    if minutes % 60 == 0:
        return str(
            _("Partners may book, move or cancel up to %(hours)s hours before the appointment.")
            % {"hours": minutes // 60}
        )
    return str(
        _("Partners may book, move or cancel up to %(minutes)s minutes before the appointment.")
        % {"minutes": minutes}
    )
