"""X-1: the JSON API with personal tokens, on the same services and rules as the pages."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.models import ApiToken, Membership
from medbook.accounts.tokens import api_token_create
from medbook.audit.models import AuditEntry
from medbook.partners.models import Partnership
from medbook.partners.selectors import partner_bookings
from medbook.scheduling import selectors
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def _token(user, **options) -> str:
    return api_token_create(actor=actor_for(user), name="test", **options)[1]


class Api:
    """A client that calls the API with one token."""

    def __init__(self, client, token: str):
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.headers)

    def post(self, path, body, **headers):
        return self.client.post(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", **self.headers, **headers
        )


def _booking_body(cast, day, hour=10, **extra) -> dict:
    return {
        "location_id": cast.location_a1.pk,
        "physician_id": cast.physician_a.pk,
        "service_id": cast.service_a.pk,
        "starts_at": local(day, hour).isoformat(),
        **extra,
    }


def test_x1_a_partner_finds_a_free_slot_books_it_and_the_pages_show_the_same_booking(client, cast, partners):
    api = Api(client, _token(partners.peter))
    assert [i["name"] for i in api.get("/institutions").json()] == ["Institution A"]
    assert [s["id"] for s in api.get("/services").json()] == [cast.service_a.pk]
    day = next_weekday(1)
    slots = api.get(
        "/slots",
        location_id=cast.location_a1.pk,
        physician_id=cast.physician_a.pk,
        service_id=cast.service_a.pk,
        date_from=day.isoformat(),
        limit=3,
    ).json()
    assert len(slots["items"]) == 3 and slots["next_cursor"]
    more = api.get(
        "/slots",
        location_id=cast.location_a1.pk,
        physician_id=cast.physician_a.pk,
        service_id=cast.service_a.pk,
        date_from=day.isoformat(),
        limit=3,
        cursor=slots["next_cursor"],
    ).json()
    assert more["items"][0]["starts_at"] > slots["items"][-1]["starts_at"]
    body = {**_booking_body(cast, day), "starts_at": slots["items"][0]["starts_at"]}
    body["new_patient"] = {"full_name": "Api Newcomer", "insurance_id": ""}
    answer = api.post("/bookings", body)
    assert answer.status_code == 201, answer.content
    booking = Booking.objects.get(pk=answer.json()["id"])
    assert booking.partner_id == partners.partner_p.pk and booking.commission_percent is not None
    assert booking in partner_bookings(actor_for(partners.peter))
    week = selectors.calendar_week(
        actor=actor_for(cast.bob),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=day - timedelta(days=day.weekday()),
    )
    assert booking.pk in [e.booking.pk for d in week for e in d.entries if e.booking is not None]
    entry = AuditEntry.objects.get(action="booking.create", object_id=str(booking.pk))
    assert entry.details["api_token"] == ApiToken.objects.get(user=partners.peter).pk
    listed = api.get("/bookings").json()["items"]
    assert [b["id"] for b in listed] == [booking.pk]


def test_x1_idempotency_key_replays_the_first_answer_and_refuses_another_body(client, cast, partners):
    api = Api(client, _token(cast.bob))
    day = next_weekday(2)
    body = _booking_body(cast, day, patient_id=cast.patient_a.pk)
    first = api.post("/bookings", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/bookings", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Booking.objects.count() == 1
    other = api.post(
        "/bookings", _booking_body(cast, day, 11, patient_id=cast.patient_a.pk), HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    assert Booking.objects.count() == 1


def test_x1_a_taken_slot_is_409_and_bad_input_422_in_the_one_error_shape(client, cast, partners):
    api = Api(client, _token(cast.bob))
    day = next_weekday(3)
    body = _booking_body(cast, day, patient_id=cast.patient_a.pk)
    assert api.post("/bookings", body).status_code == 201
    taken = api.post("/bookings", body)
    assert taken.status_code == 409
    assert taken.json()["error"]["message"] == "This slot is no longer available."
    bad = api.post("/bookings", {**body, "starts_at": "not a time"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]) == {"status", "code", "message", "fields"}
    assert "starts_at" in bad.json()["error"]["fields"]
    naive = api.post("/bookings", {**body, "starts_at": local(day, 12).replace(tzinfo=None).isoformat()})
    assert naive.status_code == 422
    assert naive.json()["error"]["fields"] == {"starts_at": ["The start time must carry a time zone."]}
    assert api.get("/bookings", cursor="!!!").status_code == 422
    assert Booking.objects.count() == 1


def test_x1_a_partner_token_cannot_reach_another_tenants_data_or_an_unauthorised_offer(
    client, cast, partners
):
    day = next_weekday(1)
    staff = Api(client, _token(cast.bob))
    own = staff.post("/bookings", _booking_body(cast, day, patient_id=cast.patient_a.pk)).json()
    partner = Api(client, _token(partners.peter))
    assert partner.get(f"/bookings/{own['id']}").status_code == 404  # the institution's own booking
    assert partner.post(f"/bookings/{own['id']}/cancel", {}).status_code == 404
    # Location a2 is not authorised for P (P-4): 403, and nothing is booked.
    refused = partner.post(
        "/bookings",
        {
            **_booking_body(cast, day, 11),
            "location_id": cast.location_a2.pk,
            "new_patient": {"full_name": "X"},
        },
    )
    assert refused.status_code == 403
    stranger = Api(client, _token(cast.charlie))
    assert stranger.get(f"/bookings/{own['id']}").status_code == 404
    assert stranger.post(f"/bookings/{own['id']}/cancel", {}).status_code == 404
    assert stranger.get("/bookings").json()["items"] == []
    assert Booking.objects.count() == 1
    assert Booking.objects.get().status == Booking.Status.BOOKED


def test_x1_revoked_expired_deactivated_and_ended_tokens_answer_401_at_once(client, cast, partners):
    secret = _token(partners.peter)
    api = Api(client, secret)
    assert api.get("/me").status_code == 200
    token = ApiToken.objects.get(user=partners.peter)
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save()
    assert api.get("/me").status_code == 401
    token.expires_at = timezone.now() + timedelta(days=1)
    token.revoked_at = timezone.now()
    token.save()
    assert api.get("/me").status_code == 401
    token.revoked_at = None
    token.save()
    Membership.objects.filter(user=partners.peter).update(is_active=False)
    assert api.get("/me").status_code == 401
    Membership.objects.filter(user=partners.peter).update(is_active=True)
    Partnership.objects.filter(partner=partners.partner_p).update(status=Partnership.Status.ENDED)
    answer = api.get("/me")
    assert answer.status_code == 401 and answer["WWW-Authenticate"] == "Bearer"
    assert Api(client, "mbk_nothing_here").get("/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_x1_a_read_only_token_reads_but_changes_nothing(client, cast, partners):
    api = Api(client, _token(cast.bob, read_only=True))
    assert api.get("/bookings").status_code == 200
    answer = api.post("/bookings", _booking_body(cast, next_weekday(1), patient_id=cast.patient_a.pk))
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "This token is read-only."
    assert not Booking.objects.exists()


def test_x1_the_api_tokens_page_shows_a_new_token_once_and_revokes_it(client, cast):
    client.force_login(cast.bob)
    page = client.post("/accounts/api-tokens/", {"name": "Desk script", "days": 30})
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret.startswith("mbk_") and secret in page.content.decode()
    token = ApiToken.objects.get(user=cast.bob)
    assert token.key_hash != secret and secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert secret not in client.get("/accounts/api-tokens/").content.decode()
    assert Api(client, secret).get("/me").json()["email"] == "bob@a.test"
    client.force_login(cast.charlie)
    assert client.post(f"/accounts/api-tokens/{token.pk}/revoke/").status_code == 404
    client.force_login(cast.bob)
    assert client.post(f"/accounts/api-tokens/{token.pk}/revoke/").status_code == 302
    assert Api(client, secret).get("/me").status_code == 401
    assert AuditEntry.objects.filter(action__in=["api_token.create", "api_token.revoke"]).count() == 2


def test_x1_the_command_prints_a_token_for_scripts(client, cast, partners):
    out = StringIO()
    call_command("api_token_create", "peter@p.test", "--read-only", "--days", "7", stdout=out)
    secret = out.getvalue().strip()
    me = Api(client, secret).get("/me").json()
    assert (me["organization"], me["read_only"]) == ("CallCenter Ltd", True)
    token = ApiToken.objects.get(user=partners.peter)
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)


def test_x1_the_openapi_schema_declares_every_operations_errors(client):
    schema = client.get("/api/openapi.json").json()
    create = schema["paths"]["/api/v1/bookings"]["post"]
    assert {"201", "401", "403", "404", "409", "422", "429"} <= set(create["responses"])
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_x1_the_docs_page_serves_its_own_swagger_ui_under_the_csp(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn." not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]


def test_x1_the_settlement_as_json_says_who_owes_whom(client, cast, partners):
    staff = Api(client, _token(cast.bob))
    day = next_weekday(1)
    booked = Api(client, _token(partners.peter)).post(
        "/bookings", {**_booking_body(cast, day, 9), "new_patient": {"full_name": "Settled Patient"}}
    )
    booking = Booking.objects.get(pk=booked.json()["id"])
    past = timezone.now() - timedelta(days=3)
    Booking.objects.filter(pk=booking.pk).update(
        starts_at=past, ends_at=past + timedelta(minutes=30), status=Booking.Status.COMPLETED
    )
    local_day = timezone.localtime(past, timezone.get_fixed_timezone(60)).date().isoformat()
    period = {"date_from": (past - timedelta(days=2)).date().isoformat(), "date_until": local_day}
    assert staff.get("/reports/settlement", **period).status_code == 403  # reception: not an administrator
    admin = Api(client, _token(cast.alice))
    [line] = admin.get("/reports/settlement", **period).json()
    commission = booking.price * booking.commission_percent / 100
    assert (line["partner"], line["held_bookings"]) == ("CallCenter Ltd", 1)
    assert line["owed_to_partner"] == f"{commission:.2f}" and line["net_owed_by"] == "institution"
    traffic = admin.get("/reports/traffic", **period, partners_only=True).json()
    assert [(r["name"], r["completed"]) for r in traffic["partners"]] == [("CallCenter Ltd", 1)]
    assert (
        admin.get("/reports/settlement", date_from="2026-01-01", date_until="2028-01-01").status_code == 422
    )


def test_x1_times_at_the_edge_of_the_calendar_are_bounds_and_malformed_ones_a_422_never_a_500(
    client, cast, partners
):
    api = Api(client, _token(partners.peter))
    # RFC 3339 date-times at the calendar's ends are well formed (the OpenAPI's `date-time`): bounds.
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"):
        answer = api.get("/bookings", starts_from=moment)
        assert answer.status_code == 200, moment
    assert api.get("/bookings", starts_before="0001-01-01T00:00:00+01:00").json()["items"] == []
    for moment in ("2026-02-30T10:00:00Z", "2026-12-09 10:00Z", "tomorrow"):
        answer = api.get("/bookings", starts_from=moment)
        assert answer.status_code == 422, moment
        assert answer.json()["error"]["fields"] == {
            "starts_from": ["Enter a date and time such as 2026-12-09T08:00:00Z."]
        }
    naive = api.get("/bookings", starts_from="2026-12-09T10:00:00")
    assert naive.json()["error"]["fields"] == {"starts_from": ["The start time must carry a time zone."]}


def test_x1_an_admin_automates_the_partner_module_and_the_traffic_channels(client, cast, partners):
    admin = Api(client, _token(cast.alice))
    ship = partners.partnership_p
    body = {
        "commission_enabled": True,
        "commission_percent": "12.50",
        "payment_location": "partner",
        "location_ids": [cast.location_a1.pk, cast.location_a2.pk],
    }
    changed = admin.client.put(
        f"/api/v1/partnerships/{ship.pk}", json.dumps(body), content_type="application/json", **admin.headers
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["commission_percent"], changed.json()["paid_at_partner"]) == ("12.50", True)
    assert changed.json()["location_ids"] == sorted([cast.location_a1.pk, cast.location_a2.pk])
    both = {**body, "commission_fixed": "500.00"}
    refused = admin.client.put(
        f"/api/v1/partnerships/{ship.pk}", json.dumps(both), content_type="application/json", **admin.headers
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {
        "commission_fixed": ["Enter either a percentage or a fixed amount, not both."]
    }
    cell = admin.client.put(
        f"/api/v1/partnerships/{ship.pk}/services/{cast.service_a.pk}",
        json.dumps({"enabled": False}),
        content_type="application/json",
        **admin.headers,
    )
    assert cell.status_code == 200 and cell.json()["service_ids"] == []
    # The partner can no longer book that service, through the API either.
    partner = Api(client, _token(partners.peter))
    assert partner.get("/services").json() == []
    foreign = admin.client.put(
        f"/api/v1/partnerships/{ship.pk}/services/{cast.service_b.pk}",
        json.dumps({"enabled": True}),
        content_type="application/json",
        **admin.headers,
    )
    assert foreign.status_code == 404
