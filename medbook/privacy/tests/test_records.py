"""G-4 (issue 24): the records of processing, the institution's and the partner's side, and G-1's export
through the JSON API."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from medbook.api.tests.test_api import Api, _token
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.institutions.models import Institution
from medbook.partners.models import Partnership
from medbook.partners.services.contract import partnership_end
from medbook.partners.tests.factories import TEN_PERCENT, partner_make, partnership_make
from medbook.patients.tests.factories import PatientFactory
from medbook.privacy import records
from medbook.privacy.models import DataRequest
from medbook.privacy.tests.test_rights import _book, _export, _history

pytestmark = pytest.mark.django_db


def _partnerships(cast, partners):
    """Besides P (active at A, central location, cardiology): R active with patient-data access at both of
    A's locations, S whose partnership ended, T invited and never registered, U that declined, and V active
    at B only."""
    a = cast.institution_a
    made = {}
    for letter, number in zip("RSTUV", range(5), strict=True):
        made[letter] = partner_make(
            f"{letter}-Partner Kft.", f"01-09-77777{number}", "12345676-2-41", f"{letter}@partners.test"
        )
    partnership_make(
        a, made["R"], locations=[cast.location_a1, cast.location_a2], services=[cast.service_a],
        patient_data_access=True, **TEN_PERCENT,
    )  # fmt: skip
    ended = partnership_make(a, made["S"], locations=[cast.location_a2], **TEN_PERCENT)
    partnership_end(actor=cast.actor(cast.alice), partnership=ended, cancel_future=False)
    partnership_make(a, made["T"], status=Partnership.Status.PENDING_REGISTRATION, **TEN_PERCENT)
    partnership_make(a, made["U"], status=Partnership.Status.DECLINED, **TEN_PERCENT)
    partnership_make(cast.institution_b, made["V"], locations=[cast.location_b], **TEN_PERCENT)
    return made


def _record(client, fmt=None):
    return client.get(reverse("privacy:processing-record"), {"format": fmt} if fmt else {})


def test_g4_the_records_page_lists_every_partner_with_access(cast, partners, login):
    _partnerships(cast, partners)
    Institution.objects.filter(pk=cast.institution_a.pk).update(language="en")
    response = _record(login(cast.alice))
    assert response.status_code == 200
    page = response.content.decode()
    table = page[page.index('data-testid="record-partners"') :]
    table = table[: table.index("</table>")]
    for listed in ("CallCenter Ltd", "R-Partner Kft.", "S-Partner Kft. (former)"):
        assert listed in table
    for unlisted in ("T-Partner", "U-Partner", "V-Partner", "Quiet Partners"):
        assert unlisted not in page
    assert "A Central, A North" in table and "Cardiology check" in table
    assert "With access to patient data" in table

    document = json.loads(_record(login(cast.alice), "json").content)
    rows = {row["name"]: row for row in document["recipients"]}
    assert set(rows) == {"CallCenter Ltd", "R-Partner Kft.", "S-Partner Kft."}
    assert (rows["S-Partner Kft."]["current"], rows["R-Partner Kft."]["current"]) == (False, True)
    assert rows["S-Partner Kft."]["until"] is not None
    assert rows["R-Partner Kft."]["locations"] == ["A Central", "A North"]
    assert rows["R-Partner Kft."]["patient_data_access"] is True
    assert rows["CallCenter Ltd"]["services"] == ["Cardiology check"]


def test_g4_the_record_is_drawn_from_the_live_configuration(cast, partners, login):
    Institution.objects.filter(pk=cast.institution_a.pk).update(
        language="en", retention_years=12, online_booking=True
    )
    with override_settings(
        PRIVACY_OPERATOR="Medbook Ops Kft.",
        PRIVACY_HOSTING="Hetzner Online GmbH, Germany",
        PRIVACY_EMAIL_PROVIDER="",
        EMAIL_URL="smtp://user:secret@mail.example.test:587",
        EMAIL_HOST="mail.example.test",
        PRIVACY_TRANSFERS=["Mailer Inc. (USA): e-mail delivery, standard contractual clauses"],
        RETENTION_EMAIL_BODY_DAYS=45,
    ):
        response = _record(login(cast.alice), "json")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="processing-record-{cast.institution_a.pk}.json"'
    )
    document = json.loads(response.content)
    assert document["controller"]["name"] == "Institution A"
    assert "online" in {row["code"] for row in document["purposes"]}
    periods = {row["code"]: row["period"] for row in document["retention"]}
    assert periods["patients"].startswith("12 years after the last visit")
    assert periods["email_bodies"].startswith("45 days")
    processors = {row["code"]: row["name"] for row in document["processors"]}
    assert processors == {
        "operator": "Medbook Ops Kft.",
        "hosting": "Hetzner Online GmbH, Germany",
        "email": "mail.example.test",
    }
    assert "secret" not in response.content.decode()
    assert document["transfers"] == ["Mailer Inc. (USA): e-mail delivery, standard contractual clauses"]
    assert [row for row in document["personal_data"] if row["special"]]
    Institution.objects.filter(pk=cast.institution_a.pk).update(require_two_factor=True)
    cast.institution_a.refresh_from_db()
    security = {row["code"]: row["text"] for row in records.processing_record(cast.institution_a)["security"]}
    assert "every user of the institution" in security["two_factor"]


def test_g4_without_transfers_the_record_says_none(cast, login):
    Institution.objects.filter(pk=cast.institution_a.pk).update(language="en")
    page = _record(login(cast.alice)).content.decode()
    assert "None: no personal data is transferred to a third country" in page


def test_g4_the_record_is_in_the_institutions_language(cast, login):
    Institution.objects.filter(pk=cast.institution_a.pk).update(language="hu")
    response = _record(login(cast.alice))
    assert "Adatkezelési tevékenységek nyilvántartása" in response.content.decode()
    document = json.loads(_record(login(cast.alice), "json").content)
    assert document["language"] == "hu"
    assert "év" in {row["code"]: row["period"] for row in document["retention"]}["patients"]


def test_g4_a_bad_format_is_refused_with_a_message(cast, login):
    response = _record(login(cast.alice), "pdf")
    assert response.status_code == 400
    assert b"html" in response.content


def test_g4_nobody_else_reads_an_institutions_record(cast, partners, login, client):
    _partnerships(cast, partners)
    page = _record(login(cast.charlie)).content.decode()  # B's admin: B's own record
    assert "Institution B" in page and "V-Partner Kft." in page
    assert "CallCenter" not in page and "R-Partner" not in page and "Institution A" not in page
    assert _record(login(cast.bob)).status_code == 403  # reception
    assert _record(login(partners.peter)).status_code == 403  # a partner's agent
    assert _record(login(partners.paula)).status_code == 403  # a partner's admin: its own side only


# --- The partner's side ----------------------------------------------------------------------------------


def _partner_record(client, fmt=None):
    return client.get(reverse("privacy:partner-processing-record"), {"format": fmt} if fmt else {})


def test_g4_a_partner_sees_the_processing_it_does_for_each_institution(cast, partners, login):
    anna = cast.patient_a
    _book(cast, partners.peter, anna, 10)
    _book(cast, partners.peter, anna, 11)
    ended = partnership_make(
        cast.institution_b, partners.partner_p, locations=[cast.location_b], **TEN_PERCENT
    )
    partnership_end(actor=cast.actor(cast.charlie), partnership=ended, cancel_future=False)
    other = partner_make("Other Kft.", "01-09-888888", "12345676-2-41", "o@o.test")
    partnership_make(cast.institution_b, other, locations=[cast.location_b], **TEN_PERCENT)
    third = partner_make("Pending Clinic Partner", "01-09-888889", "12345676-2-41", "pc@o.test")
    partnership_make(cast.institution_a, third, status=Partnership.Status.PENDING_REGISTRATION)

    response = _partner_record(login(partners.paula), "json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="partner-processing-record-')
    document = json.loads(response.content)
    rows = {row["name"]: row for row in document["institutions"]}
    assert set(rows) == {"Institution A", "Institution B"}
    assert (rows["Institution A"]["bookings"], rows["Institution A"]["patients"]) == (2, 1)
    assert rows["Institution A"]["locations"] == ["A Central"]
    assert rows["Institution A"]["services"] == ["Cardiology check"]
    assert (rows["Institution A"]["current"], rows["Institution B"]["current"]) == (True, False)
    page = _partner_record(login(partners.paula)).content.decode()
    assert "Institution A" in page and "Institution B (former)" in page
    assert "Anna" not in page  # categories and counts, no patient


def test_g4_a_partnership_ended_and_made_again_counts_each_its_own_bookings(cast, partners, login):
    anna = cast.patient_a
    otto = PatientFactory(institution=cast.institution_a, full_name="Otto Other", email="otto@example.test")
    _book(cast, partners.peter, anna, 10)
    _book(cast, partners.peter, anna, 11)
    partnership_end(actor=cast.actor(cast.alice), partnership=partners.partnership_p, cancel_future=False)
    again = partnership_make(
        cast.institution_a, partners.partner_p, locations=[cast.location_a1], services=[cast.service_a],
        **TEN_PERCENT,
    )  # fmt: skip
    again.channel.is_active = True  # the ended partnership's channel, in use again as activation leaves it
    again.channel.save(update_fields=["is_active"])
    _book(cast, partners.peter, otto, 12)

    document = json.loads(_partner_record(login(partners.paula), "json").content)
    rows = [(r["name"], r["current"], r["bookings"], r["patients"]) for r in document["institutions"]]
    assert rows == [("Institution A", True, 1, 1), ("Institution A", False, 2, 1)]


def test_g4_a_partner_without_partnerships_sees_no_institution(cast, partners, login):
    document = json.loads(_partner_record(login(partners.quentin), "json").content)
    assert document["institutions"] == []


def test_g4_only_a_partners_admin_reads_its_side(cast, partners, login):
    assert _partner_record(login(partners.peter)).status_code == 403  # an agent who books
    assert _partner_record(login(partners.petra)).status_code == 403
    assert _partner_record(login(cast.alice)).status_code == 403  # an institution's admin


def test_g4_one_function_builds_both_downloads_and_pages(cast, partners):
    document = records.processing_record(cast.institution_a)
    assert document["schema"] == records.SCHEMA
    assert records.partner_processing_record(partners.partner_p)["schema"] == records.PARTNER_SCHEMA


# --- The export through the JSON API -----------------------------------------------------------------------


def _without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("generated_at", "audit")}


def test_g1_the_api_exports_the_same_json_as_the_page_and_audits_it(client, cast, partners, login):
    anna, _otto, _mine, _other = _history(cast, partners)
    api = Api(client, _token(cast.alice))
    response = api.get(f"/patients/{anna.pk}/export")
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["schema"] == "medbook.patient-export/1"
    page = json.loads(_export(login(cast.alice), anna).content)
    assert _without_time(document) == _without_time(page) | {"requests": document["requests"]}
    api_ids, page_ids = [e["id"] for e in document["audit"]], [e["id"] for e in page["audit"]]
    assert api_ids and api_ids == page_ids[: len(api_ids)]  # the page's export saw the API's entry too
    entry = AuditEntry.objects.filter(action=AuditAction.PATIENT_EXPORT).order_by("pk").first()
    assert entry is not None and entry.details["format"] == "json" and "api_token" in entry.details
    answered = (
        DataRequest.objects.filter(patient=anna, kind=DataRequest.Kind.PORTABILITY).order_by("pk").first()
    )
    assert answered is not None
    assert answered.outcome == DataRequest.Outcome.EXPORTED


def test_g1_the_api_export_is_the_institution_admins_only(client, cast, partners):
    anna = cast.patient_a
    assert Api(client, _token(cast.bob)).get(f"/patients/{anna.pk}/export").status_code == 403
    assert Api(client, _token(cast.charlie)).get(f"/patients/{anna.pk}/export").status_code == 404
    assert Api(client, _token(partners.paula)).get(f"/patients/{anna.pk}/export").status_code == 403
    assert Api(client, _token(cast.alice)).get(f"/patients/{cast.patient_b.pk}/export").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.PATIENT_EXPORT).exists()
    assert not DataRequest.objects.exists()


def test_g1_the_api_export_is_in_the_openapi_schema(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/patients/{patient_id}/export"]["get"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/PatientExportOut")
    assert "schema" in schema["components"]["schemas"]["PatientExportOut"]["properties"]
