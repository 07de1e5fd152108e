"""IHE ITI Scheduling on FHIR (issue 21): `Appointment/$find` (ITI-115), `$hold` (ITI-116) and `$book`
(ITI-117), over the slot engine, the slot holds and the booking services the pages use (`actions`).

- `$find` (GET, or POST with a Parameters body or a form): the free slots of the calendars the caller may
  book (a partner: what its partnerships authorise), as `proposed` Appointments, earliest first, in a
  searchset Bundle with its `total` and `next` links; narrowed by `start`/`end`, `service-type` (or IHE's
  `visit-type`), `specialty`, `practitioner`, `location` (or `location-reference`) and `organization`
  (repeated or comma-separated values: any of them). Nobody is offered a slot someone else holds.
- `$hold` (POST): holds the proposed Appointment named (`appointment-reference`, or the Appointment itself)
  for a few minutes (`scheduling.holds`); answers it `pending` in a Bundle, with an OperationOutcome saying
  until when. Its id is the hold's token: only its holder can read, book or release it.
- `$book` (POST): books the held (or a proposed) Appointment for the patient its `appointment-resource`
  names (a Patient participant or a contained Patient) or `patient-resource` gives; with `status:
  cancelled` it releases the hold (or cancels a booked appointment) instead.

Ids: a proposed Appointment is `proposed-<Slot id>`, a held one its hold's token (48 hex digits), a booked
one the booking's id. Errors as every FHIR answer's (`http.fhir_view`): an unknown, expired, released,
booked or someone else's hold 404; a slot taken or held 409 (`$hold`'s: `fatal` `not-found`, ITI-116).
"""

from datetime import UTC, datetime, timedelta

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.api import actions
from medbook.api.fhir.bodies import Parameters, new_patient_of, parameters_of, patient_of, ref_id, text_of
from medbook.api.fhir.http import Invalid, fhir_view, issue_outcome, operation_result, outcome, page
from medbook.api.fhir.resources import appointment, appointment_offered, slot_id
from medbook.api.fhir.search import PREFIXES, BadRequest, Search, date_condition, search_from, search_of
from medbook.api.fhir.slots import (
    SLOT_SEARCH_DAYS,
    SLOT_SEARCH_MAX_DAYS,
    free_in,
    of_services,
    of_specialties,
    slot_of,
)
from medbook.core.errors import SlotUnavailable
from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import Actor, ActorRequest
from medbook.scheduling.hold_rules import TOKEN_TEXT
from medbook.scheduling.models import SlotHold
from medbook.scheduling.slots import Interval

IHE_OPERATION = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-"
# The operations as the CapabilityStatement declares them (IHE's OperationDefinitions by canonical URL).
DECLARED = (
    ("find", "IHE ITI-115: free slots the caller may book, as proposed Appointments, earliest first"),
    ("hold", "IHE ITI-116: hold a proposed Appointment for a few minutes (pending; its id is the hold's)"),
    ("book", "IHE ITI-117: book a held or proposed Appointment; with status cancelled, release or cancel"),
)
FIND_PARAMS = ("start", "end", "service-type", "visit-type", "specialty", "practitioner", "location",
               "location-reference", "organization")  # fmt: skip
PROPOSED = "proposed-"
JSON_TYPES = ("application/fhir+json", "application/json")


def is_hold(pk: str) -> bool:
    """Whether an Appointment id is a hold's token (a held Appointment's id)."""
    return bool(TOKEN_TEXT.fullmatch(pk))


def held_appointment(hold: SlotHold, token: str, status: str = "pending") -> dict:
    """A hold as the Appointment its holder sees: `pending`, or `cancelled` once released."""
    return appointment_offered(hold, hold.starts_at, hold.ends_at, resource_id=token, status=status)


# --- $find (ITI-115) -----------------------------------------------------------------------------------


def _find_search(request: ActorRequest) -> Search:
    """The $find's parameters: the URL's (and a form's), or a Parameters body's."""
    if request.method == "POST" and request.content_type in JSON_TYPES:
        return search_from(request, parameters_of(request).texts(), FIND_PARAMS)
    return search_of(request, FIND_PARAMS)


def _values(search: Search, *names: str) -> list[str]:
    """Every value of these parameters, repeated or comma-separated: any of them may match."""
    return [part for name in names for value in search.getlist(name) for part in value.split(",") if part]


def _ids(search: Search, names: tuple[str, ...], kind: str, *also: str) -> set[int]:
    """The ids of the references (`Kind/<id>`, or another of `also`) these parameters name."""
    found = set()
    for value in _values(search, *names):
        given = value.rpartition("/")[0].rpartition("/")[2]
        found.add(ref_id(value, given if given in also else kind, BadRequest))
    return found


def _moment(search: Search, name: str) -> tuple[datetime, datetime] | None:
    """The range of a dateTime parameter's value (its precision's: `2026-03-05` is that whole day)."""
    value = search.get(name)
    if not value:
        return None
    if value[:2] in PREFIXES:
        raise BadRequest(_("%(name)s is a date-time, without a prefix.") % {"name": name})
    condition = date_condition(value)
    return condition.low, condition.high


def _window(search: Search) -> tuple[datetime, datetime]:
    """From `start` (now at the earliest) until the end of `end` (by default SLOT_SEARCH_DAYS later), at
    most SLOT_SEARCH_MAX_DAYS days."""
    start, end = _moment(search, "start"), _moment(search, "end")
    now = timezone.now()
    low = max(start[0], now) if start else now
    high = end[1] if end else low + timedelta(days=SLOT_SEARCH_DAYS)
    if start and end and end[1] <= start[0]:
        raise BadRequest(_("The end must come after the start."))
    if high - low > timedelta(days=SLOT_SEARCH_MAX_DAYS):
        raise BadRequest(
            _("Find appointments within at most %(days)s days.") % {"days": SLOT_SEARCH_MAX_DAYS}
        )
    return low, high


def _offers(actor: Actor, search: Search) -> list[actions.Bookable]:
    """The caller's calendars that the parameters name: each parameter narrows, its values widen."""
    offers = actions.offers(actor)
    if services := _values(search, "service-type", "visit-type"):
        offers = of_services(offers, services)
    if specialties := _values(search, "specialty"):
        offers = of_specialties(offers, specialties)
    if practitioners := _ids(search, ("practitioner",), "Practitioner", "PractitionerRole"):
        offers = [o for o in offers if o.physician.pk in practitioners]
    if places := _ids(search, ("location", "location-reference"), "Location"):
        offers = [o for o in offers if o.location.pk in places]
    if organizations := _ids(search, ("organization",), "Organization"):
        offers = [o for o in offers if o.location.institution_id in organizations]
    return offers


@fhir_view()
def find(request: ActorRequest) -> HttpResponse:
    """ITI-115: the free slots the caller may book as proposed Appointments, earliest first."""
    search = _find_search(request)
    low, high = _window(search)
    bounded = bool(search.get("end"))
    found = [
        (interval, offer)
        for interval, offer in free_in(request.actor, _offers(request.actor, search), low=low, high=high)
        if not bounded or interval.ends_at <= high
    ]

    def proposed(row: tuple[Interval, actions.Bookable]) -> dict:
        interval, offer = row
        pk = PROPOSED + slot_id(offer.physician.pk, offer.location.pk, offer.service.pk, interval.starts_at)
        return appointment_offered(
            offer, interval.starts_at, interval.ends_at, resource_id=pk, status="proposed"
        )

    return page(request, search, found, proposed, counted=True)


# --- $hold (ITI-116) -----------------------------------------------------------------------------------


def _appointment_named(given: Parameters) -> tuple[str, dict]:
    """The Appointment id an operation names (`appointment-reference`, or the `appointment-resource`'s id;
    Argonaut's `appt-id` and `appt-resource` alike) and that resource (empty when not sent)."""
    resource = given.first("appointment-resource", "appt-resource") or {}
    if not isinstance(resource, dict) or resource.get("resourceType") not in (None, "Appointment"):
        raise Invalid(_("The body must be a %(kind)s resource.") % {"kind": "Appointment"})
    reference = given.first("appointment-reference", "appt-id")
    if isinstance(reference, dict):
        reference = reference.get("reference")
    text = text_of(reference if reference is not None else resource.get("id"), "appointment-reference")
    if not text:
        raise Invalid(_("Name the appointment: appointment-reference = Appointment/<id>."))
    return text.rpartition("Appointment/")[2] if "Appointment/" in text else text, resource


@fhir_view()
def hold(request: ActorRequest) -> HttpResponse:
    """ITI-116: hold a proposed Appointment for its caller; 409 (`fatal` `not-found`) when it is taken."""
    pk, _resource = _appointment_named(parameters_of(request, "Appointment"))
    if not pk.startswith(PROPOSED):
        raise Invalid(_("Hold a proposed appointment that Appointment/$find returned (proposed-…)."))
    physician_id, location_id, service_id, starts_at = slot_of(pk.removeprefix(PROPOSED), Invalid)
    try:
        made = actions.hold(
            request.actor,
            location_id=location_id,
            physician_id=physician_id,
            service_id=service_id,
            starts_at=starts_at,
        )
    except SlotUnavailable as error:  # ITI-116: the appointment cannot be held is `fatal` `not-found`
        return outcome(409, "not-found", error.message, severity="fatal")
    until = made.hold.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = _("Held for you until %(time)s: book it with Appointment/$book, or release it, before then.")
    return operation_result(
        request,
        held_appointment(made.hold, made.token),
        extra=[issue_outcome("informational", note % {"time": until}, severity="information")],
    )


# --- $book (ITI-117) -----------------------------------------------------------------------------------


def _cancel(request: ActorRequest, pk: str, resource: dict) -> dict:
    """Release the caller's hold (a held Appointment), or cancel its booked appointment."""
    if is_hold(pk):
        return held_appointment(actions.release(request.actor, pk), pk, "cancelled")
    booking = actions.booking(request.actor, pk)
    reason = resource.get("cancelationReason")
    text = text_of(reason.get("text"), "cancelationReason.text") if isinstance(reason, dict) else ""
    actions.cancel(request.actor, booking, reason=text[:300], source="fhir")
    return appointment(actions.booking(request.actor, booking.pk))


@fhir_view()
def book(request: ActorRequest) -> HttpResponse:
    """ITI-117: book the held (or a proposed) Appointment for its patient; `status: cancelled` releases the
    hold or cancels the booking instead."""
    given = parameters_of(request, "Appointment")
    pk, resource = _appointment_named(given)
    status = text_of(resource.get("status"), "status")
    if status == "cancelled":
        return operation_result(request, _cancel(request, pk, resource))
    if status not in ("", "proposed", "pending", "booked"):
        raise Invalid(_("Book with the status booked, or release with the status cancelled."))
    patient_id, new_patient = patient_of(resource)
    person = given.first("patient-resource")
    if isinstance(person, dict) and patient_id is None and new_patient is None:
        details = new_patient_of({"contained": [{**person, "resourceType": "Patient"}]})
        new_patient = actions.NewPatientIn(**details) if details else None
    note = text_of(given.first("comment") or resource.get("comment"), "comment")[:500]
    if is_hold(pk):
        booked = actions.book_held(
            request.actor, pk, patient_id=patient_id, new_patient=new_patient, note=note
        )
    elif pk.startswith(PROPOSED):
        physician_id, location_id, service_id, starts_at = slot_of(pk.removeprefix(PROPOSED), Invalid)
        booked = actions.book(
            request.actor,
            location_id=location_id,
            physician_id=physician_id,
            service_id=service_id,
            starts_at=starts_at,
            patient_id=patient_id,
            new_patient=new_patient,
            note=note,
        )
    elif parse_id_or_none(pk) is not None:
        actions.booking(request.actor, pk)  # another's is 404, as anywhere
        raise Invalid(_("An appointment is changed only by cancelling it (status: cancelled)."))
    else:
        raise Http404()
    booking = actions.booking(request.actor, booked.pk)
    return operation_result(request, appointment(booking))
