"""Reads for calendars and bookings, narrowed to what the actor may see."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from medbook.core.tenancy import scoped
from medbook.institutions.models import MAX_SERVICE_MINUTES, Location, Physician, Service
from medbook.scheduling import policy
from medbook.scheduling import slots as engine
from medbook.scheduling.models import Booking, DeskPreference, ScheduleException, TrafficChannel, WorkingHours


def rules_for(*, physician: Physician, location: Location) -> list[engine.Rule]:
    """The weekly rules of a physician at a location."""
    return [
        engine.Rule(wh.weekday, wh.start_time, wh.end_time, wh.valid_from, wh.valid_until)
        for wh in WorkingHours.objects.filter(physician=physician, location=location)
    ]


def closed_days_for(*, physician: Physician, location: Location, date_from: date, date_until: date):
    """The (from, until) day ranges the physician does not work at the location."""
    return list(
        ScheduleException.objects.filter(
            physician=physician, date_from__lte=date_until, date_until__gte=date_from
        )
        .filter(Q(location=location) | Q(location__isnull=True))
        .values_list("date_from", "date_until")
    )


def working_intervals_for(
    *, physician: Physician, location: Location, date_from: date, date_until: date
) -> list[engine.Interval]:
    """Absolute working intervals of a physician at a location over local days."""
    tz = ZoneInfo(physician.institution.time_zone)
    return engine.working_intervals(
        rules_for(physician=physician, location=location),
        closed_days_for(physician=physician, location=location, date_from=date_from, date_until=date_until),
        tz,
        date_from,
        date_until,
    )


def active_bookings(*, physician: Physician, starts: datetime, ends: datetime) -> QuerySet[Booking]:
    """The physician's active bookings overlapping [starts, ends), at any location.

    A booking is never longer than a service may last (MAX_SERVICE_MINUTES, a constraint), so its start
    is bounded from below as well: the (physician, starts_at) index reads only the window, however long
    the physician's history.
    """
    earliest = starts - timedelta(minutes=MAX_SERVICE_MINUTES)
    return Booking.objects.filter(
        physician=physician,
        status__in=Booking.ACTIVE_STATUSES,
        starts_at__gt=earliest,
        starts_at__lt=ends,
        ends_at__gt=starts,
    )


def day_bounds(*, tz: ZoneInfo, date_from: date, date_until: date) -> tuple[datetime, datetime]:
    """UTC bounds of local days date_from..date_until."""
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(date_until + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return start, end


def available_slots(
    *,
    physician: Physician,
    location: Location,
    service: Service,
    date_from: date,
    date_until: date,
    now: datetime | None = None,
    ignore_booking: Booking | None = None,
    partner: bool = False,
) -> list[engine.Interval]:
    """Free slots for the service with the physician at the location over local days date_from..date_until.

    Only those the booking rules allow (`policy`): on the institution's grid, within its horizon, and for a
    partner (`partner`) not inside its cut-off.
    """
    institution = physician.institution
    tz = ZoneInfo(institution.time_zone)
    intervals = working_intervals_for(
        physician=physician, location=location, date_from=date_from, date_until=date_until
    )
    step = policy.slot_step(institution=institution, duration_minutes=service.duration_minutes)
    latest = policy.latest_start(institution=institution, now=now)
    candidates = [
        slot
        for slot in engine.grid_slots(intervals, timedelta(minutes=service.duration_minutes), step)
        if slot.starts_at <= latest
    ]
    start, end = day_bounds(tz=tz, date_from=date_from, date_until=date_until)
    busy_qs = active_bookings(physician=physician, starts=start, ends=end)
    if ignore_booking is not None:
        busy_qs = busy_qs.exclude(pk=ignore_booking.pk)
    busy = [engine.Interval(s, e) for s, e in busy_qs.values_list("starts_at", "ends_at")]
    not_before = policy.earliest_start(institution=institution, partner=partner, now=now)
    return engine.free_slots(candidates, busy, not_before=not_before)


@dataclass
class CalendarDay:
    """One local day of a calendar: its free slots and its bookings, in order."""

    day: date
    entries: list


@dataclass
class CalendarEntry:
    """A free slot (booking is None) or a booking shown on the calendar."""

    starts_at: datetime
    ends_at: datetime
    booking: Booking | None = None
    busy: bool = False  # someone else's booking: shown red, without any detail (P-13)

    @property
    def is_free(self) -> bool:
        return self.booking is None and not self.busy


def calendar_week(
    *, actor, physician: Physician, location: Location, service: Service, week_start: date
) -> list[CalendarDay]:
    """Seven local days of free slots (green) and active bookings (red) of one calendar, for reception and
    partners alike; what a booking reveals depends on who looks.

    The institution's own staff see every booking of the physician. A partner's user (whose access the
    caller checked, P-4, P-9) sees its own bookings at this location, and everyone else's only as busy time:
    those entries carry no booking, so no patient, id or detail can reach the page (P-13).
    """
    tz = ZoneInfo(physician.institution.time_zone)
    week_end = week_start + timedelta(days=6)
    free = available_slots(
        physician=physician,
        location=location,
        service=service,
        date_from=week_start,
        date_until=week_end,
        partner=actor is not None and actor.partner is not None,
    )
    start, end = day_bounds(tz=tz, date_from=week_start, date_until=week_end)
    bookings = active_bookings(physician=physician, starts=start, ends=end).select_related(
        "patient", "service", "location", "channel"
    )
    partner = actor.partner if actor is not None else None
    institution = actor.institution if actor is not None else None
    staff = institution is not None and institution.pk == physician.institution_id

    def reveals(booking: Booking) -> bool:
        if partner is not None:
            return booking.partner_id == partner.pk and booking.location_id == location.pk
        return staff

    by_day: dict[date, list[CalendarEntry]] = {d: [] for d in engine.days(week_start, week_end)}
    for slot in free:
        by_day.setdefault(slot.starts_at.astimezone(tz).date(), []).append(
            CalendarEntry(slot.starts_at, slot.ends_at)
        )
    for booking in bookings:
        entry = (
            CalendarEntry(booking.starts_at, booking.ends_at, booking)
            if reveals(booking)
            else CalendarEntry(booking.starts_at, booking.ends_at, busy=True)
        )
        by_day.setdefault(booking.starts_at.astimezone(tz).date(), []).append(entry)
    return [
        CalendarDay(day, sorted(entries, key=lambda e: e.starts_at))
        for day, entries in sorted(by_day.items())
        if week_start <= day <= week_end
    ]


def default_channel(*, institution, code: str = "reception") -> TrafficChannel:
    """The institution's built-in channel with the given code."""
    return TrafficChannel.objects.get(institution=institution, code=code)


def bookings_for_actor(actor) -> QuerySet[Booking]:
    """Bookings of the actor's institution with what lists show."""
    return scoped(Booking, actor).select_related("patient", "service", "location", "physician", "channel")


OVERDUE_DAYS = 30  # older unrecorded bookings are the reports' business, not the desk's
OVERDUE_SHOWN = 20


@dataclass
class Overdue:
    """The bookings whose attendance is overdue, latest first (at most OVERDUE_SHOWN), and how many there are."""

    bookings: list[Booking]
    total: int


def attendance_overdue(*, actor, now: datetime | None = None, limit: int = OVERDUE_SHOWN) -> Overdue:
    """The actor's institution's bookings still booked whose end is more than its attendance grace period
    ago, over the last OVERDUE_DAYS days (two queries at most)."""
    institution = actor.institution if actor is not None else None
    if institution is None:
        return Overdue([], 0)
    now = now or timezone.now()
    overdue = (
        bookings_for_actor(actor)
        .filter(
            status=Booking.Status.BOOKED,
            ends_at__lt=now - timedelta(minutes=institution.attendance_grace_minutes),
            ends_at__gte=now - timedelta(days=OVERDUE_DAYS),
        )
        .order_by("-starts_at", "-pk")
    )
    total = overdue.count()
    return Overdue(list(overdue[:limit]) if total else [], total)


def desk_preference(*, actor, page: str) -> dict:
    """The filters the actor last chose on a calendar page (empty when none)."""
    if actor is None or actor.user is None or actor.organization is None:
        return {}
    found = DeskPreference.objects.filter(
        user=actor.user, organization_id=actor.organization.pk, page=page
    ).first()
    return dict(found.values) if found is not None else {}


def move_choices(*, booking: Booking, partner: bool = False) -> list[CalendarDay]:
    """The free slots a booking can move to, this week and the next, by local day (its own time left out)."""
    tz = ZoneInfo(booking.institution.time_zone)
    local_day = booking.starts_at.astimezone(tz).date()
    week_start = local_day - timedelta(days=local_day.weekday())
    free = available_slots(
        physician=booking.physician,
        location=booking.location,
        service=booking.service,
        date_from=week_start,
        date_until=week_start + timedelta(days=13),
        ignore_booking=booking,
        partner=partner,
    )
    by_day: dict[date, list[CalendarEntry]] = {}
    for slot in free:
        if slot.starts_at != booking.starts_at:
            by_day.setdefault(slot.starts_at.astimezone(tz).date(), []).append(
                CalendarEntry(slot.starts_at, slot.ends_at)
            )
    return [CalendarDay(day, entries) for day, entries in sorted(by_day.items())]
