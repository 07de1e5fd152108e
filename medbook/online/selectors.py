"""What the public booking pages read: the institutions, services and free times offered online."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from medbook.core.ids import parse_id_or_none
from medbook.core.sql import Compiled, columns, loaded
from medbook.core.tenancy import Actor
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.scheduling import online
from medbook.scheduling.first_free import FreeTime, free_times_by_day
from medbook.scheduling.selectors import Calendar

SEARCH_DAYS = 14  # one page of free times: two weeks from the day asked
TIMES_SHOWN = 40  # the earliest free times of those days, across physicians and locations


@dataclass(frozen=True)
class FreeDay:
    """The free times of one local day."""

    day: date
    times: list[FreeTime]


def online_service(institution_id: object, service_id: object) -> Service:
    """The service offered online at these ids (`online.online_service`, its institution read with it);
    anything else is 404."""
    return online.online_service(
        institution_id=parse_id_or_none(institution_id) or 0, service_id=parse_id_or_none(service_id) or 0
    )


def online_calendars(institution: Institution, service: Service) -> list[Calendar]:
    """Each active physician giving the service at each active location of it where the physician works,
    by physician and location name: one query (the pairs of where physicians work, with both), compiled
    once (`core.sql.Compiled`: every page of the public search reads it)."""
    found = []
    for row in _CALENDARS.rows(service_id=service.pk):
        physician, location = loaded(row, Physician, Location)
        physician.institution = location.institution = institution
        found.append(Calendar(physician, location, service))
    return found


def _calendars_of(service_id: int) -> QuerySet:
    return (
        Physician.locations.through.objects.filter(
            physician__is_active=True,
            location__is_active=True,
            # The service's own link tables, not its related managers: fewer joins for the planner.
            physician_id__in=Service.physicians.through.objects.filter(service_id=service_id).values(
                "physician_id"
            ),
            location_id__in=Service.locations.through.objects.filter(service_id=service_id).values(
                "location_id"
            ),
        )
        .values_list(*columns(Physician, "physician__"), *columns(Location, "location__"))
        .order_by("physician__full_name", "physician_id", "location__name", "location_id")
    )


_CALENDARS = Compiled(Physician.locations.through, _calendars_of)


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
    # The free times of every calendar, read together and cut day by day only until the page is full
    # (`first_free.free_times_by_day`: held times are busy for all).
    shown: list[FreeDay] = []
    count = 0
    by_day = free_times_by_day(
        actor=Actor(user=None, online=True), calendars=calendars, date_from=date_from, date_until=date_until
    )
    for offset, times in enumerate(by_day):
        if not times:
            continue
        day = date_from + timedelta(days=offset)
        if shown and count + len(times) > TIMES_SHOWN:
            return shown, day  # the next page starts with the day that did not fit
        shown.append(FreeDay(day, times))
        count += len(times)
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
