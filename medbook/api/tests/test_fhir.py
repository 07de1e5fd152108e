"""X-2: FHIR R4 scheduling on the same services and rules; every answer validates against the R4B models."""

import json
from datetime import timedelta

import pytest
from fhir.resources.R4B import get_fhir_model_class

from conftest import local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.partners.models import Partnership
from medbook.reports.selectors import Period, partner_bookings
from medbook.scheduling import selectors
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def valid(data: dict):
    """The resource parsed by the fhir.resources R4B model of its type (raises when it is not valid)."""
    return get_fhir_model_class(data["resourceType"]).model_validate(data)


class Fhir:
    def __init__(self, client, user=None):
        self.client = client
        self.headers = {}
        if user is not None:
            secret = api_token_create(actor=actor_for(user), name="fhir")[1]
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def get(self, path, **params):
        response = self.client.get(f"/fhir/R4/{path}", params, **self.headers)
        assert response["Content-Type"] == "application/fhir+json"
        return response

    def send(self, method, path, body):
        response = getattr(self.client, method)(
            f"/fhir/R4/{path}", json.dumps(body), content_type="application/fhir+json", **self.headers
        )
        assert response["Content-Type"] == "application/fhir+json"
        return response


def test_x2_metadata_is_public_and_a_valid_capability_statement(client):
    answer = Fhir(client).get("metadata")
    assert answer.status_code == 200
    statement = valid(answer.json())
    assert statement.fhirVersion == "4.0.1"
    assert {r.type for r in statement.rest[0].resource} >= {"Slot", "Appointment", "Schedule", "Patient"}
    # IHE ITI Scheduling's operations, by the canonical URLs of IHE's OperationDefinitions (issue 21).
    appointment = next(r for r in statement.rest[0].resource if r.type == "Appointment")
    ihe = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-"
    assert {(o.name, o.definition) for o in appointment.operation} == {
        (name, f"{ihe}{name}") for name in ("find", "hold", "book")
    }


def test_x2_without_a_token_every_resource_is_a_401_operation_outcome(client, cast):
    answer = Fhir(client).get("Appointment")
    assert answer.status_code == 401
    assert valid(answer.json()).issue[0].code == "login"


def _free_slots(fhir, cast, day, **params):
    return fhir.get(
        "Slot",
        schedule=f"Schedule/{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}",
        **{"service-type": f"urn:medbook:service|{cast.service_a.pk}"},
        start=[f"ge{day.isoformat()}", f"lt{(day + timedelta(days=1)).isoformat()}"],
        status="free",
        **params,
    )


def test_x2_a_partner_books_a_free_slot_through_fhir_and_the_pages_show_that_booking(client, cast, partners):
    fhir = Fhir(client, partners.peter)
    organizations = valid(fhir.get("Organization").json())
    assert [e.resource.name for e in organizations.entry] == ["Institution A"]
    schedules = valid(fhir.get("Schedule").json())
    assert [e.resource.id for e in schedules.entry] == [
        f"{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}"
    ]
    for kind in ("Location", "Practitioner", "PractitionerRole", "HealthcareService"):
        bundle = valid(fhir.get(kind).json())
        assert bundle.entry, kind
        valid(fhir.get(f"{kind}/{bundle.entry[0].resource.id}").json())
    day = next_weekday(1)
    page = _free_slots(fhir, cast, day, _count=2)
    bundle = valid(page.json())
    assert len(bundle.entry) == 2 and {link.relation for link in bundle.link} == {"self", "next"}
    following = valid(client.get(bundle.link[1].url, **fhir.headers).json())
    assert following.entry[0].resource.start > bundle.entry[1].resource.start
    chosen = bundle.entry[0].resource
    assert chosen.start == local(day, 8)  # the first slot of the physician's day in Budapest
    created = fhir.send(
        "post",
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{chosen.id}"}],
            "participant": [{"actor": {"display": "new patient"}, "status": "needs-action"}],
            "contained": [
                {
                    "resourceType": "Patient",
                    "id": "p",
                    "name": [{"text": "Fhir Newcomer"}],
                    "birthDate": "1980-02-03",
                }
            ],
        },
    )
    assert created.status_code == 201, created.content
    appointment = valid(created.json())
    assert (appointment.status, appointment.start) == ("booked", local(day, 8))
    booking = Booking.objects.get(pk=int(appointment.id))
    assert (booking.partner_id, booking.patient.full_name) == (partners.partner_p.pk, "Fhir Newcomer")
    # The same booking on the reception calendar and in Partner-submitted statistics.
    week = selectors.calendar_week(
        actor=actor_for(cast.bob),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=day - timedelta(days=day.weekday()),
    )
    assert booking.pk in [e.booking.pk for d in week for e in d.entries if e.booking is not None]
    period = Period(day, day, "Europe/Budapest")
    assert [b.pk for b in partner_bookings(actor=actor_for(cast.alice), period=period)] == [booking.pk]
    # The slot is gone from the search, and its twin through the JSON API is refused with a 409.
    assert chosen.id not in [e.resource.id for e in valid(_free_slots(fhir, cast, day).json()).entry]
    secret = api_token_create(actor=actor_for(partners.peter), name="json")[1]
    twin = client.post(
        "/api/v1/bookings",
        json.dumps(
            {
                "location_id": cast.location_a1.pk,
                "physician_id": cast.physician_a.pk,
                "service_id": cast.service_a.pk,
                "starts_at": local(day, 8).isoformat(),
                "new_patient": {"full_name": "Twin"},
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert twin.status_code == 409
    assert Booking.objects.count() == 1
    # Read, search by date, actor and status, then cancel by sending it back cancelled.
    assert valid(fhir.get(f"Appointment/{booking.pk}").json()).id == str(booking.pk)
    found = valid(
        fhir.get(
            "Appointment",
            date=f"ge{day.isoformat()}",
            actor=f"Practitioner/{cast.physician_a.pk}",
            status="booked",
        ).json()
    )
    assert [e.resource.id for e in found.entry] == [str(booking.pk)]
    cancelled = fhir.send("put", f"Appointment/{booking.pk}", {**created.json(), "status": "cancelled"})
    assert cancelled.status_code == 200 and valid(cancelled.json()).status == "cancelled"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_x2_another_tenant_gets_404_and_an_unauthorised_slot_is_refused(client, cast, partners):
    day = next_weekday(2)
    staff = Fhir(client, cast.bob)
    created = staff.send(
        "post",
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [
                {
                    "reference": f"Slot/{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}-"
                    f"{int(local(day, 9).timestamp())}"
                }
            ],
            "participant": [{"actor": {"reference": f"Patient/{cast.patient_a.pk}"}, "status": "accepted"}],
        },
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    for user in (cast.charlie, partners.peter):
        answer = Fhir(client, user).get(f"Appointment/{pk}")
        assert answer.status_code == 404
        assert valid(answer.json()).issue[0].code == "not-found"
    # Location a2 is not authorised for P: its slot is refused (403) and nothing is booked.
    refused = Fhir(client, partners.peter).send(
        "post",
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [
                {
                    "reference": f"Slot/{cast.physician_a.pk}-{cast.location_a2.pk}-{cast.service_a.pk}-"
                    f"{int(local(day, 10).timestamp())}"
                }
            ],
            "participant": [{"actor": {"display": "x"}, "status": "needs-action"}],
            "contained": [{"resourceType": "Patient", "id": "p", "name": [{"text": "X"}]}],
        },
    )
    assert refused.status_code == 403
    assert Booking.objects.count() == 1
    bad = staff.send("post", "Appointment", {"resourceType": "Patient"})
    assert bad.status_code == 422 and valid(bad.json()).issue[0].code == "processing"


def test_x2_patients_only_as_the_p7_search_allows(client, cast, partners):
    partner = Fhir(client, partners.peter)
    organization = f"Organization/{cast.institution_a.pk}"
    assert partner.get("Patient", name="Anna", organization=organization).status_code == 403
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(patient_data_access=True)
    found = valid(partner.get("Patient", name="Anna", organization=organization).json())
    assert [e.resource.name[0].text for e in found.entry] == ["Anna Patient"]
    stranger = valid(Fhir(client, cast.charlie).get("Patient", name="Anna").json())
    assert stranger.entry is None or stranger.entry == []


GARBAGE = ("", "x" * 300, "-1", "0", "9" * 30, "ge", "ge9999-12-31", "lt0001-01-01", "eq2026-02-30",
           "Schedule/1-x", "Slot/1-2-3-99999999999999", "Patient/abc", "urn:medbook:service|x", "\x00", "%",
           "ge2026-01-01T25:61", "Organization/9223372036854775808")  # fmt: skip
SEARCH_PARAMS = ("_count", "_offset", "start", "date", "actor", "status", "schedule", "service-type", "name",
                 "organization")  # fmt: skip
KINDS = ("Organization", "Location", "Practitioner", "PractitionerRole", "HealthcareService", "Schedule",
         "Slot", "Appointment", "Patient")  # fmt: skip


def test_x2_hostile_input_never_answers_a_server_error(client, cast, partners):
    """Garbage in every search parameter, id and body, with a clerk's and a partner's token: always a 4xx
    OperationOutcome or a valid answer, never a 5xx."""
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(patient_data_access=True)
    for user in (cast.bob, partners.peter):
        fhir = Fhir(client, user)
        for kind in KINDS:
            for value in GARBAGE:
                for param in SEARCH_PARAMS:
                    answer = fhir.get(kind, **{param: value})
                    assert answer.status_code < 500, (kind, param, value)
                if kind not in ("Slot", "Patient"):
                    assert fhir.get(f"{kind}/{value or 'x'}".replace("\x00", "x")).status_code < 500
        for body in (
            {},
            {"resourceType": "Appointment"},
            {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-2-3-4"}]},
            {"resourceType": "Appointment", "slot": "x", "participant": "y", "contained": 5},
            {
                "resourceType": "Appointment",
                "slot": [
                    {
                        "reference": f"Slot/{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}-{int(local(next_weekday(1), 9).timestamp())}"
                    }
                ],
                "contained": [
                    {"resourceType": "Patient", "name": [{"text": "x" * 500}], "birthDate": "2026-02-30"}
                ],
            },
            {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-1-1-99999999999999999"}]},
        ):
            answer = fhir.send("post", "Appointment", body)
            assert 400 <= answer.status_code < 500, (body, answer.content)
            valid(answer.json())
        assert (
            fhir.send("put", "Appointment/1", {"resourceType": "Appointment", "status": 7}).status_code < 500
        )
        _hostile_operations(fhir)
    assert not Booking.objects.exists()


FIND_PARAMS = ("start", "end", "service-type", "visit-type", "specialty", "practitioner", "location",
               "location-reference", "organization", "_count")  # fmt: skip


def _hostile_operations(fhir) -> None:
    """IHE's $find, $hold and $book with garbage in every parameter, reference, id and body: a 4xx
    OperationOutcome, never a 5xx, and nothing booked."""
    for value in GARBAGE:
        for param in FIND_PARAMS:
            answer = fhir.get("Appointment/$find", **{param: value})
            assert answer.status_code < 500, (param, value)
        every = [{"name": param, "valueString": value} for param in FIND_PARAMS]
        posted = fhir.send("post", "Appointment/$find", {"resourceType": "Parameters", "parameter": every})
        assert posted.status_code < 500, value
        for operation in ("$hold", "$book"):
            for body in (
                {"resourceType": "Parameters", "parameter": [{"name": "appointment-reference", "valueString": value}]},
                {"resourceType": "Parameters", "parameter": [{"name": "appointment-reference",
                                                              "valueReference": {"reference": f"Appointment/{value}"}}]},
                {"resourceType": "Appointment", "id": f"proposed-{value}", "status": value},
                {"resourceType": "Appointment", "id": value, "status": "cancelled", "cancelationReason": value},
                {"resourceType": "Parameters", "parameter": [{"name": "appointment-resource", "resource": value},
                                                             {"name": "patient-resource", "resource": value}]},
            ):  # fmt: skip
                answer = fhir.send("post", f"Appointment/{operation}", body)
                assert 400 <= answer.status_code < 500, (operation, body, answer.content)
                valid(answer.json())
    for body in ([], "x", {"resourceType": "Parameters", "parameter": [{}, None, {"name": {"x": 1}}]},
                 {"resourceType": "Parameters", "parameter": [{"name": "appointment-resource",
                                                               "resource": {"resourceType": "Patient"}}]}):  # fmt: skip
        for operation in ("$find", "$hold", "$book"):
            assert 400 <= fhir.send("post", f"Appointment/{operation}", body).status_code < 500, (
                operation,
                body,
            )
