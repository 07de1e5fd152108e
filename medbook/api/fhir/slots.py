"""The free slots FHIR offers, for the Slot search and `Appointment/$find` alike: the caller's calendars
(Schedules) narrowed by practitioner, location, service and specialty, their free slots within a window of
time, one Schedule's never overlapping; and the calendar and start a Slot id names."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.api import actions
from medbook.api.fhir.resources import SERVICE_SYSTEM, SPECIALTY_SYSTEM, schedule_id
from medbook.api.fhir.search import BadRequest, DateCondition, Search, date_window
from medbook.core.errors import DomainError
from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import Actor
from medbook.scheduling.slots import Interval

SLOT_SEARCH_DAYS, SLOT_SEARCH_MAX_DAYS = 7, 31


def any_of(values: list[str]) -> list[list[str]]:
    """A parameter's values: each repetition must hold (AND), each of its comma-separated values may (OR)."""
    return [[v for v in value.split(",") if v] for value in values]


def token_code(value: str, system: str) -> str:
    """The code of a token `[system|]code` of this system; a code of another system matches nothing."""
    given, bar, code = value.rpartition("|")
    return code if not bar or given in ("", system) else "\x00"


def schedules(actor: Actor) -> dict[str, actions.Bookable]:
    """The actor's calendars by Schedule id (`<physician>-<location>-<service>`)."""
    return {schedule_id(o.physician.pk, o.location.pk, o.service.pk): o for o in actions.offers(actor)}


def apart(slots: list[Interval]) -> list[Interval]:
    """One Schedule's slots that do not overlap: with an institution's grid finer than the service lasts,
    the starts on the grid overlap, and a Schedule offers the first free one and then the first free one
    after it ends (its other starts stay bookable through the pages and the JSON API)."""
    kept: list[Interval] = []
    for candidate in sorted(slots):
        if not kept or candidate.starts_at >= kept[-1].ends_at:
            kept.append(candidate)
    return kept


def offers_matching(actor: Actor, search: Search) -> list[actions.Bookable]:
    """The actor's calendars that the Slot search's schedule, schedule.actor, service-type and specialty
    name (each repetition narrows; comma-separated values widen)."""
    offers = actions.offers(actor)
    for wanted in any_of(search.getlist("schedule")):
        keys = {value.rpartition("/")[2] for value in wanted}
        offers = [o for o in offers if schedule_id(o.physician.pk, o.location.pk, o.service.pk) in keys]
    for wanted in any_of(search.getlist("schedule.actor")):
        refs = set()
        for value in wanted:
            kind, _slash, ref = value.rpartition("/")
            kind = kind.rpartition("/")[2]
            number = parse_id_or_none(ref)
            if (
                kind not in ("Practitioner", "PractitionerRole", "Location", "HealthcareService")
                or not number
            ):
                raise BadRequest(
                    _(
                        "schedule.actor is searched as Practitioner/<id>, PractitionerRole/<id>, "
                        "Location/<id> or HealthcareService/<id>."
                    )  # fmt: skip
                )
            refs.add(("Practitioner" if kind == "PractitionerRole" else kind, number))
        offers = [
            o
            for o in offers
            if refs
            & {
                ("Practitioner", o.physician.pk),
                ("Location", o.location.pk),
                ("HealthcareService", o.service.pk),
            }
        ]
    for wanted in any_of(search.getlist("service-type")):
        offers = of_services(offers, wanted)
    for wanted in any_of(search.getlist("specialty")):
        offers = of_specialties(offers, wanted)
    return offers


def of_services(offers: list[actions.Bookable], tokens: list[str]) -> list[actions.Bookable]:
    """The calendars of any of these services (tokens `[urn:medbook:service|]<service id>`)."""
    codes = {token_code(value, SERVICE_SYSTEM) for value in tokens}
    return [o for o in offers if str(o.service.pk) in codes]


def of_specialties(offers: list[actions.Bookable], tokens: list[str]) -> list[actions.Bookable]:
    """The calendars of physicians of any of these specialties (`[urn:medbook:specialty|]<specialty>`, as
    the institution writes it, whatever the case and spacing)."""
    codes = {" ".join(token_code(value, SPECIALTY_SYSTEM).split()).casefold() for value in tokens}
    return [o for o in offers if " ".join(o.physician.specialty.split()).casefold() in codes]


def slot_window(conditions: list[DateCondition]) -> tuple[datetime, datetime]:
    """The time the Slot search looks at: what the `start` conditions allow from now on, over at most
    SLOT_SEARCH_MAX_DAYS days (SLOT_SEARCH_DAYS when they set no end)."""
    low, high = date_window(conditions)
    now = timezone.now()
    low = max(low or now, now)
    high = high or low + timedelta(days=SLOT_SEARCH_DAYS)
    if high - low > timedelta(days=SLOT_SEARCH_MAX_DAYS):
        raise BadRequest(
            _("Search slots over at most %(days)s days (start=ge… and start=lt…).")
            % {"days": SLOT_SEARCH_MAX_DAYS}
        )
    return low, high


def free_in(
    actor: Actor,
    offers: list[actions.Bookable],
    *,
    low: datetime,
    high: datetime,
    conditions: list[DateCondition] | tuple[DateCondition, ...] = (),
) -> list[tuple[Interval, actions.Bookable]]:
    """The free slots of the calendars starting in [low, high) (and meeting every condition on the start)
    as the actor may book them, one Schedule's never overlapping (`apart`): earliest first, then by
    service, physician and location."""
    found: list[tuple[Interval, actions.Bookable]] = []
    if low < high:
        tz = timezone.get_current_timezone()
        date_from = low.astimezone(tz).date() - timedelta(days=1)  # another institution's time zone
        date_until = high.astimezone(tz).date() + timedelta(days=1)
        for offer in offers:
            free = actions.free_slots(actor, offer, date_from=date_from, date_until=date_until)
            found.extend(
                (interval, offer)
                for interval in apart(free)
                if low <= interval.starts_at < high and all(c.matches(interval.starts_at) for c in conditions)
            )
    found.sort(key=lambda row: (row[0].starts_at, row[1].service.pk, row[1].physician.pk, row[1].location.pk))
    return found


def slot_of(reference: str, error: type[DomainError]) -> tuple[int, int, int, datetime]:
    """The physician, location, service and start a Slot id (or `Slot/<id>`) names."""
    numbers = [parse_id_or_none(part) for part in reference.rpartition("/")[2].split("-")]
    if len(numbers) != 4 or None in numbers:
        raise error(_("Book a free slot: slot[0].reference = Slot/<id>."))
    physician, place, service, epoch = [number for number in numbers if number is not None]
    try:
        starts_at = datetime.fromtimestamp(epoch, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise error(_("Book a free slot: slot[0].reference = Slot/<id>.")) from None
    return physician, place, service, starts_at
