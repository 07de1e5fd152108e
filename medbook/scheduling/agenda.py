"""The desk's day agenda (issue 23): every physician of a location side by side on one time axis, one day.

A read only: the bookings and free slots come from `selectors.calendar_days` (the slot engine and the
booking rules, as the week calendars show them), read for every physician at once; this module lays them
out in rows of equal length in the institution's zone.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef

from medbook.core.tenancy import Actor, acting, scoped
from medbook.institutions.models import Location, Physician, Service
from medbook.scheduling import selectors
from medbook.scheduling import slots as engine
from medbook.scheduling.selectors import CalendarEntry

PALETTE = 8  # colours of services (static/css/agenda.css: .service-0 … .service-7)
SHORTEST_ROW = timedelta(minutes=5)
LONGEST_ROW = timedelta(minutes=60)

BOOKING, FREE, OFF = "booking", "free", "off"


@dataclass
class AgendaEntry(CalendarEntry):
    """A booking or a free slot of the agenda, with its service's colour (an index into PALETTE)."""

    colour: int = 0


@dataclass
class AgendaCell:
    """One physician's time from a row on: a booking (spanning its rows), working time with the free slots
    that start in it, or time off (consecutive rows merged)."""

    kind: str
    physician: Physician
    rows: int = 1
    entries: list[AgendaEntry] = field(default_factory=list)


@dataclass
class AgendaRow:
    """One step of the time axis and the cells that start in it (a cell spanning rows starts once)."""

    starts_at: datetime
    cells: list[AgendaCell | None]

    @property
    def started(self) -> list[AgendaCell]:
        return [cell for cell in self.cells if cell is not None]


@dataclass
class AgendaColumn:
    """One physician of the location: whether it gives the chosen service, its day (bookings and free slots
    in order) and its working intervals."""

    physician: Physician
    gives_service: bool
    entries: list[AgendaEntry]
    hours: list[engine.Interval]


@dataclass
class Agenda:
    """The day of a location: its physicians, the rows of its time axis, and the services shown (legend)."""

    day: date
    location: Location
    service: Service
    tz: ZoneInfo
    columns: list[AgendaColumn]
    rows: list[AgendaRow]
    legend: list[tuple[Service, int]]  # the services shown and their colours

    @property
    def bookings(self) -> int:
        return sum(1 for column in self.columns for entry in column.entries if entry.booking is not None)


def institution_today(actor: Actor) -> date:
    """Today in the zone of the institution the actor acts for."""
    return datetime.now(ZoneInfo(acting(actor.institution).time_zone)).date()


def day_agenda(*, actor: Actor, location: Location, service: Service, day: date) -> Agenda:
    """The agenda of `location` on the local `day`: every active physician working there, their bookings
    at any location (the institution's staff see them all), and the free slots of `service` for those
    who give it. A bounded number of queries however many physicians and bookings: the physicians, the
    services' colours, and those of `selectors.calendar_days`."""
    institution = acting(actor.institution)
    tz = ZoneInfo(institution.time_zone)
    physicians = list(
        scoped(Physician, actor)
        .filter(is_active=True, locations=location)
        .annotate(
            gives=Exists(Service.physicians.through.objects.filter(physician=OuterRef("pk"), service=service))
        )
        .order_by("full_name", "pk")
    )
    for physician in physicians:
        physician.institution = institution
    days = selectors.calendar_days(
        actor=actor,
        calendars=[selectors.Calendar(physician, location, service) for physician in physicians],
        date_from=day,
        date_until=day,
    )
    palette = scoped(Service, actor).order_by("pk").values_list("pk", flat=True)
    colours = {pk: index % PALETTE for index, pk in enumerate(palette)}
    columns = [
        AgendaColumn(
            physician,
            physician.gives,
            [
                AgendaEntry(**vars(entry), colour=colours.get(_service_of(entry, service).pk, 0))
                for entry in found[0].entries
                if physician.gives or not entry.is_free
            ],
            found[0].hours,
        )
        for physician, found in zip(physicians, days, strict=True)
    ]
    shown = {_service_of(e, service).pk: _service_of(e, service) for c in columns for e in c.entries}
    shown[service.pk] = service
    start, end = selectors.day_bounds(tz=tz, date_from=day, date_until=day)
    return Agenda(
        day=day,
        location=location,
        service=service,
        tz=tz,
        columns=columns,
        rows=_rows(columns, tz, start, end),
        legend=[(s, colours.get(s.pk, 0)) for s in sorted(shown.values(), key=lambda s: (s.name, s.pk))],
    )


def _service_of(entry: CalendarEntry, offered: Service) -> Service:
    """The service of a booking, or the one a free slot is offered for."""
    return entry.booking.service if entry.booking is not None else offered


def _rows(
    columns: list[AgendaColumn], tz: ZoneInfo, day_start: datetime, day_end: datetime
) -> list[AgendaRow]:
    """The time axis from the first working hour or booking to the last, in whole local hours, cut in rows
    as long as every boundary allows (at least SHORTEST_ROW); each column's cells placed on it."""
    spans = [(item.starts_at, item.ends_at) for column in columns for item in column.hours]
    spans += [(item.starts_at, item.ends_at) for column in columns for item in column.entries]
    moments = [moment for first, last in spans for moment in (max(first, day_start), min(last, day_end))]
    if not moments:
        return []
    first = _whole_hour(min(moments), tz, up=False, day_start=day_start, day_end=day_end)
    last = _whole_hour(max(moments), tz, up=True, day_start=day_start, day_end=day_end)
    step = _step(moments, first)
    count = math.ceil((last - first) / step)
    rows = [AgendaRow(first + step * index, [None] * len(columns)) for index in range(count)]
    for position, column in enumerate(columns):
        for index, cell in _cells(column, first, step, count):
            rows[index].cells[position] = cell
    return rows


def _whole_hour(
    moment: datetime, tz: ZoneInfo, *, up: bool, day_start: datetime, day_end: datetime
) -> datetime:
    """The local whole hour at or before (or, `up`, at or after) the moment, within the day."""
    local = moment.astimezone(tz)
    floor = local.replace(minute=0, second=0, microsecond=0).astimezone(day_start.tzinfo)
    if up and floor < moment:
        floor = floor + timedelta(hours=1)
    return min(max(floor, day_start), day_end)


def _step(moments: list[datetime], first: datetime) -> timedelta:
    """The longest row (at most an hour) on whose edges every moment falls, but no shorter than SHORTEST_ROW."""
    minutes = int(LONGEST_ROW.total_seconds() // 60)
    for moment in moments:
        minutes = math.gcd(minutes, int((moment - first).total_seconds() // 60))
    return max(timedelta(minutes=minutes), SHORTEST_ROW)


def _index(moment: datetime, first: datetime, step: timedelta, *, up: bool) -> int:
    rows = (moment - first) / step
    return math.ceil(rows) if up else math.floor(rows)


def _cells(column: AgendaColumn, first: datetime, step: timedelta, count: int):
    """(row, cell) of one column: its bookings, its working rows (with the free slots starting in each) and
    its time off, merged where consecutive."""
    taken: dict[int, AgendaCell] = {}
    tops: set[int] = set()
    for entry in column.entries:
        if entry.is_free:
            continue
        top = min(max(_index(entry.starts_at, first, step, up=False), 0), count - 1)
        if top in taken:  # two bookings in one row (a moved booking off the grid): shown together
            taken[top].entries.append(entry)
            continue
        bottom = min(max(_index(entry.ends_at, first, step, up=True), top + 1), count)
        bottom = next((row for row in range(top + 1, bottom) if row in taken), bottom)
        taken[top] = AgendaCell(BOOKING, column.physician, bottom - top, [entry])
        tops.add(top)
        for row in range(top + 1, bottom):
            taken[row] = taken[top]
    free = [entry for entry in column.entries if entry.is_free]
    previous: AgendaCell | None = None
    for row in range(count):
        if row in taken:
            if row in tops:
                yield row, taken[row]
            previous = None
            continue
        moment = first + step * row
        if any(hours.starts_at <= moment < hours.ends_at for hours in column.hours):
            starting = [e for e in free if moment <= e.starts_at < moment + step]
            previous = None
            yield row, AgendaCell(FREE, column.physician, 1, starting)
        elif previous is not None:
            previous.rows += 1
        else:
            previous = AgendaCell(OFF, column.physician)
            yield row, previous
