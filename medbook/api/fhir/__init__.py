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

from collections.abc import Callable

from django.http import Http404, HttpResponse, JsonResponse
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from medbook.api import actions
from medbook.api.fhir import operations
from medbook.api.fhir.bodies import array_of, body_of, object_of, patient_of, ref_id, text_of
from medbook.api.fhir.http import (
    Invalid,
    base_url,
    bundle,
    fhir_view,
    interactions,
    json_answer,
    not_supported,
    not_supported_answer,
    page,
    unknown,
)
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
from medbook.api.fhir.search import BadRequest, date_condition, search_of
from medbook.api.fhir.slots import (
    SLOT_SEARCH_DAYS,
    SLOT_SEARCH_MAX_DAYS,
    any_of,
    apart,
    free_in,
    offers_matching,
    schedules,
    slot_of,
    slot_window,
)
from medbook.api.reads import bookings_read
from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import ActorRequest
from medbook.scheduling.patient_shown import ShownPatient, bookings_of_patient

TYPES = ("Organization", "Location", "Practitioner", "PractitionerRole", "HealthcareService", "Schedule",
         "Slot", "Appointment", "Patient")  # fmt: skip
SLOT_PARAMS = ("schedule", "schedule.actor", "service-type", "specialty", "start", "status")
APPOINTMENT_PARAMS = ("date", "actor", "patient", "practitioner", "location", "status")
PATIENT_PARAMS = ("name", "organization")


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
            operation=[
                {"name": name, "definition": f"{operations.IHE_OPERATION}{name}", "documentation": text}
                for name, text in operations.DECLARED
            ],
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
    return json_answer(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": timezone.now().date(),
            "kind": "instance",
            "software": {"name": "MedBook"},
            "implementation": {"description": "MedBook scheduling", "url": base_url(request)},
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
        return not_supported_answer(["GET", "HEAD"])
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
        return page(request, search, items, lambda item: build(item, everything))

    @fhir_view()
    def read_view(request: ActorRequest, pk: str) -> HttpResponse:
        everything = source(request.actor)
        return json_answer(build(_one(pick(everything), pk), everything))

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


@fhir_view()
def schedule_search(request: ActorRequest) -> HttpResponse:
    search = search_of(request, ())
    found = schedules(request.actor)
    ordered = sorted(found.values(), key=lambda o: (o.physician.pk, o.location.pk, o.service.pk))
    return page(request, search, ordered, schedule)


@fhir_view()
def schedule_read(request: ActorRequest, pk: str) -> HttpResponse:
    found = schedules(request.actor)
    if pk not in found:
        raise Http404()
    return json_answer(schedule(found[pk]))


# --- Slots ---------------------------------------------------------------------------------------------


@fhir_view()
def slot_search(request: ActorRequest) -> HttpResponse:
    """Free Slots of the calendars the actor may book, by schedule, practitioner, location, service,
    specialty and time (`start`, by default the next seven days)."""
    actor = request.actor
    search = search_of(request, SLOT_PARAMS)
    for wanted in any_of(search.getlist("status")):
        if any(status != "free" for status in wanted):
            raise BadRequest(_("Only free slots are searched (status=free)."))
    conditions = [date_condition(value) for value in search.getlist("start")]
    low, high = slot_window(conditions)
    found = free_in(actor, offers_matching(actor, search), low=low, high=high, conditions=conditions)
    return page(request, search, found, lambda row: slot(row[1], row[0].starts_at, row[0].ends_at))


@fhir_view()
def slot_read(request: ActorRequest, pk: str) -> HttpResponse:
    """A Slot while it exists: free (as the search offers it), busy (an appointment takes its time),
    busy-tentative (someone else holds it for a few minutes), or busy-unavailable (past, inside a partner's
    cut-off, beyond the horizon, or overlapping a free slot of its Schedule); a calendar the actor may not
    book, or a time that is no slot of it, is 404."""
    try:
        physician_id, location_id, service_id, starts_at = slot_of(pk, Invalid)
    except Invalid:
        raise Http404() from None
    offer = schedules(request.actor).get(schedule_id(physician_id, location_id, service_id))
    if offer is None:
        raise Http404()
    found = actions.slot_at(request.actor, offer, starts_at=starts_at)
    if found is None:
        raise Http404()
    if found.taken:
        status = "busy"
    elif found.held:
        status = "busy-tentative"  # someone else holds it for a few minutes (`$hold`, the pages)
    elif found.interval in apart(found.free_that_day):
        status = "free"
    else:
        status = "busy-unavailable"
    return json_answer(slot(offer, found.interval.starts_at, found.interval.ends_at, status))


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
    for wanted in any_of(search.getlist("status")):
        if any(s not in STATUS_OF_APPOINTMENT for s in wanted):
            raise BadRequest(_("status is one of booked, cancelled, fulfilled, noshow."))
        bookings = bookings.filter(status__in=[STATUS_OF_APPOINTMENT[s] for s in wanted])
    window = list(bookings.order_by("starts_at", "pk")[search.offset : search.offset + search.count + 1])
    bookings_read(actor=actor, view="fhir appointments", bookings=window[: search.count])
    return bundle(
        request, search, [appointment(b) for b in window[: search.count]], more=len(window) > search.count
    )


@fhir_view()
def appointment_read(request: ActorRequest, pk: str) -> HttpResponse:
    """A booked Appointment the actor sees, or its own held one (`pending`: the id is the hold's token)."""
    if operations.is_hold(pk):
        return json_answer(operations.held_appointment(actions.held(request.actor, pk), pk))
    booking = actions.booking(request.actor, pk)
    bookings_read(actor=request.actor, view="fhir appointment", bookings=[booking])
    return json_answer(appointment(booking))


def _appointment_create(request: ActorRequest) -> HttpResponse:
    """Book the free Slot the Appointment names, for its Patient participant or its contained Patient.

    Only `status: booked` books (at once); a `proposed` or `pending` Appointment, which IHE scheduling
    treats as a request to be confirmed later, is refused with a 422 that says so (and points to `$hold`
    and `$book`, which take it), and books nothing."""
    data = body_of(request, "Appointment")
    slots = array_of(data.get("slot"), "slot")
    if len(slots) != 1 or not isinstance(slots[0], dict):
        raise Invalid(_("Book one free slot: slot[0].reference = Slot/<id>."))
    physician_id, location_id, service_id, starts_at = slot_of(
        text_of(slots[0].get("reference"), "slot[0]"), Invalid
    )
    status = text_of(data.get("status"), "status")
    if status != "booked":
        raise Invalid(
            _(
                'This server books at once: send the Appointment with status "booked", or hold a '
                "proposed appointment with Appointment/$hold and book it with Appointment/$book."
            )
        )
    patient_id, new_patient = patient_of(data)
    booked = actions.book(
        request.actor,
        location_id=location_id,
        physician_id=physician_id,
        service_id=service_id,
        starts_at=starts_at,
        patient_id=patient_id,
        new_patient=new_patient,
        note=text_of(data.get("comment"), "comment")[:500],
    )
    booking = actions.booking(request.actor, booked.pk)
    return json_answer(appointment(booking), 201, Location=f"{base_url(request)}Appointment/{booking.pk}")


def _appointment_update(request: ActorRequest, pk: str) -> HttpResponse:
    """Cancel: the Appointment sent back with `status: cancelled` (the one change this server takes); its
    `id` must be the URL's (else 400, and nothing changes)."""
    booking = actions.booking(request.actor, pk)
    data = body_of(request, "Appointment")
    if data.get("status") != "cancelled":
        raise Invalid(_("An appointment is changed only by cancelling it (status: cancelled)."))
    reason = text_of(object_of(data.get("cancelationReason"), "cancelationReason").get("text"), "text")[:300]
    if data.get("id") != str(booking.pk):
        raise BadRequest(_("The Appointment's id must be the id in the URL (%(id)s).") % {"id": booking.pk})
    actions.cancel(request.actor, booking, reason=reason, source="fhir")
    return json_answer(appointment(actions.booking(request.actor, booking.pk)))


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
        institution_id=ref_id(organization, "Organization", BadRequest) if organization else None,
        view="fhir search",
    )
    return page(
        request,
        search,
        found,
        lambda person: patient(ShownPatient(person.pk, person.full_name, person.birth_date)),
    )


@fhir_view()
def patient_read(request: ActorRequest, pk: str) -> HttpResponse:
    """A patient as the actor may see them (`actions.patient_shown`); anyone else's is 404."""
    return json_answer(patient(actions.patient_shown(request.actor, pk, view="fhir patient")))


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
    # IHE ITI Scheduling's operations, before an instance's route takes `$find` for an id.
    path(
        "Appointment/$find", interactions(GET=operations.find, POST=operations.find), name="appointment-find"
    ),
    path("Appointment/$hold", interactions(POST=operations.hold), name="appointment-hold"),
    path("Appointment/$book", interactions(POST=operations.book), name="appointment-book"),
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
