"""Issue 21, the JSON API: bodies that are not JSON objects, nulls and wrong types are a 422 that changes
nothing; ids and lists are bounded; inputs declare their formats and enums; a well-formed request the
present state refuses is a 409, as the schema promises; every operation declares 429 and 503."""

import json
from datetime import timedelta

import pytest

from conftest import local, next_weekday
from medbook.api.tests.test_api import Api, _booking_body, _token
from medbook.api.v1 import schemas
from medbook.core.ids import MAX_ID
from medbook.partners.models import Partnership
from medbook.scheduling import policy
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

NOT_OBJECTS = ["[null, null]", "null", "5", '"x"', "[]", "true"]


def _send(api: Api, method: str, path: str, raw: str):
    return getattr(api.client, method)(f"/api/v1{path}", raw, content_type="application/json", **api.headers)


def _booked(api: Api, cast, day, hour=10) -> dict:
    answer = api.post("/bookings", _booking_body(cast, day, hour, patient_id=cast.patient_a.pk))
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_x1_a_body_that_is_not_a_json_object_is_a_422_and_changes_nothing(client, cast, partners):
    staff = Api(client, _token(cast.alice))
    booking = _booked(staff, cast, next_weekday(2))
    ship = partners.partnership_p
    for method, path in [
        ("post", "/bookings"),
        ("post", f"/bookings/{booking['id']}/cancel"),
        ("post", f"/bookings/{booking['id']}/move"),
        ("post", f"/bookings/{booking['id']}/attendance"),
        ("post", f"/bookings/{booking['id']}/payment"),
        ("put", f"/partnerships/{ship.pk}"),
        ("put", f"/partnerships/{ship.pk}/services/{cast.service_a.pk}"),
    ]:
        for raw in NOT_OBJECTS:
            answer = _send(staff, method, path, raw)
            assert answer.status_code == 422, (method, path, raw, answer.content)
            assert answer.json()["error"]["fields"] == {"request": ["Send a JSON object."]}, (path, raw)
    # Nor an object within one: a new patient given as a list registers no one.
    nested = {**_booking_body(cast, next_weekday(2), 11), "new_patient": ["Anna", "Új"]}
    answer = staff.post("/bookings", nested)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {"new_patient": ["Send a JSON object."]}
    assert Booking.objects.get().status == Booking.Status.BOOKED  # not cancelled by `[null, null]`
    assert Booking.objects.count() == 1


def test_x1_nulls_wrong_types_unknown_values_and_unbounded_ids_are_a_422_naming_the_field(
    client, cast, partners
):
    staff = Api(client, _token(cast.alice))
    booking = _booked(staff, cast, next_weekday(2))
    ship = partners.partnership_p
    terms = {
        "commission_enabled": False,
        "payment_location": "partner",
        "location_ids": [cast.location_a1.pk],
    }
    for method, path, body, field in [
        ("post", f"/bookings/{booking['id']}/cancel", {"reason": None}, "reason"),
        ("post", f"/bookings/{booking['id']}/cancel", {"reason": 5}, "reason"),
        ("post", f"/bookings/{booking['id']}/move", {"starts_at": None}, "starts_at"),
        ("post", f"/bookings/{booking['id']}/move", {"starts_at": 1_800_000_000}, "starts_at"),
        ("post", f"/bookings/{booking['id']}/attendance", {"status": "cancelled"}, "status"),
        (
            "post",
            f"/bookings/{booking['id']}/payment",
            {"payment_status": "paid_at_partner"},
            "payment_status",
        ),
        ("post", "/bookings", {**_booking_body(cast, next_weekday(2)), "location_id": 2**64}, "location_id"),
        ("post", "/bookings", {**_booking_body(cast, next_weekday(2)), "patient_id": "1"}, "patient_id"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "location_ids": [2**64]}, "location_ids.0"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "location_ids": [MAX_ID + 1]}, "location_ids.0"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "location_ids": [0]}, "location_ids.0"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "location_ids": list(range(1, 502))}, "location_ids"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "location_ids": None}, "location_ids"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "payment_location": "elsewhere"}, "payment_location"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "commission_percent": "100.01"}, "commission_percent"),
        ("put", f"/partnerships/{ship.pk}", {**terms, "commission_fixed": 12}, "commission_fixed"),
        ("put", f"/partnerships/{ship.pk}/services/{cast.service_a.pk}", {"enabled": None}, "enabled"),
    ]:
        answer = _send(staff, method, path, json.dumps(body))
        assert answer.status_code == 422, (path, body, answer.content)
        error = answer.json()["error"]
        assert (error["code"], list(error["fields"])) == ("invalid", [field]), (path, body, error)
    assert staff.get(f"/bookings/{booking['id']}").json()["status"] == "booked"
    assert Partnership.objects.get(pk=ship.pk).payment_location == ship.payment_location


def test_x1_a_request_the_present_state_refuses_is_a_409_with_the_reason(client, cast, partners):
    staff = Api(client, _token(cast.alice))
    day = next_weekday(2)
    booking = _booked(staff, cast, day)
    cancel = f"/bookings/{booking['id']}/cancel"
    assert staff.post(cancel, {}).status_code == 200
    again = staff.post(cancel, {})
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Only a booked appointment can be cancelled."
    moved = staff.post(f"/bookings/{booking['id']}/move", {"starts_at": local(day, 11).isoformat()})
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "conflict")
    past_body = {
        **_booking_body(cast, day),
        "starts_at": "2000-01-01T08:00:00Z",
        "patient_id": cast.patient_a.pk,
    }
    past = staff.post("/bookings", past_body)
    assert past.status_code == 409
    assert past.json()["error"]["fields"] == {"starts_at": ["A booking cannot start in the past."]}
    night = staff.post("/bookings", {**past_body, "starts_at": local(day, 3).isoformat()})
    assert night.status_code == 409
    assert night.json()["error"]["message"] == "This time is outside the physician's working hours."
    future = _booked(staff, cast, day, 12)
    early = staff.post(f"/bookings/{future['id']}/attendance", {"status": "completed"})
    assert early.status_code == 409
    assert early.json()["error"]["fields"] == {
        "status": ["Attendance can be recorded once the appointment has started."]
    }
    unpaid = staff.post(f"/bookings/{future['id']}/payment", {"payment_status": "paid"})
    assert unpaid.status_code == 409
    # A channel id that is not one of the institution's is not found (404), like another's patient.
    foreign = staff.post(
        "/bookings", {**_booking_body(cast, day, 14, patient_id=cast.patient_a.pk), "channel_id": MAX_ID}
    )
    assert foreign.status_code == 404
    assert Booking.objects.filter(status=Booking.Status.BOOKED).count() == 1


def test_x1_a_partner_searching_patients_names_the_institution_or_is_refused_403(client, cast, partners):
    partner = Api(client, _token(partners.peter))
    answer = partner.get("/patients", q="Patient")
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "Name the institution to search at."


def test_x1_free_slots_of_a_long_period_page_on_window_by_window_and_a_reversed_one_has_none(
    client, cast, partners
):
    api = Api(client, _token(cast.bob))
    first = next_weekday(1)
    ids = {
        "location_id": cast.location_a1.pk,
        "physician_id": cast.physician_a.pk,
        "service_id": cast.service_a.pk,
    }

    def every_slot(date_from, date_until) -> list[str]:
        seen, cursor = [], None
        for _page in range(100):
            params = {**ids, "date_from": date_from.isoformat(), "date_until": date_until.isoformat()}
            page = api.get("/slots", **params, limit=100, **({"cursor": cursor} if cursor else {})).json()
            seen += [s["starts_at"] for s in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("no end to the pages")

    sixty = every_slot(first, first + timedelta(days=59))
    # The same slots as two periods of 31 and 29 days asked one after the other: nothing lost or repeated.
    assert sixty == every_slot(first, first + timedelta(days=30)) + every_slot(
        first + timedelta(days=31), first + timedelta(days=59)
    )
    assert max(s[:10] for s in sixty) > (first + timedelta(days=31)).isoformat()
    reversed_period = api.get(
        "/slots", **ids, date_from=first.isoformat(), date_until=first - timedelta(days=1)
    )
    assert reversed_period.json() == {"items": [], "next_cursor": None}
    assert api.get("/slots", **ids, date_from=first.isoformat(), cursor="bad").status_code == 422


def test_x1_the_openapi_declares_formats_enums_bounds_and_every_status(client, cast):
    document = client.get("/api/openapi.json").json()
    components = document["components"]["schemas"]

    def parameter(path, name):
        found = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
        return found[0]["schema"]

    assert parameter("/api/v1/slots", "date_from") == {"format": "date", "type": "string"} | {
        k: v for k, v in parameter("/api/v1/slots", "date_from").items() if k in ("description", "title")
    }
    assert {"format": "date-time", "type": "string"} in parameter("/api/v1/bookings", "starts_from")["anyOf"]
    assert components["BookingIn"]["properties"]["starts_at"]["format"] == "date-time"
    assert components["MoveIn"]["properties"]["starts_at"]["format"] == "date-time"
    assert {"format": "date", "type": "string"} in components["NewPatientIn"]["properties"]["birth_date"][
        "anyOf"
    ]
    assert components["AttendanceIn"]["properties"]["status"]["enum"] == ["completed", "no_show", "booked"]
    assert components["PaymentIn"]["properties"]["payment_status"]["enum"] == ["unpaid", "paid", "refunded"]
    location_ids = components["PartnershipIn"]["properties"]["location_ids"]
    assert (location_ids["maxItems"], location_ids["items"]["maximum"]) == (500, MAX_ID)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"401", "403", "404", "422", "429", "503"} <= declared, (method, path)
            if method != "get":
                assert "409" in declared, (method, path)


def test_x1_the_declared_enums_are_the_domains_own():
    assert set(schemas.AttendanceStatus.__args__) == {str(s) for s in policy.ATTENDANCE_CHOICES}
    assert set(schemas.PaymentStep.__args__) == {str(s) for s in policy.PAYMENT_STEPS}
    assert set(schemas.PaymentLocation.__args__) == set(Partnership.PaymentLocation.values)
