"""Issue 21, FHIR by the specification: every point a standard client or a careful reader of R4 found, as a
test; every answer validates against the R4B models (`valid`), and one journey runs through `fhirclient`,
SMART's Python client, over the test client."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from fhirclient import client as fhir_client
from fhirclient.models.appointment import Appointment as ClientAppointment
from fhirclient.models.patient import Patient as ClientPatient
from fhirclient.models.slot import Slot as ClientSlot
from requests.structures import CaseInsensitiveDict

from conftest import local, next_weekday
from medbook.api.fhir.search import MAX_COUNT, date_condition
from medbook.api.tests.test_fhir import Fhir, valid
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.institutions.tests.factories import ServiceFactory
from medbook.partners.models import Partnership
from medbook.patients.models import Patient
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _slot_id(cast, when: datetime, location=None) -> str:
    place = location or cast.location_a1
    return f"{cast.physician_a.pk}-{place.pk}-{cast.service_a.pk}-{int(when.timestamp())}"


def _book(fhir, cast, when: datetime, **more) -> dict:
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{_slot_id(cast, when)}"}],
        "participant": [{"actor": {"display": "new patient"}, "status": "needs-action"}],
        "contained": [{"resourceType": "Patient", "id": "p", "name": [{"text": "Nora Newcomer"}]}],
        **more,
    }
    answer = fhir.send("post", "Appointment", body)
    assert answer.status_code == 201, answer.content
    return valid(answer.json()).model_dump(mode="json", exclude_none=True)


def _ids(bundle) -> list[str]:
    return [entry.resource.id for entry in bundle.entry or []]


def _self_params(bundle) -> dict[str, list[str]]:
    link = next(link.url for link in bundle.link if link.relation == "self")
    return parse_qs(urlsplit(link).query)


# --- 405 for what the CapabilityStatement does not declare --------------------------------------------

CATALOGUE = ("Organization", "Location", "Practitioner", "PractitionerRole", "HealthcareService", "Schedule")


def test_i21_undeclared_interactions_answer_405_and_change_nothing(client, cast):
    fhir = Fhir(client, cast.bob)
    booked = _book(fhir, cast, local(next_weekday(1), 9))
    before = Institution.objects.get(pk=cast.institution_a.pk).name
    refused = []
    for kind in CATALOGUE:
        instance = valid(fhir.get(kind).json()).entry[0].resource.id
        refused += [("delete", f"{kind}/{instance}"), ("put", f"{kind}/{instance}"), ("patch", f"{kind}/{instance}"),
                    ("post", f"{kind}/{instance}"), ("post", kind), ("put", kind), ("delete", kind)]  # fmt: skip
    refused += [
        ("delete", f"Appointment/{booked['id']}"),
        ("patch", f"Appointment/{booked['id']}"),
        ("post", f"Appointment/{booked['id']}"),
        ("put", "Appointment"),
        ("post", "Slot"),
        ("delete", f"Patient/{cast.patient_a.pk}"),
        ("post", "metadata"),
        ("get", f"Appointment/{booked['id']}/_history"),
        ("get", "Appointment/_history"),
        ("get", "Organization/$everything"),
        ("post", ""),  # a batch or a transaction
    ]
    for method, path in refused:
        body = {"resourceType": path.split("/")[0] or "Bundle", "id": "1", "name": "X"}
        answer = fhir.get(path) if method == "get" else fhir.send(method, path, body)
        assert answer.status_code == 405, (method, path, answer.status_code)
        assert valid(answer.json()).issue[0].code == "not-supported"
    assert Institution.objects.get(pk=cast.institution_a.pk).name == before
    assert Location.objects.count() == 3 and Physician.objects.count() == 2 and Service.objects.count() == 2
    assert list(Booking.objects.values_list("status", flat=True)) == [Booking.Status.BOOKED]
    assert Fhir(client, cast.bob).get("Observation").status_code == 404  # a type it does not have: 404


# --- Dates and prefixes (R4 §3.1.1.5.6) ---------------------------------------------------------------


def test_i21_date_values_are_ranges_by_their_precision():
    day = date_condition("2026-03-05", UTC)
    assert (day.low, day.high) == (datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC))
    month = date_condition("ge2026-02", UTC)
    assert (month.low, month.high) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    minute = date_condition("gt2026-03-05T12:00Z")
    assert minute.high == datetime(2026, 3, 5, 12, 1, tzinfo=UTC)
    inside, after = datetime(2026, 3, 5, 23, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC)
    expected = {"eq": (True, False), "ne": (False, True), "gt": (False, True), "sa": (False, True),
                "ge": (True, True), "lt": (False, False), "eb": (False, False), "le": (True, False)}  # fmt: skip
    for prefix, (at_inside, at_after) in expected.items():
        condition = date_condition(f"{prefix}2026-03-05", UTC)
        assert (condition.matches(inside), condition.matches(after)) == (at_inside, at_after), prefix
    assert date_condition("ap2026-03-05", UTC).matches(inside)
    assert date_condition("2026-03-05T12:00:00+02:00").low == datetime(2026, 3, 5, 10, tzinfo=UTC)


def test_i21_appointment_date_prefixes_keep_their_meaning(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(2)
    ids = {hour: _book(fhir, cast, local(day, hour))["id"] for hour in (9, 15)}
    next_day = _book(fhir, cast, local(day + timedelta(days=1), 9))["id"]

    def found(*dates):
        return sorted(_ids(valid(fhir.get("Appointment", date=list(dates)).json())), key=int)

    iso = day.isoformat()
    assert found(f"gt{iso}") == [next_day]  # after the whole day: not that day
    assert found(f"le{iso}") == sorted(ids.values(), key=int)  # up to its end: the whole day
    assert found(f"lt{iso}") == [] and found(f"eb{iso}") == []
    assert found(iso) == found(f"eq{iso}") == sorted(ids.values(), key=int)
    assert found(f"ne{iso}") == [next_day]
    noon = local(day, 12).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    assert found(f"ge{noon}") == sorted([ids[15], next_day], key=int)  # the time is kept
    assert found(f"ge{noon}", f"lt{(day + timedelta(days=1)).isoformat()}") == [ids[15]]
    bad = fhir.get("Appointment", date="gx2026-01-01")
    assert bad.status_code == 400 and valid(bad.json()).issue[0].code == "invalid"


def test_i21_slot_start_with_a_time_keeps_the_time(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(3)
    noon = local(day, 12).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    bundle = valid(fhir.get("Slot", start=[f"ge{noon}", f"lt{(day + timedelta(days=1)).isoformat()}"]).json())
    starts = [entry.resource.start for entry in bundle.entry]
    assert starts[0] == local(day, 12) and starts[-1] == local(day, 15, 30) and len(starts) == 8


# --- Parameters: strict, lenient, self -----------------------------------------------------------------


def test_i21_unknown_parameters_are_refused_when_strict_and_otherwise_left_out_of_self(client, cast):
    fhir = Fhir(client, cast.bob)
    lenient = fhir.get("Appointment", status="booked", _sort="date", colour="blue")
    bundle = valid(lenient.json())
    assert lenient.status_code == 200
    assert set(_self_params(bundle)) == {"status", "_count", "_offset"}
    strict = client.get(
        "/fhir/R4/Appointment",
        {"status": "booked", "colour": "blue"},
        HTTP_PREFER="handling=strict",
        **fhir.headers,
    )
    assert strict.status_code == 400
    assert "colour" in valid(strict.json()).issue[0].diagnostics
    known = client.get(
        "/fhir/R4/Appointment", {"status": "booked"}, HTTP_PREFER="handling=strict", **fhir.headers
    )
    assert known.status_code == 200


def test_i21_count_is_capped_not_refused(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(1)
    answer = fhir.get("Slot", _count=1000, start=[f"ge{day}", f"lt{day + timedelta(days=14)}"])
    bundle = valid(answer.json())
    assert answer.status_code == 200 and len(bundle.entry) == MAX_COUNT
    assert _self_params(bundle)["_count"] == [str(MAX_COUNT)]


def test_i21_post_search_takes_a_form_as_get_takes_the_url(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(1)
    params = {"service-type": f"urn:medbook:service|{cast.service_a.pk}", "start": f"ge{day.isoformat()}",
              "_count": "5"}  # fmt: skip
    by_get = valid(fhir.get("Slot", **params).json())
    form = urlencode(params)
    posted = client.post("/fhir/R4/Slot/_search", form, "application/x-www-form-urlencoded", **fhir.headers)
    assert posted.status_code == 200
    by_post = valid(posted.json())
    assert _ids(by_post) == _ids(by_get) and len(_ids(by_get)) == 5
    assert _self_params(by_post) == _self_params(by_get)


def test_i21_appointment_search_by_patient_for_what_the_caller_may_see(client, cast, partners):
    staff, partner = Fhir(client, cast.bob), Fhir(client, partners.peter)
    day = next_weekday(4)
    mine = _book(partner, cast, local(day, 9))
    shown = mine["participant"][0]["actor"]["reference"]
    desk = _book(staff, cast, local(day, 10), participant=[{"actor": {"reference": f"Patient/{cast.patient_a.pk}"},
                                                              "status": "accepted"}], contained=[])  # fmt: skip
    assert _ids(valid(partner.get("Appointment", patient=shown).json())) == [mine["id"]]
    assert _ids(valid(staff.get("Appointment", patient=f"Patient/{cast.patient_a.pk}").json())) == [
        desk["id"]
    ]
    # Another tenant's patient, or one the partner never booked: an empty result, as any filter of theirs.
    assert _ids(valid(partner.get("Appointment", patient=f"Patient/{cast.patient_a.pk}").json())) == []
    assert _ids(valid(staff.get("Appointment", patient=f"Patient/{cast.patient_b.pk}").json())) == []
    assert _ids(valid(Fhir(client, cast.charlie).get("Appointment", patient=shown).json())) == []


# --- Patient and Slot reads ----------------------------------------------------------------------------


def test_i21_patient_reads_for_what_the_caller_may_see(client, cast, partners):
    staff, partner, stranger = (
        Fhir(client, cast.bob),
        Fhir(client, partners.peter),
        Fhir(client, cast.charlie),
    )
    booked = _book(partner, cast, local(next_weekday(1), 11))
    reference = booked["participant"][0]["actor"]["reference"]
    read = valid(partner.get(reference).json())
    assert read.name[0].text == "Nora Newcomer"
    # The register's record is renamed: a partner without patient-data access still sees what it entered.
    Patient.objects.filter(pk=int(reference.split("/")[1])).update(full_name="Nora Registered")
    assert valid(partner.get(reference).json()).name[0].text == "Nora Newcomer"
    assert valid(staff.get(reference).json()).name[0].text == "Nora Registered"
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(patient_data_access=True)
    assert valid(partner.get(reference).json()).name[0].text == "Nora Registered"
    # A patient the partner never booked, or another institution's: 404 alike.
    for fhir, other in ((partner, cast.patient_a), (partner, cast.patient_b), (stranger, cast.patient_a),
                        (staff, cast.patient_b)):  # fmt: skip
        answer = fhir.get(f"Patient/{other.pk}")
        assert answer.status_code == 404 and valid(answer.json()).issue[0].code == "not-found"
    assert stranger.get(reference).status_code == 404
    assert valid(staff.get(f"Patient/{cast.patient_a.pk}").json()).name[0].text == "Anna Patient"


def test_i21_a_slot_resolves_while_it_exists_and_a_booked_one_says_busy(client, cast, partners):
    partner = Fhir(client, partners.peter)
    day = next_weekday(1)
    first = valid(partner.get("Slot", start=f"ge{day.isoformat()}", _count=1).json()).entry[0].resource
    assert first.start == local(day, 8)
    read = valid(partner.get(f"Slot/{first.id}").json())
    assert (read.status, read.start, read.end) == ("free", first.start, first.end)
    booked = _book(partner, cast, local(day, 8))
    slot_reference = booked["slot"][0]["reference"]
    assert slot_reference == f"Slot/{first.id}"
    assert valid(partner.get(slot_reference).json()).status == "busy"
    assert valid(Fhir(client, cast.bob).get(slot_reference).json()).status == "busy"
    # Not a slot of the calendar (07:00, before the physician's hours; 08:10, off the grid): 404.
    for when in (local(day, 7), local(day, 8, 10)):
        assert partner.get(f"Slot/{_slot_id(cast, when)}").status_code == 404
    # Another tenant's, a location the partner may not book, garbage: 404.
    assert Fhir(client, cast.charlie).get(slot_reference).status_code == 404
    assert partner.get(f"Slot/{_slot_id(cast, local(day, 9), cast.location_a2)}").status_code == 404
    for garbage in ("1-2-3", "x", "1-1-1-99999999999999999", "¹-1-1-1"):
        assert partner.get(f"Slot/{garbage}").status_code == 404


# --- Slot search without a schedule; Slots that do not overlap ------------------------------------------


def test_i21_slots_are_searched_by_service_specialty_practitioner_and_location(client, cast, partners):
    staff = Fhir(client, cast.bob)
    day = next_weekday(2)
    window = [f"ge{day.isoformat()}", f"lt{(day + timedelta(days=1)).isoformat()}"]
    everything = _ids(valid(staff.get("Slot", start=window).json()))
    assert len(everything) == 16  # 08:00-16:00, 30 minutes each, at A Central
    for params in (
        {"service-type": f"urn:medbook:service|{cast.service_a.pk}"},
        {"specialty": "Cardiology"},
        {"specialty": "urn:medbook:specialty|cardiology"},
        {"schedule.actor": f"Practitioner/{cast.physician_a.pk}"},
        {"schedule.actor": f"Location/{cast.location_a1.pk}"},
        {"schedule.actor": f"HealthcareService/{cast.service_a.pk},Location/{cast.location_a2.pk}"},
    ):
        assert _ids(valid(staff.get("Slot", start=window, **params).json())) == everything, params
    for params in (
        {"service-type": f"urn:medbook:service|{cast.service_b.pk}"},
        {"specialty": "Dermatology"},
        {"schedule.actor": f"Location/{cast.location_a2.pk}"},
        {"schedule.actor": f"Practitioner/{cast.physician_b.pk}"},
    ):
        assert _ids(valid(staff.get("Slot", start=window, **params).json())) == [], params
    assert staff.get("Slot", **{"schedule.actor": "Patient/1"}).status_code == 400
    assert staff.get("Slot", start=["ge2027-01-01", "lt2027-03-01"]).status_code == 400  # over 31 days


def test_i21_slots_of_one_schedule_never_overlap(client, cast):
    Institution.objects.filter(pk=cast.institution_a.pk).update(slot_grid_minutes=15)
    second = ServiceFactory(
        institution=cast.institution_a,
        name="ECG",
        duration_minutes=45,
        locations=[cast.location_a1],
        physicians=[cast.physician_a],
    )
    staff = Fhir(client, cast.bob)
    day = next_weekday(3)
    window = [f"ge{day.isoformat()}", f"lt{(day + timedelta(days=1)).isoformat()}"]
    bundle = valid(staff.get("Slot", start=window, _count=MAX_COUNT).json())
    by_schedule: dict[str, list] = {}
    for entry in bundle.entry:
        by_schedule.setdefault(entry.resource.schedule.reference, []).append(entry.resource)
    assert len(by_schedule) == 2  # one Schedule per physician, location and service
    for slots in by_schedule.values():
        for earlier, later in zip(slots, slots[1:], strict=False):
            assert later.start >= earlier.end
    schedules = valid(staff.get("Schedule").json())
    assert {e.resource.serviceType[0].coding[0].code for e in schedules.entry} == {
        str(cast.service_a.pk),
        str(second.pk),
    }
    # A start the Schedule does not offer (08:15: the 08:00 slot of 30 minutes is free) is read as unavailable.
    hidden = staff.get(f"Slot/{_slot_id(cast, local(day, 8, 15))}")
    assert valid(hidden.json()).status == "busy-unavailable"


# --- Updates and creates --------------------------------------------------------------------------------


def test_i21_a_put_naming_another_id_is_refused_and_changes_nothing(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(1)
    one, other = _book(fhir, cast, local(day, 9)), _book(fhir, cast, local(day, 10))
    for body in ({**other, "status": "cancelled"}, {**one, "id": None, "status": "cancelled"}):
        body = {k: v for k, v in body.items() if v is not None}
        answer = fhir.send("put", f"Appointment/{one['id']}", body)
        assert answer.status_code == 400 and valid(answer.json()).issue[0].code == "invalid"
    assert set(Booking.objects.values_list("status", flat=True)) == {Booking.Status.BOOKED}


def test_i21_what_the_present_state_refuses_is_a_409_conflict_as_in_the_json_api(client, cast):
    """Cancelling an appointment that is cancelled already: the JSON API's 409, as an OperationOutcome."""
    fhir = Fhir(client, cast.bob)
    booked = _book(fhir, cast, local(next_weekday(1), 9))
    body = {k: v for k, v in {**booked, "status": "cancelled"}.items() if v is not None}
    assert fhir.send("put", f"Appointment/{booked['id']}", body).status_code == 200
    again = fhir.send("put", f"Appointment/{booked['id']}", body)
    assert again.status_code == 409 and valid(again.json()).issue[0].code == "conflict"
    assert Booking.objects.get().status == Booking.Status.CANCELLED


def test_i21_a_proposed_appointment_books_nothing(client, cast, partners):
    for user in (cast.bob, partners.peter):
        fhir = Fhir(client, user)
        for status in ("proposed", "pending", None):
            body = {
                "resourceType": "Appointment",
                "slot": [{"reference": f"Slot/{_slot_id(cast, local(next_weekday(1), 9))}"}],
                "participant": [{"actor": {"display": "x"}, "status": "needs-action"}],
                "contained": [{"resourceType": "Patient", "id": "p", "name": [{"text": "X"}]}],
                **({"status": status} if status else {}),
            }
            answer = fhir.send("post", "Appointment", body)
            assert answer.status_code == 422
            assert "booked" in valid(answer.json()).issue[0].diagnostics
    assert not Booking.objects.exists()


# --- Discovery ----------------------------------------------------------------------------------------


def test_i21_smart_configuration_says_how_to_get_a_token(client, cast):
    answer = client.get("/fhir/R4/.well-known/smart-configuration")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    found = answer.json()
    for key in (
        "token_endpoint",
        "grant_types_supported",
        "capabilities",
        "code_challenge_methods_supported",
    ):
        assert key in found
    assert found["grant_types_supported"] == [] and found["capabilities"] == []
    assert found["management_endpoint"].endswith("/accounts/api-tokens/")
    token = client.post(urlsplit(found["token_endpoint"]).path, {"grant_type": "client_credentials"})
    assert token.status_code == 400 and token.json()["error"] == "unsupported_grant_type"
    statement = valid(client.get("/fhir/R4/metadata").json())
    assert "/accounts/api-tokens/" in statement.rest[0].security.description
    declared = {r.type: {i.code for i in r.interaction} for r in statement.rest[0].resource}
    assert declared["Slot"] == declared["Patient"] == {"read", "search-type"}
    assert {p.name for p in next(r for r in statement.rest[0].resource if r.type == "Slot").searchParam} >= {
        "service-type",
        "specialty",
        "schedule.actor",
        "start",
    }


# --- A standard client: fhirclient ----------------------------------------------------------------------


class DjangoClientAdapter(requests.adapters.BaseAdapter):
    """requests' transport onto Django's test client: a real HTTP client library, no server thread."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        headers = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request.headers.items()
            if name.lower() not in ("content-type", "content-length")
        }
        answer = self.client.generic(
            request.method,
            f"{url.path}?{url.query}" if url.query else url.path,
            request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            **headers,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(answer.items())
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


def test_i21_fhirclient_searches_books_reads_and_cancels(client, cast, partners):
    """SMART's Python client (its own R4 models parse every answer): search free slots, book one, read the
    Appointment, its Slot (busy) and its Patient, then cancel by updating it."""
    headers = Fhir(client, partners.peter).headers
    smart = fhir_client.FHIRClient(
        settings={"app_id": "medbook-test", "api_base": "http://testserver/fhir/R4/"}
    )
    smart.server.session.mount("http://testserver/", DjangoClientAdapter(client))
    smart.server.session.headers["Authorization"] = headers["HTTP_AUTHORIZATION"]
    smart.prepare()
    assert smart.server.capabilityStatement.fhirVersion == "4.0.1"
    day = next_weekday(1)
    search = ClientSlot.where(
        struct={
            "service-type": f"urn:medbook:service|{cast.service_a.pk}",
            "start": f"ge{day.isoformat()}",
            "_count": "10",
        }  # fmt: skip
    )
    slots = []
    for found in search.perform_resources_iter(smart.server):  # walks the `next` links
        slots.append(found)
        if len(slots) == 25:
            break
    assert len(slots) == 25 and slots[0].start.datetime == local(day, 8)
    chosen = slots[1]
    new = ClientAppointment(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{chosen.id}"}],
            "participant": [{"actor": {"display": "Fhir Client"}, "status": "needs-action"}],
            "contained": [{"resourceType": "Patient", "id": "p", "name": [{"text": "Fhir Client"}]}],
        }
    )
    created = ClientAppointment(new.create(smart.server))
    appointment = ClientAppointment.read(created.id, smart.server)
    assert (appointment.status, appointment.start.datetime) == ("booked", local(day, 8, 30))
    slot = ClientSlot.read(appointment.slot[0].reference.split("/")[1], smart.server)
    assert slot.status == "busy"
    person = ClientPatient.read(appointment.participant[0].actor.reference.split("/")[1], smart.server)
    assert person.name[0].text == "Fhir Client"
    appointment.status = "cancelled"
    cancelled = ClientAppointment(appointment.update(smart.server))
    assert cancelled.status == "cancelled"
    assert Booking.objects.get(pk=int(created.id)).status == Booking.Status.CANCELLED
    assert ClientSlot.read(chosen.id, smart.server).status == "free"
    body = json.dumps({"resourceType": "Appointment", "id": created.id, "status": "cancelled"})
    assert client.delete(f"/fhir/R4/Appointment/{created.id}", body, **headers).status_code == 405
