"""Issue 21: one application layer under the JSON API and FHIR.

The desk's booking steps live once in `scheduling` (`desk_booking_create`, which the calendar page, the JSON
API and FHIR all call); the token, the rate limit and the partner-or-staff choice live once in
`medbook.api.access`; ids are read by the one parser (ASCII digits only) on pages, the API and FHIR URLs; a
partner's user learns of no institution report from the API either (404, as from the pages).
"""

import ast
import json
from pathlib import Path

import pytest
from django.urls import reverse

from conftest import local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.api import ratelimit
from medbook.notifications.models import OutboxMessage
from medbook.patients.models import Patient
from medbook.scheduling import services
from medbook.scheduling.models import Booking
from medbook.scheduling.patient_mail import reminder_still_wanted

pytestmark = pytest.mark.django_db
API_DIR = Path(__file__).resolve().parent.parent


def _bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(actor=actor_for(user), name='t')[1]}"}


def _page_booking(client, cast, start, **extra):
    """The calendar's booking form posted as reception posts it."""
    data = {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": start.date().isoformat(),
        "slot_physician": cast.physician_a.pk,
        "starts_at": start.isoformat(),
        "channel": cast.institution_a.channels.get(code="reception").pk,
        "patient": cast.patient_a.pk,
        **extra,
    }
    return client.post(reverse("scheduling:booking-create"), data, HTTP_HX_REQUEST="true")


def _api_booking(client, cast, start, headers, **extra):
    body = {
        "location_id": cast.location_a1.pk,
        "physician_id": cast.physician_a.pk,
        "service_id": cast.service_a.pk,
        "starts_at": start.isoformat(),
        "patient_id": cast.patient_a.pk,
        **extra,
    }
    return client.post("/api/v1/bookings", json.dumps(body), content_type="application/json", **headers)


def _fhir_booking(client, cast, start, headers, patient_reference):
    slot = f"Slot/{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}-{int(start.timestamp())}"
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": slot}],
        "participant": [{"actor": {"reference": patient_reference}, "status": "accepted"}],
    }
    return client.post(
        "/fhir/R4/Appointment", json.dumps(body), content_type="application/fhir+json", **headers
    )


# --- The desk's booking, once ----------------------------------------------------------------------


def test_i21_the_page_the_api_and_fhir_book_through_the_one_desk_booking(cast, login, client, monkeypatch):
    calls = []
    desk_booking_create = services.desk_booking_create

    def spy(**kwargs):
        calls.append(kwargs["actor"].token_id is not None)
        return desk_booking_create(**kwargs)

    monkeypatch.setattr(services, "desk_booking_create", spy)
    day = next_weekday(2)
    assert _page_booking(login(cast.bob), cast, local(day, 9)).status_code == 200
    headers = _bearer(cast.bob)
    assert _api_booking(client, cast, local(day, 10), headers).status_code == 201
    answer = _fhir_booking(client, cast, local(day, 11), headers, f"Patient/{cast.patient_a.pk}")
    assert answer.status_code == 201, answer.content
    assert calls == [False, True, True]  # the page (a session), then the API and FHIR (a token)
    booked = Booking.objects.filter(patient=cast.patient_a).order_by("starts_at")
    assert [b.starts_at for b in booked] == [local(day, 9), local(day, 10), local(day, 11)]
    assert {b.channel.code for b in booked} == {"reception"}


def test_i21_another_institutions_patient_is_404_on_the_page_the_api_and_fhir_alike(cast, login, client):
    day = next_weekday(2)
    assert _page_booking(login(cast.bob), cast, local(day, 9), patient=cast.patient_b.pk).status_code == 404
    headers = _bearer(cast.bob)
    answer = _api_booking(client, cast, local(day, 9), headers, patient_id=cast.patient_b.pk)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    answer = _fhir_booking(client, cast, local(day, 9), headers, f"Patient/{cast.patient_b.pk}")
    assert answer.status_code == 404 and answer.json()["resourceType"] == "OperationOutcome"
    assert not Booking.objects.exists()


def test_i21_a_refused_desk_booking_registers_no_new_patient_on_the_page_or_the_api(cast, login, client):
    day = next_weekday(2)
    services.booking_create(
        actor=actor_for(cast.bob, cast.institution_a.pk),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 9),
    )
    known = Patient.objects.count()
    page = _page_booking(login(cast.bob), cast, local(day, 9), patient="", **{"new-full_name": "Nora New"})
    assert page.status_code == 422
    api = _api_booking(
        client, cast, local(day, 9), _bearer(cast.bob), patient_id=None, new_patient={"full_name": "Nora New"}
    )
    assert api.status_code == 409
    assert Patient.objects.count() == known  # the slot was taken: nobody registered by either


def test_i21_the_api_names_a_channel_of_the_institution_only(cast, client):
    foreign = cast.institution_b.channels.get(code="phone")
    answer = _api_booking(client, cast, local(next_weekday(2), 9), _bearer(cast.bob), channel_id=foreign.pk)
    assert answer.status_code == 404  # another tenant's channel, as another's patient (issue 21: was 422)
    phone = cast.institution_a.channels.get(code="phone")
    answer = _api_booking(client, cast, local(next_weekday(2), 9), _bearer(cast.bob), channel_id=phone.pk)
    assert answer.status_code == 201 and answer.json()["channel"] == phone.display_name


# --- One id parser -----------------------------------------------------------------------------------


def test_i21_superscript_ids_on_the_calendar_pages_are_404_or_422(cast, login):
    client = login(cast.bob)
    start = local(next_weekday(3), 11)
    assert _page_booking(client, cast, start, slot_physician="¹").status_code == 404
    assert _page_booking(client, cast, start, location="²").status_code == 404
    assert (
        _page_booking(client, cast, start, patient="³").status_code == 422
    )  # not a number: the form says so
    assert client.get("/calendar/bookings/¹/").status_code == 404
    assert not Booking.objects.exists()


SUPERSCRIPT_API = [
    ("get", "/api/v1/bookings/¹", None),
    ("post", "/api/v1/bookings/²/cancel", {}),
    ("get", "/api/v1/slots?location_id=¹&physician_id=1&service_id=1&date_from=2026-01-01", None),
    ("get", "/api/v1/patients?q=Anna&institution_id=¹", None),
]


@pytest.mark.parametrize(("method", "url", "body"), SUPERSCRIPT_API, ids=range(len(SUPERSCRIPT_API)))
def test_i21_superscript_ids_in_api_urls_are_a_4xx(cast, partners, client, method, url, body):
    headers = _bearer(partners.peter)
    if body is None:
        answer = client.get(url, **headers)
    else:
        answer = client.post(url, json.dumps(body), content_type="application/json", **headers)
    assert answer.status_code in (404, 422) and answer.json()["error"]["status"] == answer.status_code


SUPERSCRIPT_FHIR = [
    ("get", "Schedule/¹-²", None),
    ("get", "Slot?schedule=Schedule/¹-²", None),
    ("get", "Slot?schedule=Schedule/1-1&service-type=urn:medbook:service|¹", None),
    ("put", "Appointment/¹", {"resourceType": "Appointment", "status": "cancelled"}),
    ("post", "Appointment", {"resourceType": "Appointment", "slot": [{"reference": "Slot/1-1-1-¹"}]}),
]


@pytest.mark.parametrize(("method", "path", "body"), SUPERSCRIPT_FHIR, ids=range(len(SUPERSCRIPT_FHIR)))
def test_i21_superscript_ids_in_fhir_urls_are_a_4xx(cast, partners, client, method, path, body):
    for user in (cast.bob, partners.peter):
        headers = _bearer(user)
        if body is None:
            answer = client.get(f"/fhir/R4/{path}", **headers)
        else:
            text = json.dumps(body)
            answer = getattr(client, method)(
                f"/fhir/R4/{path}", text, content_type="application/fhir+json", **headers
            )
        if "?" in path and answer.status_code == 200:  # a search naming no schedule of theirs finds nothing
            assert answer.json()["resourceType"] == "Bundle" and answer.json()["entry"] == []
            continue
        assert answer.status_code in (400, 404, 422), answer.content[:300]  # 400: a search's bad value
        assert answer.json()["resourceType"] == "OperationOutcome"
    assert not Booking.objects.exists()


def test_i21_a_reminder_naming_no_booking_id_is_not_sent(cast):
    for reference in ("booking:¹:reminder", "booking:١٢:reminder", "booking::reminder", "other:1:reminder"):
        assert reminder_still_wanted(OutboxMessage(reference=reference)) is False


# --- One rate limit, one audience gate --------------------------------------------------------------


def test_i21_fhir_answers_429_like_the_json_api_on_the_same_budget(cast, client, settings, monkeypatch):
    settings.API_RATE_LIMIT = "2/m"
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_045.0)
    headers = _bearer(cast.bob)
    assert client.get("/fhir/R4/Organization", **headers).status_code == 200
    assert client.get("/fhir/R4/Location", **headers).status_code == 200
    refused = client.get("/fhir/R4/Appointment", **headers)
    assert refused.status_code == 429 and refused["Retry-After"] == "15"
    assert refused.json()["issue"][0]["code"] == "throttled"
    api = client.get("/api/v1/me", **headers)  # the JSON API counts on the same budget
    assert api.status_code == 429 and api["Retry-After"] == "15"
    assert api.json()["error"]["code"] == "too_many_requests"


def test_i21_a_partner_asking_for_an_institution_report_gets_404_from_the_api_as_from_the_pages(
    cast, partners, client, login
):
    period = {"date_from": "2026-01-01", "date_until": "2026-01-31"}
    assert login(partners.peter).get(reverse("reports:traffic"), period).status_code == 404
    headers = _bearer(partners.peter)
    for report in ("traffic", "settlement"):
        answer = client.get(f"/api/v1/reports/{report}", period, **headers)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    # The institution's own staff who are not its administrators are told they may not (403), as on the pages.
    assert client.get("/api/v1/reports/traffic", period, **_bearer(cast.bob)).status_code == 403
    assert client.get("/api/v1/reports/traffic", period, **_bearer(cast.alice)).status_code == 200


# --- Thin adapters ------------------------------------------------------------------------------------


def _adapter_sources():
    return [source for folder in ("v1", "fhir") for source in sorted((API_DIR / folder).glob("*.py"))]


@pytest.mark.parametrize("source", _adapter_sources(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_i21_no_adapter_chooses_between_partner_and_staff(source):
    """The partner-or-staff choice is `access.as_partner`'s, in the application layer: no adapter asks
    whether its actor acts for a partner or an institution (`actor.partner is not None` and the like)."""
    tree = ast.parse(source.read_text())
    branches = [
        f"{source.name}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Attribute)
        and node.left.attr in ("partner", "institution")
        and any(isinstance(op, ast.Is | ast.IsNot) for op in node.ops)
    ]
    assert branches == []
