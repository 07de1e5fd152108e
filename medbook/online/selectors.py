"""What the public booking pages read: the institutions, services and free times offered online."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils import timezone

from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import Actor
from medbook.institutions.models import Institution, Physician, Service
from medbook.scheduling import online
from medbook.scheduling.first_free import FreeTime, free_times
from medbook.scheduling.selectors import Calendar

SEARCH_DAYS = 14  # one page of free times: two weeks from the day asked
TIMES_SHOWN = 40  # the earliest free times of those days, across physicians and locations


@dataclass(frozen=True)
class FreeDay:
    """The free times of one local day."""

    day: date
    times: list[FreeTime]


def online_service(institution: Institution, pk: object) -> Service:
    """The institution's service offered online with this id; anything else is 404."""
    found = online.online_services(institution).filter(pk=parse_id_or_none(pk) or 0).first()
    if found is None:
        raise Http404()
    found.institution = institution
    return found


def online_calendars(institution: Institution, service: Service) -> list[Calendar]:
    """Each active physician giving the service at each active location of it where the physician works,
    by physician and location name: one query (the pairs of where physicians work, with both)."""
    pairs = (
        Physician.locations.through.objects.filter(
            physician__in=service.physicians.filter(is_active=True),
            location__in=service.locations.filter(is_active=True),
        )
        .select_related("physician", "location")
        .order_by("physician__full_name", "physician_id", "location__name", "location_id")
    )
    found = []
    for pair in pairs:
        pair.physician.institution = pair.location.institution = institution
        found.append(Calendar(pair.physician, pair.location, service))
    return found


def narrowed(
    calendars: list[Calendar], *, location: object = None, physician: object = None
) -> list[Calendar]:
    """The calendars at the location and with the physician chosen (an id not among them chooses nothing)."""
    location_id, physician_id = parse_id_or_none(location), parse_id_or_none(physician)
    return [
        c
        for c in calendars
        if (location_id is None or c.location.pk == location_id)
        and (physician_id is None or c.physician.pk == physician_id)
    ]


def free_days(
    *, institution: Institution, calendars: list[Calendar], date_from: date
) -> tuple[list[FreeDay], date]:
    """The earliest free times of the calendars over SEARCH_DAYS local days from `date_from` (today at the
    earliest), across physicians and locations, by time, grouped by day in the institution's zone (held
    times left out); and the day the next page starts from. At most TIMES_SHOWN times, in whole days."""
    tz = ZoneInfo(institution.time_zone)
    date_from = max(date_from, timezone.now().astimezone(tz).date())
    date_until = date_from + timedelta(days=SEARCH_DAYS - 1)
    # The earliest free times of every calendar, read together (`first_free.free_times`: held times are
    # busy for all).
    times = free_times(
        actor=Actor(user=None, online=True), calendars=calendars, date_from=date_from, date_until=date_until
    )
    free = [
        FreeDay(day, list(group))
        for day, group in groupby(times, key=lambda t: t.starts_at.astimezone(tz).date())
    ]
    shown: list[FreeDay] = []
    for day in free:
        if shown and sum(len(d.times) for d in shown) + len(day.times) > TIMES_SHOWN:
            return shown, day.day  # the next page starts with the day that did not fit
        shown.append(day)
    return shown, date_until + timedelta(days=1)


def chosen_time(
    calendars: list[Calendar], *, location: object, physician: object, at: object
) -> tuple[Calendar, datetime]:
    """The calendar and start (Unix seconds) the patient picked; anything not offered online is 404 (whether
    the time is still free the hold decides)."""
    picked = narrowed(calendars, location=location, physician=physician)
    seconds = parse_id_or_none(at)
    if location in (None, "") or physician in (None, "") or len(picked) != 1 or seconds is None:
        raise Http404()
    try:
        starts_at = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise Http404() from None
    return picked[0], starts_at
