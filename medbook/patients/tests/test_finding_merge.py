"""Issue 19, "the merge discloses": a partner without patient-data access books for a TAJ number the register
holds under another name; the institution merges the duplicate into its record. The partner must still be
shown only what it typed (pages, JSON API, FHIR, webhooks), and what it typed (its e-mail) must not become
the register's unless the staff choose it on the merge form."""

import json
from datetime import date

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.patients.models import Patient
from medbook.patients.services import patient_update
from medbook.scheduling.models import Booking
from medbook.webhooks.models import WebhookDelivery
from medbook.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("patients:patient-duplicates")
REGISTER_NAME, REGISTER_BORN, REGISTER_EMAIL = "Anna Kovács", date(1980, 1, 1), "anna@clinic.test"
TYPED_NAME, TYPED_BORN, TYPED_EMAIL = "Anita Kowacs", date(1981, 2, 2), "anita@callcenter.test"
EVENTS = ["booking.created", "booking.moved"]


@pytest.fixture
def hooks(cast, partners, settings):
    """Webhook endpoints of institution A and partner P (local addresses allowed for the test)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    institution = webhook_endpoint_create(
        actor=actor_of(cast.alice), url="http://127.0.0.1:9/institution", events=EVENTS
    )[0]
    partner = webhook_endpoint_create(
        actor=actor_of(partners.paula), url="http://127.0.0.1:9/partner", events=EVENTS
    )[0]
    return institution, partner


@pytest.fixture
def typed(cast, partners, login, hooks) -> Patient:
    """The register's Anna Kovács; partner P (no patient-data access) books her TAJ as "Anita Kowacs"."""
    assert not partners.partnership_p.patient_data_access
    patient_update(
        actor=actor_of(cast.alice),
        patient=cast.patient_a,
        full_name=REGISTER_NAME,
        birth_date=REGISTER_BORN,
        email=REGISTER_EMAIL,
    )
    response = login(partners.peter).post(
        reverse("partners:book-slot"),
        {
            "slot_location": cast.location_a1.pk,
            "slot_physician": cast.physician_a.pk,
            "slot_service": cast.service_a.pk,
            "starts_at": local(next_weekday(1), 10).isoformat(),
            "new-full_name": TYPED_NAME,
            "new-birth_date": TYPED_BORN.isoformat(),
            "new-insurance_id": "111 111 110",
            "new-email": TYPED_EMAIL,
            "new-phone": "+36 30 123 4567",
        },
    )
    assert response.status_code == 200
    return Patient.objects.get(full_name=TYPED_NAME)


def _merge(client, keep: Patient, duplicate: Patient, **choices: str):
    data = {"keep": keep.pk, "duplicate": duplicate.pk}
    data.update({f"merge-{duplicate.pk}-{name}": value for name, value in choices.items()})
    return client.post(DUPLICATES, data)


def _partner_reads(cast, partners, booking: Booking) -> dict[str, str]:
    """What partner P's booker reads of the booking: My bookings, the panel, Book to partner's calendar, the
    JSON API (list and one) and FHIR (the Appointment, and the search by its patient)."""
    login_client = client_of(partners.peter)
    day = booking.starts_at.date()
    secret = api_token_create(actor=actor_for(partners.peter), name="reader")[1]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    reads = {
        "my bookings": login_client.get(reverse("partners:booking-list")),
        "panel": login_client.get(reverse("partners:booking-detail", args=[booking.pk])),
        "calendar": login_client.get(reverse("partners:book"), {"week": day.isoformat(), "show": "1"}),
        "api list": login_client.get("/api/v1/bookings", **bearer),
        "api one": login_client.get(f"/api/v1/bookings/{booking.pk}", **bearer),
        "fhir": login_client.get(f"/fhir/R4/Appointment/{booking.pk}", **bearer),
    }
    for name, response in reads.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in reads.items()}


def test_finding_merge_a_partner_without_access_is_shown_only_what_it_typed(client, cast, partners, typed):
    typed_id = typed.pk
    booking = Booking.objects.get()
    assert _merge(client_of(cast.alice), cast.patient_a, typed).status_code == 302
    booking.refresh_from_db()
    assert booking.patient == cast.patient_a and not Patient.objects.filter(pk=typed_id).exists()

    reads = _partner_reads(cast, partners, booking)
    for name, text in reads.items():
        assert TYPED_NAME in text, name
        assert (
            "Kovács" not in text and "Kov\\u00e1cs" not in text and REGISTER_BORN.isoformat() not in text
        ), name
    api = json.loads(reads["api one"])["patient"]
    assert api == {"id": typed_id, "name": TYPED_NAME, "birth_date": TYPED_BORN.isoformat()}
    assert json.loads(reads["api list"])["items"][0]["patient"] == api
    participant = json.loads(reads["fhir"])["participant"][0]["actor"]
    assert participant == {"reference": f"Patient/{typed_id}", "display": TYPED_NAME}
    bearer = {
        "HTTP_AUTHORIZATION": f"Bearer {api_token_create(actor=actor_for(partners.peter), name='f')[1]}"
    }
    found = client.get("/fhir/R4/Appointment", {"actor": f"Patient/{typed_id}"}, **bearer).json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [str(booking.pk)]
    register = client.get("/fhir/R4/Appointment", {"actor": f"Patient/{cast.patient_a.pk}"}, **bearer).json()
    assert register.get("entry", []) == []  # the register's id finds nothing: it is not the partner's to know

    # The partner moves its booking: its webhook says what it typed, the institution's what the register says.
    client.force_login(partners.peter)
    moved = client.post(
        reverse("partners:booking-move", args=[booking.pk]),
        {"starts_at": local(next_weekday(1), 11).isoformat(), "confirm": "1"},
    )
    assert moved.status_code == 302
    sent = {
        delivery.endpoint.url.rsplit("/", 1)[1]: delivery.payload["data"]["booking"]["patient"]
        for delivery in WebhookDelivery.objects.filter(event="booking.moved")
    }
    assert sent == {
        "partner": {"id": typed_id, "name": TYPED_NAME},
        "institution": {"id": cast.patient_a.pk, "name": REGISTER_NAME},
    }


@pytest.mark.parametrize(
    "register_email", [REGISTER_EMAIL, ""], ids=["register has one", "register has none"]
)
def test_finding_merge_keeps_the_institutions_email_and_later_mail_goes_there(
    client, cast, partners, typed, deliver_outbox, register_email, settings
):
    settings.UNDO_SECONDS = 0  # the page's move is e-mailed once it can no longer be undone: here at once
    patient_update(actor=actor_of(cast.alice), patient=cast.patient_a, email=register_email)
    assert _merge(client_of(cast.alice), cast.patient_a, typed).status_code == 302
    anna = Patient.objects.get(pk=cast.patient_a.pk)
    assert (anna.full_name, anna.birth_date, anna.email, anna.phone) == (
        REGISTER_NAME,
        REGISTER_BORN,
        register_email,  # never the partner-typed one, even where the register had none
        "",
    )
    deliver_outbox()
    mail.outbox.clear()
    booking = Booking.objects.get()
    client.force_login(partners.peter)
    moved = client.post(
        reverse("partners:booking-move", args=[booking.pk]),
        {"starts_at": local(next_weekday(1), 11).isoformat(), "confirm": "1"},
    )
    assert moved.status_code == 302
    deliver_outbox()
    # The patient's "moved" confirmation (in the institution's language), with its invitation.
    confirmations = [m for m in mail.outbox if "Institution A: Cardiology check" in m.subject]
    assert [m.to for m in confirmations] == ([[register_email]] if register_email else [])
    assert not any(TYPED_EMAIL in m.to for m in mail.outbox)


def test_finding_merge_the_form_offers_each_differing_detail_and_takes_only_what_staff_tick(
    client, cast, partners, typed
):
    staff = client_of(cast.alice)
    page = staff.get(DUPLICATES).content.decode()
    prefix = f"merge-{typed.pk}"
    for detail in ("full_name", "birth_date", "email", "phone"):
        assert f'name="{prefix}-{detail}" value="keep" required id' not in page  # nothing is forced
        assert (
            f'name="{prefix}-{detail}" value="keep"' in page
            and f'name="{prefix}-{detail}" value="take"' in page
        )
    assert f'name="{prefix}-insurance_id"' not in page  # the same TAJ: nothing to choose
    assert page.count("checked") == 4  # each detail defaults to the register's own value
    refused = _merge(staff, cast.patient_a, typed, email="partner's")
    assert refused.status_code == 422 and Patient.objects.filter(pk=typed.pk).exists()
    assert _merge(staff, cast.patient_a, typed, email="take", full_name="keep").status_code == 302
    anna = Patient.objects.get(pk=cast.patient_a.pk)
    assert (anna.full_name, anna.birth_date, anna.email, anna.phone) == (
        REGISTER_NAME,
        REGISTER_BORN,
        TYPED_EMAIL,
        "",
    )


def test_finding_merge_a_partner_with_access_sees_the_register_record(client, cast, partners, typed):
    typed_id = typed.pk
    assert _merge(client_of(cast.alice), cast.patient_a, typed).status_code == 302
    partners.partnership_p.patient_data_access = True  # the institution grants access later
    partners.partnership_p.save(update_fields=["patient_data_access"])
    booking = Booking.objects.get()
    reads = _partner_reads(cast, partners, booking)
    for name, text in reads.items():
        assert "Kovács" in text or "Kov\\u00e1cs" in text, name
        assert TYPED_NAME not in text, name
    api = json.loads(reads["api one"])["patient"]
    assert api == {"id": cast.patient_a.pk, "name": REGISTER_NAME, "birth_date": REGISTER_BORN.isoformat()}
    participant = json.loads(reads["fhir"])["participant"][0]["actor"]
    assert participant == {"reference": f"Patient/{cast.patient_a.pk}", "display": REGISTER_NAME}
    assert typed_id != cast.patient_a.pk


def client_of(user) -> Client:
    """A browser of its own for the user (the staff's messages never show on the partner's pages)."""
    other = Client()
    other.force_login(user)
    return other
