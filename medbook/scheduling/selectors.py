"""Reads for calendars and bookings, narrowed to what the actor may see."""

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from medbook.core.ids import parse_id
from medbook.core.sql import Compiled, UnixSeconds, instant
from medbook.core.tenancy import Actor, scoped
from medbook.institutions.models import MAX_SERVICE_MINUTES, Institution, Location, Physician, Service
from medbook.scheduling import hold_rules, policy
from medbook.scheduling import slots as engine
from medbook.scheduling.hold_rules import Holder
from medbook.scheduling.models import Booking, DeskPreference, ScheduleException, TrafficChannel, WorkingHours
from medbook.scheduling.patient_shown import ShownPatient, booking_patient, with_register_access


def rules_for(*, physician: Physician, location: Location, lock: bool = False) -> list[engine.Rule]:
    """The weekly rules of a physician at a location.

    With `lock` (a booking's or a hold's check), on PostgreSQL the same statement locks the physician's row
    (`FOR NO KEY UPDATE`, which a booking's foreign-key check does not wait for) until the transaction ends:
    the physician's holds and bookings take turns from here, and every later statement of the check reads
    what the previous turn committed (`hold_rules`). A physician with no hours there locks nothing, and
    nothing is booked or held then.
    """
    hours = WorkingHours.objects.filter(physician=physician, location=location)
    if lock:
        hours = hours.select_related("physician").select_for_update(no_key=True, of=("physician",))
    return [_rule(wh) for wh in hours]


RULE_FIELDS = ("weekday", "start_time", "end_time", "valid_from", "valid_until")  # engine.Rule's, in order


def _rule(hours: WorkingHours) -> engine.Rule:
    return engine.Rule(*attrgetter(*RULE_FIELDS)(hours))


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
    *, physician: Physician, location: Location, date_from: date, date_until: date, lock: bool = False
) -> list[engine.Interval]:
    """Absolute working intervals of a physician at a location over local days (`lock`: see `rules_for`)."""
    tz = ZoneInfo(physician.institution.time_zone)
    return engine.working_intervals(
        rules_for(physician=physician, location=location, lock=lock),
        closed_days_for(physician=physician, location=location, date_from=date_from, date_until=date_until),
        tz,
        date_from,
        date_until,
    )


def active_bookings(*, physician: Physician, starts: datetime, ends: datetime) -> QuerySet[Booking]:
    """The physician's active bookings overlapping [starts, ends), at any location."""
    return _active_overlapping(Q(physician=physician), starts=starts, ends=ends)


def _active_overlapping(who: Q, *, starts: datetime, ends: datetime) -> QuerySet[Booking]:
    """Active bookings of `who` overlapping [starts, ends).

    A booking is never longer than a service may last (MAX_SERVICE_MINUTES, a constraint), so its start
    is bounded from below as well: the (physician, starts_at) index reads only the window, however long
    the physician's history.
    """
    earliest = starts - timedelta(minutes=MAX_SERVICE_MINUTES)
    return Booking.objects.filter(
        who,
        status__in=Booking.ACTIVE_STATUSES,
        starts_at__gt=earliest,
        starts_at__lt=ends,
        ends_at__gt=starts,
    )


BOOKED, HELD, OWN_HOLD = 0, 1, 2  # what a busy row of `busy_of` is


@dataclass(frozen=True)
class Busy:
    """A physician's busy time in a window as one holder sees it: active bookings, others' live holds
    (both busy), and the holder's own live holds (free for it; a booking of it consumes them)."""

    booked: list[engine.Interval]
    held: list[engine.Interval]
    own: list[engine.Interval]

    @property
    def intervals(self) -> list[engine.Interval]:
        """What is busy for the holder."""
        return self.booked + self.held


def busy_of(
    *,
    physician: Physician,
    starts: datetime,
    ends: datetime,
    holder: Holder | None = None,
    ignore_booking: Booking | None = None,
    now: datetime | None = None,
) -> Busy:
    """The physician's busy time overlapping [starts, ends) for `holder` (None: every live hold is someone
    else's), in one query: its active bookings and live holds read together (UNION ALL)."""
    now = now or timezone.now()
    bookings = active_bookings(physician=physician, starts=starts, ends=ends)
    if ignore_booking is not None:
        bookings = bookings.exclude(pk=ignore_booking.pk)
    kind = IntegerField()
    rows = (
        bookings.order_by()
        .annotate(kind=Value(BOOKED, output_field=kind))
        .values_list("starts_at", "ends_at", "kind")
        .union(
            hold_rules.live_overlapping(Q(physician=physician), starts=starts, ends=ends, now=now)
            .order_by()
            .annotate(
                kind=Case(
                    When(hold_rules.owned(holder), then=Value(OWN_HOLD)),
                    default=Value(HELD),
                    output_field=kind,
                )
            )
            .values_list("starts_at", "ends_at", "kind"),
            all=True,
        )
    )
    found: dict[int, list[engine.Interval]] = {BOOKED: [], HELD: [], OWN_HOLD: []}
    for first, last, what in rows:
        found[what].append(engine.Interval(first, last))
    return Busy(found[BOOKED], found[HELD], found[OWN_HOLD])


def day_bounds(*, tz: ZoneInfo, date_from: date, date_until: date) -> tuple[datetime, datetime]:
    """UTC bounds of local days date_from..date_until."""
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(date_until + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return start, end


def bookable_slots(
    *,
    institution,
    service: Service,
    intervals: list[engine.Interval],
    busy: list[engine.Interval],
    now: datetime | None = None,
    partner: bool = False,
) -> list[engine.Interval]:
    """The free slots of the service within working intervals around busy times, as the booking rules
    (`policy`) allow them: on the institution's grid, within its horizon, and for a partner (`partner`) not
    inside its cut-off. Pure: the callers fetch the intervals and busy times."""
    now = now or timezone.now()
    step = policy.slot_step(institution=institution, duration_minutes=service.duration_minutes)
    latest = policy.latest_start(institution=institution, now=now)
    candidates = [
        slot
        for slot in engine.grid_slots(intervals, timedelta(minutes=service.duration_minutes), step)
        if slot.starts_at <= latest
    ]
    not_before = policy.earliest_start(institution=institution, partner=partner, now=now)
    return engine.free_slots(candidates, busy, not_before=not_before)


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
    intervals: list[engine.Interval] | None = None,
    holder: Holder | None = None,
) -> list[engine.Interval]:
    """Free slots for the service with the physician at the location over local days date_from..date_until.

    Only those the booking rules allow (`bookable_slots`), and none that someone other than `holder` holds
    (without a holder, no held slot at all). `intervals`, when given, are the working intervals of those
    days, already read.
    """
    institution = physician.institution
    tz = ZoneInfo(institution.time_zone)
    if intervals is None:
        intervals = working_intervals_for(
            physician=physician, location=location, date_from=date_from, date_until=date_until
        )
    start, end = day_bounds(tz=tz, date_from=date_from, date_until=date_until)
    now = now or timezone.now()
    busy = busy_of(
        physician=physician, starts=start, ends=end, holder=holder, ignore_booking=ignore_booking, now=now
    ).intervals
    return bookable_slots(
        institution=institution, service=service, intervals=intervals, busy=busy, now=now, partner=partner
    )


@dataclass
class CalendarDay:
    """One local day of a calendar: its free slots and its bookings, in order, and its working intervals."""

    day: date
    entries: list
    hours: list[engine.Interval] = field(default_factory=list)


@dataclass
class CalendarEntry:
    """A free slot (booking is None) or a booking shown on the calendar."""

    starts_at: datetime
    ends_at: datetime
    booking: Booking | None = None
    busy: bool = False  # someone else's booking: shown red, without any detail (P-13)
    patient: ShownPatient | None = None  # the booking's patient as the reader sees it (`patient_shown`)

    @property
    def is_free(self) -> bool:
        return self.booking is None and not self.busy


@dataclass(frozen=True)
class Calendar:
    """One calendar: a physician giving a service at a location."""

    physician: Physician
    location: Location
    service: Service
    # For a partner's calendar: whether its partnership grants patient-data access (P-7), so that its own
    # bookings show the register's patient rather than the one it entered (`patient_shown`).
    patient_data_access: bool = False


def calendar_week(
    *, actor: Actor, physician: Physician, location: Location, service: Service, week_start: date
) -> list[CalendarDay]:
    """Seven local days of free slots (green) and active bookings (red) of one calendar (`calendar_weeks`)."""
    return calendar_weeks(
        actor=actor, calendars=[Calendar(physician, location, service)], week_start=week_start
    )[0]


def calendar_weeks(
    *, actor: Actor, calendars: Sequence[Calendar], week_start: date
) -> list[list[CalendarDay]]:
    """Seven local days of free slots (green) and active bookings (red) of each calendar (`calendar_days`)."""
    return calendar_days(
        actor=actor, calendars=calendars, date_from=week_start, date_until=week_start + timedelta(days=6)
    )


def calendar_days(
    *, actor: Actor, calendars: Sequence[Calendar], date_from: date, date_until: date
) -> list[list[CalendarDay]]:
    """The local days date_from..date_until of free slots (green) and active bookings (red) of each calendar,
    for reception and partners alike (the week calendars, the day agenda); what a booking reveals depends on
    who looks.

    The institution's own staff see every booking of the physician. A partner's user (whose access the
    caller checked, P-4, P-9) sees its own bookings at this location, and everyone else's only as busy time:
    those entries carry no booking, so no patient, id or detail can reach the page (P-13). A slot someone
    else holds (`hold_rules`) is not offered; the actor's own holds leave their slots free for it.

    However many calendars: one query each for their working hours, leave, bookings (read once, as busy
    time and as entries) and others' live holds, and one for institutions not yet read.
    """
    if not calendars:
        return []
    bounds = _bounds_of(calendars, date_from, date_until)
    rules = _rules_of(calendars)
    closed = _closed_of(calendars, date_from, date_until)
    bookings = _bookings_of(calendars, bounds)
    now = timezone.now()
    held = _held_of(calendars, bounds, holder=hold_rules.holder_of(actor), now=now)
    return [
        _calendar_days(
            actor=actor,
            calendar=c,
            date_from=date_from,
            date_until=date_until,
            rules=rules.get((c.physician.pk, c.location.pk), []),
            closed=_closed_at(closed, c),
            bookings=bookings.get(c.physician.pk, []),
            held=held.get(c.physician.pk, []),
            now=now,
        )
        for c in calendars
    ]


def calendar_free_days(
    *, actor: Actor, calendars: Sequence[Calendar], date_from: date, date_until: date
) -> Iterator[list[list[engine.Interval]]]:
    """The free slots of each calendar, one local day after another from date_from to date_until (the n-th
    list is day date_from + n in each calendar's zone): those `calendar_days` offers, without reading the
    bookings themselves (only their times), for pages that show no booking (the first free time, the public
    free-time search). Everything is read on the first day asked for, in three queries however many
    calendars and days (and one for institutions not yet read); each day is cut by the slot engine only when
    it is asked for, so a caller that has found enough stops the work there."""
    if not calendars:
        return
    bounds = _bounds_of(calendars, date_from, date_until)
    rules = _rules_of(calendars)
    closed = _closed_of(calendars, date_from, date_until)
    starts = min(start for start, _ in bounds.values())
    ends = max(end for _, end in bounds.values())
    now = timezone.now()
    holding: dict[str, int] = {}  # whose holds are free for the one who asks (`hold_rules.owned`)
    holder = hold_rules.holder_of(actor)
    if holder is not None:
        if holder.user_id is None or holder.organization_id is None:
            raise ValueError("a free-time search is asked by a user or by nobody, never by a hold's token")
        holding = {"user_id": holder.user_id, "organization_id": holder.organization_id}
    rows = _BUSY_TIMES.rows(
        physician_ids=sorted({c.physician.pk for c in calendars}),
        starts=starts,
        ends=ends,
        now=now,
        **holding,
    )
    busy: dict[int, list[engine.Interval]] = {}
    for physician_id, first, last in rows:
        busy.setdefault(physician_id, []).append(engine.Interval(instant(first), instant(last)))
    for found in busy.values():
        found.sort(key=engine.BY_TIME)
    each = [
        (
            c,
            ZoneInfo(c.physician.institution.time_zone),
            rules.get((c.physician.pk, c.location.pk), []),
            _closed_at(closed, c),
            busy.get(c.physician.pk, []),
        )
        for c in calendars
    ]
    for day in engine.days(date_from, date_until):
        yield [
            _free_of(
                actor=actor,
                calendar=c,
                date_from=day,
                date_until=day,
                rules=day_rules,
                closed=day_closed,
                busy=_busy_within(day_busy, day_bounds(tz=tz, date_from=day, date_until=day)),
                now=now,
            )[1]
            for c, tz, day_rules, day_closed, day_busy in each
        ]


def _busy_within(busy: list[engine.Interval], bounds: tuple[datetime, datetime]) -> list[engine.Interval]:
    """The busy intervals (sorted by start) that may overlap the bounds: each day's slots are checked
    against its own few, not the whole span's (none is longer than MAX_SERVICE_MINUTES)."""
    starts, ends = bounds
    first = bisect_left(busy, starts - timedelta(minutes=MAX_SERVICE_MINUTES), key=attrgetter("starts_at"))
    return busy[first : bisect_left(busy, ends, lo=first, key=attrgetter("starts_at"))]


def _bounds_of(calendars: Sequence[Calendar], date_from: date, date_until: date) -> dict[str, tuple]:
    """The UTC bounds of the local days in each of the calendars' zones (their institutions read first)."""
    _institutions_read([c.physician for c in calendars])
    return {
        c.physician.institution.time_zone: day_bounds(
            tz=ZoneInfo(c.physician.institution.time_zone), date_from=date_from, date_until=date_until
        )
        for c in calendars
    }


def _closed_at(closed: dict[int, list[tuple]], calendar: Calendar) -> list[tuple]:
    """The calendar's physician's leave (`_closed_of`) that closes its location: (from, until)."""
    return [
        (f, u)
        for where, f, u in closed.get(calendar.physician.pk, [])
        if where in (None, calendar.location.pk)
    ]


def _free_of(
    *, actor: Actor | None, calendar: Calendar, date_from: date, date_until: date, rules, closed, busy, now
) -> tuple[list[engine.Interval], list[engine.Interval]]:
    """One calendar's working intervals over the days and its free slots around `busy`."""
    institution = calendar.physician.institution
    intervals = engine.working_intervals(
        rules, closed, ZoneInfo(institution.time_zone), date_from, date_until
    )
    free = bookable_slots(
        institution=institution,
        service=calendar.service,
        intervals=intervals,
        busy=busy,
        now=now,
        partner=actor is not None and actor.partner is not None,
    )
    return intervals, free


def _institutions_read(physicians: Sequence[Physician]) -> None:
    """Give each physician its institution, reading those not yet read in one query."""
    unread = {p.institution_id for p in physicians if not Physician.institution.is_cached(p)}
    if not unread:
        return
    found = Institution.objects.in_bulk(unread)
    for physician in physicians:
        if not Physician.institution.is_cached(physician):
            physician.institution = found[physician.institution_id]


def _rules_of(calendars: Sequence[Calendar]) -> dict[tuple[int, int], list[engine.Rule]]:
    """The weekly rules of every calendar's physician at its location, in one query."""
    pairs = {(c.physician.pk, c.location.pk) for c in calendars}
    found: dict[tuple[int, int], list[engine.Rule]] = {}
    rows = _HOURS.rows(
        physician_ids=sorted({p for p, _ in pairs}), location_ids=sorted({loc for _, loc in pairs})
    )
    for physician_id, location_id, *rule in rows:
        if (physician_id, location_id) in pairs:
            found.setdefault((physician_id, location_id), []).append(engine.Rule(*rule))
    return found


def _closed_of(calendars: Sequence[Calendar], date_from: date, date_until: date) -> dict[int, list[tuple]]:
    """Per physician, its (location or None, from, until) leave overlapping the days, in one query."""
    found: dict[int, list[tuple]] = {}
    rows = _LEAVE.rows(
        physician_ids=sorted({c.physician.pk for c in calendars}), date_from=date_from, date_until=date_until
    )
    for physician_id, location_id, first, last in rows:
        found.setdefault(physician_id, []).append((location_id, first, last))
    return found


# The reads of every calendar view and free-time search, compiled once (`core.sql.Compiled`).
_HOURS = Compiled(
    WorkingHours,
    lambda physician_ids, location_ids: (
        WorkingHours.objects.filter(physician_id__in=physician_ids, location_id__in=location_ids)
        .values_list("physician_id", "location_id", *RULE_FIELDS)
        .order_by()
    ),  # the engine sorts the intervals: no join for the physician's name
)
_LEAVE = Compiled(
    ScheduleException,
    lambda physician_ids, date_from, date_until: (
        ScheduleException.objects.filter(
            physician_id__in=physician_ids, date_from__lte=date_until, date_until__gte=date_from
        )
        .values_list("physician_id", "location_id", "date_from", "date_until")
        .order_by()
    ),
)


def _busy_times(physician_ids, starts, ends, now, **holder):
    """The physicians' active bookings' and live holds' times overlapping [starts, ends) (UNION ALL, as
    `busy_of` reads them), but the holds of `holder` (a `Holder`'s user and organisation), as Unix seconds:
    hundreds of them for a busy service, read several times faster than timestamps."""
    who = Q(physician_id__in=physician_ids)
    times = ("physician_id", UnixSeconds("starts_at"), UnixSeconds("ends_at"))
    return (
        _active_overlapping(who, starts=starts, ends=ends)
        .order_by()
        .values_list(*times)
        .union(
            hold_rules.live_overlapping(who, starts=starts, ends=ends, now=now)
            .exclude(hold_rules.owned(Holder(**holder) if holder else None))
            .order_by()
            .values_list(*times),
            all=True,
        )
    )


_BUSY_TIMES = Compiled(Booking, _busy_times)


def _bookings_of(calendars: Sequence[Calendar], bounds: dict) -> dict[int, list[Booking]]:
    """Per physician, its active bookings overlapping the week (in any of the calendars' zones), in one query."""
    starts = min(start for start, _ in bounds.values())
    ends = max(end for _, end in bounds.values())
    found: dict[int, list[Booking]] = {}
    bookings = (
        _active_overlapping(Q(physician_id__in={c.physician.pk for c in calendars}), starts=starts, ends=ends)
        .select_related("patient", "service", "location", "channel")
        .order_by("starts_at", "pk")
    )
    for booking in bookings:
        found.setdefault(booking.physician_id, []).append(booking)
    return found


def _held_of(
    calendars: Sequence[Calendar], bounds: dict, *, holder: Holder | None, now: datetime
) -> dict[int, list[engine.Interval]]:
    """Per physician, the live holds of others overlapping the week, in one query."""
    starts = min(start for start, _ in bounds.values())
    ends = max(end for _, end in bounds.values())
    found: dict[int, list[engine.Interval]] = {}
    rows = (
        hold_rules.live_overlapping(
            Q(physician_id__in={c.physician.pk for c in calendars}), starts=starts, ends=ends, now=now
        )
        .exclude(hold_rules.owned(holder))
        .values_list("physician_id", "starts_at", "ends_at")
    )
    for physician_id, first, last in rows:
        found.setdefault(physician_id, []).append(engine.Interval(first, last))
    return found


def _calendar_days(
    *,
    actor: Actor | None,
    calendar: Calendar,
    date_from: date,
    date_until: date,
    rules,
    closed,
    bookings: list[Booking],
    held: list[engine.Interval],
    now: datetime,
) -> list[CalendarDay]:
    """One calendar's days from what `calendar_days` read."""
    physician, location = calendar.physician, calendar.location
    institution = physician.institution
    tz = ZoneInfo(institution.time_zone)
    start, end = day_bounds(tz=tz, date_from=date_from, date_until=date_until)
    shown = [b for b in bookings if b.starts_at < end and b.ends_at > start]
    partner = actor.partner if actor is not None else None
    intervals, free = _free_of(
        actor=actor,
        calendar=calendar,
        date_from=date_from,
        date_until=date_until,
        rules=rules,
        closed=closed,
        busy=[engine.Interval(b.starts_at, b.ends_at) for b in shown] + held,
        now=now,
    )
    viewer = actor.institution if actor is not None else None
    staff = viewer is not None and viewer.pk == physician.institution_id

    def reveals(booking: Booking) -> bool:
        if partner is not None:
            return booking.partner_id == partner.pk and booking.location_id == location.pk
        return staff

    by_day: dict[date, list[CalendarEntry]] = {d: [] for d in engine.days(date_from, date_until)}
    for slot in free:
        by_day.setdefault(slot.starts_at.astimezone(tz).date(), []).append(
            CalendarEntry(slot.starts_at, slot.ends_at)
        )
    register = partner is None or calendar.patient_data_access
    for booking in shown:
        entry = (
            CalendarEntry(
                booking.starts_at,
                booking.ends_at,
                booking,
                patient=booking_patient(booking, register_access=register),
            )
            if reveals(booking)
            else CalendarEntry(booking.starts_at, booking.ends_at, busy=True)
        )
        by_day.setdefault(booking.starts_at.astimezone(tz).date(), []).append(entry)
    hours: dict[date, list[engine.Interval]] = {}
    for interval in intervals:
        hours.setdefault(interval.starts_at.astimezone(tz).date(), []).append(interval)
    return [
        CalendarDay(day, sorted(entries, key=lambda e: e.starts_at), hours.get(day, []))
        for day, entries in sorted(by_day.items())
        if date_from <= day <= date_until
    ]


def default_channel(*, institution, code: str = "reception") -> TrafficChannel:
    """The institution's built-in channel with the given code."""
    return TrafficChannel.objects.get(institution=institution, code=code)


def desk_offers(*, actor: Actor) -> list[Calendar]:
    """Every calendar the institution's staff may book: each active service with each active physician
    giving it at each active location the physician works at (the staff's counterpart of a partner's
    authorised offers, `medbook.partners.offers.bookable_offers`). Three queries however many."""
    found = []
    services = (
        scoped(Service, actor).filter(is_active=True).prefetch_related("locations", "physicians__locations")
    )
    for service in services:
        for location in service.locations.all():
            if not location.is_active:
                continue
            for physician in service.physicians.all():
                if physician.is_active and location in physician.locations.all():
                    found.append(Calendar(physician, location, service))
    return found


def desk_offer(*, actor: Actor, location_id, physician_id, service_id) -> Calendar:
    """The location, physician and service of the staff's own institution that the ids name; an id of
    another institution's (or no id) is 404. Whether they make a calendar the booking service checks."""
    location = scoped(Location, actor).filter(pk=parse_id(location_id)).first()
    physician = scoped(Physician, actor).filter(pk=parse_id(physician_id)).first()
    service = scoped(Service, actor).filter(pk=parse_id(service_id)).first()
    if location is None or physician is None or service is None:
        raise Http404()
    for item in (location, physician, service):
        item.institution = actor.institution  # scoped to it: not read again
    return Calendar(physician, location, service)


def bookings_for_actor(actor: Actor) -> QuerySet[Booking]:
    """Bookings of the actor's institution with what lists show."""
    bookings = scoped(Booking, actor).select_related("patient", "service", "location", "physician", "channel")
    return with_register_access(bookings, True)  # the institution's own staff see its register


OVERDUE_DAYS = 30  # older unrecorded bookings are the reports' business, not the desk's
OVERDUE_SHOWN = 20


@dataclass
class Overdue:
    """The bookings whose attendance is overdue, latest first (at most OVERDUE_SHOWN), and how many there are."""

    bookings: list[Booking]
    total: int


def attendance_overdue(
    *, actor: Actor | None, now: datetime | None = None, limit: int = OVERDUE_SHOWN
) -> Overdue:
    """The actor's institution's bookings still booked whose end is more than its attendance grace period
    ago, over the last OVERDUE_DAYS days (two queries at most)."""
    if actor is None or actor.institution is None:
        return Overdue([], 0)
    institution = actor.institution
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


def desk_preference(*, actor: Actor | None, page: str) -> dict:
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
