"""Issue 21, IHE ITI Scheduling on FHIR: `Appointment/$find` (ITI-115), `$hold` (ITI-116), `$book` (ITI-117).

Every answer validates against the R4B models (`valid`); one journey runs through SMART's `fhirclient`
against a live server (search, $find, $hold, $book, read, cancel); the rest are the conformance points: a
held slot offered to no one else on any channel, an expired or someone else's hold unknown (404), a partner
finding nothing outside its authorisation, bad input refused with a 4xx OperationOutcome, the rate limit.
"""

import json
from datetime import UTC, datetime, timedelta
from itertools import islice
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from fhirclient import client as fhir_client
from fhirclient.models.appointment import Appointment as ClientAppointment
from fhirclient.models.bundle import Bundle as ClientBundle
from fhirclient.models.parameters import Parameters as ClientParameters
from fhirclient.models.slot import Slot as ClientSlot

from conftest import local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.api.tests.test_fhir import Fhir, valid
from medbook.scheduling import selectors
from medbook.scheduling.models import Booking, SlotHold

pytestmark = pytest.mark.django_db


def _proposed_id(cast, when: datetime, location=None) -> str:
    place = location or cast.location_a1
    return f"proposed-{cast.physician_a.pk}-{place.pk}-{cast.service_a.pk}-{int(when.timestamp())}"


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_window(day) -> dict:
    return {"start": day.isoformat(), "end": day.isoformat()}


def _find(fhir, **params):
    answer = fhir.get("Appointment/$find", **params)
    assert answer.status_code == 200, answer.content
    return valid(answer.json())


def _starts(bundle) -> list[datetime]:
    return [entry.resource.start for entry in bundle.entry or []]


def _parameters(**values) -> dict:
    """A Parameters resource: a dict value is a `resource` (with `resourceType`) or a Reference."""
    parameter = []
    for name, value in values.items():
        name = name.replace("_", "-")
        if isinstance(value, dict) and "resourceType" in value:
            parameter.append({"name": name, "resource": value})
        elif isinstance(value, dict):
            parameter.append({"name": name, "valueReference": value})
        else:
            parameter.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": parameter}


def _hold(fhir, proposed: str):
    return fhir.send(
        "post",
        "Appointment/$hold",
        _parameters(appointment_reference={"reference": f"Appointment/{proposed}"}),
    )


def _held(fhir, proposed: str) -> str:
    """Hold the proposed Appointment; the held Appointment's id (the hold's token)."""
    answer = _hold(fhir, proposed)
    assert answer.status_code == 200, answer.content
    bundle = valid(answer.json())
    held = bundle.entry[0].resource
    assert (held.get_resource_type(), held.status, bundle.total) == ("Appointment", "pending", 1)
    assert bundle.entry[1].resource.issue[0].severity == "information"
    return held.id


def _book(fhir, appointment_id: str, **resource):
    body = {"resourceType": "Appointment", "id": appointment_id, "status": "booked", **resource}
    if "participant" not in resource and "contained" not in resource:
        body["contained"] = [{"resourceType": "Patient", "id": "p", "name": [{"text": "Hedda Held"}]}]
    return fhir.send("post", "Appointment/$book", _parameters(appointment_resource=body))


def _release(fhir, appointment_id: str):
    body = {"resourceType": "Appointment", "id": appointment_id, "status": "cancelled"}
    return fhir.send("post", "Appointment/$book", _parameters(appointment_resource=body))


def _json_api_free(client, user, cast, day) -> list[datetime]:
    secret = api_token_create(actor=actor_for(user), name="json")[1]
    answer = client.get(
        "/api/v1/slots",
        {
            "location_id": cast.location_a1.pk,
            "physician_id": cast.physician_a.pk,
            "service_id": cast.service_a.pk,
            "date_from": day.isoformat(),
            "date_until": day.isoformat(),
        },
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert answer.status_code == 200, answer.content
    return [datetime.fromisoformat(item["starts_at"]) for item in answer.json()["items"]]


# --- $find ---------------------------------------------------------------------------------------------


def test_i21_find_proposes_the_free_slots_earliest_first_by_get_and_by_parameters(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(2)
    by_get = _find(fhir, **_day_window(day), _count=3)
    assert _starts(by_get) == [local(day, 8), local(day, 8, 30), local(day, 9)]
    assert by_get.total == 16 and {link.relation for link in by_get.link} == {"self", "next"}
    first = by_get.entry[0].resource
    assert (first.status, first.id) == ("proposed", _proposed_id(cast, local(day, 8)))
    assert {p.actor.reference for p in first.participant} == {
        f"Practitioner/{cast.physician_a.pk}",
        f"Location/{cast.location_a1.pk}",
    }
    following = valid(
        client.get(next(link.url for link in by_get.link if link.relation == "next"), **fhir.headers).json()
    )
    assert _starts(following) == [local(day, 9, 30), local(day, 10), local(day, 10, 30)]
    posted = fhir.send(
        "post",
        "Appointment/$find",
        {
            "resourceType": "Parameters",
            "parameter": [
                {"name": "start", "valueDateTime": day.isoformat()},
                {"name": "end", "valueDateTime": day.isoformat()},
                {"name": "visit-type", "valueCoding": {"system": "urn:medbook:service", "code": str(cast.service_a.pk)}},
                {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{cast.physician_a.pk}"}},
                {"name": "_count", "valueString": "3"},
            ],
        },
    )  # fmt: skip
    assert posted.status_code == 200, posted.content
    assert [e.resource.id for e in valid(posted.json()).entry] == [e.resource.id for e in by_get.entry]
    # Narrowed by each criterion; one that matches nothing finds nothing (an empty Bundle, total 0).
    for params in (
        {"service-type": f"urn:medbook:service|{cast.service_a.pk}"},
        {"specialty": "Cardiology"},
        {"practitioner": f"Practitioner/{cast.physician_a.pk}"},
        {"location": f"Location/{cast.location_a1.pk},Location/{cast.location_a2.pk}"},
        {"organization": f"Organization/{cast.institution_a.pk}"},
    ):
        assert _find(fhir, **_day_window(day), **params).total == 16, params
    for params in (
        {"service-type": f"urn:medbook:service|{cast.service_b.pk}"},
        {"specialty": "Dermatology"},
        {"location-reference": f"Location/{cast.location_a2.pk}"},
        {"organization": f"Organization/{cast.institution_b.pk}"},
    ):
        found = _find(fhir, **_day_window(day), **params)
        assert found.total == 0 and not found.entry, params
    # A time: from it on; an end: the proposals end by then.
    noon = _find(fhir, start=_utc(local(day, 12)), end=_utc(local(day, 13)))
    assert _starts(noon) == [local(day, 12), local(day, 12, 30)]


def test_i21_find_is_bounded_and_refuses_bad_parameters_with_4xx(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(1)
    assert (
        len(_find(fhir, start=day.isoformat(), end=(day + timedelta(days=13)).isoformat(), _count=1000).entry)
        == 200
    )
    for params in (
        {"start": "garbage"},
        {"start": "2026-02-30"},
        {"start": f"ge{day.isoformat()}"},
        {"start": day.isoformat(), "end": (day - timedelta(days=2)).isoformat()},
        {"start": day.isoformat(), "end": (day + timedelta(days=40)).isoformat()},
        {"practitioner": "Patient/1"},
        {"location": "Location/x"},
        {"_count": "0"},
        {"_count": "¹"},
    ):
        answer = fhir.get("Appointment/$find", **params)
        assert answer.status_code == 400, (params, answer.content)
        assert valid(answer.json()).issue[0].code == "invalid"
    strict = client.get(
        "/fhir/R4/Appointment/$find", {"colour": "blue"}, HTTP_PREFER="handling=strict", **fhir.headers
    )
    assert strict.status_code == 400
    assert fhir.get("Appointment/$find", colour="blue").status_code == 200  # lenient: ignored
    for body in ({"resourceType": "Patient"}, {"resourceType": "Parameters", "parameter": "x"},
                 {"resourceType": "Parameters", "parameter": [{"name": "start"}]},
                 {"resourceType": "Parameters", "parameter": [{"name": "start", "valueReference": {}}]}):  # fmt: skip
        answer = fhir.send("post", "Appointment/$find", body)
        assert answer.status_code == 422, (body, answer.content)
        valid(answer.json())
    for method in ("put", "delete", "patch"):
        assert fhir.send(method, "Appointment/$find", {}).status_code == 405


def test_i21_a_hostile_partner_finds_and_holds_nothing_outside_its_authorisation(client, cast, partners):
    """P may book service A at location A1 only: $find offers nothing else, whatever it names, and a
    proposed id it makes up for another calendar is refused (403) or not found (404)."""
    partner = Fhir(client, partners.peter)
    day = next_weekday(2)
    everything = _find(partner, **_day_window(day), _count=200)
    assert everything.total == 16
    assert {e.resource.participant[1].actor.reference for e in everything.entry} == {
        f"Location/{cast.location_a1.pk}"
    }
    for params in (
        {"location": f"Location/{cast.location_a2.pk}"},
        {"location": f"Location/{cast.location_b.pk}"},
        {"practitioner": f"Practitioner/{cast.physician_b.pk}"},
        {"service-type": f"urn:medbook:service|{cast.service_b.pk}"},
        {"organization": f"Organization/{cast.institution_b.pk}"},
    ):
        assert _find(partner, **_day_window(day), **params).total == 0, params
    forged_b = f"proposed-{cast.physician_b.pk}-{cast.location_b.pk}-{cast.service_b.pk}-{int(local(day, 9).timestamp())}"
    for proposed, status in ((_proposed_id(cast, local(day, 9), cast.location_a2), 403), (forged_b, 403)):
        answer = _hold(partner, proposed)
        assert answer.status_code == status, (proposed, answer.content)
        assert _book(partner, proposed).status_code == status
    assert not SlotHold.objects.exists() and not Booking.objects.exists()
    # A user of P who may not book, and a stranger to A: nothing of A.
    assert Fhir(client, partners.petra).get("Appointment/$find").status_code == 403
    assert _find(Fhir(client, partners.quentin), **_day_window(day)).total == 0
    stranger = _find(Fhir(client, cast.charlie), **_day_window(day))
    assert {e.resource.participant[1].actor.reference for e in stranger.entry} == {
        f"Location/{cast.location_b.pk}"
    }
    assert _hold(Fhir(client, cast.charlie), _proposed_id(cast, local(day, 9))).status_code == 404


# --- $hold, $book and release ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "partner"])
def test_i21_hold_then_book_turns_the_hold_into_the_booking(client, cast, partners, who):
    user = cast.bob if who == "staff" else partners.peter
    fhir = Fhir(client, user)
    day = next_weekday(3)
    token = _held(fhir, _proposed_id(cast, local(day, 10)))
    pending = valid(fhir.get(f"Appointment/{token}").json())
    assert (pending.status, pending.start) == ("pending", local(day, 10))
    answer = _book(fhir, token, comment="by phone")
    assert answer.status_code == 200, answer.content
    booked = valid(answer.json()).entry[0].resource
    assert (booked.status, booked.start) == ("booked", local(day, 10))
    booking = Booking.objects.get(pk=int(booked.id))
    assert (booking.patient.full_name, booking.note, booking.starts_at) == (
        "Hedda Held",
        "by phone",
        local(day, 10),
    )
    assert booking.partner_id == (partners.partner_p.pk if who == "partner" else None)
    assert not SlotHold.objects.exists()  # the booking consumed the hold
    assert fhir.get(f"Appointment/{token}").status_code == 404
    again = _book(fhir, token)
    assert again.status_code == 404 and valid(again.json()).issue[0].code == "not-found"
    assert Booking.objects.count() == 1


def test_i21_a_proposed_appointment_books_directly_for_a_register_patient(client, cast):
    fhir = Fhir(client, cast.bob)
    when = local(next_weekday(1), 11)
    participant = [{"actor": {"reference": f"Patient/{cast.patient_a.pk}"}, "status": "accepted"}]
    answer = _book(fhir, _proposed_id(cast, when), participant=participant)
    assert answer.status_code == 200, answer.content
    assert Booking.objects.get().patient == cast.patient_a
    taken = _book(fhir, _proposed_id(cast, when), participant=participant)
    assert taken.status_code == 409 and valid(taken.json()).issue[0].code == "conflict"


def test_i21_a_held_slot_is_offered_to_no_one_else_on_any_channel(client, cast, partners):
    day = next_weekday(2)
    when = local(day, 9)
    partner, staff = Fhir(client, partners.peter), Fhir(client, cast.bob)
    token = _held(partner, _proposed_id(cast, when))
    # Not in another caller's $find, Slot search, JSON API free slots, nor the reception calendar's.
    assert when not in _starts(_find(staff, **_day_window(day), _count=200))
    slots = valid(
        staff.get("Slot", start=[f"ge{day.isoformat()}", f"lt{(day + timedelta(days=1)).isoformat()}"]).json()
    )
    assert when not in [e.resource.start for e in slots.entry]
    assert when not in _json_api_free(client, cast.bob, cast, day)
    week = selectors.calendar_week(
        actor=actor_for(cast.bob), physician=cast.physician_a, location=cast.location_a1,
        service=cast.service_a, week_start=day - timedelta(days=day.weekday()),
    )  # fmt: skip
    assert when not in [e.starts_at for d in week for e in d.entries if e.is_free]
    # Its Slot reads busy-tentative to everyone else, free to its holder.
    slot_reference = f"Slot/{_proposed_id(cast, when).removeprefix('proposed-')}"
    assert valid(staff.get(slot_reference).json()).status == "busy-tentative"
    assert valid(partner.get(slot_reference).json()).status == "free"
    # Nobody else holds or books it: $hold says fatal not-found (ITI-116), $book and the JSON API 409.
    refused = _hold(staff, _proposed_id(cast, when))
    assert refused.status_code == 409
    issue = valid(refused.json()).issue[0]
    assert (issue.severity, issue.code) == ("fatal", "not-found")
    assert _book(staff, _proposed_id(cast, when)).status_code == 409
    secret = api_token_create(actor=actor_for(cast.bob), name="json")[1]
    twin = client.post(
        "/api/v1/bookings",
        json.dumps(
            {
                "location_id": cast.location_a1.pk,
                "physician_id": cast.physician_a.pk,
                "service_id": cast.service_a.pk,
                "starts_at": when.isoformat(),
                "patient_id": cast.patient_a.pk,
            }
        ),  # fmt: skip
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert twin.status_code == 409
    # Its holder still finds it (and may hold it again, which renews the hold under a new id).
    assert when in _starts(_find(partner, **_day_window(day), _count=200))
    assert not Booking.objects.exists()
    # Released: offered to everyone at once, and the released id is unknown.
    released = _release(partner, token)
    assert released.status_code == 200, released.content
    assert valid(released.json()).entry[0].resource.status == "cancelled"
    assert when in _starts(_find(staff, **_day_window(day), _count=200))
    assert when in _json_api_free(client, cast.bob, cast, day)
    assert _release(partner, token).status_code == 404 and _book(partner, token).status_code == 404


def test_i21_an_expired_hold_is_refused_and_its_slot_offered_again(client, cast, partners):
    day = next_weekday(4)
    when = local(day, 14)
    partner = Fhir(client, partners.peter)
    token = _held(partner, _proposed_id(cast, when))
    SlotHold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = _book(partner, token)
    assert answer.status_code == 404 and valid(answer.json()).issue[0].code == "not-found"
    assert partner.get(f"Appointment/{token}").status_code == 404
    assert when in _starts(_find(Fhir(client, cast.bob), **_day_window(day), _count=200))
    assert not Booking.objects.exists()


def test_i21_someone_elses_hold_is_unknown(client, cast, partners):
    """Another user of the same partner, the institution's staff, another tenant: 404 for read, book and
    release alike, and the hold stays."""
    day = next_weekday(1)
    token = _held(Fhir(client, partners.peter), _proposed_id(cast, local(day, 13)))
    for user in (partners.paula, cast.bob, cast.alice, cast.charlie, partners.quentin):
        fhir = Fhir(client, user)
        for answer in (fhir.get(f"Appointment/{token}"), _book(fhir, token), _release(fhir, token)):
            assert answer.status_code == 404, (user, answer.content)
            assert valid(answer.json()).issue[0].code == "not-found"
    assert SlotHold.objects.count() == 1 and not Booking.objects.exists()
    petra = Fhir(client, partners.petra)  # who may not book gets the 403 every booking call gives her
    assert _book(petra, token).status_code == 403


def test_i21_hold_and_book_refuse_bad_input_with_4xx(client, cast):
    fhir = Fhir(client, cast.bob)
    day = next_weekday(1)
    bad_holds = (
        {"resourceType": "Parameters"},
        _parameters(appointment_reference={"reference": "Appointment/123"}),
        _parameters(appointment_reference={"reference": "Appointment/proposed-1-2"}),
        _parameters(appointment_reference={"reference": "Appointment/proposed-1-1-1-99999999999999999"}),
        _parameters(appointment_reference=7),
        {"resourceType": "Parameters", "parameter": [{"name": "appointment-reference", "valueString": "x", "valueInteger": 1}]},
        {"resourceType": "Patient"},
        [1, 2],
    )  # fmt: skip
    for body in bad_holds:
        answer = fhir.send("post", "Appointment/$hold", body)
        assert answer.status_code == 422, (body, answer.content)
        valid(answer.json())
    not_json = client.post(
        "/fhir/R4/Appointment/$hold", b"{", content_type="application/fhir+json", **fhir.headers
    )
    assert not_json.status_code == 422
    assert (
        fhir.get("Appointment/$hold").status_code == 405 and fhir.get("Appointment/$book").status_code == 405
    )
    # A time outside working hours is no slot: 409, as a booking of it.
    assert _hold(fhir, _proposed_id(cast, local(day, 6))).status_code == 409
    booked = _book(fhir, _proposed_id(cast, local(day, 9)))
    pk = valid(booked.json()).entry[0].resource.id
    for answer in (
        _book(fhir, pk),  # a booked appointment is changed only by cancelling it
        _book(fhir, "proposed-x", status="noshow"),
        _book(
            fhir,
            _proposed_id(cast, local(day, 10)),
            contained=[{"resourceType": "Patient", "birthDate": "2026-02-30"}],
        ),
        fhir.send("post", "Appointment/$book", {"resourceType": "Parameters", "parameter": []}),
    ):
        assert answer.status_code == 422, answer.content
    for unknown in ("0" * 48, "garbage", "9" * 30):
        assert _book(fhir, unknown).status_code == 404
    assert Booking.objects.count() == 1


def test_i21_a_booked_appointment_is_cancelled_through_book_as_through_an_update(client, cast, partners):
    partner = Fhir(client, partners.peter)
    booked = valid(_book(partner, _proposed_id(cast, local(next_weekday(2), 15))).json()).entry[0].resource
    for other in (cast.charlie, partners.paula):  # paula is P's admin: P's bookings are hers to see
        answer = _release(Fhir(client, other), booked.id)
        assert answer.status_code == (404 if other == cast.charlie else 200), answer.content
    assert Booking.objects.get().status == Booking.Status.CANCELLED
    again = _release(partner, booked.id)
    assert again.status_code == 409 and valid(again.json()).issue[0].code == "conflict"


def test_i21_the_operations_count_against_the_rate_limit(client, cast, settings):
    settings.API_RATE_LIMIT = "2/m"
    fhir = Fhir(client, cast.bob)
    assert fhir.get("Appointment/$find").status_code == 200
    assert _hold(fhir, _proposed_id(cast, local(next_weekday(1), 9))).status_code == 200
    refused = _book(fhir, _proposed_id(cast, local(next_weekday(1), 10)))
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert valid(refused.json()).issue[0].code == "throttled"
    assert not Booking.objects.exists()


# --- A standard client, against a live server ----------------------------------------------------------


def test_i21_fhirclient_searches_finds_holds_books_reads_and_cancels(
    live_server, transactional_db, cast, partners
):
    """SMART's Python client over HTTP to a live server, on either engine: the Slot search, then IHE's
    $find, $hold and $book as a scheduling client calls them, the Appointment read, and its cancellation."""
    secret = api_token_create(actor=actor_for(partners.peter), name="fhirclient")[1]
    smart = fhir_client.FHIRClient(
        settings={"app_id": "medbook-test", "api_base": f"{live_server.url}/fhir/R4/"}
    )
    smart.server.session.headers["Authorization"] = f"Bearer {secret}"
    smart.prepare()
    server = smart.server
    operations = {o.name for r in server.capabilityStatement.rest[0].resource if r.type == "Appointment"
                  for o in r.operation or []}  # fmt: skip
    assert operations == {"find", "hold", "book"}
    day = next_weekday(1)
    search = ClientSlot.where(struct={"start": f"ge{day.isoformat()}", "_count": "5"})
    slots = list(islice(search.perform_resources_iter(server), 5))  # the first page
    assert slots[0].start.datetime == local(day, 8)
    found = ClientBundle(
        server.request_json(f"Appointment/$find?start={day.isoformat()}&end={day.isoformat()}&_count=5")
    )
    assert found.total == 16 and [e.resource.start.datetime for e in found.entry][:2] == [
        local(day, 8),
        local(day, 8, 30),
    ]
    proposed = found.entry[1].resource
    assert proposed.status == "proposed" and proposed.slot[0].reference == f"Slot/{slots[1].id}"
    hold = ClientParameters({"resourceType": "Parameters", "parameter": [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposed.id}"}}]})  # fmt: skip
    held = ClientBundle(server.post_json("Appointment/$hold", hold.as_json()).json()).entry[0].resource
    assert held.status == "pending" and ClientAppointment.read(held.id, server).status == "pending"
    assert ClientSlot.read(slots[1].id, server).status == "free"  # its holder may still book it
    held.status = "booked"
    book = ClientParameters({"resourceType": "Parameters", "parameter": [
        {"name": "appointment-resource", "resource": {**held.as_json(), "contained": [
            {"resourceType": "Patient", "id": "p", "name": [{"family": "Client", "given": ["Fhir"]}]}]}}]})  # fmt: skip
    booked = ClientBundle(server.post_json("Appointment/$book", book.as_json()).json()).entry[0].resource
    appointment = ClientAppointment.read(booked.id, server)
    assert (appointment.status, appointment.start.datetime) == ("booked", local(day, 8, 30))
    assert ClientSlot.read(slots[1].id, server).status == "busy"
    cancel = ClientParameters({"resourceType": "Parameters", "parameter": [
        {"name": "appointment-resource", "resource": {**appointment.as_json(), "status": "cancelled"}}]})  # fmt: skip
    cancelled = ClientBundle(server.post_json("Appointment/$book", cancel.as_json()).json()).entry[0].resource
    assert cancelled.status == "cancelled" and ClientAppointment.read(booked.id, server).status == "cancelled"
    booking = Booking.objects.get(pk=int(booked.id))
    assert (booking.status, booking.patient.full_name) == (Booking.Status.CANCELLED, "Fhir Client")
    assert parse_qs(urlsplit(found.link[0].url).query)["_count"] == ["5"]
