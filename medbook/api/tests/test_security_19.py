"""Issue 19, the lows of the JSON API and FHIR: one rate limit shared by both and by every process, reads of
bookings audited, the server's own request id, no-store on every answer, and malformed input as a 4xx."""

import base64
import json

import pytest
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.api import ratelimit
from medbook.api.models import RateCount
from medbook.audit.models import AuditEntry
from medbook.partners.tests import services

pytestmark = pytest.mark.django_db


def _headers(user, **options) -> dict:
    secret = api_token_create(actor=actor_for(user), name="t", **options)[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _book(cast, user, hour=9):
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), hour),
    )


@pytest.fixture
def frozen(monkeypatch):
    """The rate limit's clock stands still in the middle of a window (no test waits on time)."""
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_030.0)


def test_finding_rate_limit_shared_by_api_and_fhir_and_every_process(client, cast, settings, frozen):
    settings.API_RATE_LIMIT = "3/m"
    headers = _headers(cast.alice)
    other_token = _headers(cast.alice)  # a second token of the same user shares the budget
    for _ in range(3):
        assert client.get("/api/v1/me", **headers).status_code == 200
    refused = client.get("/fhir/R4/Organization", **other_token)
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 30
    assert refused.json()["resourceType"] == "OperationOutcome"
    api_refused = client.get("/api/v1/me", **headers)
    assert api_refused.status_code == 429 and api_refused.json()["error"]["code"] == "too_many_requests"
    assert api_refused["Retry-After"] == "30"
    # Held in the database, not in a process: another web process reads the same row.
    assert RateCount.objects.get(subject=f"user:{cast.alice.pk}").requests == 5
    assert client.get("/api/v1/me", **_headers(cast.bob)).status_code == 200  # another user: own budget
    RateCount.objects.filter(subject=f"user:{cast.alice.pk}").delete()  # as if a new window began
    assert client.get("/fhir/R4/Organization", **headers).status_code == 200


def test_finding_rate_limit_window_starts_again(client, cast, settings, monkeypatch):
    settings.API_RATE_LIMIT = "2/m"
    headers = _headers(cast.alice)
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_000.0)
    assert [client.get("/api/v1/me", **headers).status_code for _ in range(3)] == [200, 200, 429]
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_060.0)
    assert client.get("/api/v1/me", **headers).status_code == 200


def test_finding_booking_reads_through_api_and_fhir_are_audited(client, cast, partners):
    mine = _book(cast, partners.peter)
    staff = _headers(cast.bob)
    assert client.get("/api/v1/bookings", **staff).status_code == 200
    assert client.get(f"/api/v1/bookings/{mine.pk}", **staff).status_code == 200
    assert client.get("/fhir/R4/Appointment", **staff).status_code == 200
    assert client.get(f"/fhir/R4/Appointment/{mine.pk}", **staff).status_code == 200
    partner = _headers(partners.peter)
    assert client.get("/api/v1/bookings", **partner).status_code == 200
    assert client.get("/fhir/R4/Appointment", **partner).status_code == 200
    reads = list(AuditEntry.objects.filter(action="booking.read").order_by("pk"))
    assert [r.details["view"] for r in reads] == [
        "api bookings",
        "api booking",
        "fhir appointments",
        "fhir appointment",
        "api bookings",
        "fhir appointments",
    ]
    for read in reads:
        assert read.details["booking_ids"] == [mine.pk] and read.details["patient_ids"] == [cast.patient_a.pk]
        assert read.institution == cast.institution_a and read.details["api_token"]
    assert {r.user for r in reads} == {cast.bob, partners.peter}
    client.force_login(cast.alice)  # the institution's admin sees who read its bookings through the API
    assert "booking.read" in client.get(reverse("audit:entry-list")).content.decode()


def test_finding_patient_searches_through_api_and_fhir_are_audited(client, cast):
    staff = _headers(cast.bob)
    assert client.get("/api/v1/patients", {"q": "Anna"}, **staff).status_code == 200
    assert client.get("/fhir/R4/Patient", {"name": "Anna"}, **staff).status_code == 200
    views = [
        e.details["view"] for e in AuditEntry.objects.filter(action="patient.register_read").order_by("pk")
    ]
    assert views == ["api search", "fhir search"]


def test_finding_request_id_is_the_servers_and_the_clients_is_kept_apart(client, cast, partners):
    booking = _book(cast, partners.peter)
    headers = _headers(cast.bob)
    forged = "00000000000000000000000000000000"
    answer = client.get(f"/api/v1/bookings/{booking.pk}", HTTP_X_REQUEST_ID=forged, **headers)
    entry = AuditEntry.objects.filter(action="booking.read").get()
    assert answer["X-Request-ID"] != forged and entry.request_id == answer["X-Request-ID"]
    assert entry.details["client_request_id"] == forged
    hostile = "x" * 65
    for bad in (hostile, "a b", "<script>", "ünicode", "id;drop"):
        client.get("/fhir/R4/Appointment", HTTP_X_REQUEST_ID=bad, **headers)
    for other in AuditEntry.objects.filter(action="booking.read").exclude(pk=entry.pk):
        assert "client_request_id" not in other.details and len(other.request_id) == 32


def test_finding_every_api_and_fhir_answer_is_no_store(client, cast):
    headers = _headers(cast.alice)
    answers = [
        client.get("/api/v1/me", **headers),
        client.get("/api/v1/me"),  # no token: 401
        client.get("/api/v1/bookings/999999", **headers),  # 404
        client.get("/api/v1/no-such-thing", **headers),
        client.get("/api/openapi.json"),
        client.get("/fhir/R4/metadata"),
        client.get("/fhir/R4/Appointment"),  # no token: 401
        client.get("/fhir/R4/Appointment/1", **headers),
        client.get("/fhir/R4/Nothing", **headers),
        client.post("/fhir/R4/Appointment", "{", content_type="application/fhir+json", **headers),
    ]
    assert [a.status_code for a in answers] == [200, 401, 404, 404, 200, 200, 401, 404, 404, 422]
    assert all(a["Cache-Control"] == "no-store" for a in answers)


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


MALFORMED_FHIR_BODIES = [
    "{",
    "[]",
    '"Appointment"',
    "1" * 5000,
    "[" * 100_000 + "]" * 100_000,
    {"resourceType": "Appointment", "slot": {"reference": "Slot/1-1-1-1"}},
    {"resourceType": "Appointment", "slot": ["Slot/1-1-1-1"]},
    {"resourceType": "Appointment", "slot": [{"reference": "Slot/¹-1-1-1"}]},
    {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-1-1-" + "9" * 40}]},
    {"resourceType": "Appointment", "slot": [{"reference": {"a": 1}}]},
    {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-1-1-1800000000"}], "participant": "x"},
    {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-1-1-1800000000"}], "participant": ["x"]},
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "participant": [{"actor": "Patient/1"}],
    },
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "participant": [{"actor": {"reference": "Patient/¹"}}],
    },
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "contained": [{"resourceType": "Patient", "name": "Anna"}],
    },
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "contained": [{"resourceType": "Patient", "name": [{"given": "Anna", "family": 5}]}],
    },
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "contained": [{"resourceType": "Patient", "name": [{"text": "A"}], "telecom": ["x"]}],
    },
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "contained": [{"resourceType": "Patient", "name": [{"text": "A"}], "identifier": [7]}],
    },
    {
        "resourceType": "Appointment",
        "slot": [{"reference": "Slot/1-1-1-1800000000"}],
        "contained": [{"resourceType": "Patient", "name": [{"text": "A"}], "birthDate": {"y": 1}}],
    },
    {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-1-1-1800000000"}], "comment": {"x": 1}},
]


@pytest.mark.parametrize("body", MALFORMED_FHIR_BODIES, ids=range(len(MALFORMED_FHIR_BODIES)))
def test_finding_malformed_fhir_bodies_answer_4xx(client, cast, partners, body):
    headers = _headers(partners.peter)
    text = body if isinstance(body, str) else json.dumps(body)
    answer = client.post("/fhir/R4/Appointment", text, content_type="application/fhir+json", **headers)
    assert 400 <= answer.status_code < 500, answer.content[:300]
    assert answer.json()["issue"][0]["diagnostics"]


MALFORMED_CANCELS = [
    "[]",
    {"resourceType": "Appointment", "status": "cancelled", "cancelationReason": "no"},
    {"resourceType": "Appointment", "status": "cancelled", "cancelationReason": {"text": ["a"]}},
]


@pytest.mark.parametrize("body", MALFORMED_CANCELS, ids=range(len(MALFORMED_CANCELS)))
def test_finding_malformed_fhir_cancel_answers_4xx(client, cast, body):
    booking = _book(cast, cast.bob)
    text = body if isinstance(body, str) else json.dumps(body)
    answer = client.put(
        f"/fhir/R4/Appointment/{booking.pk}", text, content_type="application/fhir+json", **_headers(cast.bob)
    )
    assert answer.status_code == 422 and answer.json()["issue"][0]["diagnostics"]


SUPERSCRIPT_FHIR_URLS = [
    ("Appointment/¹", {}),
    ("Organization/²", {}),
    ("Location/¹", {}),
    ("Practitioner/³", {}),
    ("PractitionerRole/¹", {}),
    ("HealthcareService/¹", {}),
    ("Appointment", {"actor": "Patient/¹"}),
    ("Appointment", {"actor": "Patient/" + "9" * 30}),
    ("Appointment", {"_count": "¹"}),
    ("Appointment", {"date": "ge2026-13-45"}),
    ("Patient", {"name": "Anna", "organization": "Organization/¹"}),
    ("Slot", {"schedule": "Schedule/1-1", "service-type": "¹"}),
]


@pytest.mark.parametrize(("path", "query"), SUPERSCRIPT_FHIR_URLS, ids=range(len(SUPERSCRIPT_FHIR_URLS)))
def test_finding_superscript_and_huge_ids_in_fhir_urls_answer_4xx(client, cast, partners, path, query):
    answer = client.get(f"/fhir/R4/{path}", query, **_headers(partners.peter))
    if path == "Slot" and answer.status_code == 200:  # a token naming no service of theirs finds nothing
        assert answer.json()["entry"] == []
        return
    assert answer.status_code in (400, 404, 422), answer.content[:300]  # 400: a search's bad value (issue 21)
    assert answer.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "date", ["ge9999-12-31T23:59:59-14:00", "le0001-01-01T00:00:00+14:00", "ge2026-02-30"]
)
def test_finding_out_of_range_fhir_dates_never_answer_500(client, cast, date):
    answer = client.get("/fhir/R4/Appointment", {"date": date}, **_headers(cast.bob))
    assert answer.status_code in (200, 400)  # an empty page or a clear refusal (issue 21: a search's 400)


BAD_CURSORS = [
    "!!!",
    _cursor([1]),
    _cursor({"at": "2026-01-01T00:00:00+00:00", "id": 10**30}),
    _cursor({"at": "2026-01-01T00:00:00+00:00", "id": "¹"}),
    _cursor({"at": "9999-12-31T23:59:59-14:00", "id": 1}),
    _cursor({"at": "0001-01-01T00:00:00+14:00", "id": 1}),
    _cursor({"at": "2026-01-01T00:00:00", "id": 1}),
    _cursor({"at": 5, "id": 1}),
    _cursor({"id": 1}),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS, ids=range(len(BAD_CURSORS)))
def test_finding_bad_booking_cursor_answers_422(client, cast, cursor):
    _book(cast, cast.bob)
    answer = client.get("/api/v1/bookings", {"cursor": cursor}, **_headers(cast.bob))
    assert answer.status_code == 422, answer.content[:300]
    assert answer.json()["error"]["fields"] == {"cursor": ["The cursor is not valid."]}


MALFORMED_API = [
    ("get", "/api/v1/bookings/¹", None),
    ("get", "/api/v1/bookings/99999999999999999999999", None),
    ("get", "/api/v1/bookings", {"starts_from": "9999-12-31T23:59:59"}),  # no offset (the edge itself: 200)
    ("get", "/api/v1/slots", {"location_id": "¹", "physician_id": 1, "service_id": 1, "date_from": "x"}),
    ("post", "/api/v1/bookings", "{"),
    ("post", "/api/v1/bookings", "[]"),
    ("post", "/api/v1/bookings", {"location_id": "¹", "physician_id": 1, "service_id": 1, "starts_at": "x"}),
    (
        "post",
        "/api/v1/bookings",
        {"location_id": 10**30, "physician_id": 1, "service_id": 1, "starts_at": "x"},
    ),
    ("post", "/api/v1/bookings/1/move", {"starts_at": ["x"]}),
    (
        "post",
        "/api/v1/bookings",
        {
            "location_id": "{a1}",
            "physician_id": "{doc}",
            "service_id": "{svc}",
            "starts_at": "{start}",
            "new_patient": {"full_name": "Anna Új", "insurance_id": "¹²³⁴⁵⁶⁷⁸⁹"},
        },
    ),
    ("put", "/api/v1/partnerships/{ship}", {"location_ids": [10**30], "commission_enabled": False}),
    ("put", "/api/v1/partnerships/{ship}", {"location_ids": ["¹"], "commission_enabled": False}),
]


@pytest.mark.parametrize(("method", "path", "data"), MALFORMED_API, ids=range(len(MALFORMED_API)))
def test_finding_malformed_json_api_input_answers_4xx(client, cast, partners, method, path, data):
    headers = _headers(cast.alice)
    path = path.replace("{ship}", str(partners.partnership_p.pk))
    if isinstance(data, dict) and data.get("location_id") == "{a1}":  # a real slot: only the TAJ is wrong
        start = local(next_weekday(2), 10).isoformat()
        ids = {"location_id": cast.location_a1.pk, "physician_id": cast.physician_a.pk}
        data = {**data, **ids, "service_id": cast.service_a.pk, "starts_at": start}
    if method == "get":
        answer = client.get(path, data or {}, **headers)
    else:
        text = data if isinstance(data, str) else json.dumps(data)
        answer = getattr(client, method)(path, text, content_type="application/json", **headers)
    assert 400 <= answer.status_code < 500, answer.content[:300]
    assert answer.json()["error"]["message"]
