"""HL7 FHIR R4 scheduling (X-2) under /fhir/R4/: the same actors, rules and services as the pages and the API.

Resources: CapabilityStatement (`metadata`, public), Organization (institutions), Location, Practitioner
and PractitionerRole (physicians), HealthcareService (services), Schedule (one per physician, location and
service: `<physician>-<location>-<service>`), Slot (computed: `<schedule>-<start as Unix seconds>`; free
ones searched, any one read while it exists), Appointment (bookings: read, search, create = book a free
Slot, update = cancel) and Patient (read as the caller may see them; search only as the P-7 search allows).
Errors are OperationOutcome; searches are Bundles with `self` and `next` links (`search`); an interaction
the CapabilityStatement does not declare is a 405. Authentication: the API's personal tokens
(`Authorization: Bearer <token>`), discovered through `.well-known/smart-configuration`.
"""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError as PydanticValidationError

from medbook.api import actions
from medbook.api.access import bearer_of, token_actor
from medbook.api.fhir.resources import (
    SERVICE_SYSTEM,
    SPECIALTY_SYSTEM,
    STATUS_OF_APPOINTMENT,
    appointment,
    healthcare_service,
    location,
    organization,
    patient,
    practitioner,
    practitioner_role,
    schedule,
    schedule_id,
    slot,
)
from medbook.api.fhir.search import (
    BadRequest,
    DateCondition,
    Search,
    date_condition,
    date_window,
    search_of,
)
from medbook.api.reads import bookings_read
from medbook.core.errors import Conflict, DomainError, NotPermitted, TooManyRequests
from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import ActorRequest
from medbook.scheduling.patient_shown import ShownPatient, bookings_of_patient
from medbook.scheduling.slots import Interval

FHIR_JSON = "application/fhir+json"
TAJ_SYSTEM = "urn:oid:1.2.348.1.2.2.1"  # Hungarian social-security (TAJ) number
SLOT_SEARCH_DAYS, SLOT_SEARCH_MAX_DAYS = 7, 31
TYPES = ("Organization", "Location", "Practitioner", "PractitionerRole", "HealthcareService", "Schedule",
         "Slot", "Appointment", "Patient")  # fmt: skip
SLOT_PARAMS = ("schedule", "schedule.actor", "service-type", "specialty", "start", "status")
APPOINTMENT_PARAMS = ("date", "actor", "patient", "practitioner", "location", "status")
PATIENT_PARAMS = ("name", "organization")


class Invalid(DomainError):
    """A request FHIR cannot carry out as asked (422 OperationOutcome)."""


# --- Responses ---------------------------------------------------------------------------------------


def _json(data: dict, status: int = 200, **headers) -> HttpResponse:
    response = HttpResponse(json.dumps(data, default=_encode), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _encode(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def outcome(status: int, code: str, message, **headers) -> HttpResponse:
    """An OperationOutcome with one issue."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": str(message)}],
    }
    return _json(body, status, **headers)


def fhir_view(public: bool = False) -> Callable:
    """Authenticate with the token (unless `public`) and turn every refusal into an OperationOutcome."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        def wrapper(request: ActorRequest, *args, **kwargs) -> HttpResponse:
            try:
                if not public and token_actor(request, bearer_of(request)) is None:
                    return outcome(
                        401, "login", _("A valid API token is required."), WWW_Authenticate="Bearer"
                    )
                return view(request, *args, **kwargs)
            except Http404:
                return outcome(404, "not-found", _("Not found."))
            except TooManyRequests as error:
                return outcome(429, "throttled", error.message, Retry_After=str(error.retry_after or 60))
            except (NotPermitted, PermissionDenied) as error:
                return outcome(
                    403, "forbidden", getattr(error, "message", _("You do not have permission to do this."))
                )
            except Conflict as error:  # a taken slot, or what the present state refuses: as the JSON API
                return outcome(409, "conflict", error.message)
            except BadRequest as error:
                return outcome(400, "invalid", error.message)
            except DomainError as error:
                return outcome(422, "processing", error.message)
            except OverflowError:
                return outcome(400, "invalid", _("A date is out of range."))
            except PydanticValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                return outcome(422, "invalid", problems)

        return wrapper

    return decorator


def _not_supported(allowed: list[str]) -> HttpResponse:
    return outcome(
        405,
        "not-supported",
        _(
            "This server does not support this interaction; its CapabilityStatement (metadata) says which it does."
        ),
        Allow=", ".join(allowed),
    )


def interactions(**handlers: Callable) -> Callable:
    """One URL's interactions by HTTP method (HEAD as GET): any other method, or an instance id that names
    no instance but a history or an operation (`_history`, `$op`), is a 405 OperationOutcome."""
    allowed = sorted({*handlers, *(["HEAD"] if "GET" in handlers else [])})

    @csrf_exempt
    def view(request: ActorRequest, *args, **kwargs) -> HttpResponse:
        handler = handlers.get("GET" if request.method == "HEAD" else str(request.method))
        if handler is None or str(kwargs.get("pk", "")).startswith(("_", "$")):
            return _not_supported(allowed)
        return handler(request, *args, **kwargs)

    return view


@csrf_exempt
def not_supported(request: ActorRequest, *args, **kwargs) -> HttpResponse:
    """A history, an operation or a system-level interaction this server does not declare: 405."""
    return _not_supported([])


@csrf_exempt
def unknown(request: ActorRequest) -> HttpResponse:
    return outcome(404, "not-found", _("This server has no such resource type."))


def _base(request: ActorRequest) -> str:
    return request.build_absolute_uri("/fhir/R4/")


def _bundle(request: ActorRequest, search: Search, resources: list[dict], *, more: bool) -> HttpResponse:
    """A searchset Bundle of one page, with `self` (the parameters applied) and, when there is more, `next`."""
    base = _base(request)

    def link(start: int) -> str:
        return f"{request.build_absolute_uri(search.path)}?{urlencode(search.query(start))}"

    links = [{"relation": "self", "url": link(search.offset)}]
    if more:
        links.append({"relation": "next", "url": link(search.offset + search.count)})
    return _json(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        }
    )


def _page(request: ActorRequest, search: Search, items: list, build: Callable[[Any], dict]) -> HttpResponse:
    window = items[search.offset : search.offset + search.count + 1]
    return _bundle(
        request, search, [build(x) for x in window[: search.count]], more=len(window) > search.count
    )


def _ref_id(value: str, kind: str, error: type[DomainError] = Invalid) -> int:
    """The id of a reference `Kind/123` (or a bare `123`)."""
    name, _slash, rest = value.rpartition("/")
    number = parse_id_or_none(rest)
    if (name and name.split("/")[-1] != kind) or number is None:
        raise error(_("Expected a reference to %(kind)s.") % {"kind": kind})
    return number


def _day(text: str) -> date | None:
    """A date of the body, or None when it is not one (never a 500: 2026-13-45 is not a date)."""
    try:
        return parse_date(text)
    except ValueError:
        return None


def _any_of(values: list[str]) -> list[list[str]]:
    """A parameter's values: each repetition must hold (AND), each of its comma-separated values may (OR)."""
    return [[v for v in value.split(",") if v] for value in values]


def _token(value: str, system: str) -> str:
    """The code of a token `[system|]code` of this system; a code of another system matches nothing."""
    given, bar, code = value.rpartition("|")
    return code if not bar or given in ("", system) else "\x00"


# --- Discovery -----------------------------------------------------------------------------------------


def _tokens_page(request: ActorRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:api-token-list"))


@fhir_view(public=True)
def metadata(request: ActorRequest) -> HttpResponse:
    """The CapabilityStatement: what this server does (public, as FHIR asks)."""

    def kind(name: str, codes: list[str], params: list[tuple[str, str, str]], **more) -> dict:
        return {
            "type": name,
            "interaction": [{"code": code} for code in codes],
            "searchParam": [{"name": n, "type": t, "documentation": d} for n, t, d in params],
            **more,
        }

    read_search = ["read", "search-type"]
    resources = [
        kind("Organization", read_search, []),
        kind("Location", read_search, []),
        kind("Practitioner", read_search, []),
        kind("PractitionerRole", read_search, []),
        kind("HealthcareService", read_search, []),
        kind("Schedule", read_search, []),
        kind(
            "Slot",
            read_search,
            [
                ("schedule", "reference", "Schedule/<physician>-<location>-<service>"),
                (
                    "schedule.actor",
                    "reference",
                    "Practitioner/<id>, PractitionerRole/<id>, Location/<id> or HealthcareService/<id>",
                ),
                ("service-type", "token", f"{SERVICE_SYSTEM}|<service id>"),
                ("specialty", "token", f"{SPECIALTY_SYSTEM}|<specialty>"),
                (
                    "start",
                    "date",
                    f"any prefix; {SLOT_SEARCH_DAYS} days from now unless bounded; "
                    f"at most {SLOT_SEARCH_MAX_DAYS} days",
                ),  # fmt: skip
                ("status", "token", "free (the only status searched)"),
            ],
        ),
        kind(
            "Appointment",
            [*read_search, "create", "update"],
            [
                ("date", "date", "the start; any prefix"),
                ("actor", "reference", "Patient/<id>, Practitioner/<id> or Location/<id>"),
                ("patient", "reference", "Patient/<id>"),
                ("practitioner", "reference", "Practitioner/<id>"),
                ("location", "reference", "Location/<id>"),
                ("status", "token", "booked, cancelled, fulfilled, noshow"),
            ],
            updateCreate=False,
        ),
        kind(
            "Patient",
            read_search,
            [
                ("name", "string", "2 to 100 characters"),
                ("organization", "reference", "Organization/<id>: a partner's user names the institution"),
            ],
        ),
    ]
    return _json(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": timezone.now().date(),
            "kind": "instance",
            "software": {"name": "MedBook"},
            "implementation": {"description": "MedBook scheduling", "url": _base(request)},
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [{"text": "Personal API token (Bearer)"}],
                        "description": (
                            "Send a personal API token as `Authorization: Bearer <token>`. A token is made "
                            f"by a member of an organisation on the API tokens page ({_tokens_page(request)}) "
                            "or by the operator with `manage.py api_token_create`; it acts for that member "
                            "in that organisation. This server runs no OAuth 2.0 authorisation: "
                            "`.well-known/smart-configuration` says so."
                        ),
                    },
                    "resource": resources,
                }
            ],
        }
    )


@csrf_exempt
def smart_configuration(request: ActorRequest) -> HttpResponse:
    """SMART App Launch discovery (STU2): this server takes only pre-issued bearer tokens, so it declares no
    SMART capability and no grant type; its token endpoint answers every request `unsupported_grant_type`
    and points to the API tokens page (`management_endpoint`), where a person makes a token."""
    if request.method not in ("GET", "HEAD"):
        return _not_supported(["GET", "HEAD"])
    return JsonResponse(
        {
            "token_endpoint": request.build_absolute_uri(reverse("fhir:token")),
            "grant_types_supported": [],
            "token_endpoint_auth_methods_supported": [],
            "scopes_supported": [],
            "response_types_supported": [],
            "capabilities": [],
            "code_challenge_methods_supported": [],
            "management_endpoint": _tokens_page(request),
        }
    )


@csrf_exempt
def token(request: ActorRequest) -> HttpResponse:
    """The OAuth 2.0 token endpoint discovery names: no grant is supported (RFC 6749 §5.2)."""
    return JsonResponse(
        {
            "error": "unsupported_grant_type",
            "error_description": (
                "This server issues no tokens over OAuth 2.0. Make a personal API token on the API tokens "
                "page and send it as Authorization: Bearer <token>."
            ),
            "error_uri": _tokens_page(request),
        },
        status=400,
    )


# --- Catalogue -----------------------------------------------------------------------------------------


def _one(items: dict, pk: str):
    number = parse_id_or_none(pk)
    if number is None or number not in items:
        raise Http404()
    return items[number]


def _catalogue(
    source: Callable, pick: Callable, build: Callable, order: Callable
) -> tuple[Callable, Callable]:
    """The search and read of one catalogue type: what the actor may book (`source(actor)`), its items of
    this type by id (`pick`), each shown by `build(item, source)`."""

    @fhir_view()
    def search_view(request: ActorRequest) -> HttpResponse:
        search = search_of(request, ())
        everything = source(request.actor)
        items = sorted(pick(everything).values(), key=order)
        return _page(request, search, items, lambda item: build(item, everything))

    @fhir_view()
    def read_view(request: ActorRequest, pk: str) -> HttpResponse:
        everything = source(request.actor)
        return _json(build(_one(pick(everything), pk), everything))

    return search_view, read_view


organization_search, organization_read = _catalogue(
    actions.institutions,
    lambda institutions: {i.pk: i for i in institutions},
    lambda item, _everything: organization(item),
    lambda item: (item.name, item.pk),
)
location_search, location_read = _catalogue(
    actions.offers,
    lambda offers: {o.location.pk: o.location for o in offers},
    lambda item, _offers: location(item),
    lambda item: (item.name, item.pk),
)
practitioner_search, practitioner_read = _catalogue(
    actions.offers,
    lambda offers: {o.physician.pk: o.physician for o in offers},
    lambda item, _offers: practitioner(item),
    lambda item: (item.full_name, item.pk),
)
practitioner_role_search, practitioner_role_read = _catalogue(
    actions.offers,
    lambda offers: {o.physician.pk: o.physician for o in offers},
    practitioner_role,
    lambda item: (item.full_name, item.pk),
)
healthcare_service_search, healthcare_service_read = _catalogue(
    actions.offers,
    lambda offers: {o.service.pk: o.service for o in offers},
    healthcare_service,
    lambda item: (item.name, item.pk),
)


def _schedules(actor) -> dict[str, actions.Bookable]:
    """The actor's calendars by Schedule id (`<physician>-<location>-<service>`)."""
    return {schedule_id(o.physician.pk, o.location.pk, o.service.pk): o for o in actions.offers(actor)}


@fhir_view()
def schedule_search(request: ActorRequest) -> HttpResponse:
    search = search_of(request, ())
    found = _schedules(request.actor)
    ordered = sorted(found.values(), key=lambda o: (o.physician.pk, o.location.pk, o.service.pk))
    return _page(request, search, ordered, schedule)


@fhir_view()
def schedule_read(request: ActorRequest, pk: str) -> HttpResponse:
    found = _schedules(request.actor)
    if pk not in found:
        raise Http404()
    return _json(schedule(found[pk]))


# --- Slots ---------------------------------------------------------------------------------------------


def _apart(slots: list[Interval]) -> list[Interval]:
    """One Schedule's slots that do not overlap: with an institution's grid finer than the service lasts,
    the starts on the grid overlap, and a Schedule offers the first free one and then the first free one
    after it ends (its other starts stay bookable through the pages and the JSON API)."""
    kept: list[Interval] = []
    for candidate in sorted(slots):
        if not kept or candidate.starts_at >= kept[-1].ends_at:
            kept.append(candidate)
    return kept


def _offers_matching(actor, search: Search) -> list[actions.Bookable]:
    """The actor's calendars that the Slot search's schedule, schedule.actor, service-type and specialty
    name (each repetition narrows; comma-separated values widen)."""
    offers = actions.offers(actor)
    for wanted in _any_of(search.getlist("schedule")):
        keys = {value.rpartition("/")[2] for value in wanted}
        offers = [o for o in offers if schedule_id(o.physician.pk, o.location.pk, o.service.pk) in keys]
    for wanted in _any_of(search.getlist("schedule.actor")):
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
    for wanted in _any_of(search.getlist("service-type")):
        codes = {_token(value, SERVICE_SYSTEM) for value in wanted}
        offers = [o for o in offers if str(o.service.pk) in codes]
    for wanted in _any_of(search.getlist("specialty")):
        codes = {" ".join(_token(value, SPECIALTY_SYSTEM).split()).casefold() for value in wanted}
        offers = [o for o in offers if " ".join(o.physician.specialty.split()).casefold() in codes]
    return offers


def _slot_window(conditions: list[DateCondition]) -> tuple[datetime, datetime]:
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


@fhir_view()
def slot_search(request: ActorRequest) -> HttpResponse:
    """Free Slots of the calendars the actor may book, by schedule, practitioner, location, service,
    specialty and time (`start`, by default the next seven days)."""
    actor = request.actor
    search = search_of(request, SLOT_PARAMS)
    for wanted in _any_of(search.getlist("status")):
        if any(status != "free" for status in wanted):
            raise BadRequest(_("Only free slots are searched (status=free)."))
    conditions = [date_condition(value) for value in search.getlist("start")]
    low, high = _slot_window(conditions)
    found: list[tuple[Interval, actions.Bookable]] = []
    if low < high:
        tz = timezone.get_current_timezone()
        date_from = low.astimezone(tz).date() - timedelta(days=1)  # another institution's time zone
        date_until = high.astimezone(tz).date() + timedelta(days=1)
        for offer in _offers_matching(actor, search):
            free = actions.free_slots(actor, offer, date_from=date_from, date_until=date_until)
            found.extend(
                (interval, offer)
                for interval in _apart(free)
                if low <= interval.starts_at < high and all(c.matches(interval.starts_at) for c in conditions)
            )
    found.sort(key=lambda row: (row[0].starts_at, row[1].service.pk, row[1].physician.pk, row[1].location.pk))
    return _page(request, search, found, lambda row: slot(row[1], row[0].starts_at, row[0].ends_at))


def _slot_of(reference: str, error: type[DomainError]) -> tuple[int, int, int, datetime]:
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


@fhir_view()
def slot_read(request: ActorRequest, pk: str) -> HttpResponse:
    """A Slot while it exists: free (as the search offers it), busy (an appointment takes its time), or
    busy-unavailable (past, inside a partner's cut-off, beyond the horizon, or overlapping a free slot of
    its Schedule); a calendar the actor may not book, or a time that is no slot of it, is 404."""
    try:
        physician_id, location_id, service_id, starts_at = _slot_of(pk, Invalid)
    except Invalid:
        raise Http404() from None
    offer = _schedules(request.actor).get(schedule_id(physician_id, location_id, service_id))
    if offer is None:
        raise Http404()
    found = actions.slot_at(request.actor, offer, starts_at=starts_at)
    if found is None:
        raise Http404()
    if found.taken:
        status = "busy"
    elif found.interval in _apart(found.free_that_day):
        status = "free"
    else:
        status = "busy-unavailable"
    return _json(slot(offer, found.interval.starts_at, found.interval.ends_at, status))


# --- Appointments --------------------------------------------------------------------------------------


@fhir_view()
def appointment_search(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    search = search_of(request, APPOINTMENT_PARAMS)
    bookings = actions.bookings(actor).select_related("patient", "physician", "location", "service")
    for value in search.getlist("date"):
        bookings = bookings.filter(date_condition(value).q("starts_at"))
    references = [("actor", value) for value in search.getlist("actor")]
    for name in ("patient", "practitioner", "location"):
        kind = name.capitalize()
        references += [(name, f"{kind}/{value.rpartition('/')[2]}") for value in search.getlist(name)]
    for name, value in references:
        kind, _slash, ref = value.rpartition("/")
        kind = kind.rpartition("/")[2]
        field = {"Patient": "patient_id", "Practitioner": "physician_id", "Location": "location_id"}.get(kind)
        number = parse_id_or_none(ref)
        if field is None or number is None:
            raise BadRequest(
                _("%(name)s is searched as Patient/<id>, Practitioner/<id> or Location/<id>.")
                % {"name": name}
            )
        if field == "patient_id":  # the patient as the reader sees it (issue 19)
            bookings = bookings_of_patient(bookings, number)
        else:
            bookings = bookings.filter(**{field: number})
    for wanted in _any_of(search.getlist("status")):
        if any(s not in STATUS_OF_APPOINTMENT for s in wanted):
            raise BadRequest(_("status is one of booked, cancelled, fulfilled, noshow."))
        bookings = bookings.filter(status__in=[STATUS_OF_APPOINTMENT[s] for s in wanted])
    window = list(bookings.order_by("starts_at", "pk")[search.offset : search.offset + search.count + 1])
    bookings_read(actor=actor, view="fhir appointments", bookings=window[: search.count])
    return _bundle(
        request, search, [appointment(b) for b in window[: search.count]], more=len(window) > search.count
    )


@fhir_view()
def appointment_read(request: ActorRequest, pk: str) -> HttpResponse:
    booking = actions.booking(request.actor, pk)
    bookings_read(actor=request.actor, view="fhir appointment", bookings=[booking])
    return _json(appointment(booking))


def _body(request: ActorRequest, kind: str) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[… nested too deep
        raise Invalid(_("The body is not JSON.")) from None
    if not isinstance(data, dict) or data.get("resourceType") != kind:
        raise Invalid(_("The body must be a %(kind)s resource.") % {"kind": kind})
    return data


def _object(value: Any, where: str) -> dict:
    """A JSON object of the body (absent: empty); anything else is a 422 naming where."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(_("%(where)s must be a JSON object.") % {"where": where})
    return value


def _array(value: Any, where: str) -> list:
    """A JSON array of the body (absent: empty); anything else is a 422 naming where."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(_("%(where)s must be a JSON array.") % {"where": where})
    return value


def _text(value: Any, where: str) -> str:
    """A string (or a number) of the body; an object, an array or true is a 422 naming where."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(_("%(where)s must be a string.") % {"where": where})
    return str(value)


def _new_patient_of(data: dict) -> dict | None:
    """A patient entered anew, as a contained Patient resource (name, birthDate, telecom, TAJ identifier)."""
    contained = [
        r
        for r in _array(data.get("contained"), "contained")
        if isinstance(r, dict) and r.get("resourceType") == "Patient"
    ]
    if not contained:
        return None
    person = contained[0]
    names = _array(person.get("name"), "Patient.name") or [{}]
    first = _object(names[0], "Patient.name[0]")
    given = [
        _text(part, "Patient.name[0].given") for part in _array(first.get("given"), "Patient.name[0].given")
    ]
    family = _text(first.get("family"), "Patient.name[0].family")
    name = _text(first.get("text"), "Patient.name[0].text") or " ".join([*given, family]).strip()
    details: dict[str, Any] = {"full_name": name, "email": "", "phone": "", "insurance_id": ""}
    if person.get("birthDate"):
        details["birth_date"] = _day(_text(person["birthDate"], "Patient.birthDate")[:40])
        if details["birth_date"] is None:
            raise Invalid(_("The patient's birthDate is not a date."))
    for telecom in _array(person.get("telecom"), "Patient.telecom"):
        telecom = _object(telecom, "Patient.telecom[]")
        if telecom.get("system") in ("email", "phone"):
            details[telecom["system"]] = _text(telecom.get("value"), "Patient.telecom[].value")
    for identifier in _array(person.get("identifier"), "Patient.identifier"):
        identifier = _object(identifier, "Patient.identifier[]")
        if identifier.get("system") == TAJ_SYSTEM:
            details["insurance_id"] = _text(identifier.get("value"), "Patient.identifier[].value")
    return details


def _appointment_create(request: ActorRequest) -> HttpResponse:
    """Book the free Slot the Appointment names, for its Patient participant or its contained Patient.

    Only `status: booked` books (at once); a `proposed` or `pending` Appointment, which IHE scheduling
    treats as a request to be confirmed later, is refused with a 422 that says so, and books nothing."""
    data = _body(request, "Appointment")
    slots = _array(data.get("slot"), "slot")
    if len(slots) != 1 or not isinstance(slots[0], dict):
        raise Invalid(_("Book one free slot: slot[0].reference = Slot/<id>."))
    physician_id, location_id, service_id, starts_at = _slot_of(
        _text(slots[0].get("reference"), "slot[0]"), Invalid
    )
    status = _text(data.get("status"), "status")
    if status != "booked":
        raise Invalid(
            _(
                'This server books at once: send the Appointment with status "booked". It takes no '
                "proposed or pending appointments to be confirmed later."
            )
        )
    patient_id = None
    for participant in _array(data.get("participant"), "participant"):
        actor = _object(_object(participant, "participant[]").get("actor"), "participant[].actor")
        reference = _text(actor.get("reference"), "participant[].actor.reference")
        if reference.startswith("Patient/"):
            patient_id = _ref_id(reference, "Patient")
    new_patient = _new_patient_of(data)
    booked = actions.book(
        request.actor,
        location_id=location_id,
        physician_id=physician_id,
        service_id=service_id,
        starts_at=starts_at,
        patient_id=patient_id,
        new_patient=actions.NewPatientIn(**new_patient) if new_patient else None,
        note=_text(data.get("comment"), "comment")[:500],
    )
    booking = actions.booking(request.actor, booked.pk)
    return _json(appointment(booking), 201, Location=f"{_base(request)}Appointment/{booking.pk}")


def _appointment_update(request: ActorRequest, pk: str) -> HttpResponse:
    """Cancel: the Appointment sent back with `status: cancelled` (the one change this server takes); its
    `id` must be the URL's (else 400, and nothing changes)."""
    booking = actions.booking(request.actor, pk)
    data = _body(request, "Appointment")
    if data.get("status") != "cancelled":
        raise Invalid(_("An appointment is changed only by cancelling it (status: cancelled)."))
    reason = _text(_object(data.get("cancelationReason"), "cancelationReason").get("text"), "text")[:300]
    if data.get("id") != str(booking.pk):
        raise BadRequest(_("The Appointment's id must be the id in the URL (%(id)s).") % {"id": booking.pk})
    actions.cancel(request.actor, booking, reason=reason, source="fhir")
    return _json(appointment(actions.booking(request.actor, booking.pk)))


appointment_create = fhir_view()(_appointment_create)
appointment_update = fhir_view()(_appointment_update)


# --- Patients ------------------------------------------------------------------------------------------


@fhir_view()
def patient_search(request: ActorRequest) -> HttpResponse:
    """Patient?name=… : staff search their register (audited); a partner with patient-data access searches
    an institution's (organization=Organization/<id>) within its quotas (P-7, P-15)."""
    search = search_of(request, PATIENT_PARAMS)
    query = search.get("name").strip()
    if not 2 <= len(query) <= 100:
        raise BadRequest(_("Search patients by name (2 to 100 characters)."))
    organization = search.get("organization")
    found = actions.patient_search(
        request.actor,
        query=query,
        institution_id=_ref_id(organization, "Organization", BadRequest) if organization else None,
        view="fhir search",
    )
    return _page(
        request,
        search,
        found,
        lambda person: patient(ShownPatient(person.pk, person.full_name, person.birth_date)),
    )


@fhir_view()
def patient_read(request: ActorRequest, pk: str) -> HttpResponse:
    """A patient as the actor may see them (`actions.patient_shown`); anyone else's is 404."""
    return _json(patient(actions.patient_shown(request.actor, pk, view="fhir patient")))


def _type(name: str, search: Callable, read: Callable, **more: Callable) -> list:
    """The routes of one resource type: search (GET, and POST `_search`), read, and any more interactions
    (`create` on the type, `update` on an instance); any other method or sub-path is a 405."""
    lower = name.lower()
    return [
        path(
            name,
            interactions(GET=search, **({"POST": more["create"]} if "create" in more else {})),
            name=f"{lower}-search",
        ),  # fmt: skip
        path(f"{name}/_search", interactions(POST=search, GET=search), name=f"{lower}-post-search"),
        path(
            f"{name}/<str:pk>",
            interactions(GET=read, **({"PUT": more["update"]} if "update" in more else {})),
            name=f"{lower}-read",
        ),  # fmt: skip
    ]


urlpatterns = [
    path("metadata", interactions(GET=metadata), name="metadata"),
    path(".well-known/smart-configuration", smart_configuration, name="smart-configuration"),
    path("auth/token", token, name="token"),
    *_type("Organization", organization_search, organization_read),
    *_type("Location", location_search, location_read),
    *_type("Practitioner", practitioner_search, practitioner_read),
    *_type("PractitionerRole", practitioner_role_search, practitioner_role_read),
    *_type("HealthcareService", healthcare_service_search, healthcare_service_read),
    *_type("Schedule", schedule_search, schedule_read),
    *_type("Slot", slot_search, slot_read),
    *_type(
        "Appointment",
        appointment_search,
        appointment_read,
        create=appointment_create,
        update=appointment_update,
    ),  # fmt: skip
    *_type("Patient", patient_search, patient_read),
    # A history, a version, an operation or a compartment of a type this server has: not supported (405).
    re_path(rf"^(?:{'|'.join(TYPES)})/.+$", not_supported),
    # The system level: whole-system search, history, batches and transactions: not supported (405).
    re_path(r"^(?:_history|_search|\$[^/]*)?$", not_supported),
    re_path(r"^.*$", unknown),  # any other type is an OperationOutcome too (404), not an HTML page
]
