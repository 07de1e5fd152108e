"""HL7 FHIR R4 scheduling (X-2) under /fhir/R4/: the same actors, rules and services as the pages and the API.

Resources: CapabilityStatement (`metadata`, public), Organization (institutions), Location, Practitioner
and PractitionerRole (physicians), HealthcareService (services), Schedule (one per physician and location),
Slot (free slots, computed: id `<physician>-<location>-<service>-<start as Unix seconds>`), Appointment
(bookings: read, search, create = book a free Slot, cancel = update to `status: cancelled`) and Patient
(only as the P-7 search allows). Errors are OperationOutcome; searches are Bundles with `next` links.
Authentication: the API's personal tokens (`Authorization: Bearer <token>`).
"""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path, re_path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError as PydanticValidationError

from medbook.api import actions
from medbook.api.access import bearer_of, token_actor
from medbook.api.fhir.resources import (
    SERVICE_SYSTEM,
    STATUS_OF_APPOINTMENT,
    appointment,
    healthcare_service,
    location,
    organization,
    patient,
    practitioner,
    practitioner_role,
    schedule,
    slot,
)
from medbook.api.reads import bookings_read
from medbook.core.errors import DomainError, NotPermitted, SlotUnavailable, TooManyRequests
from medbook.core.ids import parse_id, parse_id_or_none
from medbook.core.tenancy import ActorRequest
from medbook.scheduling.patient_shown import bookings_of_patient

FHIR_JSON = "application/fhir+json"
TAJ_SYSTEM = "urn:oid:1.2.348.1.2.2.1"  # Hungarian social-security (TAJ) number
DEFAULT_COUNT, MAX_COUNT = 50, 200
MAX_OFFSET = 100_000  # deeper than any page a person or a client walks; a bigger one is a 422, not a 500
SLOT_SEARCH_MAX_DAYS = 31


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
            except SlotUnavailable as error:
                return outcome(409, "conflict", error.message)
            except DomainError as error:
                return outcome(422, "processing", error.message)
            except OverflowError:
                return outcome(422, "invalid", _("A date is out of range."))
            except PydanticValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                return outcome(422, "invalid", problems)

        return wrapper

    return decorator


def _base(request: ActorRequest) -> str:
    return request.build_absolute_uri("/fhir/R4/")


def _bundle(
    request: ActorRequest, resources: list[dict], *, offset: int, count: int, more: bool
) -> HttpResponse:
    """A searchset Bundle of one page, with `self` and (when there is more) `next` links."""
    base = _base(request)
    params = {k: v for k, v in request.GET.lists() if k not in ("_offset",)}

    def link(start: int) -> str:
        query = urlencode([(k, v) for k, values in params.items() for v in values] + [("_offset", start)])
        return f"{request.build_absolute_uri(request.path)}?{query}"

    links = [{"relation": "self", "url": link(offset)}]
    if more:
        links.append({"relation": "next", "url": link(offset + count)})
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


def _paging(request: ActorRequest) -> tuple[int, int]:
    try:
        count = int(request.GET.get("_count", DEFAULT_COUNT))
        offset = int(request.GET.get("_offset", 0))
    except ValueError:
        raise Invalid(_("_count and _offset must be whole numbers.")) from None
    if not 1 <= count <= MAX_COUNT or not 0 <= offset <= MAX_OFFSET:
        raise Invalid(
            _("_count must be 1 to %(max)s and _offset 0 to %(offset)s.")
            % {"max": MAX_COUNT, "offset": MAX_OFFSET}
        )
    return offset, count


def _page(request: ActorRequest, items: list, build: Callable[[Any], dict]) -> HttpResponse:
    offset, count = _paging(request)
    window = items[offset : offset + count + 1]
    return _bundle(
        request, [build(x) for x in window[:count]], offset=offset, count=count, more=len(window) > count
    )


def _ref_id(value: str, kind: str) -> int:
    """The id of a reference `Kind/123` (or a bare `123`)."""
    name, _slash, rest = value.rpartition("/")
    number = parse_id_or_none(rest)
    if (name and name.split("/")[-1] != kind) or number is None:
        raise Invalid(_("Expected a reference to %(kind)s.") % {"kind": kind})
    return number


# --- What the actor sees -----------------------------------------------------------------------------


# --- Views -------------------------------------------------------------------------------------------


@fhir_view(public=True)
def metadata(request: ActorRequest) -> HttpResponse:
    """The CapabilityStatement: what this server does (public, as FHIR asks)."""

    def read_search(kind: str, params: list[tuple[str, str]]) -> dict:
        return {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": t} for n, t in params],
        }

    resources = [
        read_search("Organization", []),
        read_search("Location", []),
        read_search("Practitioner", []),
        read_search("PractitionerRole", []),
        read_search("HealthcareService", []),
        read_search("Schedule", []),
        {
            "type": "Slot",
            "interaction": [{"code": "search-type"}],
            "searchParam": [
                {"name": "schedule", "type": "reference"},
                {"name": "service-type", "type": "token"},
                {"name": "start", "type": "date"},
                {"name": "status", "type": "token"},
            ],
        },
        {
            "type": "Appointment",
            "interaction": [
                {"code": "read"},
                {"code": "search-type"},
                {"code": "create"},
                {"code": "update"},
            ],
            "searchParam": [
                {"name": "date", "type": "date"},
                {"name": "actor", "type": "reference"},
                {"name": "status", "type": "token"},
            ],
        },
        {
            "type": "Patient",
            "interaction": [{"code": "search-type"}],
            "searchParam": [
                {"name": "name", "type": "string"},
                {"name": "organization", "type": "reference"},
            ],
        },
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
                        "description": "Personal API tokens: Authorization: Bearer <token>",
                        "service": [{"text": "Bearer token"}],
                    },
                    "resource": resources,
                }
            ],
        }
    )


def _one(items: dict, pk: str):
    number = parse_id(pk)
    if number not in items:
        raise Http404()
    return items[number]


@fhir_view()
def organization_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    found = {i.pk: i for i in actions.institutions(request.actor)}
    if pk is not None:
        return _json(organization(_one(found, pk)))
    return _page(request, list(found.values()), organization)


@fhir_view()
def location_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    found = {o.location.pk: o.location for o in actions.offers(request.actor)}
    if pk is not None:
        return _json(location(_one(found, pk)))
    return _page(request, sorted(found.values(), key=lambda x: x.name), location)


@fhir_view()
def practitioner_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    found = {o.physician.pk: o.physician for o in actions.offers(request.actor)}
    if pk is not None:
        return _json(practitioner(_one(found, pk)))
    return _page(request, sorted(found.values(), key=lambda x: x.full_name), practitioner)


@fhir_view()
def practitioner_role_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    offers = actions.offers(request.actor)
    found = {o.physician.pk: o.physician for o in offers}
    if pk is not None:
        return _json(practitioner_role(_one(found, pk), offers))
    return _page(
        request, sorted(found.values(), key=lambda x: x.full_name), lambda p: practitioner_role(p, offers)
    )


@fhir_view()
def healthcare_service_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    offers = actions.offers(request.actor)
    found = {o.service.pk: o.service for o in offers}
    if pk is not None:
        return _json(healthcare_service(_one(found, pk), offers))
    return _page(
        request, sorted(found.values(), key=lambda x: x.name), lambda s: healthcare_service(s, offers)
    )


def _schedules(actor) -> dict[str, list[actions.Bookable]]:
    """The actor's calendars by Schedule id (`<physician>-<location>`): one Schedule's services."""
    found: dict[str, list[actions.Bookable]] = {}
    for offer in actions.offers(actor):
        found.setdefault(f"{offer.physician.pk}-{offer.location.pk}", []).append(offer)
    return found


@fhir_view()
def schedule_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    found = _schedules(request.actor)
    if pk is not None:
        if pk not in found:
            raise Http404()
        return _json(schedule(found[pk]))
    return _page(request, [found[k] for k in sorted(found)], schedule)


def _day(text: str) -> date | None:
    """A date of the query, or None when it is not one (never a 500: 2026-13-45 is not a date)."""
    try:
        return parse_date(text)
    except ValueError:
        return None


def _moment(text: str, tz) -> datetime | None:
    """A date (its local midnight) or a date-time of the query, aware; None when it is not one."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is None:
        day = _day(text)
        return datetime.combine(day, datetime.min.time(), tzinfo=tz) if day is not None else None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, tz)


def _date_bounds(values: list[str]) -> tuple[date, date]:
    """start=geYYYY-MM-DD & start=ltYYYY-MM-DD (also gt/le/eq) as local days from … until (included)."""
    date_from = date_until = None
    for value in values:
        prefix, text = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
        day = _day(text[:10]) if text else None
        if day is None:
            raise Invalid(_("Dates are searched as ge2026-01-31 and lt2026-02-07."))
        if prefix in ("ge", "eq"):
            date_from = day
        if prefix == "gt":
            date_from = day + timedelta(days=1)
        if prefix == "lt":
            date_until = day - timedelta(days=1)
        if prefix in ("le", "eq"):
            date_until = day
        if prefix not in ("ge", "gt", "lt", "le", "eq"):
            raise Invalid(_("Dates are searched as ge2026-01-31 and lt2026-02-07."))
    today = timezone.localdate()
    date_from = date_from or today
    date_until = date_until or date_from + timedelta(days=6)
    if not timedelta(0) <= date_until - date_from < timedelta(days=SLOT_SEARCH_MAX_DAYS):
        raise Invalid(_("Search slots over 1 to 31 days."))
    return date_from, date_until


def _service_code(value: str) -> int:
    system, bar, code = value.rpartition("|")
    number = parse_id_or_none(code)
    if (bar and system not in ("", SERVICE_SYSTEM)) or number is None:
        raise Invalid(_("service-type is searched as %(system)s|<service id>.") % {"system": SERVICE_SYSTEM})
    return number


@fhir_view()
def slot_view(request: ActorRequest) -> HttpResponse:
    """Slot?schedule=Schedule/<physician>-<location>&service-type=…&start=ge…&start=lt…&status=free"""
    actor = request.actor
    wanted = request.GET.get("schedule", "")
    if not wanted:
        raise Invalid(_("Search slots of one schedule: schedule=Schedule/<id>."))
    key = wanted.rpartition("/")[2]
    schedules = _schedules(actor)
    if key not in schedules:
        raise Http404()
    status = request.GET.get("status", "free")
    if status != "free":
        raise Invalid(_("Only free slots can be searched (status=free)."))
    offers = schedules[key]
    if "service-type" in request.GET:
        code = _service_code(request.GET["service-type"])
        offers = [o for o in offers if o.service.pk == code]
        if not offers:
            raise Http404()
    date_from, date_until = _date_bounds(request.GET.getlist("start"))
    found = [
        (offer, free)
        for offer in offers
        for free in actions.free_slots(actor, offer, date_from=date_from, date_until=date_until)
    ]
    found.sort(key=lambda row: (row[1].starts_at, row[0].service.pk))
    return _page(
        request,
        found,
        lambda row: slot(row[0].physician, row[0].location, row[0].service, row[1].starts_at, row[1].ends_at),
    )


def _slot_of(reference: str) -> tuple[int, int, int, datetime]:
    numbers = [parse_id_or_none(part) for part in reference.rpartition("/")[2].split("-")]
    if len(numbers) != 4 or None in numbers:
        raise Invalid(_("Book a free slot: slot[0].reference = Slot/<id>."))
    physician, place, service, epoch = [number for number in numbers if number is not None]
    try:
        starts_at = datetime.fromtimestamp(epoch, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise Invalid(_("Book a free slot: slot[0].reference = Slot/<id>.")) from None
    return physician, place, service, starts_at


@fhir_view()
def appointment_view(request: ActorRequest, pk: str | None = None) -> HttpResponse:
    actor = request.actor
    if request.method == "POST" and pk is None:
        return _appointment_create(request)
    if request.method == "PUT" and pk is not None:
        return _appointment_update(request, pk)
    if request.method != "GET":
        return outcome(405, "not-supported", _("This interaction is not supported."))
    bookings = actions.bookings(actor).select_related("patient", "physician", "location", "service")
    if pk is not None:
        booking = actions.booking(actor, pk)
        bookings_read(actor=actor, view="fhir appointment", bookings=[booking])
        return _json(appointment(booking))
    dates = request.GET.getlist("date")
    if dates:
        tz = timezone.get_current_timezone()
        for value in dates:
            prefix, text = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
            moment = _moment(text, tz)
            if moment is None or prefix not in ("ge", "gt", "lt", "le", "eq"):
                raise Invalid(_("Dates are searched as ge2026-01-31 and lt2026-02-07."))
            lookup = {"ge": "gte", "gt": "gt", "lt": "lt", "le": "lte", "eq": "gte"}[prefix]
            bookings = bookings.filter(**{f"starts_at__{lookup}": moment})
            if prefix == "eq":
                bookings = bookings.filter(starts_at__lt=moment + timedelta(days=1))
    for value in request.GET.getlist("actor"):
        kind, _slash, ref = value.rpartition("/")
        field = {"Patient": "patient_id", "Practitioner": "physician_id", "Location": "location_id"}.get(kind)
        number = parse_id_or_none(ref)
        if field is None or number is None:
            raise Invalid(_("actor is searched as Patient/<id>, Practitioner/<id> or Location/<id>."))
        if field == "patient_id":  # the patient as the reader sees it (issue 19)
            bookings = bookings_of_patient(bookings, number)
        else:
            bookings = bookings.filter(**{field: number})
    statuses = [s for value in request.GET.getlist("status") for s in value.split(",") if s]
    if statuses:
        if any(s not in STATUS_OF_APPOINTMENT for s in statuses):
            raise Invalid(_("status is one of booked, cancelled, fulfilled, noshow."))
        bookings = bookings.filter(status__in=[STATUS_OF_APPOINTMENT[s] for s in statuses])
    offset, count = _paging(request)
    window = list(bookings.order_by("starts_at", "pk")[offset : offset + count + 1])
    bookings_read(actor=actor, view="fhir appointments", bookings=window[:count])
    return _bundle(
        request,
        [appointment(b) for b in window[:count]],
        offset=offset,
        count=count,
        more=len(window) > count,
    )


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
    """Book the free Slot the Appointment names, for its Patient participant or its contained Patient."""
    data = _body(request, "Appointment")
    slots = _array(data.get("slot"), "slot")
    if len(slots) != 1 or not isinstance(slots[0], dict):
        raise Invalid(_("Book one free slot: slot[0].reference = Slot/<id>."))
    physician_id, location_id, service_id, starts_at = _slot_of(_text(slots[0].get("reference"), "slot[0]"))
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
    """Cancel: the Appointment sent back with `status: cancelled` (the one change this server takes)."""
    booking = actions.booking(request.actor, pk)
    data = _body(request, "Appointment")
    if data.get("status") != "cancelled":
        raise Invalid(_("An appointment is changed only by cancelling it (status: cancelled)."))
    reason = _text(_object(data.get("cancelationReason"), "cancelationReason").get("text"), "text")[:300]
    actions.cancel(request.actor, booking, reason=reason, source="fhir")
    return _json(appointment(actions.booking(request.actor, booking.pk)))


@fhir_view()
def patient_view(request: ActorRequest) -> HttpResponse:
    """Patient?name=… : staff search their register (audited); a partner with patient-data access searches
    an institution's (organization=Organization/<id>) within its quotas (P-7, P-15)."""
    query = request.GET.get("name", "").strip()
    if not 2 <= len(query) <= 100:
        raise Invalid(_("Search patients by name (2 to 100 characters)."))
    organization = request.GET.get("organization", "")
    found = actions.patient_search(
        request.actor,
        query=query,
        institution_id=_ref_id(organization, "Organization") if organization else None,
        view="fhir search",
    )
    return _page(request, found, patient)


@csrf_exempt
def unknown(request: ActorRequest) -> HttpResponse:
    return outcome(404, "not-found", _("This server has no such resource or interaction."))


urlpatterns = [
    path("metadata", metadata, name="metadata"),
    path("Organization", organization_view, name="organization-search"),
    path("Organization/<str:pk>", organization_view, name="organization-read"),
    path("Location", location_view, name="location-search"),
    path("Location/<str:pk>", location_view, name="location-read"),
    path("Practitioner", practitioner_view, name="practitioner-search"),
    path("Practitioner/<str:pk>", practitioner_view, name="practitioner-read"),
    path("PractitionerRole", practitioner_role_view, name="practitionerrole-search"),
    path("PractitionerRole/<str:pk>", practitioner_role_view, name="practitionerrole-read"),
    path("HealthcareService", healthcare_service_view, name="healthcareservice-search"),
    path("HealthcareService/<str:pk>", healthcare_service_view, name="healthcareservice-read"),
    path("Schedule", schedule_view, name="schedule-search"),
    path("Schedule/<str:pk>", schedule_view, name="schedule-read"),
    path("Slot", slot_view, name="slot-search"),
    path("Appointment", appointment_view, name="appointment-search"),
    path("Appointment/<str:pk>", appointment_view, name="appointment-read"),
    path("Patient", patient_view, name="patient-search"),
    re_path(r"^.*$", unknown),  # anything else under /fhir/R4/ is an OperationOutcome too, not an HTML page
]
