"""Rules of the working hours, checked by the services (and shown early by the forms)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from medbook.core.errors import DomainError
from medbook.scheduling.models import WorkingHours


def working_hours_clash(hours: WorkingHours) -> str | None:
    """Why the hours cannot be saved: they overlap another rule of the physician (one person, one place at
    a time); None when they fit."""
    clashes = WorkingHours.objects.filter(
        physician_id=hours.physician_id,
        weekday=hours.weekday,
        start_time__lt=hours.end_time,
        end_time__gt=hours.start_time,
    ).exclude(pk=hours.pk)
    if hours.valid_until:
        clashes = clashes.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=hours.valid_until))
    if hours.valid_from:
        clashes = clashes.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=hours.valid_from))
    clash = clashes.select_related("location").first()
    if clash is None:
        return None
    message = _("These hours overlap the physician's hours %(from)s–%(until)s at %(location)s.")
    details = {"from": f"{clash.start_time:%H:%M}", "until": f"{clash.end_time:%H:%M}"}
    return message % {**details, "location": clash.location}


def working_hours_check(hours: WorkingHours) -> None:
    """Refuse hours that end before they start, at a location the physician does not work at, or that
    overlap another rule of the physician."""
    if hours.end_time <= hours.start_time:
        raise DomainError(_("“Until” must be later than “from”."), field="end_time")
    if hours.valid_from and hours.valid_until and hours.valid_until < hours.valid_from:
        raise DomainError(_("“Valid until” cannot be before “valid from”."), field="valid_until")
    if not hours.physician.locations.filter(pk=hours.location_id).exists():
        message = _("%(physician)s does not work at %(location)s.")
        raise DomainError(
            message % {"physician": hours.physician, "location": hours.location}, field="location"
        )
    clash = working_hours_clash(hours)
    if clash is not None:
        raise DomainError(clash)
